"""Real-world phone spellings (many from shared/data/client_base_export.csv) and what they become."""

from __future__ import annotations

import pytest

from services.errors import InvalidPhone, PhoneHasExtension, PhoneRegionNotAllowed
from services.phones import PhonePolicy, mask_phone, parse_phone

VALID = [
    ("8 (916) 123-45-67", "9161234567"),
    ("89161234567", "9161234567"),
    ("79161234567", "9161234567"),
    ("9161234567", "9161234567"),
    ("+7 916 123 45 67", "9161234567"),
    ("+7 (911) 125-10-03", "9111251003"),
    ("９１６１２３４５６７", "9161234567"),  # full-width digits
    ("+７ ９１６ １２３-４５-６７", "9161234567"),
    ("+7 (987)356-84-60", "9873568460"),
    ("8 987 600-96-31", "9876009631"),
    ("8(981)4830192", "9814830192"),
    ("+7-977-146-98-32", "9771469832"),
    ("+79112509102", "9112509102"),
    ("8 977 169-48-58", "9771694858"),
    ("+7 (921)947-52-12", "9219475212"),
    ("8(950)0035333", "9500035333"),
    ("+7 (925) 933-57-54", "9259335754"),
    ("+79602902582", "9602902582"),
    ("8 929 919-95-92", "9299199592"),
    ("+7 999 183 20 86", "9991832086"),
    ("  +7 916 123 45 67  ", "9161234567"),
    ("8-800-555-35-35", "8005553535"),  # a valid RU toll-free number: the import's 5+ rule catches shop phones
    ("+7 (495) 123-45-67", "4951234567"),  # Moscow landline
    ("8.916.123.45.67", "9161234567"),
    ("8\u00a0916\u00a0123\u201145\u201167", "9161234567"),  # no-break space, non-breaking hyphen
]

INVALID = [
    ("", InvalidPhone),
    ("нет", InvalidPhone),
    ("0", InvalidPhone),
    ("8-800", InvalidPhone),
    ("+7 (911)", InvalidPhone),
    ("123", InvalidPhone),
    ("916abc4567", InvalidPhone),
    ("+7 916 123 45 6", InvalidPhone),
    ("+7 916 123 45 678", InvalidPhone),
    ("++79161234567", InvalidPhone),
    ("7916+1234567", InvalidPhone),
    ("+7 916 123-45-67 доб. 12", PhoneHasExtension),
    ("+7 916 123 45 67 ext 5", PhoneHasExtension),
    ("+7 916 123 45 67 x5", PhoneHasExtension),
    ("+7 916 123 45 67 #12", PhoneHasExtension),
    ("+7 701 123 45 67", PhoneRegionNotAllowed),  # Kazakhstan
    ("+7 (701) 361-04-60", PhoneRegionNotAllowed),
    ("+44 20 7946 0958", PhoneRegionNotAllowed),
    ("+1 202 555 0143", PhoneRegionNotAllowed),
]


@pytest.mark.parametrize(("raw", "card_number"), VALID)
def test_valid_spellings_normalize_to_one_card_number(raw: str, card_number: str) -> None:
    phone = parse_phone(raw)
    assert phone.card_number == card_number
    assert phone.e164 == "+7" + card_number
    assert phone.region == "RU"


@pytest.mark.parametrize(("raw", "error"), INVALID)
def test_bad_spellings_get_a_precise_error(raw: str, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        parse_phone(raw)
    assert type(caught.value) is error


def test_kazakhstan_is_accepted_when_allowed() -> None:
    phone = parse_phone("+7 701 123 45 67", PhonePolicy("RU", ("RU", "KZ")))
    assert (phone.region, phone.card_number) == ("KZ", "7011234567")


def test_mask_keeps_country_and_last_four_digits() -> None:
    assert mask_phone("+79161234567") == "+7 *** ***-45-67"
    assert mask_phone(None) == ""

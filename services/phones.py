"""Phone numbers: the one place that parses them. A card number is the phone's national number."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

import phonenumbers

from services.errors import InvalidPhone, PhoneHasExtension, PhoneRegionNotAllowed

# Characters people put between digits; anything else (letters, '#', '*') makes the input suspect.
_SEPARATORS = set(" -()./\u00a0\u2010\u2011\u2012\u2013\u2014\u2212")


@dataclass(frozen=True)
class Phone:
    e164: str  # +79161234567
    region: str  # RU
    card_number: str  # 9161234567

    def masked(self) -> str:
        """`+7 *** ***-45-67`: what a cashier may see."""
        return mask_phone(self.e164)


@dataclass(frozen=True)
class PhonePolicy:
    default_region: str = "RU"
    allowed_regions: Collection[str] = ("RU",)


def _clean(raw: str) -> str:
    # NFKC turns full-width digits and similar look-alikes into ASCII digits.
    text = unicodedata.normalize("NFKC", raw).strip()
    digits = sum(ch.isdigit() for ch in text)
    if not text or digits == 0:
        raise InvalidPhone(phone=raw)
    return text


def _has_extension_marker(text: str) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in ("доб", "ext", "x", "#", ";", ","))


def parse_phone(raw: str, policy: PhonePolicy = PhonePolicy()) -> Phone:
    """Normalize any real-world spelling to E.164 or raise a DomainError saying what is wrong.

    `89161234567`, `8 (916) 123-45-67`, `79161234567` (Telegram contacts come without "+"),
    `9161234567` and `+7 916 123 45 67` all give +79161234567.
    """
    text = _clean(raw)
    if _has_extension_marker(text):
        raise PhoneHasExtension(phone=raw)
    if any(not (ch.isdigit() or ch in _SEPARATORS or ch == "+") for ch in text):
        raise InvalidPhone(phone=raw)
    if text.count("+") > 1 or ("+" in text and not text.startswith("+")):
        raise InvalidPhone(phone=raw)
    digits = "".join(ch for ch in text if ch.isdigit())
    candidate = text
    if not text.startswith("+"):
        # Russian habits: 8XXXXXXXXXX is a trunk prefix, 7XXXXXXXXXX a country code without "+".
        if len(digits) == 11 and digits[0] in "78" and policy.default_region in ("RU", "KZ"):
            candidate = "+7" + digits[1:]
        elif len(digits) > 10 and not digits.startswith("8"):
            candidate = "+" + digits
    try:
        number = phonenumbers.parse(candidate, policy.default_region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(phone=raw) from None
    if number.extension:
        raise PhoneHasExtension(phone=raw)
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(phone=raw)
    region = phonenumbers.region_code_for_number(number) or ""
    if region not in policy.allowed_regions:
        raise PhoneRegionNotAllowed(phone=raw, region=region or "?")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Phone(e164=e164, region=region, card_number=str(number.national_number))


def card_number_of(raw: str, policy: PhonePolicy = PhonePolicy()) -> str:
    return parse_phone(raw, policy).card_number


def mask_phone(e164: str | None) -> str:
    """`+79161234567` -> `+7 *** ***-45-67`; keeps the country code and the last four digits."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return "***"
    national = str(number.national_number)
    return f"+{number.country_code} *** ***-{national[-4:-2]}-{national[-2:]}"


def looks_like_phone_or_card(query: str) -> bool:
    """True when a search query is made of digits and phone punctuation only."""
    text = unicodedata.normalize("NFKC", query).strip()
    digits = sum(ch.isdigit() for ch in text)
    return digits >= 5 and all(ch.isdigit() or ch in _SEPARATORS or ch == "+" for ch in text)

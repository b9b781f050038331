"""One source row -> a validated record or a row error naming the field. We do not guess: a value
that does not parse makes the row an error (reported, not imported), except the phone, which by the
ITigris rule only decides whether the client gets a card, and the optional extra phone and email,
which are dropped with a note."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata

from services.dates import parse_birthday, parse_date
from services.errors import DomainError, PhoneRegionNotAllowed
from services.phones import PhonePolicy, parse_phone

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_AMOUNT = re.compile(r"^-?\d+(?:[.,]\d{1,2})?$")
_ISO_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
# An amount `parse_amount` reads the same with integers as with Decimal: ASCII digits, few enough for
# Decimal's 28 significant digits to hold the value times 100 exactly.
_PLAIN_AMOUNT = re.compile(r"([0-9]{1,20})(?:[.,]([0-9]{1,2}))?")
# A balance or an orders total above a billion rubles is a broken cell, not a customer (and beyond
# 64 bits it would not even fit the column): the row is refused like any other bad amount.
MAX_AMOUNT_KOPECKS = 100_000_000_000
_SEX = {
    "мужской": "male", "муж": "male", "м": "male", "male": "male", "m": "male",
    "женский": "female", "жен": "female", "ж": "female", "female": "female", "f": "female",
}
_YES = {"да", "yes", "y", "1", "true", "д"}
_NO = {"нет", "no", "n", "0", "false", "н", ""}
_TEXT_MAX = 100
# The usual spellings of a Russian mobile number (+7 916 123-45-67, 8(916)1234567, 9161234567...),
# ASCII only: `parse_phone` would turn each into +7 and these ten digits, so the import reads them
# itself and leaves the library only the validity and region checks (its parse was most of the
# time an import spent on a row). Anything else, and any number these checks refuse, goes through
# `parse_phone` as before.
_PLAIN_MOBILE = re.compile(r"(?:\+7|[78])?[ -]?\(?(9[0-9]{2})\)?[ -]?([0-9]{3})[ -]?([0-9]{2})[ -]?([0-9]{2})")


class RowProblem(Exception):
    """A value that makes the row unusable; `reason` is a locale key suffix, `args` fill it."""

    def __init__(self, reason: str, **args: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.args_ = args


@dataclass(slots=True)
class Record:
    line: int
    surname: str | None
    name: str
    patronymic: str | None
    sex: str | None
    birthday: date | None
    phone_raw: str
    phone_e164: str | None
    card_number: str | None  # the phone's card number, when the phone may hold a card
    phone_problem: str | None  # why not: invalid_phone | phone_region
    extra_phone: str | None
    email: str | None
    city: str | None
    legacy_card: str | None
    balance_kopecks: int
    orders_kopecks: int
    marketing: bool
    registered: date | None
    import_key: str
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RowError:
    line: int
    reason: str
    args: dict[str, object]
    surname: str
    name: str
    phone_raw: str


@lru_cache(maxsize=1 << 16)
def _text(value: str, column: str, *, required: bool = False) -> str | None:
    """Cached: names repeat, and a repeated name is then one string in memory, not one per row."""
    value = " ".join(value.split())
    if not value:
        if required:
            raise RowProblem("required", column=column)
        return None
    # `isalpha()` first: a plain word has no digit and none of those characters.
    if len(value) > _TEXT_MAX or (not value.isalpha() and any(ch.isdigit() or ch in "<>@/\\" for ch in value)):
        raise RowProblem("bad_value", column=column, value=value[:40])
    return value


@lru_cache(maxsize=1 << 12)
def _city(value: str) -> str | None:
    return " ".join(value.split())[:_TEXT_MAX] or None


def parse_amount(value: str, column: str) -> int:
    """`1 570,01` -> 157001 kopecks; empty -> 0; at most MAX_AMOUNT_KOPECKS."""
    amount = _amount(value, column)
    if amount > MAX_AMOUNT_KOPECKS:
        raise RowProblem("bad_amount", column=column, value=value[:40])
    return amount


def _amount(value: str, column: str) -> int:
    text = value.replace("\u00a0", "").replace(" ", "").strip()
    if not text:
        return 0
    plain = _PLAIN_AMOUNT.fullmatch(text)
    if plain is not None:
        rubles, kopecks = plain.groups()
        return int(rubles) * 100 + (int(kopecks) * (10 if len(kopecks) == 1 else 1) if kopecks else 0)
    if not _AMOUNT.match(text):
        raise RowProblem("bad_amount", column=column, value=value[:40])
    try:
        amount = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise RowProblem("bad_amount", column=column, value=value[:40]) from None
    if amount < 0:
        raise RowProblem("bad_amount", column=column, value=value[:40])
    return int(amount * 100)


def _date(value: str, column: str, today: date, *, birthday: bool) -> date | None:
    text = value.strip()
    if not text:
        return None
    parsed = _date_value(text, today, birthday)
    if parsed is None:
        raise RowProblem("bad_date", column=column, value=text[:40])
    return parsed


@lru_cache(maxsize=1 << 16)
def _date_value(text: str, today: date, birthday: bool) -> date | None:
    """The date `text` means, or None when it means none (a client base has few distinct dates)."""
    try:
        if _ISO_DATE.match(text):
            parsed = date.fromisoformat(text)
            if birthday and (parsed > today or parsed.year < 1900):
                return None
            return parsed
        return parse_birthday(text, today) if birthday else parse_date(text)
    except (DomainError, ValueError):
        return None


def _flag(value: str, column: str) -> bool:
    text = value.strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise RowProblem("bad_value", column=column, value=value[:40])


_Pattern = tuple[frozenset[int], re.Pattern[str]]


def _descs(region: str) -> tuple[re.Pattern[str] | None, _Pattern | None, list[_Pattern]]:
    """A region's leading digits, general pattern and number types' patterns, from phonenumbers'
    metadata, compiled once."""
    metadata = PhoneMetadata.metadata_for_region(region)
    assert metadata is not None

    def compiled(desc: object) -> _Pattern | None:
        pattern = getattr(desc, "national_number_pattern", None)
        if not pattern:
            return None
        return frozenset(getattr(desc, "possible_length", None) or ()), re.compile(pattern)

    # Mobile first: validity is "some type matches", and nearly every number of a client base is a
    # mobile (the other nine patterns were tried, and failed, before it for every row).
    types = (
        metadata.mobile, metadata.fixed_line, metadata.premium_rate, metadata.toll_free, metadata.shared_cost,
        metadata.voip, metadata.personal_number, metadata.pager, metadata.uan, metadata.voicemail,
    )
    leading = re.compile(metadata.leading_digits) if metadata.leading_digits is not None else None
    return leading, compiled(metadata.general_desc), [p for p in map(compiled, types) if p is not None]


def _matches(national: str, desc: _Pattern | None) -> bool:
    return desc is not None and (not desc[0] or len(national) in desc[0]) and desc[1].fullmatch(national) is not None


def _valid_in(national: str, general: _Pattern | None, types: list[_Pattern]) -> bool:
    """phonenumbers' is_valid_number_for_region: the general pattern and the pattern of some type."""
    return _matches(national, general) and any(_matches(national, desc) for desc in types)


# Country code 7's regions in phonenumbers' order (RU, KZ), for region_code_for_number.
_CODE_7 = [(region, *_descs(region)) for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[7]]


def _plain_mobile(value: str, policy: PhonePolicy) -> str | None:
    """The card number (ten digits) of a valid, allowed Russian mobile in a usual spelling, else None.
    The region and validity are decided as phonenumbers' region_code_for_number and
    is_valid_number_for_region decide them, with its patterns compiled once."""
    match = _PLAIN_MOBILE.fullmatch(value)
    if match is None or policy.default_region != "RU":
        return None
    national = "".join(match.groups())
    for region, leading, general, types in _CODE_7:
        if leading is not None:
            if leading.match(national) is None:
                continue
        elif not _valid_in(national, general, types):
            continue
        if region in policy.allowed_regions and _valid_in(national, general, types):
            return national
        return None
    return None


def _phone(value: str, policy: PhonePolicy) -> tuple[str | None, str | None, str | None]:
    """(E.164 or None, card number or None, problem or None)."""
    if not value.strip():
        return None, None, "no_phone"
    national = _plain_mobile(value, policy)
    if national is not None:
        return "+7" + national, national, None
    return phone_by_the_library(value, policy)


def phone_by_the_library(value: str, policy: PhonePolicy) -> tuple[str | None, str | None, str | None]:
    """`_phone` without its shortcut for the usual spellings of Russian mobiles (the tests hold
    the shortcut to this)."""
    if not value.strip():
        return None, None, "no_phone"
    try:
        parsed = parse_phone(value, policy)
    except PhoneRegionNotAllowed:
        try:
            anywhere = parse_phone(value, PhonePolicy(policy.default_region, phonenumbers.SUPPORTED_REGIONS))
        except DomainError:
            return None, None, "invalid_phone"
        return anywhere.e164, None, "phone_region"
    except DomainError:
        return None, None, "invalid_phone"
    return parsed.e164, parsed.card_number, None


def identity_key(
    surname: str | None, name: str, patronymic: str | None, birthday: date | None, phone: str,
    registered: date | None,
) -> str:
    """A stable hash of who the row is (not of balances, which change between exports): re-importing
    the same or a newer export recognises the clients already imported."""
    parts = [
        (surname or "").lower(), name.lower(), (patronymic or "").lower(),
        birthday.isoformat() if birthday else "", phone, registered.isoformat() if registered else "",
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def identity_hint(phone_e164: str | None, name: str) -> int:
    """A hash shared by every row with the same import key (and by a few others): the first pass
    over a file counts these, so that only the identities that may repeat are remembered."""
    return hash((phone_e164 or "", " ".join(name.split()).lower()))


def number_code(number: str) -> int:
    """A card number as one int: exact (a 1 in front keeps leading zeros) for up to 17 ASCII
    digits, which every phone card number is; a hash for longer legacy numbers."""
    if len(number) <= 17 and number.isascii() and number.isdigit():
        return int("1" + number)
    return hash(number)


def legacy_number(cell: str) -> str | None:
    """The legacy card number a cell holds, or None (empty, or not 1 to 32 digits)."""
    legacy = "".join(cell.split())
    return legacy if legacy and legacy.isdigit() and len(legacy) <= 32 else None


def row_error(
    line: int, reason: str, args: dict[str, object], cells: list[str], columns: dict[int, str]
) -> RowError:
    raw = {columns[i]: cells[i] if i < len(cells) else "" for i in columns}
    return RowError(
        line, reason, args, raw.get("surname", "").strip(), raw.get("name", "").strip(), raw.get("phone", "").strip()
    )


def parse_record(
    line: int, cells: list[str], columns: dict[int, str], width: int, *, policy: PhonePolicy, today: date
) -> Record | RowError:
    raw = {columns[i]: cells[i] if i < len(cells) else "" for i in columns}

    def error(reason: str, **args: object) -> RowError:
        return row_error(line, reason, args, cells, columns)

    if len(cells) != width:
        return error("field_count", found=len(cells), expected=width)
    try:
        name = _text(raw.get("name", ""), "name", required=True)
        assert name is not None
        surname = _text(raw.get("surname", ""), "surname")
        patronymic = _text(raw.get("patronymic", ""), "patronymic")
        sex_text = raw.get("sex", "").strip().lower()
        if sex_text and sex_text not in _SEX:
            raise RowProblem("bad_value", column="sex", value=raw["sex"][:40])
        birthday = _date(raw.get("birthday", ""), "birthday", today, birthday=True)
        registered = _date(raw.get("registered", ""), "registered", today, birthday=False)
        balance = parse_amount(raw.get("balance", ""), "balance")
        orders = parse_amount(raw.get("orders", ""), "orders")
        marketing = _flag(raw.get("sms", ""), "sms") | _flag(raw.get("email_consent", ""), "email_consent")
        city = _city(raw.get("city", ""))
    except RowProblem as bad:
        return error(bad.reason, **bad.args_)
    notes: list[str] = []
    phone_raw = raw.get("phone", "").strip()
    e164, card_number, problem = _phone(phone_raw, policy)
    extra_raw = raw.get("extra_phone", "").strip()
    extra = None
    if extra_raw:
        extra, _, _ = _phone(extra_raw, policy)
        if extra is None:
            notes.append("extra_phone_dropped")
    email = raw.get("email", "").strip() or None
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        notes.append("email_dropped")
        email = None
    legacy = legacy_number(raw.get("card", ""))
    if legacy is None and raw.get("card", "").strip():
        notes.append("legacy_card_not_digits")
    # Invalid phones are not stored, so an export of ours could not give them back: leave them out.
    identity_phone = e164 or ""
    return Record(
        line=line, surname=surname, name=name, patronymic=patronymic, sex=_SEX.get(sex_text), birthday=birthday,
        phone_raw=phone_raw, phone_e164=e164, card_number=card_number, phone_problem=problem, extra_phone=extra,
        email=email, city=city, legacy_card=legacy, balance_kopecks=balance, orders_kopecks=orders,
        marketing=marketing, registered=registered,
        import_key=identity_key(surname, name, patronymic, birthday, identity_phone, registered), notes=notes,
    )

"""Who gets a card (DOMAIN.md "Import", after ITigris): decided for the whole file, in file order,
before a row is written.

  * a phone that is empty, invalid, too short or outside the allowed regions -> no card;
  * a phone occurring FREQUENT_PHONE (5) or more times in the file -> no card for any of those
    rows (a shop's or a placeholder number), and no family link either;
  * a phone that is already a card (in the database, or given to an earlier row of this file) ->
    the client becomes a family member of that card's owner (a "card owner" link), no own card;
    a card without a living owner -> no card, no link;
  * otherwise a card by phone.
A legacy card number from the file becomes an extra card of the client (the primary one when the
client has no phone card), unless the number is taken; the phone card's own number is ignored.

The file is read twice and never held: `take_census` counts, in a first pass, what a row cannot
know from the rows above it (how often each phone occurs), in arrays of one int a row; the
`Decider` then decides the rows batch by batch in file order, remembering only the card numbers
and identities the census says occur again. A phone's occurrences are counted over every row with
the right number of fields (a row refused for another of its cells still shows the phone is a
shop's).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

from services.importer.parsing import Record, RowError, _phone, identity_hint, legacy_number, number_code
from services.importer.reading import BadRecord, Table
from services.phones import PhonePolicy

FREQUENT_PHONE = 5

# Outcomes, in report order.
CARD = "card"
FAMILY = "family"
NO_CARD_PHONE = "no_card_phone"
NO_CARD_FREQUENT = "no_card_frequent"
NO_CARD_UNBOUND = "no_card_unbound"
DUPLICATE = "duplicate"
ALREADY = "already_imported"
ERROR = "error"
OUTCOMES = (CARD, FAMILY, NO_CARD_PHONE, NO_CARD_FREQUENT, NO_CARD_UNBOUND, DUPLICATE, ALREADY, ERROR)
# Outcomes that create a customer.
CREATING = (CARD, FAMILY, NO_CARD_PHONE, NO_CARD_FREQUENT, NO_CARD_UNBOUND)


@dataclass(frozen=True, slots=True)
class ExistingCard:
    card_id: int
    customer_id: int | None
    number: str


@dataclass(frozen=True, slots=True)
class FileCard:
    """A card this import creates, for the row at `index`."""

    index: int
    number: str


@dataclass(slots=True)
class Decision:
    record: Record | RowError
    outcome: str
    reason: str | None = None
    reason_args: dict[str, object] = field(default_factory=dict)
    phone_card: str | None = None  # number of the phone card to create
    legacy_card: str | None = None  # number of the legacy card to create
    owner: ExistingCard | FileCard | None = None  # for FAMILY: whose card

    @property
    def balance_card(self) -> str | None:
        """The card the opening balance and the orders sum go to."""
        return self.phone_card or self.legacy_card


def _occurring(codes: Iterable[int], times: int) -> dict[int, int]:
    """The values occurring `times` times or more, with their counts (a sort: a list of ints for
    a moment, rather than a dict of them all)."""
    ordered = sorted(codes)
    found: dict[int, int] = {}
    for value, later in zip(ordered, islice(ordered, times - 1, None), strict=False):
        if value == later:
            found[value] = found.get(value, times - 1) + 1
    return found


@dataclass(frozen=True)
class Census:
    """What the first pass over a file found."""

    rows: int
    frequent: dict[str, int]  # phone card number -> times, for those occurring FREQUENT_PHONE+ times
    shared: frozenset[int]  # number_code of numbers occurring twice or more (phones and legacy cards)
    repeated: frozenset[int]  # identity_hint of identities that may occur twice or more

    def is_shared(self, number: str) -> bool:
        return number_code(number) in self.shared


def take_census(table: Table, policy: PhonePolicy) -> Census:
    width = len(table.header)
    index = {field: i for i, field in table.columns.items()}
    phone_at, name_at, card_at = index["phone"], index["name"], index.get("card")
    phones, numbers, hints = array("q"), array("q"), array("q")
    rows = 0
    for row in table.rows():
        rows += 1
        if isinstance(row, BadRecord) or len(row[1]) != width:
            continue
        cells = row[1]
        e164, number, _ = _phone(cells[phone_at].strip(), policy)
        if number is not None:
            phones.append(number_code(number))
        legacy = legacy_number(cells[card_at]) if card_at is not None else None
        if legacy is not None:
            numbers.append(number_code(legacy))
        hints.append(identity_hint(e164, cells[name_at]))
    frequent = {str(code)[1:]: n for code, n in _occurring(phones, FREQUENT_PHONE).items()}
    numbers.extend(phones)
    del phones
    shared = frozenset(_occurring(numbers, 2))
    del numbers
    return Census(rows, frequent, shared, frozenset(_occurring(hints, 2)))


class Decider:
    """The rules, applied batch by batch in file order. `existing_cards` and `existing_keys` of a
    batch are what the database holds of its numbers and keys; this file's own earlier rows are
    remembered here (and win over the database, which may already hold them when written)."""

    def __init__(self, census: Census) -> None:
        self.census = census
        self.index = 0
        self.file_cards: dict[str, FileCard] = {}  # of the numbers that occur again
        self.seen: dict[str, bool] = {}  # import key -> already imported, of the identities that may repeat

    def decide(
        self, items: list[Record | RowError], *, existing_cards: dict[str, ExistingCard], existing_keys: set[str]
    ) -> list[Decision]:
        census = self.census
        decisions: list[Decision] = []
        for item in items:
            index = self.index
            self.index += 1
            if isinstance(item, RowError):
                decisions.append(Decision(item, ERROR, item.reason, item.args))
                continue
            key = item.import_key
            repeats = identity_hint(item.phone_e164, item.name) in census.repeated
            if repeats and key in self.seen:
                decisions.append(Decision(item, ALREADY) if self.seen[key] else Decision(item, DUPLICATE, "duplicate"))
                continue
            already = key in existing_keys
            if repeats:
                self.seen[key] = already
            if already:
                decisions.append(Decision(item, ALREADY))
                continue
            number = item.card_number
            owner: ExistingCard | FileCard | None
            if number is None:
                decision = Decision(item, NO_CARD_PHONE, item.phone_problem, {"phone": item.phone_raw})
            elif number in census.frequent:
                decision = Decision(item, NO_CARD_FREQUENT, "frequent_phone", {"times": census.frequent[number]})
            elif (owner := self.file_cards.get(number) or existing_cards.get(number)) is not None:
                if isinstance(owner, ExistingCard) and owner.customer_id is None:
                    decision = Decision(item, NO_CARD_UNBOUND, "card_unbound", {"card": number})
                else:
                    decision = Decision(item, FAMILY, "phone_is_card", {"card": number}, owner=owner)
            else:
                decision = Decision(item, CARD, phone_card=number)
                if census.is_shared(number):
                    self.file_cards[number] = FileCard(index, number)
            legacy = item.legacy_card
            if legacy and legacy != number:
                if legacy in self.file_cards or legacy in existing_cards:
                    item.notes.append("legacy_card_taken")
                else:
                    # A family member with a legacy card of their own keeps it (and so pays with it).
                    decision.legacy_card = legacy
                    if census.is_shared(legacy):
                        self.file_cards[legacy] = FileCard(index, legacy)
            if decision.balance_card is None and (item.balance_kopecks or item.orders_kopecks):
                item.notes.append("balance_not_carried")
            decisions.append(decision)
        return decisions

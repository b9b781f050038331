"""Who gets a card (DOMAIN.md "Import", after ITigris): decided for the whole file, in file order,
before anything is written.

  * a phone that is empty, invalid, too short or outside the allowed regions -> no card;
  * a phone occurring FREQUENT_PHONE (5) or more times in the file -> no card for any of those
    rows (a shop's or a placeholder number), and no family link either;
  * a phone that is already a card (in the database, or given to an earlier row of this file) ->
    the client becomes a family member of that card's owner (a "card owner" link), no own card;
    a card without a living owner -> no card, no link;
  * otherwise a card by phone.
A legacy card number from the file becomes an extra card of the client (the primary one when the
client has no phone card), unless the number is taken; the phone card's own number is ignored.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from services.importer.parsing import Record, RowError

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


def decide(
    items: list[Record | RowError], *, existing_cards: dict[str, ExistingCard], existing_keys: set[str]
) -> list[Decision]:
    counts = Counter(item.card_number for item in items if isinstance(item, Record) and item.card_number)
    taken: dict[str, ExistingCard | FileCard] = dict(existing_cards)
    seen: set[str] = set()
    decisions: list[Decision] = []
    for index, item in enumerate(items):
        if isinstance(item, RowError):
            decisions.append(Decision(item, ERROR, item.reason, item.args))
            continue
        if item.import_key in existing_keys:
            decisions.append(Decision(item, ALREADY))
            continue
        if item.import_key in seen:
            decisions.append(Decision(item, DUPLICATE, "duplicate"))
            continue
        seen.add(item.import_key)
        number = item.card_number
        if number is None:
            decision = Decision(item, NO_CARD_PHONE, item.phone_problem, {"phone": item.phone_raw})
        elif counts[number] >= FREQUENT_PHONE:
            decision = Decision(item, NO_CARD_FREQUENT, "frequent_phone", {"times": counts[number]})
        elif number in taken:
            owner = taken[number]
            if isinstance(owner, ExistingCard) and owner.customer_id is None:
                decision = Decision(item, NO_CARD_UNBOUND, "card_unbound", {"card": number})
            else:
                decision = Decision(item, FAMILY, "phone_is_card", {"card": number}, owner=owner)
        else:
            decision = Decision(item, CARD, phone_card=number)
            taken[number] = FileCard(index, number)
        legacy = item.legacy_card
        if legacy and legacy != number:
            if legacy in taken:
                item.notes.append("legacy_card_taken")
            else:
                # A family member with a legacy card of their own keeps it (and so pays with it).
                decision.legacy_card = legacy
                taken[legacy] = FileCard(index, legacy)
        if decision.balance_card is None and (item.balance_kopecks or item.orders_kopecks):
            item.notes.append("balance_not_carried")
        decisions.append(decision)
    return decisions

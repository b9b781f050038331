"""/history: 10 a page, newest first, Previous/Next editing one message, boundaries, and callback
data that cannot show anybody else's operations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram.methods import EditMessageText

from db.uow import UnitOfWork
from handlers.telegram.history import HistoryNav
from services import customers, stores
from services.clock import FrozenClock
from services.ledger import accrue_purchase, get_history, refund
from tests.support import updates
from tests.support.fixtures import BotHarness, make_harness
from tests.telegram.customer.helpers import alerts, inline_buttons, last_message, register

NEXT = {"ru": "Дальше ▶", "en": "Next ▶"}
PREVIOUS = {"ru": "◀ Назад", "en": "◀ Previous"}


async def _purchases(uow: UnitOfWork, clock: FrozenClock, card_id: int, count: int, store_name: str = "Тверская",
                     code: str = "S1") -> None:
    store = await stores.add_store(uow, clock, code=code, name=store_name, actor="test")
    for n in range(count):
        clock.advance(timedelta(minutes=1))
        await accrue_purchase(uow, clock, card_id=card_id, store_id=store.id, receipt_id=f"{code}-R{n + 1}",
                              amount_kopecks=(n + 1) * 10_000, actor="test")


def _buttons(markup: object) -> dict[str, str]:
    return dict(inline_buttons(markup)) if markup is not None else {}


async def _press(harness: BotHarness, sender: object, data: str) -> EditMessageText:
    harness.session.clear()
    await harness.feed(updates.callback(sender, data))  # type: ignore[arg-type]
    [edit] = harness.session.sent(EditMessageText)
    return edit


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_25_operations_make_3_pages_with_boundaries(uow: UnitOfWork, clock: FrozenClock, language: str) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(41, language=language)
    customer = await register(harness, sender)
    assert customer.card_id is not None
    await _purchases(uow, clock, customer.card_id, 24)  # + the welcome bonus = 25 operations

    await harness.feed(updates.text(sender, "/history"))
    first = last_message(harness)
    assert first.text.count("\n\n") == 10
    assert "S1-R24" in first.text and "S1-R15" in first.text and "S1-R14" not in first.text
    first_buttons = _buttons(first.reply_markup)
    assert list(first_buttons) == [NEXT[language]]  # no Previous on the first page

    second = await _press(harness, sender, first_buttons[NEXT[language]])
    assert "S1-R14" in second.text and "S1-R5" in second.text and "S1-R4" not in second.text
    assert {"ru": "страница 2", "en": "page 2"}[language] in second.text
    second_buttons = _buttons(second.reply_markup)
    assert list(second_buttons) == [PREVIOUS[language], NEXT[language]]

    third = await _press(harness, sender, second_buttons[NEXT[language]])
    assert third.text.count("\n\n") == 5
    assert "S1-R1 " in third.text and {"ru": "Приветственный бонус", "en": "Welcome bonus"}[language] in third.text
    assert list(_buttons(third.reply_markup)) == [PREVIOUS[language]]  # no Next on the last page

    back = await _press(harness, sender, _buttons(third.reply_markup)[PREVIOUS[language]])
    assert back.text == second.text
    top = await _press(harness, sender, _buttons(back.reply_markup)[PREVIOUS[language]])
    assert top.text == first.text and list(_buttons(top.reply_markup)) == [NEXT[language]]


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_each_line_says_what_points_where_when_why(uow: UnitOfWork, clock: FrozenClock, language: str) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(42, language=language)
    customer = await register(harness, sender)
    assert customer.card_id is not None
    await _purchases(uow, clock, customer.card_id, 1, store_name="Магазин <Центр>")
    await harness.feed(updates.text(sender, "/history"))
    text = last_message(harness).text
    line = text.split("\n\n")[1]
    assert {"ru": "Начисление за покупку", "en": "Points for a purchase"}[language] in line
    assert "<b>+5</b>" in line  # 5 % of 100 RUB
    assert "Магазин &lt;Центр&gt;" in line  # store names are escaped for HTML
    assert "15.01.2026 12:01" in line  # Moscow time
    assert {"ru": "чек S1-R1 на 100\u00a0₽", "en": "receipt S1-R1 for 100\u00a0₽"}[language] in line
    assert {"ru": "ставка 5\u00a0%", "en": "rate 5%"}[language] in line
    assert len(_buttons(last_message(harness).reply_markup)) == 0  # one page only: no buttons


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_a_refund_line_shows_no_internal_ids(uow: UnitOfWork, clock: FrozenClock, language: str) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(43, language=language)
    customer = await register(harness, sender)
    assert customer.card_id is not None
    await _purchases(uow, clock, customer.card_id, 1)
    [store] = await stores.list_stores(uow)
    clock.advance(timedelta(minutes=1))
    await refund(uow, clock, store_id=store.id, receipt_id="S1-R1", amount_kopecks=None, refund_id="RF-2", actor="test")
    await harness.feed(updates.text(sender, "/history"))
    line = last_message(harness).text.split("\n\n")[1]
    assert {"ru": "Списание при возврате", "en": "Taken back on a refund"}[language] in line
    # The stored reason "refund RF-2" is the till's id of the refund, in English: not for the customer.
    assert "RF-2" not in line and "refund RF" not in line


async def test_history_callback_never_shows_another_card(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    alice, bob = updates.user(43), updates.user(44)
    alice_view = await register(harness, alice, "79161110000")
    bob_view = await register(harness, bob, "79162220000")
    assert alice_view.card_id and bob_view.card_id
    await _purchases(uow, clock, bob_view.card_id, 15, code="BOB")
    # A cursor taken from Bob's history, replayed by Alice: she only ever sees her own card.
    bob_page = await get_history(uow, bob_view.card_id, limit=10)
    assert bob_page.older_cursor
    for direction in ("older", "newer", "first"):
        edit = await _press(harness, alice, HistoryNav(direction=direction, cursor=bob_page.older_cursor).pack())
        assert "BOB-" not in edit.text


TAMPERED = [
    "hist|older|not-a-cursor|2", "hist|older|2026-01-15T09:00:00_x|2", "hist|sideways||1", "hist|older|x|NaN",
    "hist", "prof:toggle:everything", "prof:edit:phone", "prof:edit", "del:confirm:abc", "del:confirm",
    "card:refresh:123", "card:steal", "lang:xx", "lang", "garbage", "",
]


async def test_tampered_callback_data_is_answered_as_outdated(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(45)
    await register(harness, sender)
    for data in TAMPERED:
        harness.session.clear()
        await harness.feed(updates.callback(sender, data))
        assert alerts(harness) == ["Эта кнопка устарела. Откройте раздел заново из меню."], data
        assert len(harness.session.requests) == 1, data  # the answer, and nothing else
    assert await customers.get_by_telegram(uow, 45) is not None


async def test_empty_history_and_a_page_that_vanished(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(46)
    customer = await register(harness, sender)
    assert customer.card_id is not None
    page = await get_history(uow, customer.card_id, limit=1)
    assert page.rows  # the welcome bonus
    # A "Next" from an old message whose older operations do not exist (any more).
    edit = await _press(harness, sender, HistoryNav(direction="older", cursor="2000-01-01T00:00:00+00:00_1").pack())
    assert "больше ничего нет" in edit.text
    assert "hist|first" in _buttons(edit.reply_markup).values().__iter__().__next__()

"""The Telegram side: /family and the invite deep link (for registered customers and for new ones
who register through it), the staff links form opened from the customer card, and /linktypes."""

from __future__ import annotations

from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardMarkup

from db.uow import UnitOfWork
from handlers.telegram.links import LinkAction
from handlers.telegram.linktypes import LinkTypeAction
from services import family, links, staff
from services.clock import FrozenClock
from tests.family.helpers import type_id, walk_in, without_card
from tests.support import updates
from tests.support.fixtures import BotHarness, make_harness


def last_markup(harness: BotHarness) -> InlineKeyboardMarkup:
    sent = [r for r in harness.session.sent(SendMessage) if isinstance(r.reply_markup, InlineKeyboardMarkup)]
    assert sent, harness.texts()
    markup = sent[-1].reply_markup
    assert isinstance(markup, InlineKeyboardMarkup)
    return markup


def buttons(markup: InlineKeyboardMarkup) -> dict[str, str]:
    return {b.text: b.callback_data or "" for row in markup.inline_keyboard for b in row}


async def test_a_registered_customer_joins_through_the_deep_link(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    owner = await walk_in(uow, clock, "+79161000001")
    member = await without_card(uow, clock, phone="+79161000002", telegram_id=301)
    code = (await family.create_invite(uow, clock, customer_id=owner.id)).code
    await harness.feed(updates.text(updates.user(301), f"/start family-{code}"))
    assert "9161000001" in harness.texts()[-1]
    assert [m.customer_id for m in (await family.get_family(uow, customer_id=owner.id)).members] == [member]


async def test_a_new_customer_registers_through_the_link_and_chooses_to_join(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    harness = make_harness(uow, clock)
    owner = await walk_in(uow, clock, "+79161000001")
    code = (await family.create_invite(uow, clock, customer_id=owner.id)).code
    sender = updates.user(302)
    await harness.feed(updates.text(sender, f"/start family-{code}"))
    await harness.feed(updates.contact(sender, "79161000005"))
    # Registration gave them a card of their own: they are asked whether to keep it or join.
    choice = buttons(last_markup(harness))
    join = next(data for data in choice.values() if data.startswith("fam:join"))
    await harness.feed(updates.callback(sender, join))
    view = await family.get_family(uow, customer_id=owner.id)
    assert len(view.members) == 1
    assert "9161000001" in harness.texts()[-1]


async def test_family_screen_without_a_card_and_a_member_leaving(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    await without_card(uow, clock, telegram_id=303)
    await harness.feed(updates.text(updates.user(303), "/family"))
    assert harness.texts()[-1] == harness.context.translator.get("ru", "family-no-card")
    card_owner = await walk_in(uow, clock, "+79161000001")
    member = await without_card(uow, clock, telegram_id=304, name="Маша")
    code = (await family.create_invite(uow, clock, customer_id=card_owner.id)).code
    await family.join_family(uow, clock, code=code, customer_id=member)
    # The member sees the family and a Leave button, and can leave.
    await harness.feed(updates.text(updates.user(304), "/family"))
    leave = buttons(last_markup(harness))
    assert list(leave.values()) == ["fam:leave:0:"]
    await harness.feed(updates.callback(updates.user(304), "fam:leave:0:"))
    assert (await family.get_family(uow, customer_id=card_owner.id)).members == ()


async def test_the_owner_gets_an_invite_link(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    owner = await without_card(uow, clock, phone="+79161000009", telegram_id=305)
    from db.models import Card

    async def give_card(session):  # type: ignore[no-untyped-def]
        session.add(Card(number="9161000009", customer_id=owner, otp_secret="A" * 32, created_at=clock.now(),
                         status="active", is_primary=True, source="phone"))

    await uow.write(give_card)
    await harness.feed(updates.text(updates.user(305), "/family"))
    invite = next(data for data in buttons(last_markup(harness)).values() if data.startswith("fam:invite"))
    await harness.feed(updates.callback(updates.user(305), invite))
    assert "?start=family-" in harness.texts()[-1]


async def test_staff_link_two_customers_from_the_customer_card(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    await staff.add_staff(uow, clock, telegram_id=900, role="cashier", name="Кассир", actor="test")
    cashier = updates.user(900)
    nadezhda = await walk_in(uow, clock, "+79115553322", "Надежда")
    fyodor = await without_card(uow, clock, phone="+79115556677")
    assert LinkAction.unpack(f"lk:open:{fyodor}") == LinkAction(action="open", customer_id=fyodor)
    await harness.feed(updates.callback(cashier, f"lk:open:{fyodor}"))
    await harness.feed(updates.callback(cashier, LinkAction(action="add", customer_id=fyodor).pack()))
    await harness.feed(updates.text(cashier, "Канарейкина"))
    pick = next(data for data in buttons(last_markup(harness)).values() if data.startswith("lk:pick"))
    assert LinkAction.unpack(pick).other_id == nadezhda.id
    await harness.feed(updates.callback(cashier, pick))
    # Defaults: card owner, contact person, legal representative ticked on the left. Re-tick as
    # ITigris' example: she is card owner and wife for him; he is husband and contact person for her.
    toggles = [
        ("tf", "card_owner"), ("tf", "legal_representative"), ("tb", "card_owner"), ("tb", "wife"),
        ("tf", "husband"),
    ]
    for action, code in toggles:
        data = LinkAction(action=action, customer_id=fyodor, other_id=nadezhda.id, type_id=await type_id(uow, code))
        await harness.feed(updates.callback(cashier, data.pack()))
    await harness.feed(
        updates.callback(cashier, LinkAction(action="save", customer_id=fyodor, other_id=nadezhda.id).pack())
    )
    saved = await links.get_links(uow, fyodor)
    assert {v.link_type.code for v in saved.is_for_others} == {"contact_person", "husband"}
    assert {v.link_type.code for v in saved.others_for_this} == {"card_owner", "wife"}
    assert "Надежда" in harness.texts()[-1]
    # Removing a link from the list.
    remove = next(data for data in buttons(last_markup(harness)).values() if data.startswith("lk:del"))
    await harness.feed(updates.callback(cashier, remove))
    assert len((await links.get_links(uow, fyodor)).all) == 3
    # A stranger cannot open the links.
    harness.session.clear()
    await harness.feed(updates.callback(updates.user(901), f"lk:open:{fyodor}"))
    assert len((await links.get_links(uow, fyodor)).all) == 3


async def test_linktypes_for_admins_only(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    await staff.add_staff(uow, clock, telegram_id=910, role="admin", name="Админ", actor="test")
    await staff.add_staff(uow, clock, telegram_id=911, role="cashier", name="Кассир", actor="test")
    await harness.feed(updates.text(updates.user(911), "/linktypes"))
    assert "Владелец карты" not in harness.texts()[-1]
    admin = updates.user(910)
    await harness.feed(updates.text(admin, "/linktypes"))
    assert "Владелец карты" in harness.texts()[-1]
    add = next(data for data in buttons(last_markup(harness)).values() if data.startswith("lt:add"))
    await harness.feed(updates.callback(admin, add))
    await harness.feed(updates.text(admin, "Сестра / Sister"))
    assert "Сестра" in harness.texts()[-1]
    assert "sister" in {t.code for t in await links.list_link_types(uow)}

    fwd = next(data for data in buttons(last_markup(harness)).values() if data.startswith("lt:fwd"))
    before = {t.id: t.default_forward for t in await links.list_link_types(uow)}
    await harness.feed(updates.callback(admin, fwd))
    toggled = LinkTypeAction.unpack(fwd).type_id
    after = {t.id: t.default_forward for t in await links.list_link_types(uow)}
    assert after[toggled] is not before[toggled]

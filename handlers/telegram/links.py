"""Staff: links between customers, from the customer card opened by /find (button `lk:open:<id>`).

The form is ITigris' "Создание связей": find the other customer by surname or phone, tick link
types in two columns — left "this customer is ... for them", right "for this customer they are
..." — pre-ticked with each type's default, then save. Links are listed and removed from the same
screen; a legal representative can be recorded as having given the data-processing consent."""

from __future__ import annotations

from html import escape
from typing import Any, Self

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from db.uow import UnitOfWork
from locales import Translator
from services import customers, links, staff
from services.clock import Clock
from services.consent import POLICY_VERSION
from services.links import CustomerLinks, LinkTypeView
from services.phones import PhonePolicy

MAX_FOUND = 10
_TICKS = "link_ticks"


class LinkAction(CallbackData, prefix="lk"):
    """`lk:open:<customer_id>` (the customer card's button) parses too: missing trailing fields
    take their defaults."""

    action: str
    customer_id: int
    other_id: int = 0
    type_id: int = 0
    link_id: int = 0

    @classmethod
    def unpack(cls, value: str) -> Self:
        parts = value.split(cls.__separator__)
        names = list(cls.model_fields)
        if 3 <= len(parts) < len(names) + 1:
            parts += [str(cls.model_fields[name].default) for name in names[len(parts) - 1 :]]
        return super().unpack(cls.__separator__.join(parts))


class LinkSearch(StatesGroup):
    query = State()


def _b(text: str, data: LinkAction) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def render_links(view: CustomerLinks, name: str, tr: Translator, locale: str) -> str:
    lines = [tr.get(locale, "links-title", name=escape(name))]
    for title, items in (("links-column-is", view.is_for_others), ("links-column-for", view.others_for_this)):
        lines.append("")
        lines.append(tr.get(locale, title))
        if not items:
            lines.append(tr.get(locale, "links-none"))
        for item in items:
            lines.append(f"• {escape(item.link_type.name(locale))} — {escape(item.other_name)}")
    return "\n".join(lines)


def links_keyboard(view: CustomerLinks, tr: Translator, locale: str) -> InlineKeyboardMarkup:
    cid = view.customer_id
    rows = [[_b(tr.get(locale, "links-button-add"), LinkAction(action="add", customer_id=cid))]]
    for item in view.all:
        label = tr.get(locale, "links-button-remove", type=item.link_type.name(locale), name=item.other_name)
        rows.append([_b(label[:60], LinkAction(action="del", customer_id=cid, link_id=item.id))])
    for item in view.others_for_this:
        if item.link_type.semantics == "legal_representative":
            label = tr.get(locale, "links-button-consent", name=item.other_name)
            data = LinkAction(action="consent", customer_id=cid, other_id=item.other_customer_id)
            rows.append([_b(label[:60], data)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def _show(
    query: CallbackQuery, uow: UnitOfWork, tr: Translator, locale: str, customer_id: int, *, viewer: staff.StaffView
) -> None:
    view = await links.get_links(uow, customer_id)
    card = await customers.get_customer(uow, customer_id, full_access=viewer.sees_personal_data)
    assert query.message is not None
    await query.message.answer(
        render_links(view, card.full_name, tr, locale), reply_markup=links_keyboard(view, tr, locale)
    )


def _form_keyboard(
    types: list[LinkTypeView], ticks: dict[str, list[int]], cid: int, other: int, tr: Translator, locale: str
) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    for t in types:
        left = "☑" if t.id in ticks["fwd"] else "☐"
        right = "☑" if t.id in ticks["bwd"] else "☐"
        rows.append([
            _b(left, LinkAction(action="tf", customer_id=cid, other_id=other, type_id=t.id)),
            _b(t.name(locale), LinkAction(action="noop", customer_id=cid, other_id=other)),
            _b(right, LinkAction(action="tb", customer_id=cid, other_id=other, type_id=t.id)),
        ])
    rows.append([
        _b(tr.get(locale, "links-button-save"), LinkAction(action="save", customer_id=cid, other_id=other)),
        _b(tr.get(locale, "links-button-cancel"), LinkAction(action="open", customer_id=cid)),
    ])
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def _form_text(uow: UnitOfWork, tr: Translator, locale: str, cid: int, other: int, full: bool) -> str:
    this = await customers.get_customer(uow, cid, full_access=full)
    that = await customers.get_customer(uow, other, full_access=full)
    return tr.get(locale, "links-form", this=escape(this.full_name), other=escape(that.full_name))


def get_router() -> Router:
    router = Router(name="links")

    @router.callback_query(LinkAction.filter(F.action == "open"))
    async def open_links(
        query: CallbackQuery, callback_data: LinkAction, uow: UnitOfWork, tr: Translator, locale: str,
        state: FSMContext,
    ) -> None:
        viewer = await staff.require_staff(uow, query.from_user.id, "cashier")
        await state.set_state(None)
        await _show(query, uow, tr, locale, callback_data.customer_id, viewer=viewer)
        await query.answer()

    @router.callback_query(LinkAction.filter(F.action == "add"))
    async def ask_other(
        query: CallbackQuery, callback_data: LinkAction, uow: UnitOfWork, tr: Translator, locale: str,
        state: FSMContext,
    ) -> None:
        await staff.require_staff(uow, query.from_user.id, "cashier")
        await state.set_state(LinkSearch.query)
        await state.update_data({"link_customer": callback_data.customer_id})
        assert query.message is not None
        await query.message.answer(tr.get(locale, "links-ask-other"))
        await query.answer()

    @router.message(LinkSearch.query, F.text)
    async def search_other(
        message: Message, uow: UnitOfWork, tr: Translator, locale: str, state: FSMContext,
        phone_policy: PhonePolicy,
    ) -> None:
        assert message.from_user is not None and message.text is not None
        viewer = await staff.require_staff(uow, message.from_user.id, "cashier")
        cid = int((await state.get_data()).get("link_customer", 0))
        found = [
            c for c in await customers.find_customers(
                uow, message.text, phone_policy=phone_policy, full_access=viewer.sees_personal_data, limit=MAX_FOUND + 1
            ) if c.id != cid
        ][:MAX_FOUND]
        if not found:
            await message.answer(tr.get(locale, "links-nobody-found"))
            return
        await state.set_state(None)
        rows = [
            [_b(" · ".join(p for p in (c.full_name, c.phone or "", c.card_number or "") if p)[:60],
                LinkAction(action="pick", customer_id=cid, other_id=c.id))]
            for c in found
        ]
        await message.answer(tr.get(locale, "links-pick"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))

    @router.callback_query(LinkAction.filter(F.action == "pick"))
    async def show_form(
        query: CallbackQuery, callback_data: LinkAction, uow: UnitOfWork, tr: Translator, locale: str,
        state: FSMContext,
    ) -> None:
        viewer = await staff.require_staff(uow, query.from_user.id, "cashier")
        types = await links.list_link_types(uow)
        ticks = {"fwd": [t.id for t in types if t.default_forward], "bwd": [t.id for t in types if t.default_backward]}
        await state.update_data({_TICKS: ticks})
        cid, other = callback_data.customer_id, callback_data.other_id
        assert query.message is not None
        await query.message.answer(
            await _form_text(uow, tr, locale, cid, other, viewer.sees_personal_data),
            reply_markup=_form_keyboard(types, ticks, cid, other, tr, locale),
        )
        await query.answer()

    @router.callback_query(LinkAction.filter(F.action.in_({"tf", "tb"})))
    async def toggle(
        query: CallbackQuery, callback_data: LinkAction, uow: UnitOfWork, tr: Translator, locale: str,
        state: FSMContext,
    ) -> None:
        await staff.require_staff(uow, query.from_user.id, "cashier")
        data: dict[str, Any] = await state.get_data()
        ticks: dict[str, list[int]] = data.get(_TICKS) or {"fwd": [], "bwd": []}
        column = ticks["fwd" if callback_data.action == "tf" else "bwd"]
        if callback_data.type_id in column:
            column.remove(callback_data.type_id)
        else:
            column.append(callback_data.type_id)
        await state.update_data({_TICKS: ticks})
        types = await links.list_link_types(uow)
        if query.message is not None and hasattr(query.message, "edit_reply_markup"):
            await query.message.edit_reply_markup(
                reply_markup=_form_keyboard(types, ticks, callback_data.customer_id, callback_data.other_id, tr, locale)
            )
        await query.answer()

    @router.callback_query(LinkAction.filter(F.action == "noop"))
    async def noop(query: CallbackQuery) -> None:
        await query.answer()

    @router.callback_query(LinkAction.filter(F.action == "save"))
    async def save(
        query: CallbackQuery, callback_data: LinkAction, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        state: FSMContext,
    ) -> None:
        viewer = await staff.require_staff(uow, query.from_user.id, "cashier")
        data: dict[str, Any] = await state.get_data()
        ticks: dict[str, list[int]] = data.get(_TICKS) or {"fwd": [], "bwd": []}
        await links.save_links(
            uow, clock, customer_id=callback_data.customer_id, other_customer_id=callback_data.other_id,
            forward_type_ids=ticks["fwd"], backward_type_ids=ticks["bwd"], actor=viewer.actor,
        )
        await state.update_data({_TICKS: None})
        await query.answer(tr.get(locale, "links-saved"))
        await _show(query, uow, tr, locale, callback_data.customer_id, viewer=viewer)

    @router.callback_query(LinkAction.filter(F.action == "del"))
    async def remove(
        query: CallbackQuery, callback_data: LinkAction, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
    ) -> None:
        viewer = await staff.require_staff(uow, query.from_user.id, "cashier")
        await links.remove_link(uow, clock, link_id=callback_data.link_id, actor=viewer.actor)
        await query.answer(tr.get(locale, "links-removed"))
        await _show(query, uow, tr, locale, callback_data.customer_id, viewer=viewer)

    @router.callback_query(LinkAction.filter(F.action == "consent"))
    async def consent(
        query: CallbackQuery, callback_data: LinkAction, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
    ) -> None:
        viewer = await staff.require_staff(uow, query.from_user.id, "cashier")
        await links.record_consent_by_representative(
            uow, clock, customer_id=callback_data.customer_id, representative_id=callback_data.other_id,
            policy_version=POLICY_VERSION, actor=viewer.actor,
        )
        await query.answer(tr.get(locale, "links-consent-recorded"), show_alert=True)

    return router

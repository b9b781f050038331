"""/linktypes: admins keep the directory of link types (ITigris "Связи между клиентами"): add,
rename, switch off (system types cannot be), and the default ticks of the staff form."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from db.uow import UnitOfWork
from locales import Translator
from services import links, staff
from services.clock import Clock
from services.links import LinkTypeView

ROLE = "admin"


class LinkTypeAction(CallbackData, prefix="lt"):
    action: str  # add | rename | off | on | fwd | bwd
    type_id: int = 0


class LinkTypeName(StatesGroup):
    name = State()


def _tick(value: bool) -> str:
    return "☑" if value else "☐"


def render(types: list[LinkTypeView], tr: Translator, locale: str) -> str:
    lines = [tr.get(locale, "linktypes-title"), ""]
    for t in types:
        state = ""
        if not t.active:
            state = " " + tr.get(locale, "linktypes-inactive")
        elif t.system:
            state = " " + tr.get(locale, "linktypes-system")
        lines.append(tr.get(
            locale, "linktypes-row", forward=_tick(t.default_forward), name=escape(t.name(locale)),
            backward=_tick(t.default_backward), state=state,
        ))
    return "\n".join(lines)


def keyboard(types: list[LinkTypeView], tr: Translator, locale: str) -> InlineKeyboardMarkup:
    def b(key: str, action: str, t: LinkTypeView | None = None, **args: str) -> InlineKeyboardButton:
        text = tr.get(locale, key, name=t.name(locale) if t else "", **args)
        return InlineKeyboardButton(
            text=text[:60], callback_data=LinkTypeAction(action=action, type_id=t.id if t else 0).pack()
        )

    rows = [[b("linktypes-button-add", "add")]]
    for t in types:
        row = [
            b("linktypes-button-forward", "fwd", t, tick=_tick(t.default_forward)),
            b("linktypes-button-backward", "bwd", t, tick=_tick(t.default_backward)),
            b("linktypes-button-rename", "rename", t),
        ]
        if not t.system:
            row.append(b("linktypes-button-on" if not t.active else "linktypes-button-off",
                         "on" if not t.active else "off", t))
        rows.append(row)
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def _send(message: Message, uow: UnitOfWork, tr: Translator, locale: str) -> None:
    types = await links.list_link_types(uow, include_inactive=True)
    await message.answer(render(types, tr, locale), reply_markup=keyboard(types, tr, locale))


def _names(text: str) -> tuple[str, str | None]:
    ru, _, en = text.partition("/")
    return ru.strip(), (en.strip() or None)


def get_router() -> Router:
    router = Router(name="linktypes")

    @router.message(Command("linktypes"))
    async def show(message: Message, uow: UnitOfWork, tr: Translator, locale: str) -> None:
        assert message.from_user is not None
        await staff.require_staff(uow, message.from_user.id, ROLE)
        await _send(message, uow, tr, locale)

    @router.callback_query(LinkTypeAction.filter(F.action.in_({"add", "rename"})))
    async def ask_name(
        query: CallbackQuery, callback_data: LinkTypeAction, uow: UnitOfWork, tr: Translator, locale: str,
        state: FSMContext,
    ) -> None:
        await staff.require_staff(uow, query.from_user.id, ROLE)
        await state.set_state(LinkTypeName.name)
        await state.update_data({"link_type_id": callback_data.type_id})
        assert query.message is not None
        await query.message.answer(tr.get(locale, "linktypes-ask-name"))
        await query.answer()

    @router.message(LinkTypeName.name, F.text)
    async def named(
        message: Message, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str, state: FSMContext
    ) -> None:
        assert message.from_user is not None and message.text is not None
        admin = await staff.require_staff(uow, message.from_user.id, ROLE)
        type_id = int((await state.get_data()).get("link_type_id") or 0)
        ru, en = _names(message.text)
        if type_id:
            await links.rename_link_type(uow, clock, link_type_id=type_id, name_ru=ru, name_en=en, actor=admin.actor)
        else:
            await links.add_link_type(uow, clock, name_ru=ru, name_en=en, actor=admin.actor)
        await state.set_state(None)
        await _send(message, uow, tr, locale)

    @router.callback_query(LinkTypeAction.filter(F.action.in_({"on", "off", "fwd", "bwd"})))
    async def change(
        query: CallbackQuery, callback_data: LinkTypeAction, uow: UnitOfWork, clock: Clock, tr: Translator,
        locale: str,
    ) -> None:
        admin = await staff.require_staff(uow, query.from_user.id, ROLE)
        type_id = callback_data.type_id
        if callback_data.action in ("on", "off"):
            await links.set_link_type_active(
                uow, clock, link_type_id=type_id, active=callback_data.action == "on", actor=admin.actor
            )
        else:
            await links.toggle_link_type_default(
                uow, clock, link_type_id=type_id, forward=callback_data.action == "fwd", actor=admin.actor
            )
        await query.answer(tr.get(locale, "linktypes-done"))
        assert query.message is not None
        types = await links.list_link_types(uow, include_inactive=True)
        if hasattr(query.message, "edit_text"):
            await query.message.edit_text(render(types, tr, locale), reply_markup=keyboard(types, tr, locale))

    return router

"""The gate in front of routers that take only their commands and dialog answers
(handlers/telegram/gates.py): it lets in what one of their handlers could take, nothing else,
and refuses routers it could not describe."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiogram import F, Router
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.state import State, StatesGroup, any_state, default_state
from aiogram.types import Message

from handlers.telegram.gates import MessageGate, gated
from tests.support import updates


class Dialog(StatesGroup):
    card = State()
    amount = State()


class Other(StatesGroup):
    name = State()


def _router(name: str, *filters: Any) -> Router:
    router = Router(name=name)

    @router.message(*filters)
    async def handler(message: Message) -> None:
        pass

    return router


def _gate(*routers: Router) -> MessageGate:
    gate = gated("gate", list(routers))
    (only,) = gate.message._handler.filters or ()
    assert isinstance(only.callback, MessageGate)
    return only.callback


def _message(text: str) -> Message:
    return updates.text(updates.user(1), text).message  # type: ignore[return-value]


def test_the_gate_lets_in_the_commands_and_dialog_states_of_its_routers_only() -> None:
    gate = _gate(
        _router("commands", Command("accrue", "Redeem", ignore_case=True)),
        _router("start", CommandStart()),
        _router("dialog", Dialog.amount, F.text),
        _router("group", StateFilter(Other)),
    )

    assert gate(_message("/accrue 100"))
    assert gate(_message("/ACCRUE@loyalty_bot 100"))
    assert gate(_message("/redeem"))
    assert gate(_message("/start family-abc"))
    assert gate(_message("250"), raw_state=Dialog.amount.state)
    assert gate(_message("Anna"), raw_state=Other.name.state)

    assert not gate(_message("/balance"))
    assert not gate(_message("accrue"))
    assert not gate(_message("250"))
    assert not gate(_message("250"), raw_state=Dialog.card.state)


@pytest.mark.parametrize(
    "filters",
    [
        (F.text,),
        (default_state,),
        (any_state, F.text),
        (StateFilter("*"),),
        (Command(re.compile(r"acc\w+")),),
    ],
    ids=["catch-all", "no state", "any state", "any state by name", "command by pattern"],
)
def test_a_router_taking_messages_the_gate_cannot_list_is_refused(filters: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError, match="router 'wide'"):
        gated("gate", [_router("commands", Command("accrue")), _router("wide", *filters)])


def test_a_router_whose_outer_middleware_must_see_every_message_is_refused() -> None:
    router = _router("marks", Command("accrue"))

    @router.message.outer_middleware
    async def mark(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        return await handler(event, data)

    with pytest.raises(ValueError, match="outer middleware"):
        gated("gate", [router])

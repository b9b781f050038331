"""A gate in front of routers whose message handlers each wait for a command or a dialog state.

aiogram offers a message to every router in turn, and each router checks each of its handlers'
filters. A customer's /balance went past 14 staff and admin routers with about 30 handlers in
them, none of which could take it (benchmark 1). `gated` puts such routers under one parent whose
filter lets a message in only if it names one of their commands or arrives in one of their dialog
states. The gate is derived from the handlers' own `Command` and state filters, so it cannot drift
from them, and it refuses a handler that takes messages without either: it only skips routers that
would not have answered anyway."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from inspect import isclass
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.filters import Command, StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message


@dataclass(frozen=True)
class MessageGate:
    commands: frozenset[str]  # casefolded, without the prefix
    prefixes: str
    states: frozenset[str]

    def __call__(self, message: Message, raw_state: str | None = None) -> bool:
        if raw_state is not None and raw_state in self.states:
            return True
        text = message.text or message.caption
        if not text or text[0] not in self.prefixes:
            return False
        # The same split as aiogram's Command filter, casefolded to cover its `ignore_case`.
        command = text.split(maxsplit=1)[0][1:].partition("@")[0]
        return command.casefold() in self.commands


def gated(name: str, routers: list[Router]) -> Router:
    commands: set[str] = set()
    prefixes: set[str] = set()
    states: set[str] = set()
    for router, handler in _message_handlers(routers):
        if router.message.outer_middleware:
            raise ValueError(f"router {router.name!r} has an outer middleware, which must see every message")
        found = False
        for each in handler.filters or ():
            if isinstance(each.callback, Command):
                commands.update(_names(each.callback, router))
                prefixes.update(each.callback.prefix)
                found = True
            elif (names := _state_names(each.callback, router)) is not None:
                states.update(names)
                found = True
        if not found:
            raise ValueError(f"router {router.name!r} has a message handler with no command or dialog state")
    gate = Router(name=name)
    gate.message.filter(MessageGate(frozenset(commands), "".join(sorted(prefixes)), frozenset(states)))
    gate.include_routers(*routers)
    return gate


def _message_handlers(routers: list[Router]) -> Iterator[tuple[Router, HandlerObject]]:
    for top in routers:
        for router in top.chain_tail:
            for handler in router.message.handlers:
                yield router, handler


def _names(command: Command, router: Router) -> Iterator[str]:
    for each in command.commands:
        if isinstance(each, re.Pattern):
            raise ValueError(f"router {router.name!r} matches a command by pattern, which a gate cannot list")
        yield each.casefold()


def _state_names(callback: Any, router: Router) -> set[str] | None:
    """The dialog states a state filter waits in; None for any other filter."""
    if isinstance(callback, State):
        allowed: tuple[Any, ...] = (callback,)
    elif isinstance(callback, StateFilter):
        allowed = tuple(callback.states)
    else:
        return None
    names: set[str] = set()
    for each in allowed:
        if isinstance(each, State) and each.state not in (None, "*"):
            names.add(each.state)
        elif isclass(each) and issubclass(each, StatesGroup):
            names.update(each.__all_states_names__)
        else:  # no state, any state, or a bare string: more than a gate can list
            raise ValueError(f"router {router.name!r} waits in a state ({each!r}) a gate cannot list")
    return names

"""Run synchronous filters inline instead of in a worker thread.

aiogram 3 awaits a coroutine filter directly but sends every plain callable, magic filters (`F.…`)
included, through `asyncio.to_thread`. Our routers evaluate some forty such filters per update
(chat type, menu buttons, callback actions), all pure and microseconds long, so the thread hops
were most of the cost of an update (benchmark 1). `run_filters_inline` rewraps them once, after the
routers are built; `tests/telegram/test_inline_filters.py` guards that none is left behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import CallableObject, FilterObject


def _as_coroutine(callback: Callable[..., Any]) -> Callable[..., Any]:
    async def inline(*args: Any, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    return inline


def filter_objects(router: Router) -> Iterator[FilterObject]:
    """Every filter of `router` and its sub-routers: router-level and per-handler."""
    for each in router.chain_tail:
        for observer in each.observers.values():
            yield from observer._handler.filters or ()
            for handler in observer.handlers:
                yield from handler.filters or ()


def threaded(objects: Iterator[CallableObject]) -> list[CallableObject]:
    return [each for each in objects if not each.awaitable]


def run_filters_inline(router: Router) -> None:
    for each in threaded(filter_objects(router)):
        # `params` still comes from the original signature, so aiogram passes the same arguments.
        each.callback = _as_coroutine(each.callback)
        each.awaitable = True

"""aiogram sends synchronous filters to a worker thread; ours must all run inline on the loop."""

from __future__ import annotations

import threading

from aiogram import Dispatcher, F, Router
from aiogram.types import Message

from db.uow import UnitOfWork
from handlers.telegram import get_routers
from handlers.telegram.inline_filters import filter_objects, run_filters_inline, threaded
from services.clock import FrozenClock
from tests.support import updates
from tests.support.fixtures import make_harness
from tests.support.recording_bot import recording_bot


def test_the_project_dispatcher_has_no_filter_left_for_a_thread(uow: UnitOfWork, clock: FrozenClock) -> None:
    bare = Router()
    bare.include_routers(*get_routers())
    assert threaded(filter_objects(bare)), "the routers have synchronous filters: the rewrap must matter"

    dispatcher = make_harness(uow, clock).dispatcher
    assert threaded(filter_objects(dispatcher)) == []
    handlers = [h for r in dispatcher.chain_tail for o in r.observers.values() for h in o.handlers]
    assert handlers and all(h.awaitable for h in handlers), "a synchronous handler would run in a thread"


async def test_a_rewrapped_filter_runs_on_the_loop_thread_with_the_same_answer() -> None:
    seen: list[str] = []

    def chat_is_private(message: Message) -> bool:
        seen.append(threading.current_thread().name)
        return message.chat.type == "private"

    router = Router()
    router.message.filter(chat_is_private)
    answered: list[str] = []

    @router.message(F.text == "/ping")
    async def ping(message: Message) -> None:
        answered.append(message.text or "")

    run_filters_inline(router)
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    bot = recording_bot()
    sender = updates.user(1)
    await dispatcher.feed_update(bot, updates.text(sender, "/ping"))
    await dispatcher.feed_update(bot, updates.text(sender, "/ping", chat_type="group"))
    await dispatcher.feed_update(bot, updates.text(sender, "/pong"))
    assert answered == ["/ping"]
    assert seen == [threading.main_thread().name] * 3

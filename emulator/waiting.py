"""A broadcast "something changed" signal for long polls (getUpdates, control waits)."""

from __future__ import annotations

import asyncio


class Signal:
    """Wakes every waiter at once; waiters re-check their own condition.

    One signal for the whole emulator keeps the bookkeeping trivial: the emulator serves a handful
    of clients, so waking all of them on every change costs nothing measurable.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return

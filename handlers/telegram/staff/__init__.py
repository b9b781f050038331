"""Staff in the bot: cashiers and managers work from the same bot as customers.

Every staff command works in one line with arguments and, sent bare, as a guided dialog. Routers
come before the customer routers (see handlers/telegram/get_routers): the invite deep link must be
seen before the customer /start, and staff commands before any catch-all.
"""

from __future__ import annotations

from aiogram import Router

from handlers.telegram.staff import (
    access,
    adjustments,
    cards,
    conflicts,
    erase,
    find,
    invites,
    menu,
    purchases,
    refunds,
    report,
    shift,
    walk_in,
    welcome,
)


def get_routers() -> list[Router]:
    return [
        invites.get_public_router(),  # the invite deep link before the staff /start
        welcome.get_router(),
        access.get_router(),  # cancel first: it ends any staff dialog
        menu.get_router(),
        invites.get_router(),
        find.get_router(),
        erase.get_router(),
        purchases.get_router(),
        refunds.get_router(),
        adjustments.get_router(),
        cards.get_router(),
        walk_in.get_router(),
        conflicts.get_router(),
        report.get_router(),
        shift.get_router(),
    ]

"""Telegram handlers, one module per feature, collected by get_routers()."""

from __future__ import annotations

from aiogram import Router

from handlers.telegram import (
    balance,
    broadcast,
    card,
    deletion,
    errors,
    fallback,
    family,
    help,
    history,
    language,
    links,
    linktypes,
    outbox_admin,
    profile,
    reachability,
    registration,
    staff,
    start,
)
from handlers.telegram.gates import gated


def get_routers() -> list[Router]:
    """Order matters: specific features first, the catch-all for messages and buttons after them,
    then the routers that take neither (a message never visits them: each visit costs every
    update that reaches it, benchmark 1)."""
    return [
        # Routers that take only their commands and dialog answers, behind one gate (gates.py).
        gated(
            "commands-and-dialogs",
            [
                # Staff first: the invite deep link beats the customer /start, staff commands beat catch-alls.
                *staff.get_routers(),
                broadcast.get_router(),
                outbox_admin.get_router(),
                family.get_deep_link_router(),  # `/start family-<code>` before the customer /start
                start.get_router(),
            ],
        ),
        family.attach_to_registration(registration.get_router()),  # joins an invite after registering
        card.get_router(),
        balance.get_router(),
        history.get_router(),
        profile.get_router(),
        language.get_router(),
        deletion.get_router(),
        help.get_router(),
        # Staff and family routers go here, before the fallback.
        links.get_router(),
        linktypes.get_router(),
        family.get_router(),
        # The catch-all for strangers and stale buttons: LAST of the routers taking messages or buttons.
        fallback.get_router(),
        reachability.get_router(),  # blocking and unblocking the bot (my_chat_member)
        errors.get_router(),  # errors raised by any handler above
    ]

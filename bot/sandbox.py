"""Sandbox seeding: the emulator's personas can play both sides of the till from the first minute.

In sandbox mode only (no BOT_TOKEN), at startup: Olga (OWNER_OLGA) becomes an owner, Boris
(CASHIER_BORIS) a cashier of the demo store DEMO. Each is added only when absent, so whatever was
changed in the sandbox since (a role, a deactivation, the store's name) survives a restart. Anna
stays a stranger: she registers herself by sharing her contact, as a real customer would.

Only into a database of the sandbox's own (its file ./sandbox.db unless SANDBOX_DATABASE_URL says
otherwise, see bot/settings.sandbox_database): a database holding customers or staff that are not
the personas is refused (services/sandbox.py), so the personas never become staff of a real shop.
"""

from __future__ import annotations

import logging

from db.uow import UnitOfWork
from emulator.personas import CASHIER_BORIS, OWNER_OLGA, PERSONAS, Persona
from services import sandbox, staff, stores
from services.clock import Clock
from services.errors import StoreExists

log = logging.getLogger(__name__)

DEMO_STORE_CODE = "DEMO"
# Seed data like the personas' own names (not interface text), so not in the locale files.
DEMO_STORE_NAME = "Демо-магазин"
ACTOR = "sandbox"


def _name(persona: Persona) -> str:
    return f"{persona.first_name} {persona.last_name}"


async def seed_sandbox(uow: UnitOfWork, clock: Clock) -> list[str]:
    """Create what is missing of the demo store, the owner and the cashier; returns what was created.
    Raises SandboxDatabaseHoldsRealData, creating nothing, in a database with real data."""
    await sandbox.claim_database(uow, clock, persona_ids=[persona.id for persona in PERSONAS], actor=ACTOR)
    created: list[str] = []
    if DEMO_STORE_CODE not in {store.code for store in await stores.list_stores(uow)}:
        try:
            await stores.add_store(uow, clock, code=DEMO_STORE_CODE, name=DEMO_STORE_NAME, actor=ACTOR)
            created.append(f"store {DEMO_STORE_CODE}")
        except StoreExists:  # another process seeded it a moment ago
            pass
    present = {member.telegram_id for member in await staff.list_staff(uow)}
    for persona, role, store_code in ((OWNER_OLGA, "owner", None), (CASHIER_BORIS, "cashier", DEMO_STORE_CODE)):
        if persona.id in present:
            continue
        await staff.add_staff(
            uow, clock, telegram_id=persona.id, role=role, name=_name(persona), store_code=store_code, actor=ACTOR
        )
        created.append(f"{role} {persona.id}")
    if created:
        log.info("sandbox seeded: %s", ", ".join(created))
    return created

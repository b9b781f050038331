"""Levels: which rung of the ladder a card stands on, from its cumulative purchases minus refunds.

A card uses its group's ladder when the group has levels, else the default ladder (group_id NULL).
A manager may pin a customer's level (VIP): the pinned level then wins for every card the customer
owns and is never changed by purchases or refunds. Without a pin the level follows the purchases:
a purchase can only raise the sum (promotion at once), a refund lowers it (the only demotion).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card, Customer, Level
from db.uow import UnitOfWork
from services import audit
from services.clock import Clock
from services.engine_cache import EngineCache, engine_of
from services.errors import CustomerNotFound, LevelNotFound
from services.program import CACHE_TTL_SECONDS


@dataclass(frozen=True)
class LevelNames:
    """A level's name in each language the bot speaks; Russian for any other."""

    ru: str
    en: str

    def of(self, locale: str | None) -> str:
        return self.en if locale == "en" else self.ru


@dataclass(frozen=True)
class LevelInfo:
    id: int
    code: str
    names: LevelNames
    percent_bp: int
    threshold_kopecks: int


@dataclass(frozen=True)
class CardLevel:
    level: LevelInfo
    pinned: bool
    next_level: LevelInfo | None
    to_next_kopecks: int | None  # purchases still needed for the next rung (None: top or pinned)


def _info(level: Level) -> LevelInfo:
    return LevelInfo(level.id, level.code, LevelNames(level.name_ru, level.name_en), level.percent_bp,
                     level.threshold_kopecks)


@dataclass(frozen=True)
class LevelTable:
    """Every level, read at once: a handful of rows that an admin changes a few times a year."""

    by_id: dict[int, LevelInfo]
    ladders: dict[int | None, list[LevelInfo]]  # group id (None: the default ladder) -> rungs, lowest first

    def pinned(self, level_id: int | None) -> LevelInfo | None:
        """The level a `customers.pinned_level_id` names (None: no pin)."""
        return None if level_id is None else self.by_id[level_id]


_table_cache: EngineCache[LevelTable] = EngineCache(CACHE_TTL_SECONDS)


async def _load_table(session: AsyncSession) -> LevelTable:
    rows = (await session.execute(select(Level).order_by(Level.threshold_kopecks, Level.id))).scalars().all()
    ladders: dict[int | None, list[LevelInfo]] = {}
    for row in rows:
        ladders.setdefault(row.group_id, []).append(_info(row))
    return LevelTable({row.id: _info(row) for row in rows}, ladders)


async def level_table(session: AsyncSession) -> LevelTable:
    return await _table_cache.get_or_load(engine_of(session), lambda: _load_table(session))


def invalidate_cache(uow: UnitOfWork | None = None) -> None:
    """After levels are changed by hand (tests, a data fix): the next read loads them again."""
    _table_cache.invalidate(None if uow is None else uow.engine)


async def level_table_of(uow: UnitOfWork) -> LevelTable:
    """The cached table for a use case that reads without a session (see services/engine_cache.py)."""
    return await _table_cache.get_or_load(uow.engine, lambda: uow.read(_load_table))


async def ladder(session: AsyncSession, group_id: int | None) -> list[LevelInfo]:
    return _rungs(await level_table(session), group_id)


def _rungs(table: LevelTable, group_id: int | None) -> list[LevelInfo]:
    """The rungs that apply to a card of `group_id`, lowest threshold first: the group's own
    ladder when it has one, else the default ladder."""
    return table.ladders.get(group_id) or table.ladders.get(None, [])


def rung_for(rungs: list[LevelInfo], purchases_kopecks: int) -> LevelInfo:
    """The highest rung whose threshold the purchases reach (the lowest one if none is reached)."""
    if not rungs:
        raise LevelNotFound(reason="no levels configured")
    chosen = rungs[0]
    for rung in rungs:
        if purchases_kopecks >= rung.threshold_kopecks:
            chosen = rung
    return chosen


async def _pinned_level(session: AsyncSession, card: Card) -> LevelInfo | None:
    if card.customer_id is None:
        return None
    key = ("levels.pinned", card.customer_id)
    if key not in session.info:
        session.info[key] = await _load_pinned_level(session, card.customer_id)
    pinned: LevelInfo | None = session.info[key]
    return pinned


async def remember_pin(session: AsyncSession, customer_id: int, pinned_level_id: int | None) -> None:
    """Seed this transaction's pin lookup with a `customers.pinned_level_id` the caller has just
    read along with something else, saving `card_level` its own query."""
    table = await level_table(session)
    session.info[("levels.pinned", customer_id)] = table.pinned(pinned_level_id)


_PIN = select(Customer.pinned_level_id).where(Customer.id == bindparam("customer_id"))


async def _load_pinned_level(session: AsyncSession, customer_id: int) -> LevelInfo | None:
    level_id = (await session.execute(_PIN, {"customer_id": customer_id})).scalar_one_or_none()
    return (await level_table(session)).pinned(level_id)


async def card_level(session: AsyncSession, card: Card, purchases_kopecks: int | None = None) -> CardLevel:
    """The level `card` has (or would have with `purchases_kopecks`), and the way to the next."""
    purchases = card.purchases_kopecks if purchases_kopecks is None else purchases_kopecks
    pinned = await _pinned_level(session, card)
    return level_in(await level_table(session), pinned, card.group_id, purchases)


def level_in(table: LevelTable, pinned: LevelInfo | None, group_id: int | None, purchases_kopecks: int) -> CardLevel:
    """The level a card of `group_id` with these purchases has, unless its owner's level is pinned."""
    if pinned is not None:
        return CardLevel(pinned, True, None, None)
    rungs = _rungs(table, group_id)
    current = rung_for(rungs, purchases_kopecks)
    higher = [r for r in rungs if r.threshold_kopecks > current.threshold_kopecks]
    if not higher:
        return CardLevel(current, False, None, None)
    return CardLevel(current, False, higher[0], higher[0].threshold_kopecks - purchases_kopecks)


async def refresh_card_level(session: AsyncSession, card: Card) -> tuple[int | None, CardLevel]:
    """Store the level the card's purchases give it; return (previous level id, new level)."""
    previous = card.level_id
    level = await card_level(session, card)
    if previous != level.level.id:
        await session.execute(update(Card).where(Card.id == card.id).values(level_id=level.level.id))
        card.level_id = level.level.id
    return previous, level


async def _set_pin(
    uow: UnitOfWork, clock: Clock, *, customer_id: int, level_code: str | None, group_id: int | None, actor: str
) -> None:
    async def work(session: AsyncSession) -> None:
        customer = await session.get(Customer, customer_id, with_for_update=True)
        if customer is None:
            raise CustomerNotFound(customer_id=customer_id)
        level_id: int | None = None
        if level_code is not None:
            stmt = select(Level.id).where(Level.code == level_code)
            stmt = stmt.where(Level.group_id.is_(None) if group_id is None else Level.group_id == group_id)
            level_id = (await session.execute(stmt)).scalar_one_or_none()
            if level_id is None:
                raise LevelNotFound(level=level_code)
        before = customer.pinned_level_id
        customer.pinned_level_id = level_id
        session.info.pop(("levels.pinned", customer_id), None)
        await session.flush()
        cards = (await session.execute(select(Card).where(Card.customer_id == customer_id))).scalars().all()
        for card in cards:
            await refresh_card_level(session, card)
        await audit.record(
            session,
            at=clock.now(),
            actor=actor,
            action="level.pin" if level_id is not None else "level.unpin",
            entity="customer",
            entity_id=customer_id,
            before={"pinned_level_id": before},
            after={"pinned_level_id": level_id},
        )

    await uow.write(work)


async def pin_level(
    uow: UnitOfWork, clock: Clock, *, customer_id: int, level_code: str, actor: str, group_id: int | None = None
) -> None:
    """Pin a customer's level (a manager's decision, audited); their cards take it at once."""
    await _set_pin(uow, clock, customer_id=customer_id, level_code=level_code, group_id=group_id, actor=actor)


async def unpin_level(uow: UnitOfWork, clock: Clock, *, customer_id: int, actor: str) -> None:
    """Remove the pin: the cards fall back to the level their purchases give."""
    await _set_pin(uow, clock, customer_id=customer_id, level_code=None, group_id=None, actor=actor)

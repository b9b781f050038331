"""Migration 0012_level_names keeps each level's name as its English name and gives the seeded levels
their Russian names; a level an admin added keeps its one name in both languages until renamed."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db import migrate


async def test_existing_levels_get_a_name_per_language(engine: AsyncEngine) -> None:
    await migrate.downgrade(engine, "0011")
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM levels"))
        for code, name, threshold in (("base", "Base", 0), ("silver", "Silver", 100), ("vip", "VIP", 200)):
            await conn.execute(
                text("INSERT INTO levels (group_id, code, name, threshold_kopecks, percent_bp) "
                     "VALUES (NULL, :c, :n, :t, 500)"),
                {"c": code, "n": name, "t": threshold},
            )
    await migrate.upgrade(engine, "head")
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT code, name_ru, name_en FROM levels ORDER BY threshold_kopecks"))).all()
    assert [tuple(row) for row in rows] == [
        ("base", "Базовый", "Base"), ("silver", "Серебряный", "Silver"), ("vip", "VIP", "VIP"),
    ]

"""Level names per language: `levels.name` becomes `name_en`, and `name_ru` joins it, so a Russian
screen never says "Уровень: Base" (services/levels.py LevelNames).

Revision ID: 0012_level_names
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012_level_names"
down_revision: str | None = "0011"
branch_labels = None
depends_on = None

# The Russian names of the seeded levels (0001 LEVELS holds their English names). A level an admin
# added has only the name it was given: it serves both languages until someone names it in Russian.
NAMES_RU = {"base": "Базовый", "silver": "Серебряный", "gold": "Золотой"}


def upgrade() -> None:
    with op.batch_alter_table("levels") as batch:
        batch.alter_column("name", new_column_name="name_en", existing_type=sa.String(100), existing_nullable=False)
        batch.add_column(sa.Column("name_ru", sa.String(100), nullable=False, server_default=""))
    levels = sa.table("levels", sa.column("code", sa.String), sa.column("name_en", sa.String),
                      sa.column("name_ru", sa.String))
    op.execute(levels.update().values(name_ru=levels.c.name_en))
    for code, name in NAMES_RU.items():
        op.execute(levels.update().where(levels.c.code == code).values(name_ru=name))


def downgrade() -> None:
    with op.batch_alter_table("levels") as batch:
        batch.drop_column("name_ru")
        batch.alter_column("name_en", new_column_name="name", existing_type=sa.String(100), existing_nullable=False)

from __future__ import annotations

import pytest

from db.uow import UnitOfWork
from locales import translator
from services.clock import FrozenClock
from tests.telegram.staff.helpers import Shop, open_shop


@pytest.fixture
async def shop(uow: UnitOfWork, clock: FrozenClock) -> Shop:
    return await open_shop(uow, clock)


def err(code: str, locale: str = "ru", /, **params: object) -> str:
    """The exact text a DomainError with this code is answered with."""
    role = params.get("role")
    if isinstance(role, str):  # a role is answered under its name, not its code (handlers/telegram/errors.py)
        params = {**params, "role": translator().get(locale, f"staff-role-{role}")}
    return translator().get(locale, f"error-{code}", **params)


def text(key: str, locale: str = "ru", /, **params: object) -> str:
    return translator().get(locale, key, **params)

"""/outbox for admins: how many messages wait, are taken by the sender, went out, were skipped, failed,
or have an unknown fate (a timeout, or a sender that died mid-request: never retried blindly), and
the progress of the latest broadcasts."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message

from db.uow import UnitOfWork
from locales import Translator
from services import broadcasts
from services.notifications.stats import outbox_counts
from services.staff import require_staff


def get_router() -> Router:
    router = Router(name="outbox-admin")
    router.message.filter(F.chat.type == "private")

    @router.message(Command("outbox"))
    async def outbox(message: Message, uow: UnitOfWork, tr: Translator, locale: str) -> None:
        assert message.from_user is not None
        await require_staff(uow, message.from_user.id, "admin")
        counts = await outbox_counts(uow)
        lines = [tr.get(locale, "outbox-title"), tr.get(locale, "outbox-counts", **counts)]
        for progress in await broadcasts.recent_progress(uow):
            status_key = f"outbox-status-{progress.status}"
            lines.append(
                tr.get(
                    locale, "outbox-broadcast", id=progress.broadcast_id,
                    status=tr.get(locale, status_key) if tr.has(status_key) else progress.status,
                    queued=progress.queued, delivered=progress.delivered, blocked=progress.blocked,
                    failed=progress.failed, skipped=progress.skipped, waiting=progress.waiting,
                )
            )
        await message.answer("\n\n".join(lines))

    return router

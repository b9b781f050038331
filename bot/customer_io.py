"""The terminal side of `import-customers` / `export-customers`: progress bar, summary, and the
summary sent to the owners in Telegram (best effort: only with a real BOT_TOKEN)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from tqdm import tqdm

from bot.context import AppContext
from services import staff
from services.exporter import export_customers
from services.importer import import_customers
from services.importer.report import ImportReport, summary_lines

log = logging.getLogger(__name__)


async def import_command(context: AppContext, args: argparse.Namespace) -> int:
    tr = context.translator

    def render(key: str, params: dict[str, object]) -> str:
        return tr.get(args.lang, key, **params)

    path = Path(args.file)
    with tqdm(total=None, unit=" rows", desc="import", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:
        report = await import_customers(
            context.uow, context.clock, path=path, policy=context.phone_policy, dry_run=args.dry_run,
            store_code=args.store, max_bytes=args.max_size_mb * 1024 * 1024,
            report_path=Path(args.report) if args.report else None, progress=bar.update, render=render,
        )
    lines = summary_lines(report, render)
    print("\n".join(lines))
    if not args.dry_run:
        await _tell_owners(context, report, lines)
    return 0


async def _tell_owners(context: AppContext, report: ImportReport, lines: list[str]) -> None:
    """The owners hear about an import in Telegram. There is no staff outbox (the outbox is for
    customers), so the CLI sends directly, and only when a real token is configured."""
    if context.settings.bot_token is None:
        return
    from bot.app import build_bot

    owners = [m for m in await staff.list_staff(context.uow) if m.role == "owner" and m.active]
    if not owners:
        return
    bot = build_bot(context.settings)
    try:
        for owner in owners:
            try:
                await asyncio.wait_for(bot.send_message(owner.telegram_id, "\n".join(lines)[:4000]), timeout=10)
            except Exception as exc:  # a report that cannot be delivered must not fail the import
                log.warning("import report not delivered to staff %s: %s", owner.id, exc)
    finally:
        await bot.session.close()


async def export_command(context: AppContext, args: argparse.Namespace) -> int:
    result = await export_customers(context.uow, context.clock, path=Path(args.file), encoding=args.encoding)
    print(context.translator.get("ru", "export-done", count=result.customers, path=result.path))
    return 0

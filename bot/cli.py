"""The one command line: `python -m bot <command>`. Every command has --help."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import date
from typing import Any

from bot.context import AppContext, build_context
from bot.logging import setup_logging
from bot.settings import Settings, SettingsError, load_settings
from db import migrate
from services import staff, stores
from services.errors import DomainError

CommandFn = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Loyalty program in Telegram.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser(
        "run", help="run everything: bot, HTTP server, scheduler (sandbox when BOT_TOKEN is empty)",
        description="Run the bot, the HTTP server and the scheduler. Without BOT_TOKEN, starts the local "
        "sandbox: a Bot API emulator and a chat page at http://HTTP_HOST:HTTP_PORT/sandbox.",
    )
    commands.add_parser("sandbox", help="run with the local Bot API emulator even if BOT_TOKEN is set")
    migrate_cmd = commands.add_parser("migrate", help="apply database migrations (or roll back with --revision)")
    migrate_cmd.add_argument("--revision", default="head", help="target revision (default: head)")
    migrate_cmd.add_argument("--down", action="store_true", help="downgrade to --revision instead")

    jobs = commands.add_parser("jobs", help="scheduled jobs").add_subparsers(dest="jobs_command", required=True)
    job_run = jobs.add_parser("run", help="run one job once")
    job_run.add_argument("name", help="job name (see `python -m bot jobs list`)")
    job_run.add_argument("--today", type=date.fromisoformat, help="pretend today is YYYY-MM-DD")
    job_run.add_argument(
        "--yes", action="store_true", help="run for another day than today without asking (it changes real data)"
    )
    jobs.add_parser("list", help="list jobs")

    staff_cmd = commands.add_parser("staff", help="staff members").add_subparsers(dest="staff_command", required=True)
    staff_add = staff_cmd.add_parser("add", help="make a Telegram user staff")
    staff_add.add_argument("telegram_id", type=int)
    staff_add.add_argument("role", choices=["owner", "admin", "manager", "cashier"])
    staff_add.add_argument("--store", help="store code")
    staff_add.add_argument("--name", default="", help="display name")
    staff_cmd.add_parser("list", help="list staff")

    store_cmd = commands.add_parser("store", help="stores (branches)").add_subparsers(
        dest="store_command", required=True
    )
    store_add = store_cmd.add_parser("add", help="add a store")
    store_add.add_argument("code")
    store_add.add_argument("name", nargs="+")
    store_cmd.add_parser("list", help="list stores")

    imp = commands.add_parser(
        "import-customers", help="import a client base (CSV export of a CRM)",
        description="Import a client base: CSV in UTF-8 or Windows-1251, ';' or ',', Russian or English "
        "column names (see README, Import). Re-importing the same file changes nothing.",
    )
    imp.add_argument("file", help="the CSV file")
    imp.add_argument("--dry-run", action="store_true", help="decide and report, write nothing")
    imp.add_argument("--store", help="store code the customers are attributed to")
    imp.add_argument("--report", help="where to write the CSV of skipped clients (default: next to FILE)")
    imp.add_argument("--max-size-mb", type=int, default=200, help="refuse larger files (default: 200)")
    imp.add_argument("--lang", choices=["ru", "en"], default="ru", help="language of the report")
    exp = commands.add_parser("export-customers", help="export the client base in the import format")
    exp.add_argument("file", help="the CSV file to write")
    exp.add_argument("--encoding", choices=["cp1251", "utf-8"], default="cp1251")

    key_cmd = commands.add_parser("api-key", help="API keys of the POS/admin HTTP API").add_subparsers(
        dest="key_command", required=True
    )
    key_create = key_cmd.add_parser(
        "create", help="create a key (printed once, stored hashed)",
        description="Create an API key for a store. The key and its signing secret are printed once.",
    )
    key_create.add_argument("--store", required=True, help="store code")
    key_create.add_argument("--scopes", default="pos", help="comma-separated: pos, admin (default: pos)")
    key_create.add_argument("--name", help="what the key is for, e.g. 'till 2'")
    key_cmd.add_parser("list", help="list keys (prefixes only)")
    key_revoke = key_cmd.add_parser("revoke", help="revoke a key by its prefix")
    key_revoke.add_argument("prefix")
    return parser


async def _with_context(settings: Settings, action: Callable[[AppContext], Awaitable[int]]) -> int:
    engine, context = build_context(settings)
    try:
        if context.uow.is_sqlite:
            await migrate.upgrade(engine)
        return await action(context)
    finally:
        await engine.dispose()


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runners import run

    if args.command == "sandbox":
        settings = settings.model_copy(update={"bot_token": None, "webhook_base_url": None})
    await run(settings)
    return 0


async def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from db.engine import create_engine

    engine = create_engine(settings.database_url)
    try:
        if args.down:
            await migrate.downgrade(engine, args.revision)
        else:
            await migrate.upgrade(engine, args.revision)
    finally:
        await engine.dispose()
    print(f"Database migrated {'down' if args.down else 'up'} to {args.revision}.")
    return 0


async def _jobs(args: argparse.Namespace, settings: Settings) -> int:
    from scheduler.jobs import JOBS, run_job

    if args.jobs_command == "list":
        for name, job in JOBS.items():
            print(f"{name:20} {job.description}")
        return 0
    if args.name not in JOBS:
        print(f"Unknown job {args.name!r}. Known: {', '.join(JOBS)}", file=sys.stderr)
        return 2

    async def action(context: AppContext) -> int:
        if args.today is not None and not await _confirmed_other_day(context, args):
            return 1
        summary = await run_job(context, args.name, today=args.today)
        print(f"{args.name}: {summary}")
        return 0

    return await _with_context(settings, action)


async def _confirmed_other_day(context: AppContext, args: argparse.Namespace) -> bool:
    """A job run for another day changes real data (burns points, queues greetings) as if that day
    had come: say what it would do and ask, unless --yes; without a terminal to ask, refuse."""
    from scheduler.jobs import JOBS, preview_job

    real_today = context.clock.now().astimezone(context.settings.tz).date()
    if args.today == real_today or args.yes:
        return True
    days = (args.today - real_today).days
    print(
        f"`{args.name}` will run as if today were {args.today.isoformat()} "
        f"({abs(days)} days {'after' if days > 0 else 'before'} today, {real_today.isoformat()}): "
        f"{JOBS[args.name].description}."
    )
    preview = await preview_job(context, args.name, args.today)
    if preview:
        print(f"Now that would be: {preview}.")
    if not sys.stdin.isatty():
        print("Not run: add --yes to run it without this question.", file=sys.stderr)
        return False
    answer = (await asyncio.to_thread(input, "Run it? Type yes to continue: ")).strip().lower()
    if answer not in {"yes", "y", "да", "д"}:
        print("Not run.")
        return False
    return True


async def _staff(args: argparse.Namespace, settings: Settings) -> int:
    async def action(context: AppContext) -> int:
        if args.staff_command == "list":
            for member in await staff.list_staff(context.uow):
                state = "active" if member.active else "inactive"
                store = member.store_code or "-"
                print(f"{member.telegram_id:>12}  {member.role:8} {store:10} {state:8} {member.name}")
            return 0
        member = await staff.add_staff(
            context.uow, context.clock, telegram_id=args.telegram_id, role=args.role, name=args.name,
            store_code=args.store, actor="cli",
        )
        print(f"Staff {member.telegram_id} is now {member.role} (store: {member.store_code or '-'}).")
        return 0

    return await _with_context(settings, action)


async def _store(args: argparse.Namespace, settings: Settings) -> int:
    async def action(context: AppContext) -> int:
        if args.store_command == "list":
            for store in await stores.list_stores(context.uow):
                print(f"{store.code:10} {store.name}")
            return 0
        store = await stores.add_store(
            context.uow, context.clock, code=args.code, name=" ".join(args.name), actor="cli"
        )
        print(f"Store {store.code} ({store.name}) added.")
        return 0

    return await _with_context(settings, action)


async def _api_key(args: argparse.Namespace, settings: Settings) -> int:
    from services import api_keys

    async def action(context: AppContext) -> int:
        if args.key_command == "list":
            for key in await api_keys.list_api_keys(context.uow):
                state = "active" if key.active else "revoked"
                print(f"{key.prefix}  {key.store_code or '-':10} {','.join(key.scopes):10} {state:8} {key.name or ''}")
            return 0
        if args.key_command == "revoke":
            await api_keys.revoke_api_key(context.uow, context.clock, prefix=args.prefix, actor="cli")
            print(f"API key {args.prefix} revoked.")
            return 0
        created = await api_keys.create_api_key(
            context.uow, context.clock, store_code=args.store, scopes=api_keys.parse_scopes(args.scopes),
            name=args.name, actor="cli",
        )
        print(f"API key for store {created.store_code}, scopes {','.join(created.scopes)} (shown once, keep it safe):")
        print(f"  key:            {created.key}")
        print(f"  signing secret: {created.signing_secret}")
        print("Send `Authorization: Bearer <key>` and sign each request with X-Signature (README, POS/admin API).")
        return 0

    return await _with_context(settings, action)


async def _import_customers(args: argparse.Namespace, settings: Settings) -> int:
    from bot.customer_io import import_command

    return await _with_context(settings, lambda context: import_command(context, args))


async def _export_customers(args: argparse.Namespace, settings: Settings) -> int:
    from bot.customer_io import export_command

    return await _with_context(settings, lambda context: export_command(context, args))


COMMANDS: dict[str, CommandFn] = {
    "run": _run,
    "sandbox": _run,
    "migrate": _migrate,
    "jobs": _jobs,
    "staff": _staff,
    "store": _store,
    "import-customers": _import_customers,
    "export-customers": _export_customers,
    "api-key": _api_key,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    try:
        return asyncio.run(COMMANDS[args.command](args, settings))
    except SettingsError as exc:  # settings that are well-formed but wrong together (the sandbox's database)
        print(exc, file=sys.stderr)
        return 2
    except DomainError as exc:
        from locales import translator

        print(translator().get("en", f"error-{exc.code}", **exc.params), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        logging.getLogger(__name__).info("interrupted")
        return 130

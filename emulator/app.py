"""Building the emulator's aiohttp application, standalone or mounted inside another app."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from emulator import persistence
from emulator.bot_api import handle_file_download, handle_method
from emulator.control_api import add_control_routes
from emulator.sandbox import add_page_routes, sandbox_page
from emulator.state import EMULATOR_KEY, Emulator, LimitSettings

# Bot API uploads (QR codes, documents) can be larger than aiohttp's 1 MiB default; Telegram takes 50 MB.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def create_emulator_app(
    *,
    enforce_limits: bool = True,
    global_rate: int = 30,
    per_chat_rate: float = 1.0,
    state_file: Path | None = None,
) -> web.Application:
    """The Bot API at /bot{token}/{method}, files at /file/bot{token}/{path}, /control/..., /sandbox.

    With `state_file` (the sandbox), users and chats are loaded from it at start and saved to it on
    change (emulator.persistence); without, everything lives in memory only (tests)."""
    app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
    emulator = Emulator(LimitSettings(enforce=enforce_limits, global_rate=global_rate, per_chat_rate=per_chat_rate))
    app[EMULATOR_KEY] = emulator
    if state_file is not None:
        persistence.load(emulator, state_file)
        saver = persistence.Saver(emulator, state_file)

        async def start_saving(_: web.Application) -> None:
            saver.start()

        async def stop_saving(_: web.Application) -> None:
            await saver.stop()

        app.on_startup.append(start_saving)
        app.on_cleanup.append(stop_saving)
    app.router.add_route("GET", "/bot{token}/{method}", handle_method)
    app.router.add_route("POST", "/bot{token}/{method}", handle_method)
    app.router.add_get("/file/bot{token}/{file_path:.+}", handle_file_download)
    add_control_routes(app)
    add_page_routes(app)

    async def release_waiters(_: web.Application) -> None:
        await emulator.close()

    # on_shutdown runs before aiohttp waits for in-flight requests, so long polls end immediately.
    app.on_shutdown.append(release_waiters)
    return app


def add_sandbox_routes(
    app: web.Application, emulator: web.Application | None = None, *, prefix: str = "/emulator"
) -> web.Application:
    """Mount the emulator under `prefix` in the bot's own HTTP app ("sandbox mode"), serve /sandbox there.

    Point the bot at `http://HOST:PORT{prefix}` with TelegramAPIServer.from_base(); the page at
    `/sandbox` of the main app talks to `{prefix}/control/...`. Call before the app starts.
    aiohttp applies the host app's client_max_size (1 MiB by default) to mounted routes too, so raise
    it on the host app if the bot uploads bigger files.

        app = web.Application()
        add_sandbox_routes(app, create_emulator_app())  # /emulator/bot{token}/..., /emulator/control/..., /sandbox
        bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base("http://127.0.0.1:8080/emulator")))
    """
    emulator = emulator if emulator is not None else create_emulator_app()
    app.add_subapp(prefix, emulator)

    async def page(_: web.Request) -> web.Response:
        return sandbox_page(prefix)

    app.router.add_get("/sandbox", page)
    return emulator

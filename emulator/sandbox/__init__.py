"""The sandbox chat page: a person chats with the bot as a persona, in a browser.

The page is static HTML/JS/CSS; the only server-side step is injecting the emulator's URL prefix
so the same page works standalone (/sandbox, API at /) and mounted (/sandbox, API at /emulator).
"""

from __future__ import annotations

import html
from pathlib import Path

from aiohttp import web

SANDBOX_DIR = Path(__file__).parent
STATIC_DIR = SANDBOX_DIR / "static"


def sandbox_page(base: str) -> web.Response:
    """The page with `base` (the emulator's prefix, "" when standalone) filled in."""
    template = (SANDBOX_DIR / "index.html").read_text(encoding="utf-8")
    page = template.replace("{{BASE}}", html.escape(base.rstrip("/")))
    return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})


async def _own_page(request: web.Request) -> web.Response:
    # Whatever prefix the emulator app is mounted under is the part of the path before /sandbox.
    return sandbox_page(request.path.rsplit("/sandbox", 1)[0])


def add_page_routes(app: web.Application) -> None:
    """Serve the page at /sandbox and its assets at /sandbox/static/ of the emulator app."""
    app.router.add_get("/sandbox", _own_page)
    app.router.add_static("/sandbox/static", STATIC_DIR)

"""/healthz: the process is up. /readyz: the database answers, and Redis too when configured."""

from __future__ import annotations

from aiohttp import web

from bot.redis import redis_problem
from handlers.http.keys import CONTEXT, REDIS
from services import health


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    checks: dict[str, str] = {}
    database = await health.database_problem(request.app[CONTEXT].uow)
    checks["database"] = database or "ok"
    redis = request.app.get(REDIS)
    if redis is not None:
        checks["redis"] = await redis_problem(redis) or "ok"
    ready = all(value == "ok" for value in checks.values())
    return web.json_response({"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503)


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)

"""aiohttp routes: health, metrics and the POS/admin API."""

from __future__ import annotations

from aiohttp import web

from handlers.http import health, metrics
from handlers.http.api import routes as api
from handlers.http.middlewares import metrics_middleware, problems_middleware


def setup_routes(app: web.Application) -> None:
    app.middlewares.append(metrics_middleware)
    app.middlewares.append(problems_middleware)
    health.setup(app)
    metrics.setup(app)
    api.setup(app)

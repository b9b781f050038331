"""/metrics: Prometheus text format. The outbox depth is counted now, at scrape time."""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from bot.metrics import OUTBOX_DEPTH
from handlers.http.keys import CONTEXT
from services.outbox_depth import outbox_depth

log = logging.getLogger(__name__)


async def metrics(request: web.Request) -> web.Response:
    try:
        depth = await outbox_depth(request.app[CONTEXT].uow)
    except Exception:  # a scrape must still show the other metrics when the database is down
        log.warning("outbox depth unavailable", exc_info=True)
    else:
        for status, count in depth.items():
            OUTBOX_DEPTH.labels(status).set(count)
    response = web.Response(body=generate_latest(REGISTRY))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


def setup(app: web.Application) -> None:
    app.router.add_get("/metrics", metrics)

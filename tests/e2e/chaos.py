"""Helpers of the chaos test (tests/e2e/test_chaos.py): a round-robin proxy in front of the app's
instances, as a load balancer would stand there, and a way to tell which process is the outbox
sender at a given moment.

The proxy sends each request to the next instance in turn. An instance that refuses the connection
(down) is skipped and the request goes to the other one, since nothing of it was sent; one that
dies while handling a request makes the proxy answer 502, so the client retries, as nginx does for
a POST (`proxy_next_upstream` never repeats a non-idempotent request that reached the upstream).
Keep-alive to the instances is off, so a request started after an instance died meets a refused
connection rather than a pooled socket to a dead process.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field

import aiohttp
import psutil
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runners import WEBHOOK_PATH
from services.notifications.leadership import OUTBOX_LOCK_KEY

# Hop-by-hop headers and those the client library recomputes are not forwarded.
_NOT_FORWARDED = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "content-encoding", "upgrade"}
)
UPSTREAM_TIMEOUT = 60.0


@dataclass
class Exchange:
    """One request as the proxy forwarded it to one instance."""

    path: str
    upstream: int
    started: float  # time.monotonic()
    finished: float | None = None
    status: int | None = None  # None: the instance refused the connection (down)
    by_proxy: bool = False  # the instance failed mid-request and the proxy answered 502
    update_id: int | None = None


@dataclass
class RoundRobinProxy:
    upstreams: list[str]
    exchanges: list[Exchange] = field(default_factory=list)
    # The body of each Telegram update the webhook path carried, by update id (first seen).
    updates: dict[int, bytes] = field(default_factory=dict)
    url: str = ""
    _turn: itertools.cycle[int] = field(init=False)
    _runner: web.AppRunner | None = None
    _http: aiohttp.ClientSession | None = None

    def __post_init__(self) -> None:
        self._turn = itertools.cycle(range(len(self.upstreams)))

    async def start(self) -> str:
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True, limit=0),
            timeout=aiohttp.ClientTimeout(total=UPSTREAM_TIMEOUT),
            auto_decompress=False,
        )
        app = web.Application(client_max_size=1024**2)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        body = await request.read()
        update_id = self._update_id(request.path, body)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED}
        first = next(self._turn)
        order = [first, *(i for i in range(len(self.upstreams)) if i != first)]
        for index in order:
            exchange = Exchange(request.path, index, time.monotonic(), update_id=update_id)
            self.exchanges.append(exchange)
            url = f"{self.upstreams[index]}{request.path_qs}"
            try:
                async with self._http.request(request.method, url, data=body, headers=headers) as upstream:
                    payload = await upstream.read()
                    exchange.status, exchange.finished = upstream.status, time.monotonic()
                    kept = {k: v for k, v in upstream.headers.items() if k.lower() not in _NOT_FORWARDED}
                    return web.Response(status=upstream.status, body=payload, headers=kept)
            except aiohttp.ClientConnectorError:
                exchange.finished = time.monotonic()  # down: nothing was sent, the next one gets it
                continue
            except (aiohttp.ClientError, TimeoutError):
                exchange.status, exchange.finished, exchange.by_proxy = 502, time.monotonic(), True
                return web.json_response({"error": "upstream failed mid-request"}, status=502)
        return web.json_response({"error": "no instance is up"}, status=502)

    def _update_id(self, path: str, body: bytes) -> int | None:
        if path != WEBHOOK_PATH:
            return None
        try:
            update_id = int(json.loads(body)["update_id"])
        except (ValueError, KeyError, TypeError):
            return None
        self.updates.setdefault(update_id, body)
        return update_id


# pg_locks covers the whole server: other databases' senders take the same key.
_LOCK_HOLDER = text(
    "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = :high "
    "AND l.objid::bigint = :low AND l.objsubid = 1 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


async def sender_lock_port(engine: AsyncEngine) -> int | None:
    """The client port of the PostgreSQL connection holding the outbox sender's advisory lock, if
    any holds it now (services/notifications/leadership.py: one sender at a time)."""
    async with engine.connect() as conn:
        found = await conn.execute(_LOCK_HOLDER, {"high": OUTBOX_LOCK_KEY >> 32, "low": OUTBOX_LOCK_KEY & 0xFFFFFFFF})
        port = found.scalar_one_or_none()
    return None if port is None else int(port)


def owns_local_port(pid: int, port: int) -> bool:
    """Whether process `pid` has a TCP connection from local `port` (its side of a database link)."""
    try:
        return any(c.laddr and c.laddr.port == port for c in psutil.Process(pid).net_connections(kind="tcp"))
    except psutil.NoSuchProcess:
        return False

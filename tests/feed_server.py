"""A loopback HTTP server that plays the feed publishers the poller meets: well-behaved ones with
ETags, slow ones, rate-limited ones, moved ones and broken ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from tests.conftest import EXAMPLES
from tests.loopback import serve

RSS = (EXAMPLES / "world-news.rss").read_bytes()


@dataclass
class FeedServer:
    base: str
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    body: bytes = RSS
    etag: str = '"v1"'
    status: int = 200
    """Set to an error status to make /rss fail until set back to 200."""
    feeds: dict[str, bytes] = field(default_factory=dict)
    """Bodies served at /feeds/<name>, for tests that need several feeds saying different things."""

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)


@asynccontextmanager
async def feed_server() -> AsyncIterator[FeedServer]:
    state = FeedServer(base="")

    @web.middleware
    async def record(request: web.Request, handler: web.RequestHandler) -> web.StreamResponse:
        state.requests.append((request.path, dict(request.headers)))
        return await handler(request)

    async def rss(request: web.Request) -> web.Response:
        if state.status != 200:
            return web.Response(status=state.status)
        if request.headers.get("If-None-Match") == state.etag:
            return web.Response(status=304)
        return web.Response(body=state.body, content_type="application/rss+xml", headers={"ETag": state.etag})

    async def plain(request: web.Request) -> web.Response:  # no validators at all: only the body hash helps
        return web.Response(body=state.body, content_type="application/rss+xml")

    async def named(request: web.Request) -> web.Response:
        body = state.feeds.get(request.match_info["name"])
        if body is None:
            return web.Response(status=404)
        return web.Response(body=body, content_type="application/rss+xml")

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/rss")

    async def limited(request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": "120"})

    async def busy(request: web.Request) -> web.Response:
        return web.Response(status=503)

    async def gone(request: web.Request) -> web.Response:
        return web.Response(status=404)

    async def big(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        for _ in range(64):
            await resp.write(b"x" * 65536)
        return resp

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(body=state.body)

    app = web.Application(middlewares=[record])
    for path, handler in {
        "/rss": rss,
        "/plain": plain,
        "/moved": moved,
        "/limited": limited,
        "/busy": busy,
        "/gone": gone,
        "/big": big,
        "/slow": slow,
        "/feeds/{name}": named,
    }.items():
        app.router.add_get(path, handler)
    async with serve(app) as base:
        state.base = base
        yield state

"""The bot's web server: the aiohttp application (push intake from :mod:`bot.web.intake`, the WebSub
callbacks from :mod:`bot.web.websub`, ``/healthz``, ``/metrics`` and the routes platforms add) and
:class:`WebServer`, which runs it on a port."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping

from aiohttp import hdrs, web

from bot.core.errors import NewsBotError
from bot.ingest.push import Intake
from bot.web.errors import json_errors
from bot.web.intake import intake_routes
from bot.web.websub import WebSubCallbacks, websub_routes

__all__ = ["WebServer", "WebServerError", "add_routes", "create_web_app"]

log = logging.getLogger(__name__)

HealthAnswer = Callable[[], Awaitable[tuple[bool, Mapping[str, object]]]]
"""Whether the bot is healthy, and the JSON that says so and why (:mod:`bot.observe.health`)."""
MetricsAnswer = Callable[[], Awaitable[tuple[bytes, str]]]
"""The metrics exposition and its content type (:mod:`bot.observe.metrics`)."""


class WebServerError(NewsBotError):
    """The web server could not start (address in use, no permission)."""


def create_web_app(
    *,
    intake: Intake,
    secret: str,
    max_body_bytes: int,
    websub: WebSubCallbacks | None = None,
    routes: Iterable[web.AbstractRouteDef] = (),
    health: HealthAnswer | None = None,
    metrics: MetricsAnswer | None = None,
) -> web.Application:
    """The aiohttp application: ``/articles`` (``secret`` signs pushed articles; without one, push
    intake is off), ``/healthz`` (200, or 503 when ``health`` says unhealthy; without it, always ok),
    ``/metrics`` when ``metrics`` is given, the WebSub callbacks when ``websub`` is given, and any
    extra ``routes``. Raises ``ValueError`` when two routes claim the same method and path."""
    table = web.RouteTableDef()

    @table.get("/healthz")
    async def healthz(request: web.Request) -> web.Response:
        if health is None:
            return web.json_response({"status": "ok"})
        healthy, body = await health()
        return web.json_response(dict(body), status=200 if healthy else 503)

    if metrics is not None:

        @table.get("/metrics")
        async def scrape(request: web.Request) -> web.Response:
            body, content_type = await metrics()
            return web.Response(body=body, headers={hdrs.CONTENT_TYPE: content_type})

    callbacks = websub_routes(websub, max_body_bytes) if websub is not None else ()
    app = web.Application(middlewares=[json_errors], client_max_size=max_body_bytes)
    add_routes(app, [*intake_routes(intake, secret, max_body_bytes), *table, *callbacks, *routes])
    return app


def add_routes(app: web.Application, routes: Iterable[web.AbstractRouteDef]) -> None:
    """``app.add_routes``, refusing a second handler for a method and path with a ``ValueError``
    (aiohttp alone lets the first silently win unless the two are added one after the other). A GET
    route answers HEAD too, as aiohttp's ``add_get`` makes it."""
    defs = list(routes)
    claimed: set[tuple[str, str]] = set()
    for route in defs:
        if not isinstance(route, web.RouteDef):
            continue
        method = route.method.upper()
        keys = [(method, route.path)]
        if method == hdrs.METH_GET and route.kwargs.get("allow_head", True):
            keys.append((hdrs.METH_HEAD, route.path))
        for key in keys:
            if key in claimed:
                raise ValueError(f"route {key[0]} {key[1]} is already registered")
            claimed.add(key)
    app.add_routes(defs)


class WebServer:
    """Runs an application on a TCP port. ``port=0`` picks a free one (tests); :attr:`port` says which."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.host = ""
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Raises :class:`WebServerError` when the address cannot be bound."""
        if self._runner is not None:
            raise RuntimeError("the web server is already running")
        runner = web.AppRunner(self.app)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            await runner.cleanup()
            raise WebServerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        self._runner, self.host = runner, host
        self._port = int(runner.addresses[0][1])
        log.info("web server listening on %s", self.url)

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the web server is not running")
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner, self._port = self._runner, None, None
            await runner.cleanup()

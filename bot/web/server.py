"""The bot's own HTTP server (aiohttp): pushed articles, WebSub callbacks and ``/healthz``.

``POST /articles`` takes one article object or a list of them as JSON (the fields are documented in
:mod:`bot.ingest.push`). It must carry ``X-Newsbot-Signature: sha256=<hex>``: the HMAC-SHA256 of the
exact request body keyed with the shared webhook secret, in lower- or upper-case hex, e.g.::

    sig=$(printf %s "$BODY" | openssl dgst -sha256 -hmac "$NEWSBOT_WEBHOOK_SECRET" -r | cut -d' ' -f1)
    curl -H "X-Newsbot-Signature: sha256=$sig" -H 'Content-Type: application/json' -d "$BODY" …/articles

Answers: 200 ``{"accepted": n, "new": m}``; 401 missing or wrong signature; 413 body over the limit;
400 ``{"error": "...", "field": "items[2].title"}`` naming the first bad value (``field`` is null when
the body as a whole is at fault). A list is validated entirely before any of it is stored. 503 when
the articles could not be stored: nothing of the request was, so the sender should retry.

``GET|POST /websub/<token>`` are the WebSub callbacks (:class:`WebSubCallbacks`), present when WebSub is
configured. Other features (Slack HTTP mode) add their own routes (aiohttp route definitions).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Iterable, Mapping

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from bot.core.errors import FeedError, NewsBotError
from bot.core.http import BodyTooLarge, read_capped
from bot.ingest.feeds import ParsedFeed, parse_feed
from bot.ingest.push import Intake, PushError, parse_push
from bot.ingest.websub import (
    ACKNOWLEDGED,
    CALLBACK_PREFIX,
    HUB_SIGNATURE_HEADER,
    NOT_OURS,
    CallbackReply,
    WebSubRegistry,
    hub_signature_ok,
    verify_intent,
)

__all__ = [
    "SIGNATURE_HEADER",
    "Intake",
    "WebServer",
    "WebServerError",
    "WebSubCallbacks",
    "add_routes",
    "body_signature_ok",
    "create_web_app",
    "error_response",
    "sign_body",
    "websub_routes",
]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Newsbot-Signature"


class WebServerError(NewsBotError):
    """The web server could not start (address in use, no permission)."""


def sign_body(body: bytes, secret: str) -> str:
    """The ``X-Newsbot-Signature`` value for ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_signature_ok(header: str | None, body: bytes, secret: str) -> bool:
    """Constant-time check of an ``X-Newsbot-Signature`` header against the body."""
    if not header or not secret:
        return False
    method, _, signature = header.strip().partition("=")
    if method.strip().lower() != "sha256":
        return False
    return hmac.compare_digest(sign_body(body, secret), "sha256=" + signature.strip().lower())


def error_response(status: int, message: str, **extra: object) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


class WebSubCallbacks:
    """Answers hubs at ``/websub/<token>``: verification GETs (challenge echoed only for a topic we
    asked for, else 404) and content POSTs, whose articles go to ``intake`` once their
    ``X-Hub-Signature`` is checked with the subscription's secret. A bad or missing signature is
    logged and the content ignored, but acknowledged like a good one (WebSub §8)."""

    def __init__(
        self,
        registry: WebSubRegistry,
        intake: Intake,
        *,
        parse: Callable[..., ParsedFeed] = parse_feed,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry
        self.intake = intake
        self._parse = parse
        self.clock = clock

    async def verify(self, token: str, params: Mapping[str, str]) -> CallbackReply:
        subscription = await self.registry.get(token)
        outcome = verify_intent(subscription, params, self.clock())
        if outcome.forget:
            await self.registry.remove(token)
        elif outcome.state is not None:
            await self.registry.save(outcome.state)
            if params.get("hub.mode") == "denied":
                log.warning("websub hub denied %s: %s", outcome.state.topic, outcome.state.last_error)
        if outcome is NOT_OURS:
            log.info(
                "websub verification refused: %r for topic %r",
                params.get("hub.mode"),
                params.get("hub.topic"),
            )
        return outcome.reply

    async def deliver(self, token: str, body: bytes, headers: Mapping[str, str]) -> CallbackReply:
        subscription = await self.registry.get(token)
        if subscription is None or not subscription.wanted:
            return CallbackReply(410, "no such subscription")
        if not hub_signature_ok(headers.get(HUB_SIGNATURE_HEADER), body, subscription.secret):
            log.warning(
                "websub push for %s ignored: missing or wrong %s", subscription.topic, HUB_SIGNATURE_HEADER
            )
            return ACKNOWLEDGED
        try:
            parsed = await asyncio.to_thread(
                self._parse, body, feed_url=subscription.feed_url, source=subscription.feed_name
            )
        except FeedError as exc:
            log.warning("websub push for %s ignored: %s", subscription.topic, exc)
            return ACKNOWLEDGED
        if parsed.articles:
            try:
                new = await self.intake(parsed.articles)
            except NewsBotError as exc:
                log.error("websub push for %s not stored (%s); the hub will retry", subscription.topic, exc)
                return CallbackReply(503, "try again later")
            log.info("websub push for %s: %d items, %d new", subscription.topic, len(parsed.articles), new)
        return ACKNOWLEDGED


def create_web_app(
    *,
    intake: Intake,
    secret: str,
    max_body_bytes: int,
    websub: WebSubCallbacks | None = None,
    routes: Iterable[web.AbstractRouteDef] = (),
) -> web.Application:
    """The aiohttp application: ``/articles``, ``/healthz``, the WebSub callbacks when ``websub`` is
    given, and any extra ``routes``. ``secret`` signs pushed articles; without one, push intake is off
    and ``POST /articles`` answers 503 (the server still serves health checks and WebSub)."""
    table = web.RouteTableDef()

    @table.post("/articles")
    async def post_articles(request: web.Request) -> web.Response:
        if not secret:
            return error_response(503, "push intake is off: the bot was started without a webhook secret")
        header = request.headers.get(SIGNATURE_HEADER)
        if not header:
            return error_response(
                401, f"missing {SIGNATURE_HEADER} header (sha256=<hex HMAC-SHA256 of the body>)"
            )
        try:
            body = await read_capped(request.content, request.content_length, max_body_bytes)
        except BodyTooLarge as exc:
            return error_response(413, str(exc))
        if not body_signature_ok(header, body, secret):
            return error_response(401, f"{SIGNATURE_HEADER} does not match the body")
        try:
            articles = await asyncio.to_thread(parse_push, body)
        except PushError as exc:
            return error_response(400, exc.reason, field=exc.field)
        try:
            new = await intake(articles) if articles else 0
        except NewsBotError as exc:
            log.error("pushed articles not stored: %s", exc)
            return error_response(503, "the articles could not be stored; nothing was, try again later")
        log.info("pushed: %d articles, %d new", len(articles), new)
        return web.json_response({"accepted": len(articles), "new": new})

    @table.get("/healthz")
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(middlewares=[json_errors], client_max_size=max_body_bytes)
    add_routes(app, [*table, *(websub_routes(websub, max_body_bytes) if websub else ()), *routes])
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


def websub_routes(websub: WebSubCallbacks, max_body_bytes: int) -> web.RouteTableDef:
    routes = web.RouteTableDef()
    path = CALLBACK_PREFIX + "{token}"

    @routes.get(path)
    async def verification(request: web.Request) -> web.Response:
        reply = await websub.verify(request.match_info["token"], request.query)
        return web.Response(status=reply.status, text=reply.body)

    @routes.post(path)
    async def content(request: web.Request) -> web.Response:
        try:
            body = await read_capped(request.content, request.content_length, max_body_bytes)
        except BodyTooLarge as exc:
            return web.Response(status=413, text=str(exc))
        reply = await websub.deliver(request.match_info["token"], body, request.headers)
        return web.Response(status=reply.status, text=reply.body)

    return routes


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unknown paths, wrong methods and unexpected failures answer in JSON like everything else."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {
            k: v for k, v in exc.headers.items() if k.lower() not in ("content-type", "content-length")
        }
        return web.json_response({"error": exc.reason}, status=exc.status, headers=headers)
    except Exception:
        log.exception("error serving %s %s", request.method, request.path)
        return error_response(500, "internal error")


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

"""Push intake: ``POST /articles``, its ``X-Newsbot-Signature`` checked, its body capped, parsed by
:mod:`bot.ingest.push` and handed to the intake. What a sender sends and gets back is documented in
the README ("Push intake and WebSub")."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging

from aiohttp import web

from bot.core.errors import NewsBotError
from bot.core.http import BodyTooLarge, read_capped
from bot.ingest.push import Intake, PushError, parse_push
from bot.web.errors import error_response

__all__ = ["SIGNATURE_HEADER", "body_signature_ok", "intake_routes", "sign_body"]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Newsbot-Signature"


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


def intake_routes(intake: Intake, secret: str, max_body_bytes: int) -> web.RouteTableDef:
    """``POST /articles``. Without a ``secret``, push intake is off and the route answers 403 (not 503,
    which tells a sender to retry)."""
    table = web.RouteTableDef()

    @table.post("/articles")
    async def post_articles(request: web.Request) -> web.Response:
        if not secret:
            return error_response(403, "push intake is off: the bot was started without a webhook secret")
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

    return table

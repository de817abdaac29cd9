"""Slack's HTTP mode: the route that takes Slack's requests (``POST /slack/events``) on the bot's own
web server and hands them to the bolt app. Each request is verified here, once: its body capped before
anything reads it, then its timestamp and ``X-Slack-Signature`` checked before bolt parses it. The
bolt app must run with its own request verification off (``request_verification_enabled=False``)."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.core.http import BodyTooLarge, read_capped
from bot.web.errors import error_response

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
MAX_AGE = 300.0
"""Seconds a request's timestamp may be off from our clock; older ones may be replays."""
MAX_BODY_BYTES = 100_000
"""Slash command and interaction payloads are a few KB."""


def slack_routes(
    app: AsyncApp,
    signing_secret: str,
    *,
    path: str = EVENTS_PATH,
    clock: Callable[[], float] = time.time,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> list[web.RouteDef]:
    """The route that takes Slack's requests in HTTP mode, for :func:`bot.web.server.create_web_app`."""
    if not signing_secret:
        raise ValueError("Slack HTTP mode needs a signing secret")
    verifier = SignatureVerifier(signing_secret)

    async def events(request: web.Request) -> web.StreamResponse:
        try:
            body = await read_capped(request.content, request.content_length, max_body_bytes)
        except BodyTooLarge as exc:
            return error_response(413, str(exc))
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        if not _fresh(timestamp, clock()):
            log.warning("slack: refused a request with a missing or stale timestamp (%r)", timestamp[:20])
            return error_response(401, f"stale or missing {TIMESTAMP_HEADER}")
        expected = verifier.generate_signature(timestamp=timestamp, body=body)
        signature = request.headers.get(SIGNATURE_HEADER, "").encode(errors="replace")
        if expected is None or not hmac.compare_digest(expected.encode(), signature):  # bytes: any header
            log.warning("slack: refused a request with a wrong signature")
            return error_response(401, f"{SIGNATURE_HEADER} does not match")
        bolt_request = AsyncBoltRequest(
            body=body.decode("utf-8", errors="replace"),
            query=request.query_string,
            headers={k.lower(): [v] for k, v in request.headers.items()},
        )
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    return [web.post(path, events)]


def _fresh(timestamp: str, now: float) -> bool:
    try:
        return abs(now - int(timestamp)) <= MAX_AGE
    except ValueError:
        return False

"""Slack's HTTP mode: slash commands POSTed to the bot's own web server at ``/slack/events``.

Every request is checked before bolt sees it: ``X-Slack-Signature`` must be the HMAC-SHA256 of
``v0:<timestamp>:<body>`` with the signing secret, and ``X-Slack-Request-Timestamp`` within five
minutes of now; otherwise 401 (a forged or replayed request). Bolt's own verification stays on too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import Clock, SignatureVerifier

from bot.core.http import BodyTooLarge, read_capped
from bot.web.errors import error_response

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_AGE = 300.0
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
    verifier = SignatureVerifier(signing_secret, clock=_Clock(clock))

    async def events(request: web.Request) -> web.StreamResponse:
        try:
            body = await read_capped(request.content, request.content_length, max_body_bytes)
        except BodyTooLarge as exc:
            return error_response(413, str(exc))
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not _fresh(timestamp, clock()):
            log.warning("slack: refused a request with a missing or stale timestamp (%r)", timestamp[:20])
            return error_response(401, "stale or missing X-Slack-Request-Timestamp")
        if not verifier.is_valid(body, timestamp, signature):
            log.warning("slack: refused a request with a wrong signature")
            return error_response(401, "X-Slack-Signature does not match")
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


class _Clock(Clock):
    """slack_sdk's verifier asks its clock for ``now()``."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock()

"""The WebSub callbacks at ``/websub/<token>``: the hubs' verification requests and content pushes,
answered with the decisions of :mod:`bot.ingest.websub`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping

from aiohttp import web

from bot.core.errors import FeedError, NewsBotError
from bot.core.http import BodyTooLarge, read_capped
from bot.ingest.feeds import ParsedFeed, parse_feed
from bot.ingest.push import Intake
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

__all__ = ["WebSubCallbacks", "websub_routes"]

log = logging.getLogger(__name__)


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


def websub_routes(websub: WebSubCallbacks, max_body_bytes: int) -> web.RouteTableDef:
    routes = web.RouteTableDef()
    path = CALLBACK_PREFIX + "{token}"

    @routes.get(path, allow_head=False)  # a HEAD must not run a verification
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

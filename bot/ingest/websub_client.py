"""The WebSub subscriber's I/O: discovery fetches, subscribe/unsubscribe requests to hubs, renewals.
The decisions it follows are the pure functions in :mod:`bot.ingest.websub`."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import time
from collections.abc import Callable

import aiohttp

from bot.core.errors import FeedError
from bot.core.http import BodyTooLarge, read_capped
from bot.ingest.websub import (
    DEFAULT_LEASE,
    Discovery,
    WebSubError,
    WebSubRegistry,
    WebSubSubscription,
    discover,
    due_for_renewal,
    is_web_url,
    request_failed,
    request_form,
    requested,
)

log = logging.getLogger(__name__)


class WebSubSubscriber:
    """Finds hubs and sends (un)subscription and renewal requests through a shared aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        registry: WebSubRegistry,
        *,
        public_url: str,
        lease_seconds: int = DEFAULT_LEASE,
        timeout: float = 20.0,
        max_body_bytes: int = 5_000_000,
        user_agent: str = "newsbot",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not is_web_url(public_url):
            raise ValueError(f"public_url must be an absolute http(s) URL, not {public_url!r}")
        self.session = session
        self.registry = registry
        self.public_url = public_url
        self.lease_seconds = lease_seconds
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.max_body_bytes = max_body_bytes
        self.headers = {"User-Agent": user_agent}
        self.clock = clock

    async def discover(self, feed_url: str) -> Discovery:
        """Fetch the feed and find its hubs and topic. Raises :class:`WebSubError`."""
        try:
            async with self.session.get(feed_url, headers=self.headers, timeout=self.timeout) as resp:
                if resp.status >= 400:
                    raise WebSubError(f"discovery of {feed_url}: HTTP {resp.status}")
                links = resp.headers.getall("Link", [])
                permanent = all(h.status in (301, 308) for h in resp.history)
                final = str(resp.url) if permanent else feed_url
                body = await read_capped(resp.content, resp.content_length, self.max_body_bytes)
        except (aiohttp.ClientError, TimeoutError, BodyTooLarge) as exc:
            raise WebSubError(f"discovery of {feed_url}: {type(exc).__name__}: {exc}") from exc
        try:
            return await asyncio.to_thread(discover, body, final, links)
        except FeedError as exc:
            raise WebSubError(f"discovery of {feed_url}: {exc}") from exc

    async def subscribe_feed(self, feed_url: str, *, name: str = "") -> WebSubSubscription | None:
        """Discover the feed's hub and subscribe at the first one; None when it advertises none."""
        found = await self.discover(feed_url)
        if not found.hubs:
            return None
        return await self.subscribe(feed_url, found.topic, found.hubs[0], name=name)

    async def subscribe(self, feed_url: str, topic: str, hub: str, *, name: str = "") -> WebSubSubscription:
        """Ask ``hub`` for pushes of ``topic``; returns the state after the hub's answer (``active``
        already when the hub verified before answering). Raises :class:`WebSubError` if the hub refuses;
        the subscription is kept and retried by :meth:`renew_due`."""
        existing = await self.registry.for_feed(feed_url)
        if existing is not None and (existing.topic, existing.hub) == (topic, hub):
            subscription = dataclasses.replace(existing, feed_name=name or existing.feed_name, wanted=True)
        else:
            if existing is not None:
                await self.registry.remove(existing.token)  # the old hub's lease simply runs out
            subscription = WebSubSubscription(
                token=secrets.token_urlsafe(18),
                feed_url=feed_url,
                topic=topic,
                hub=hub,
                secret=secrets.token_hex(32),
                feed_name=name,
                requested_lease=self.lease_seconds,
            )
        return await self._request(subscription, "subscribe")

    async def unsubscribe(self, feed_url: str) -> bool:
        """Ask the hub to stop; pushes are refused from now on. False when there was no subscription."""
        subscription = await self.registry.for_feed(feed_url)
        if subscription is None:
            return False
        try:
            await self._request(subscription, "unsubscribe")
        except WebSubError as exc:
            log.warning("unsubscribing %s: %s; forgetting it, its lease will run out", feed_url, exc)
            await self.registry.remove(subscription.token)
        return True

    async def renew_due(self) -> int:
        """Send every due renewal or retry; returns how many hubs accepted. One failing hub is logged
        and retried later; it never stops the others."""
        accepted = 0
        for subscription in due_for_renewal(await self.registry.all(), self.clock()):
            try:
                await self._request(subscription, "subscribe")
                accepted += 1
            except WebSubError as exc:
                log.warning(
                    "websub renewal of %s at %s failed: %s", subscription.topic, subscription.hub, exc
                )
        return accepted

    async def _request(self, subscription: WebSubSubscription, mode: str) -> WebSubSubscription:
        sent = requested(subscription, mode, self.clock())
        await self.registry.save(sent)  # before the request: a hub may verify before it answers
        form = request_form(sent, mode, self.public_url)
        try:
            async with self.session.post(
                sent.hub, data=form, headers=self.headers, timeout=self.timeout
            ) as resp:
                if 200 <= resp.status < 300:
                    return await self.registry.get(sent.token) or sent
                detail = (await resp.content.read(300)).decode("utf-8", "replace").strip()
                error = f"hub {sent.hub} answered HTTP {resp.status}" + (f": {detail}" if detail else "")
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"hub {sent.hub} unreachable: {type(exc).__name__}: {exc}"
        if await self.registry.get(sent.token) == sent:  # not verified or changed meanwhile
            await self.registry.save(request_failed(sent, error, self.clock()))
        raise WebSubError(f"{mode} {sent.topic}: {error}")

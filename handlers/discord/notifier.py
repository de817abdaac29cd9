"""Alerts to Discord over REST, through discord.py's HTTP client (its rate-limit handling included).

Sends carry a nonce derived from the alert id with ``enforce_nonce``, so Discord returns the first
message instead of posting a second when a retry follows a send that timed out after reaching it.
A channel the bot lost (403 Missing Access/Permissions, 404 Unknown Channel) has its subscriptions
paused, not deleted, and is logged once.

Rate limits: discord.py waits out a limit of up to :data:`RATE_LIMIT_WAIT` seconds inside a send (the
adapter sets that on the client once it has started); a longer one, per route, shared or global, comes
back at once as ``discord.RateLimited`` and becomes a retryable :class:`DeliveryError` with its
``retry_after``, so the outbox retries that alert then and the other channels' alerts go on. The
notifier's ``timeout`` bounds each HTTP attempt, never discord.py's rate-limit waits: cancelling one of
those would turn a rate limit into "unreachable", and cancelling a global one would leave discord.py's
global lock shut for every later request.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import aiohttp
import discord
from discord.http import Route

from bot.core.errors import DeliveryError
from bot.core.http import parse_retry_after
from bot.core.models import Alert, ChannelRef, MessageRef
from bot.processing.subscriptions import SubscriptionBook, pause_channel
from bot.store.base import Store
from handlers.discord.render import render_discord
from handlers.text import single_line, truncate

log = logging.getLogger(__name__)

LOST_CHANNEL_CODES = {10003, 50001, 50013}
"""Unknown Channel, Missing Access, Missing Permissions: the bot can't post there any more."""
RATE_LIMIT_WAIT = 5.0
"""The longest rate limit discord.py may sleep through inside a send; a longer one is raised."""
NONCE_CHARS = 25
THREAD_NAME_LIMIT = 100


def nonce_for(alert_id: str) -> str:
    """Discord nonces are at most 25 characters; the same alert always gets the same nonce."""
    return hashlib.sha256(alert_id.encode()).hexdigest()[:NONCE_CHARS]


def thread_name(alert: Alert) -> str:
    """Thread and forum post names are plain text of at most 100 characters."""
    return truncate(single_line(alert.title) or "News alert", THREAD_NAME_LIMIT)


def message_body(alert: Alert) -> dict[str, Any]:
    """The create/edit message body (the rendered embed names the other outlets, if any)."""
    rendered = render_discord(alert)
    return {
        "content": rendered["content"],
        "embeds": [rendered["embed"]],
        "allowed_mentions": rendered["allowed_mentions"],
    }


class DiscordNotifier:
    platform = "discord"

    def __init__(
        self, client: discord.Client, store: Store, book: SubscriptionBook, *, timeout: float = 15.0
    ) -> None:
        self.client = client
        self.store = store
        self.book = book
        self.timeout = timeout

    async def send(self, alert: Alert, *, retry: bool = False) -> MessageRef:
        channel_id = _snowflake(alert.channel)
        if isinstance(self.client.get_channel(channel_id), discord.ForumChannel):
            return await self._forum_post(alert, channel_id)
        body = {**message_body(alert), "nonce": nonce_for(alert.id), "enforce_nonce": True}
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
        data = await self._call(alert.channel, route, body)
        message_id = str(data["id"])
        if alert.thread:
            await self._open_thread(alert, channel_id, message_id)
        return MessageRef(self.platform, alert.channel.channel_id, message_id)

    async def _forum_post(self, alert: Alert, channel_id: int) -> MessageRef:
        """A forum channel takes posts, not messages: each alert is a post titled by its headline."""
        route = Route("POST", "/channels/{channel_id}/threads", channel_id=channel_id)
        body = {"name": thread_name(alert), "message": message_body(alert)}
        data = await self._call(alert.channel, route, body)
        thread_id = str(data["id"])
        message = data.get("message") or {}
        return MessageRef(self.platform, thread_id, str(message.get("id", thread_id)))

    async def _open_thread(self, alert: Alert, channel_id: int, message_id: str) -> None:
        """The alert is posted; a thread for discussing it is a nicety, so failing to open one is
        logged, not retried (a retry would post the alert again)."""
        route = Route(
            "POST",
            "/channels/{channel_id}/messages/{message_id}/threads",
            channel_id=channel_id,
            message_id=int(message_id),
        )
        try:
            await self._call(
                alert.channel, route, {"name": thread_name(alert), "auto_archive_duration": 1440}
            )
        except DeliveryError as exc:
            log.warning("alert %s posted, but its thread could not be opened: %s", alert.id, exc)

    async def edit(self, ref: MessageRef, alert: Alert) -> None:
        route = Route(
            "PATCH",
            "/channels/{channel_id}/messages/{message_id}",
            channel_id=int(ref.channel_id),  # a forum post's thread, or the channel itself
            message_id=int(ref.message_id),
        )
        await self._call(alert.channel, route, message_body(alert))

    async def _call(self, channel: ChannelRef, route: Route, body: dict[str, Any]) -> Any:
        if self.client.user is None or self.client.is_closed():
            raise DeliveryError("not connected to Discord yet", retryable=True)
        try:
            return await self.client.http.request(
                route, json=body, timeout=aiohttp.ClientTimeout(total=self.timeout)
            )
        except discord.RateLimited as exc:
            raise DeliveryError("Discord rate limit", retryable=True, retry_after=exc.retry_after) from exc
        except (discord.Forbidden, discord.NotFound) as exc:
            if exc.code in LOST_CHANNEL_CODES:
                await self._lose(channel, exc)
            raise DeliveryError(f"Discord refused: {exc.status} {exc.text}", retryable=False) from exc
        except discord.DiscordServerError as exc:
            raise DeliveryError(f"Discord server error {exc.status}", retryable=True) from exc
        except discord.HTTPException as exc:
            # 429 without Discord's headers (a proxy or Cloudflare): wait; anything else is our request.
            if exc.status == 429:
                after = parse_retry_after(exc.response.headers.get("Retry-After"))
                message = "rate limited by a proxy or Cloudflare"
                raise DeliveryError(message, retryable=True, retry_after=after) from exc
            raise DeliveryError(f"Discord said {exc.status}: {exc.text}", retryable=False) from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise DeliveryError(f"Discord unreachable: {exc!r}", retryable=True) from exc

    async def _lose(self, channel: ChannelRef, exc: discord.HTTPException) -> None:
        await self.pause(channel, f"{exc.status} {exc.text}")

    async def pause(self, channel: ChannelRef, reason: str) -> None:
        """Stop matching for a channel the bot can no longer post in; its subscriptions stay, paused."""
        await pause_channel(self.store, self.book, channel, f"lost access to Discord channel: {reason}")


def _snowflake(channel: ChannelRef) -> int:
    try:
        return int(channel.channel_id)
    except ValueError as exc:
        raise DeliveryError(f"not a Discord channel id: {channel.channel_id!r}", retryable=False) from exc

"""Alerts to Discord over REST, through discord.py's HTTP client (its rate-limit handling included).

Sends carry a nonce derived from the alert id with ``enforce_nonce``, so Discord returns the first
message instead of posting a second when a retry follows a send that timed out after reaching it.
A channel the bot lost (403 Missing Access/Permissions, 404 Unknown Channel) has its subscriptions
paused, not deleted, and is logged once.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

import aiohttp
import discord
from discord.http import Route

from bot.errors import DeliveryError
from bot.models import Alert, ChannelRef, MessageRef
from bot.store.base import Store
from bot.subscriptions import SubscriptionBook, pause_channel
from handlers.discord.render import render_discord

log = logging.getLogger(__name__)

LOST_CHANNEL_CODES = {10003, 50001, 50013}
"""Unknown Channel, Missing Access, Missing Permissions: the bot can't post there any more."""
NONCE_CHARS = 25


def nonce_for(alert_id: str) -> str:
    """Discord nonces are at most 25 characters; the same alert always gets the same nonce."""
    return hashlib.sha256(alert_id.encode()).hexdigest()[:NONCE_CHARS]


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
        body = {**message_body(alert), "nonce": nonce_for(alert.id), "enforce_nonce": True}
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=_snowflake(alert.channel))
        data = await self._call(alert.channel, route, body)
        return MessageRef(self.platform, alert.channel.channel_id, str(data["id"]))

    async def edit(self, ref: MessageRef, alert: Alert) -> None:
        route = Route(
            "PATCH",
            "/channels/{channel_id}/messages/{message_id}",
            channel_id=_snowflake(alert.channel),
            message_id=int(ref.message_id),
        )
        await self._call(alert.channel, route, message_body(alert))

    async def _call(self, channel: ChannelRef, route: Route, body: dict[str, Any]) -> Any:
        if self.client.user is None or self.client.is_closed():
            raise DeliveryError("not connected to Discord yet", retryable=True)
        try:
            return await asyncio.wait_for(self.client.http.request(route, json=body), self.timeout)
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
            retryable = exc.status == 429
            raise DeliveryError(f"Discord said {exc.status}: {exc.text}", retryable=retryable) from exc
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

"""Alerts to Discord over REST, through discord.py's HTTP client (its rate-limit handling included).

Messages carry a nonce derived from the alert id with ``enforce_nonce``, so Discord returns the first
message instead of posting a second when a retry follows a send that timed out after reaching it. A
forum post carries them too, but Discord documents no nonce check for starting a forum thread, so a
retried forum post first looks among the forum's active threads for the one it may already have made
(the bot's, named for the alert, whose first message shows the alert's embed). A thread opened on a
message that already has one ("thread" alerts, on a retry) is taken as opened.
A channel the bot lost (403 Missing Access/Permissions, 404 Unknown Channel) has its subscriptions
paused, not deleted, and is logged once. A token Discord refuses (401 on a request, or the gateway's
close 4004 that ends the client) is a retryable ``DeliveryError(auth=True)``: every channel is
affected alike, so the outbox holds the platform's alerts rather than spending their retries.

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
from collections.abc import Callable, Collection
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
THREAD_EXISTS = 160004
"""A thread has already been created for this message."""
FORUM_LOOKUP_LIMIT = 5
"""How many of the bot's same-named active posts in a forum a retry reads before posting again."""
THREAD_NAME_LIMIT = 100
TOKEN_REFUSED = "Discord refused the bot token"


def nonce_for(alert_id: str) -> str:
    """Discord nonces are at most 25 characters; the same alert always gets the same nonce."""
    return hashlib.sha256(alert_id.encode()).hexdigest()[:NONCE_CHARS]


def thread_name(alert: Alert) -> str:
    """Thread and forum post names are plain text of at most 100 characters."""
    return truncate(single_line(alert.title) or "News alert", THREAD_NAME_LIMIT)


def nonce_fields(alert: Alert) -> dict[str, Any]:
    return {"nonce": nonce_for(alert.id), "enforce_nonce": True}


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
        self,
        client: discord.Client,
        store: Store,
        book: SubscriptionBook,
        *,
        timeout: float = 15.0,
        find_channel: Callable[[int], object | None] | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.book = book
        self.timeout = timeout
        self.token_refused = False
        """Set by the adapter when the gateway refused the token and the client closed for good."""
        self._find_channel = find_channel or client.get_channel
        """A channel as a gateway's cache knows it; None for one on a shard this worker does not hold."""
        self._forums: dict[int, int | None] = {}
        """A channel no held shard knows: its guild if it is a forum (None if not), as Discord said once
        (a channel's type never changes to or from forum)."""

    async def send(self, alert: Alert, *, retry: bool = False) -> MessageRef:
        channel_id = _snowflake(alert.channel)
        if (guild_id := await self._forum_guild(alert.channel, channel_id)) is not None:
            return await self._forum_post(alert, channel_id, guild_id, retry=retry)
        body = {**message_body(alert), **nonce_fields(alert)}
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
        data = await self._call(alert.channel, route, body)
        message_id = str(data["id"])
        if alert.thread:
            await self._open_thread(alert, channel_id, message_id)
        return MessageRef(self.platform, alert.channel.channel_id, message_id)

    async def _forum_guild(self, channel: ChannelRef, channel_id: int) -> int | None:
        """The guild of a forum channel; None for any other channel. From the gateway's cache when a
        held shard has the channel, else asked of Discord once (a worker holding no shard of the
        channel's server still sends its alerts). A channel Discord will not show is taken as a text
        channel: the post that follows says what is wrong with it."""
        cached = self._find_channel(channel_id)
        if cached is not None:
            return cached.guild.id if isinstance(cached, discord.ForumChannel) else None
        if channel_id not in self._forums:
            route = Route("GET", "/channels/{channel_id}", channel_id=channel_id)
            try:
                data = await self._call(channel, route, lose=False)
            except DeliveryError as exc:
                if exc.retryable:
                    raise
                return None
            forum = (data or {}).get("type") == discord.ChannelType.forum.value
            self._forums[channel_id] = int(data["guild_id"]) if forum else None
        return self._forums[channel_id]

    async def _forum_post(self, alert: Alert, forum_id: int, guild_id: int, *, retry: bool) -> MessageRef:
        """A forum channel takes posts, not messages: each alert is a post titled by its headline."""
        if retry and (earlier := await self._earlier_post(alert, forum_id, guild_id)) is not None:
            log.info("alert %s was already posted in forum %s; not posting it again", alert.id, forum_id)
            return earlier
        route = Route("POST", "/channels/{channel_id}/threads", channel_id=forum_id)
        body = {"name": thread_name(alert), "message": {**message_body(alert), **nonce_fields(alert)}}
        data = await self._call(alert.channel, route, body)
        thread_id = str(data["id"])
        message = data.get("message") or {}
        return MessageRef(self.platform, thread_id, str(message.get("id", thread_id)))

    async def _earlier_post(self, alert: Alert, forum_id: int, guild_id: int) -> MessageRef | None:
        """The post an earlier attempt made for ``alert`` in ``forum``, if Discord shows one: among the
        guild's active threads, the bot's in that forum named for the alert, newest first, whose first
        message (a post's thread and first message share an id) has the alert's title, link and text.
        A lookup Discord refuses (no Read Message History) is logged and the alert posted."""
        me = str(self.client.user.id) if self.client.user is not None else ""
        route = Route("GET", "/guilds/{guild_id}/threads/active", guild_id=guild_id)
        try:
            active = await self._call(alert.channel, route, lose=False)
            wanted_thread = (str(forum_id), me, thread_name(alert))
            mine = [
                int(t["id"])
                for t in active.get("threads") or []
                if (str(t.get("parent_id")), str(t.get("owner_id")), t.get("name")) == wanted_thread
            ]
            wanted = _embed_key(message_body(alert)["embeds"][0])
            for thread_id in sorted(mine, reverse=True)[:FORUM_LOOKUP_LIMIT]:
                route = Route(
                    "GET",
                    "/channels/{channel_id}/messages/{message_id}",
                    channel_id=thread_id,
                    message_id=thread_id,
                )
                first = await self._call(alert.channel, route, lose=False)
                if any(_embed_key(embed) == wanted for embed in first.get("embeds") or []):
                    return MessageRef(self.platform, str(thread_id), str(first.get("id", thread_id)))
        except DeliveryError as exc:
            if exc.retryable:
                raise
            log.warning("alert %s: can't look for an earlier post in forum %s (%s)", alert.id, forum_id, exc)
        return None

    async def _open_thread(self, alert: Alert, channel_id: int, message_id: str) -> None:
        """The alert is posted; a thread for discussing it is a nicety, so failing to open one is
        logged, not retried (a retry would post the alert again)."""
        route = Route(
            "POST",
            "/channels/{channel_id}/messages/{message_id}/threads",
            channel_id=channel_id,
            message_id=int(message_id),
        )
        body = {"name": thread_name(alert), "auto_archive_duration": 1440}
        try:
            await self._call(alert.channel, route, body, done_codes={THREAD_EXISTS})
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

    async def _call(
        self,
        channel: ChannelRef,
        route: Route,
        body: dict[str, Any] | None = None,
        *,
        lose: bool = True,
        done_codes: Collection[int] = (),
    ) -> Any:
        """One request. ``lose``: a refusal of the channel pauses its subscriptions (not for lookups).
        ``done_codes``: Discord error codes that mean the request's effect is already there (None)."""
        if self.token_refused and self.client.is_closed():
            raise DeliveryError(TOKEN_REFUSED + " (gateway close 4004)", retryable=True, auth=True)
        if self.client.user is None or self.client.is_closed():
            raise DeliveryError("not connected to Discord yet", retryable=True)
        options: dict[str, Any] = {"timeout": aiohttp.ClientTimeout(total=self.timeout)}
        if body is not None:
            options["json"] = body
        try:
            return await self.client.http.request(route, **options)
        except discord.RateLimited as exc:
            raise DeliveryError("Discord rate limit", retryable=True, retry_after=exc.retry_after) from exc
        except discord.LoginFailure as exc:
            raise DeliveryError(TOKEN_REFUSED, retryable=True, auth=True) from exc
        except discord.HTTPException as exc:
            if exc.code in done_codes:
                return None
            raise await self._refused(channel, exc, lose=lose) from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise DeliveryError(f"Discord unreachable: {exc!r}", retryable=True) from exc

    async def _refused(self, channel: ChannelRef, exc: discord.HTTPException, *, lose: bool) -> DeliveryError:
        """Discord's error answer as a :class:`DeliveryError`."""
        if exc.status == 401:
            return DeliveryError(f"{TOKEN_REFUSED} (401 Unauthorized)", retryable=True, auth=True)
        if isinstance(exc, (discord.Forbidden, discord.NotFound)):
            gone = lose and exc.code in LOST_CHANNEL_CODES
            if gone:
                await self._lose(channel, exc)
            return DeliveryError(f"Discord refused: {exc.status} {exc.text}", retryable=False, gone=gone)
        if isinstance(exc, discord.DiscordServerError):
            return DeliveryError(f"Discord server error {exc.status}", retryable=True)
        if exc.status == 429:  # without Discord's headers: a proxy or Cloudflare
            after = parse_retry_after(exc.response.headers.get("Retry-After"))
            return DeliveryError("rate limited by a proxy or Cloudflare", retryable=True, retry_after=after)
        return DeliveryError(f"Discord said {exc.status}: {exc.text}", retryable=False)  # our request

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


def _embed_key(embed: Any) -> tuple[str, str, str]:
    """What tells one alert's embed from another's (Discord adds fields of its own to those it returns)."""
    if not isinstance(embed, dict):
        return ("", "", "")
    return (str(embed.get("title", "")), str(embed.get("url", "")), str(embed.get("description", "")))

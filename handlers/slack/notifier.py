"""Alerts to Slack: chat.postMessage with Block Kit, chat.update when a story gains sources.

Every message the bot posts carries an id in its metadata: an alert its alert id (``event_type:
newsbot_alert``), the parent of a channel's thread for the day an id made of the channel and the day
(``event_type: newsbot_thread``). So a retry after an ambiguous failure (a timeout or a 500 after Slack
may have posted) looks first and returns the message already there instead of posting it twice: in the
channel's recent history (``conversations.history``) and, for an alert that goes into the day's
thread, in that thread (``conversations.replies``), since Slack's history leaves thread replies out.
The day's parent is looked for the same way before one is posted, after a restart too.

Slack's errors become :class:`DeliveryError`: rate limits are retryable after ``Retry-After``; a channel
the bot can't post in (not a member, archived, gone) pauses that channel's subscriptions with one log
line; a refused token (revoked, expired, the account deactivated) raises ``DeliveryError(auth=True)``,
retryable: the delivery worker holds the platform's alerts until the token works again, so none is
failed for it; the notifier logs it once, loudly, until a call succeeds again, and nothing is paused
(every channel is affected alike and a new token fixes it).

Installed per workspace (OAuth), each call goes with the bot token of the alert's workspace (its
``workspace_id``, the team id), from the installation store. There a refused token, or no installation
at all, is that workspace's alone: its subscriptions are paused as after ``app_uninstalled`` and the
alert is held (``DeliveryError(gone=True)``), while the other workspaces' alerts go on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.core.errors import DeliveryError, StoreError
from bot.core.http import parse_retry_after
from bot.core.models import Alert, ChannelRef, MessageRef
from bot.core.zones import zone
from bot.processing.subscriptions import SubscriptionBook, pause_channel, pause_workspace
from bot.store.base import Store
from handlers.slack.installations import DatabaseInstallations
from handlers.slack.render import render_slack

log = logging.getLogger(__name__)

PLATFORM = "slack"
EVENT_TYPE = "newsbot_alert"
"""Metadata of an alert: ``{"alert_id": ...}``."""
THREAD_EVENT_TYPE = "newsbot_thread"
"""Metadata of the parent of a channel's thread for the day: ``{"thread_id": ...}``."""
HISTORY_LIMIT = 100
"""How many recent messages a retry looks through for an earlier post of the same alert."""
REPLIES_LIMIT = 1000
"""Replies per page of ``conversations.replies`` (Slack's maximum)."""
REPLIES_PAGES = 10
"""At most this many pages of a thread are looked through."""
NO_LOOK = frozenset({"missing_scope"})
"""Errors of a look back that mean "can't tell": the bot then posts rather than lose the alert."""

CHANNEL_GONE = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})
AUTH_DEAD = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "org_login_required",
        "team_access_not_granted",
    }
)
"""Slack refused the bot's token itself: no call can succeed until it works again."""
RATE_LIMITED = "ratelimited"
DEFAULT_RETRY_AFTER = 30.0


class SlackNotifier:
    platform = PLATFORM

    def __init__(
        self,
        client: AsyncWebClient,
        store: Store,
        book: SubscriptionBook,
        *,
        history_limit: int = HISTORY_LIMIT,
        replies_limit: int = REPLIES_LIMIT,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        installations: DatabaseInstallations | None = None,
    ) -> None:
        self.client = client
        self.installations = installations
        """Where each workspace's bot token is, when the app is installed per workspace (OAuth); None:
        every call goes with the client's one token."""
        self.store = store
        self.book = book
        self.history_limit = history_limit
        self.replies_limit = replies_limit
        self.now = now
        """The clock that says which day's thread an alert goes into (the channel's days)."""
        self._threads: dict[tuple[str, date], str] = {}
        """(channel key, day) -> ts of that day's parent message, for today and yesterday."""

    async def send(self, alert: Alert, *, retry: bool = False) -> MessageRef:
        channel = alert.channel.channel_id
        day = await self._day(alert.channel) if alert.thread or retry else self.now().astimezone(UTC).date()
        recent: Mapping[str, Any] = {}
        if retry or (alert.thread and (alert.channel.key, day) not in self._threads):
            recent = await self._recent(alert.channel)  # one look serves the alert and the thread
        if retry and (ts := await self._already_posted(alert, recent, day)):
            log.info(
                "slack: alert %s was already posted in %s (ts %s); not posting again", alert.id, channel, ts
            )
            return MessageRef(platform=PLATFORM, channel_id=channel, message_id=ts)
        message = render_slack(alert)
        thread_ts = await self._day_thread(alert.channel, day, recent) if alert.thread else None
        response = await self._call(
            alert.channel,
            "chat.postMessage",
            self.client.chat_postMessage,
            channel=channel,
            text=message["text"],
            blocks=message["blocks"],
            unfurl_links=message["unfurl_links"],
            unfurl_media=message["unfurl_media"],
            metadata=_metadata(alert),
            thread_ts=thread_ts,
        )
        return MessageRef(
            platform=PLATFORM,
            channel_id=str(response.get("channel") or channel),
            message_id=str(response["ts"]),
        )

    async def _day(self, channel: ChannelRef) -> date:
        """The channel's date now, in its time zone (``/news timezone``): its day's thread begins at its
        own midnight. UTC when the store cannot say."""
        try:
            name = (await self.store.channel_settings(channel)).timezone
        except StoreError:
            name = "UTC"
        return self.now().astimezone(zone(name)).date()

    async def _day_thread(self, channel: ChannelRef, day: date, recent: Mapping[str, Any]) -> str:
        """Subscriptions with the thread option post into one thread per channel per day, under a
        short parent message, so the channel itself gets one line a day. The parent carries the day's
        thread id in its metadata (``event_type: newsbot_thread``); one not remembered by this process
        (after a restart, or a post whose answer was lost) is looked for among the channel's recent
        messages before a new one is posted. Without the history scope, or when more than
        ``history_limit`` messages came after it, it is not found and the day gets a second parent."""
        if ts := self._parent(channel, day, recent):
            self._remember(channel, day, ts)
            return ts
        response = await self._call(
            channel,
            "chat.postMessage",
            self.client.chat_postMessage,
            channel=channel.channel_id,
            text=f"News alerts · {day.strftime('%d %b %Y')}",
            metadata={
                "event_type": THREAD_EVENT_TYPE,
                "event_payload": {"thread_id": thread_id(channel, day)},
            },
        )
        ts = str(response["ts"])
        self._remember(channel, day, ts)
        return ts

    def _parent(self, channel: ChannelRef, day: date, recent: Mapping[str, Any]) -> str:
        """The ts of ``day``'s thread parent in ``channel``: remembered, or among ``recent``; or ""."""
        known = self._threads.get((channel.key, day))
        return known or _carrying(recent, THREAD_EVENT_TYPE, "thread_id", thread_id(channel, day))

    def _remember(self, channel: ChannelRef, day: date, ts: str) -> None:
        self._threads[(channel.key, day)] = ts
        for key, when in list(self._threads):
            if when < day - timedelta(days=1):
                del self._threads[(key, when)]

    async def edit(self, ref: MessageRef, alert: Alert) -> None:
        message = render_slack(alert)
        await self._call(
            alert.channel,
            "chat.update",
            self.client.chat_update,
            channel=ref.channel_id,
            ts=ref.message_id,
            text=message["text"],
            blocks=message["blocks"],
            metadata=_metadata(alert),
        )

    async def _recent(self, channel: ChannelRef) -> dict[str, Any]:
        """The channel's recent top-level messages with their metadata (``{}`` without the scope)."""
        return await self._call(
            channel,
            "conversations.history",
            self.client.conversations_history,
            channel=channel.channel_id,
            limit=self.history_limit,
            include_all_metadata=True,
            unavailable=NO_LOOK,
        )

    async def _already_posted(self, alert: Alert, recent: Mapping[str, Any], day: date) -> str:
        """The ts of a message carrying the alert's id: among the channel's ``recent`` messages or, for
        an alert that goes into the day's thread, in that thread (today's, or yesterday's for a retry
        that crossed midnight); or "". Without the history scope the bot can't tell, says so in the
        log, and posts."""
        if ts := _carrying(recent, EVENT_TYPE, "alert_id", alert.id):
            return ts
        if alert.thread:
            for when in (day, day - timedelta(days=1)):
                if (parent := self._parent(alert.channel, when, recent)) and (
                    ts := await self._in_thread(alert, parent)
                ):
                    return ts
        return ""

    async def _in_thread(self, alert: Alert, parent_ts: str) -> str:
        """The ts of a reply carrying the alert's id in the thread under ``parent_ts``, or ""."""
        channel, cursor = alert.channel, ""
        for _ in range(REPLIES_PAGES):
            page = await self._call(
                channel,
                "conversations.replies",
                self.client.conversations_replies,
                channel=channel.channel_id,
                ts=parent_ts,
                limit=self.replies_limit,
                cursor=cursor or None,
                include_all_metadata=True,
                unavailable=NO_LOOK | {"thread_not_found"},
            )
            if ts := _carrying(page, EVENT_TYPE, "alert_id", alert.id):
                return ts
            cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor or not page.get("has_more"):
                return ""
        return ""

    async def _call(
        self,
        channel: ChannelRef,
        method: str,
        call: Callable[..., Awaitable[AsyncSlackResponse]],
        /,
        *,
        unavailable: Collection[str] = (),
        **args: Any,
    ) -> dict[str, Any]:
        """``call(**args)``'s response data, with the token of the channel's workspace. Slack's errors
        become :class:`DeliveryError`, except those in ``unavailable`` (a look back Slack won't allow),
        which give ``{}`` and a line in the log."""
        token = await self._token(channel, method)
        try:
            response = await call(**args, **({"token": token} if token else {}))
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if error in unavailable:
                if error == "missing_scope":
                    log.warning(
                        "slack: can't look for an earlier post in %s with %s (missing scope %s); "
                        "posting without looking",
                        channel.channel_id,
                        method,
                        exc.response.get("needed") or "channels:history",
                    )
                return {}
            raise await self._delivery_error(channel, method, exc) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"slack {method}: {type(exc).__name__}: {exc}", retryable=True) from exc
        data: dict[str, Any] = response.data if isinstance(response.data, dict) else {}
        return data

    async def _token(self, channel: ChannelRef, method: str) -> str:
        """The bot token of the channel's workspace when the app is installed per workspace (OAuth); ""
        for the client's own token. A workspace without an installation is one the bot was removed from."""
        if self.installations is None:
            return ""
        try:
            token = await self.installations.bot_token(channel.workspace_id)
        except StoreError as exc:
            raise DeliveryError(f"slack {method}: the installation could not be read: {exc}") from exc
        if not token:
            await self._workspace_lost(channel, "the app is not installed there (install it again)")
            raise DeliveryError(f"slack {method}: not installed in {channel.workspace_id}", gone=True)
        return token

    async def _workspace_lost(self, channel: ChannelRef, reason: str) -> None:
        await pause_workspace(self.store, self.book, PLATFORM, channel.workspace_id, reason)
        if self.installations is not None:
            self.installations.forget(channel.workspace_id)

    async def _delivery_error(self, channel: ChannelRef, method: str, exc: SlackApiError) -> DeliveryError:
        error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
        where = f"slack channel {channel.channel_id} (workspace {channel.workspace_id or '?'})"
        if error == RATE_LIMITED or exc.response.status_code == 429:
            retry_after = _retry_after(exc.response.headers)
            return DeliveryError(f"slack {method}: rate limited", retryable=True, retry_after=retry_after)
        if error in CHANNEL_GONE:
            reason = f"{error} on {method} (invite the bot or unarchive the channel, then re-subscribe)"
            await pause_channel(self.store, self.book, channel, f"{where}: {reason}")
            return DeliveryError(f"slack {method}: {error}", retryable=False, gone=True)
        if error in AUTH_DEAD and self.installations is not None:
            # One workspace's token: its channels wait for a new install, the other workspaces go on.
            await self._workspace_lost(
                channel, f"Slack refused its bot token ({error}; install the app again)"
            )
            return DeliveryError(f"slack {method}: {error}", retryable=False, gone=True)
        if error in AUTH_DEAD:  # the worker logs it, once, and holds the platform
            message = f"slack {method}: {error}; a replaced token needs a restart of the bot"
            return DeliveryError(message, retryable=True, auth=True)
        retryable = exc.response.status_code >= 500 or error in (
            "internal_error",
            "fatal_error",
            "service_unavailable",
        )
        return DeliveryError(f"slack {method} in {channel.channel_id}: {error}", retryable=retryable)


def thread_id(channel: ChannelRef, day: date) -> str:
    """The id in the metadata of ``channel``'s thread parent for ``day``: the same in every process."""
    return f"{channel.key}:{day.isoformat()}"


def _carrying(response: Mapping[str, Any], event_type: str, key: str, value: str) -> str:
    """The ts of the first message in ``response`` whose metadata has ``event_type`` and ``key: value``
    in its payload, or ""."""
    for message in response.get("messages") or []:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == event_type and payload.get(key) == value:
            return str(message.get("ts") or "")
    return ""


def _metadata(alert: Alert) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"alert_id": alert.id}}


def _retry_after(headers: Any) -> float:
    """Slack's headers come as a mapping of strings or, from some of slack-sdk's clients, of lists."""
    value = headers.get("Retry-After") or headers.get("retry-after") if isinstance(headers, Mapping) else None
    if isinstance(value, list):
        value = value[0] if value else None
    seconds = parse_retry_after(value) if isinstance(value, str) else None
    return DEFAULT_RETRY_AFTER if seconds is None else seconds

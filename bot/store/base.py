from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.models import Alert, Article, ChannelRef, FeedState, MessageRef, Subscription


@dataclass(frozen=True, slots=True)
class Processed:
    """An article after story assignment, ready to be recorded as seen."""

    article: Article
    story_id: str
    story_keys: tuple[str, ...] = ()
    quiet: bool = False
    """Recorded as history (a new feed's backlog, past max age): never alerted."""
    feed_hash: str = ""
    """The content hash of the article as its feed had it, before full text was fetched: what a
    later fetch is compared with to tell an update."""


@dataclass(frozen=True, slots=True)
class SeenArticle:
    """An article the bot has recorded, as /news preview and /news why look back at it."""

    article: Article
    story_id: str
    seen_at: float
    quiet: bool


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    muted_until: float = 0.0
    digest: str = "off"
    """off, hourly or daily: every alert of the channel waits for the next digest."""


@dataclass(frozen=True, slots=True)
class AlertStatus:
    status: str
    """"pending", "sent" or "failed"."""
    attempts: int
    last_error: str
    sent_at: float | None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    alert: Alert
    attempts: int
    created_at: float = 0.0


class Store(Protocol):
    """Everything the bot persists. Every method raises :class:`bot.core.errors.StoreError` on a storage
    failure and nothing else."""

    async def close(self) -> None: ...

    async def add_subscription(
        self,
        channel: ChannelRef,
        query: str,
        raw_query: str,
        *,
        created_by: str = "",
        mention: str = "",
        mode: str = "instant",
        thread: bool = False,
    ) -> tuple[Subscription, bool]:
        """Add a subscription; returns it and whether it is new (False: the channel already had it)."""
        ...

    async def remove_subscription(self, subscription_id: int) -> bool: ...

    async def list_subscriptions(self, channel: ChannelRef | None = None) -> list[Subscription]:
        """Subscriptions of one channel (all channels when None), oldest first."""
        ...

    async def upsert_feed(
        self,
        url: str,
        name: str = "",
        interval: float | None = None,
        *,
        backfill: int = 0,
        max_age: float | None = None,
    ) -> FeedState:
        """Add a feed, or update the settings of a known one (its fetch state is kept)."""
        ...

    async def list_feeds(self) -> list[FeedState]: ...

    async def save_feed_state(self, state: FeedState) -> None: ...

    async def move_feed(self, old_url: str, new_url: str) -> None:
        """A permanent redirect: the feed and its channels continue under the new URL."""
        ...

    async def remove_feed(self, url: str) -> bool: ...

    async def add_feed_channel(self, url: str, channel: ChannelRef, added_by: str = "") -> None: ...

    async def remove_feed_channel(self, url: str, channel: ChannelRef) -> bool: ...

    async def feed_channels(self, url: str) -> list[ChannelRef]: ...

    async def channel_feeds(self, channel: ChannelRef) -> list[str]:
        """The URLs of the feeds a channel added, oldest first."""
        ...

    async def changed(self, articles: Sequence[Article]) -> list[Article]:
        """Articles already seen whose title or body has changed since: updates, not new articles."""
        ...

    async def record_updates(self, articles: Sequence[Article]) -> None: ...

    async def recent_articles(self, limit: int) -> list[SeenArticle]:
        """The most recently seen articles, newest first."""
        ...

    async def find_article(self, canonical_url: str) -> SeenArticle | None:
        """The article seen under this canonical link, if any (the newest when several were)."""
        ...

    async def alert_status(self, alert_id: str) -> AlertStatus | None: ...

    async def queue_alerts(self, alerts: Sequence[Alert], now: float) -> int:
        """Queue alerts not tied to an article (feed health notices). Same de-duplication by id."""
        ...

    async def unseen(self, articles: Sequence[Article]) -> list[Article]:
        """The articles whose id was never recorded, in input order. Records nothing."""
        ...

    async def find_story(self, keys: Sequence[str], since: float) -> str | None:
        """The story any of ``keys`` was linked to at or after ``since``, if one was."""
        ...

    async def record_processed(
        self, processed: Sequence[Processed], alerts: Sequence[Alert], now: float
    ) -> int:
        """In one transaction: mark the articles seen, link their stories, queue the alerts (an alert id
        already in the outbox gains the new alert's source in ``also``, and its message is marked for
        an edit when it was already posted). Returns how many alerts were queued. A crash before this
        commits leaves the articles unseen, so they are processed again: nothing is lost."""
        ...

    async def due_alerts(self, now: float, limit: int, platforms: Collection[str]) -> list[OutboxItem]:
        """Pending alerts for ``platforms`` whose next attempt is due, in queue order. An alert waiting
        behind an earlier one of its channel that is backing off is not due: a channel's alerts never
        overtake. Alerts for a platform that is not running wait, untouched, until it runs."""
        ...

    async def mark_delivered(self, alert_id: str, ref: MessageRef, now: float) -> None: ...

    async def defer(self, alert_id: str, until: float) -> None:
        """Hold a pending alert (mute, digest) without counting an attempt."""
        ...

    async def edits_due(self, platforms: Collection[str], limit: int) -> list[tuple[OutboxItem, MessageRef]]:
        """Posted alerts whose story gained sources since: their messages need editing."""
        ...

    async def mark_edited(self, alert_id: str) -> None: ...

    async def channel_settings(self, channel: ChannelRef) -> ChannelSettings: ...

    async def set_mute(self, channel: ChannelRef, until: float) -> None: ...

    async def set_digest(self, channel: ChannelRef, schedule: str) -> None: ...

    async def pause_channel(self, channel: ChannelRef) -> int:
        """Pause every subscription of a channel the bot can no longer post in; returns how many."""
        ...

    async def resume_channel(self, channel: ChannelRef) -> int: ...

    async def mark_retry(self, alert_id: str, error: str, next_attempt_at: float) -> None: ...

    async def mark_failed(self, alert_id: str, error: str) -> None:
        """Give up on an alert: it stays in the outbox with its error, for an operator to see."""
        ...

    async def sent_ref(self, alert_id: str) -> MessageRef | None: ...

    async def pending_count(self) -> int: ...

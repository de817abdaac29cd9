"""The outbox: alerts queued for delivery, and what became of each."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.models import Alert, ChannelRef, MessageRef

HELD_FOR_CHANNEL = 1e18
"""``next_attempt_at`` of an alert waiting for its channel to be resumed: never due by the clock."""


@dataclass(frozen=True, slots=True)
class AlertStatus:
    status: str
    """"pending", "sent" or "failed"."""
    attempts: int
    last_error: str
    sent_at: float | None


@dataclass(frozen=True, slots=True)
class ChannelOutbox:
    """What a channel's outbox holds, for ``/news status``."""

    due: int = 0
    """Pending and due: going out now, or waiting behind a retry of the same channel."""
    held: int = 0
    """Pending until a later time: a mute, a digest, a retry, flood control."""
    failed: int = 0
    last_error: str = ""
    """The newest error of an alert still pending or failed."""
    last_sent_at: float | None = None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    alert: Alert
    attempts: int
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class OutboxDepth:
    """How far behind delivery is, for the metrics."""

    pending: int
    """Alerts neither sent nor failed, whatever they wait for (a retry, a mute, a digest, a channel)."""
    oldest_due_at: float | None
    """When the oldest alert that is due now was queued: waiting on the bot, not on a mute, a digest,
    a retry's backoff or a lost channel. None when none is due."""


class OutboxStore(Protocol):
    """Alerts queued, due, deferred, delivered, retried, failed and edited. Alerts tied to an article
    are queued by :meth:`bot.store.articles.ArticleStore.record_processed`. Every method raises
    :class:`bot.core.errors.StoreError` on a storage failure and nothing else."""

    async def queue_alerts(self, alerts: Sequence[Alert], now: float) -> int:
        """Queue alerts not tied to an article (feed health notices). Same de-duplication by id."""
        ...

    async def due_alerts(
        self, now: float, limit: int, platforms: Collection[str], channels: Collection[str] | None = None
    ) -> list[OutboxItem]:
        """Pending alerts for ``platforms`` whose next attempt is due, in queue order; only those of
        ``channels`` (keys) when given: the channels this worker claimed. An alert waiting behind an
        earlier one of its channel that is backing off is not due: a channel's alerts never overtake.
        Alerts for a platform that is not running wait, untouched, until it runs."""
        ...

    async def due_in_channel(self, channel: ChannelRef, now: float, limit: int) -> list[OutboxItem]:
        """One channel's pending alerts that are due, in queue order (to complete a digest)."""
        ...

    async def next_attempt_at(
        self, platforms: Collection[str], owner: str = "", now: float = 0.0
    ) -> float | None:
        """When the earliest pending alert for ``platforms`` falls due (a retry, a mute's end, a digest).
        Given ``owner``, an alert of a channel another owner holds at ``now`` counts from the end of
        that claim."""
        ...

    async def recent_sends(self, channel_keys: Collection[str], since: float) -> dict[str, list[float]]:
        """When each of these channels was sent a message after ``since``, one time a message (the
        alerts of a digest share theirs): what flood control counts."""
        ...

    async def channel_outbox(self, channel: ChannelRef, now: float) -> ChannelOutbox: ...

    async def hold_for_channel(self, alert_ids: Sequence[str], error: str) -> None:
        """Keep these alerts pending, not due, until :meth:`release_channel`: their channel is gone
        or closed to the bot, and they wait for it to be resumed."""
        ...

    async def release_channel(self, channel: ChannelRef, now: float) -> int:
        """Make the alerts held for ``channel`` due at ``now``; returns how many."""
        ...

    async def begin_attempt(self, alert_ids: Sequence[str]) -> None:
        """Count a send attempt before its request goes out (the marks below record its outcome)."""
        ...

    async def mark_delivered(self, alert_id: str, ref: MessageRef, now: float) -> None: ...

    async def defer(self, alert_id: str, until: float) -> None:
        """Hold a pending alert (mute, digest) without counting an attempt."""
        ...

    async def mark_retry(self, alert_id: str, error: str, next_attempt_at: float) -> None: ...

    async def mark_failed(self, alert_id: str, error: str) -> None:
        """Give up on an alert: it stays in the outbox with its error, for an operator to see."""
        ...

    async def edits_due(self, platforms: Collection[str], limit: int) -> list[tuple[OutboxItem, MessageRef]]:
        """Posted alerts whose story gained sources since: their messages need editing."""
        ...

    async def mark_edited(self, edited: Alert) -> None:
        """The message now shows ``edited``: no edit is due, unless the alert gained another source since
        ``edited`` was read (another worker's, or a push's), whose edit stays due."""
        ...

    async def alert_status(self, alert_id: str) -> AlertStatus | None: ...

    async def pending_count(self) -> int:
        """How many alerts wait in the outbox (pending: neither sent nor failed)."""
        ...

    async def outbox_depth(self, now: float) -> OutboxDepth: ...

"""The outbox in PostgreSQL (:class:`bot.store.outbox.OutboxStore`): alerts queued, deferred, delivered,
retried, failed, edited. Queue order is ``seq``."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from bot.core.models import Alert, ChannelRef, MessageRef
from bot.store.codec import alert_from_json, alert_to_json
from bot.store.outbox import HELD_FOR_CHANNEL, AlertStatus, ChannelOutbox, OutboxDepth, OutboxItem
from bot.store.postgres.base import PostgresBase
from bot.store.rows import item_from_row

if TYPE_CHECKING:
    from bot.store.postgres.base import Connection


class PostgresOutbox(PostgresBase):
    """:class:`bot.store.outbox.OutboxStore` on the ``outbox`` table."""

    async def alert_status(self, alert_id: str) -> AlertStatus | None:
        rows = await self._rows(
            "SELECT status, attempts, last_error, sent_at FROM outbox WHERE id=$1", alert_id
        )
        if not rows:
            return None
        r = rows[0]
        return AlertStatus(r["status"], int(r["attempts"]), r["last_error"], r["sent_at"])

    async def queue_alerts(self, alerts: Sequence[Alert], now: float) -> int:
        async with self._transaction("queueing alerts") as db:
            return await insert_alerts(db, alerts, now)

    async def due_alerts(
        self, now: float, limit: int, platforms: Collection[str], channels: Collection[str] | None = None
    ) -> list[OutboxItem]:
        if not platforms or (channels is not None and not channels):
            return []
        rows = await self._rows(
            "SELECT payload, attempts, created_at FROM outbox AS o"
            " WHERE status='pending' AND next_attempt_at <= $1 AND platform = ANY($2::text[])"
            " AND ($3::text[] IS NULL OR channel_key = ANY($3::text[]))"
            " AND NOT EXISTS (SELECT 1 FROM outbox AS e WHERE e.channel_key = o.channel_key"
            "   AND e.status = 'pending' AND e.attempts > 0 AND e.seq < o.seq AND e.next_attempt_at > $1)"
            " ORDER BY seq LIMIT $4",
            now,
            list(platforms),
            None if channels is None else list(channels),
            limit,
        )
        return [item_from_row(r) for r in rows]

    async def due_in_channel(self, channel: ChannelRef, now: float, limit: int) -> list[OutboxItem]:
        rows = await self._rows(
            "SELECT payload, attempts, created_at FROM outbox WHERE channel_key=$1 AND status='pending'"
            " AND next_attempt_at <= $2 ORDER BY seq LIMIT $3",
            channel.key,
            now,
            limit,
        )
        return [item_from_row(r) for r in rows]

    async def next_attempt_at(
        self, platforms: Collection[str], owner: str = "", now: float = 0.0
    ) -> float | None:
        if not platforms:
            return None
        due = await self._rows(
            "SELECT min(CASE WHEN l.until > $2 AND l.owner != $1 THEN greatest(l.until, o.next_attempt_at)"
            " ELSE o.next_attempt_at END) AS due FROM outbox AS o"
            " LEFT JOIN leases AS l ON $1 != '' AND l.name = 'channel:' || o.channel_key"
            " WHERE o.status='pending' AND o.platform = ANY($3::text[])",
            owner,
            now,
            list(platforms),
        )
        value = due[0]["due"] if due else None
        return float(value) if value is not None else None

    async def recent_sends(self, channel_keys: Collection[str], since: float) -> dict[str, list[float]]:
        if not channel_keys:
            return {}
        rows = await self._rows(
            "SELECT channel_key, min(sent_at) AS at FROM outbox WHERE status='sent' AND sent_at > $1"
            " AND channel_key = ANY($2::text[]) GROUP BY channel_key, message_id",
            since,
            list(channel_keys),
        )
        sends: dict[str, list[float]] = {}
        for row in rows:
            sends.setdefault(row["channel_key"], []).append(float(row["at"]))
        return sends

    async def channel_outbox(self, channel: ChannelRef, now: float) -> ChannelOutbox:
        [row] = await self._rows(
            "SELECT"
            " count(*) FILTER (WHERE status='pending' AND next_attempt_at <= $1) AS due,"
            " count(*) FILTER (WHERE status='pending' AND next_attempt_at > $1) AS held,"
            " count(*) FILTER (WHERE status='failed') AS failed,"
            " max(sent_at) AS last_sent_at,"
            " (SELECT last_error FROM outbox WHERE channel_key=$2 AND status IN ('pending', 'failed')"
            "   AND last_error != '' ORDER BY seq DESC LIMIT 1) AS last_error"
            " FROM outbox WHERE channel_key=$2",
            now,
            channel.key,
        )
        return ChannelOutbox(
            due=int(row["due"] or 0),
            held=int(row["held"] or 0),
            failed=int(row["failed"] or 0),
            last_error=row["last_error"] or "",
            last_sent_at=row["last_sent_at"],
        )

    async def hold_for_channel(self, alert_ids: Sequence[str], error: str) -> None:
        await self._write(
            "UPDATE outbox SET next_attempt_at=$1, last_error=$2 WHERE id = ANY($3::text[])",
            HELD_FOR_CHANNEL,
            error,
            list(alert_ids),
        )

    async def release_channel(self, channel: ChannelRef, now: float) -> int:
        return await self._write(
            "UPDATE outbox SET next_attempt_at=$1 WHERE channel_key=$2 AND status='pending'"
            " AND next_attempt_at >= $3",
            now,
            channel.key,
            HELD_FOR_CHANNEL,
        )

    async def begin_attempt(self, alert_ids: Sequence[str]) -> None:
        await self._write("UPDATE outbox SET attempts=attempts+1 WHERE id = ANY($1::text[])", list(alert_ids))

    async def mark_delivered(self, alert_id: str, ref: MessageRef, now: float) -> None:
        await self._write(
            "UPDATE outbox SET status='sent', sent_at=$1, message_id=$2, message_channel=$3, last_error=''"
            " WHERE id=$4",
            now,
            ref.message_id,
            ref.channel_id,
            alert_id,
        )

    async def defer(self, alert_id: str, until: float) -> None:
        await self._write("UPDATE outbox SET next_attempt_at=$1 WHERE id=$2", until, alert_id)

    async def edits_due(self, platforms: Collection[str], limit: int) -> list[tuple[OutboxItem, MessageRef]]:
        if not platforms:
            return []
        rows = await self._rows(
            "SELECT payload, attempts, platform, message_channel, message_id FROM outbox"
            " WHERE status='sent' AND needs_edit AND platform = ANY($1::text[]) ORDER BY seq LIMIT $2",
            list(platforms),
            limit,
        )
        return [
            (
                OutboxItem(alert_from_json(r["payload"]), int(r["attempts"])),
                MessageRef(r["platform"], r["message_channel"], r["message_id"]),
            )
            for r in rows
        ]

    async def mark_edited(self, edited: Alert) -> None:
        await self._write(
            "UPDATE outbox SET needs_edit=FALSE"
            " WHERE id=$1 AND json_array_length(payload::json -> 'also') <= $2",
            edited.id,
            len(edited.also),
        )

    async def mark_retry(self, alert_id: str, error: str, next_attempt_at: float) -> None:
        await self._write(
            "UPDATE outbox SET last_error=$1, next_attempt_at=$2 WHERE id=$3",
            error,
            next_attempt_at,
            alert_id,
        )

    async def mark_failed(self, alert_id: str, error: str) -> None:
        await self._write("UPDATE outbox SET status='failed', last_error=$1 WHERE id=$2", error, alert_id)

    async def pending_count(self) -> int:
        rows = await self._rows("SELECT count(*) AS n FROM outbox WHERE status='pending'")
        return int(rows[0]["n"])

    async def outbox_depth(self, now: float) -> OutboxDepth:
        [row] = await self._rows(
            "SELECT count(*) AS n, min(created_at) FILTER (WHERE next_attempt_at <= $1) AS oldest"
            " FROM outbox WHERE status='pending'",
            now,
        )
        oldest = row["oldest"]
        return OutboxDepth(int(row["n"]), float(oldest) if oldest is not None else None)


async def insert_alerts(db: Connection, alerts: Sequence[Alert], now: float) -> int:
    """Insert ``alerts`` into the outbox on ``db``, inside the caller's transaction. An alert id already
    queued gains the new alert's source instead; returns how many were new."""
    added = 0
    for alert in alerts:
        inserted = await db.fetchval(
            "INSERT INTO outbox (id, platform, channel_key, payload, next_attempt_at, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING RETURNING 1",
            alert.id,
            alert.channel.platform,
            alert.channel.key,
            alert_to_json(alert),
            now,
        )
        if inserted:
            added += 1
        elif alert.kind == "article" and alert.source:
            await _add_source(db, alert)
    return added


async def _add_source(db: Connection, alert: Alert) -> None:
    """A second outlet reported a story this channel has an alert for: name it on that alert. The row is
    locked, so two workers adding outlets at once both land."""
    row = await db.fetchrow("SELECT payload, status FROM outbox WHERE id=$1 FOR UPDATE", alert.id)
    if row is None:
        return
    existing = alert_from_json(row["payload"])
    if alert.source == existing.source or alert.source in existing.also:
        return
    merged = dataclasses.replace(existing, also=(*existing.also, alert.source))
    await db.execute(
        "UPDATE outbox SET payload=$1, needs_edit=$2 WHERE id=$3",
        alert_to_json(merged),
        row["status"] == "sent",
        alert.id,
    )

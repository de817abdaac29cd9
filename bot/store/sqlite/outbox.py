"""The outbox in SQLite (:class:`bot.store.outbox.OutboxStore`): alerts queued, deferred, delivered,
retried, failed, edited."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence

import aiosqlite

from bot.core.models import Alert, ChannelRef, MessageRef
from bot.store.codec import alert_from_json, alert_to_json
from bot.store.outbox import HELD_FOR_CHANNEL, AlertStatus, ChannelOutbox, OutboxDepth, OutboxItem
from bot.store.rows import item_from_row
from bot.store.sqlite.base import SqliteBase


class SqliteOutbox(SqliteBase):
    """:class:`bot.store.outbox.OutboxStore` on the ``outbox`` table."""

    async def alert_status(self, alert_id: str) -> AlertStatus | None:
        rows = await self._rows(
            "SELECT status, attempts, last_error, sent_at FROM outbox WHERE id=?", (alert_id,)
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
        marks = ",".join("?" * len(platforms))
        only = "" if channels is None else f" AND channel_key IN ({','.join('?' * len(channels))})"
        rows = await self._rows(
            "SELECT payload, attempts, created_at FROM outbox AS o INDEXED BY outbox_pending_queue"
            f" WHERE status='pending' AND next_attempt_at <= ? AND platform IN ({marks}){only}"
            " AND NOT EXISTS (SELECT 1 FROM outbox AS e WHERE e.channel_key = o.channel_key"
            "   AND e.status = 'pending' AND e.attempts > 0 AND e.rowid < o.rowid AND e.next_attempt_at > ?)"
            " ORDER BY rowid LIMIT ?",
            (now, *platforms, *(channels or ()), now, limit),
        )
        return [item_from_row(r) for r in rows]

    async def due_in_channel(self, channel: ChannelRef, now: float, limit: int) -> list[OutboxItem]:
        rows = await self._rows(
            "SELECT payload, attempts, created_at FROM outbox WHERE channel_key=? AND status='pending'"
            " AND next_attempt_at <= ? ORDER BY rowid LIMIT ?",
            (channel.key, now, limit),
        )
        return [item_from_row(r) for r in rows]

    async def next_attempt_at(
        self, platforms: Collection[str], owner: str = "", now: float = 0.0
    ) -> float | None:
        if not platforms:
            return None
        marks = ",".join("?" * len(platforms))
        rows = await self._rows(
            "SELECT min(CASE WHEN l.until > ? AND l.owner != ? THEN max(l.until, o.next_attempt_at)"
            " ELSE o.next_attempt_at END) AS due FROM outbox AS o"
            " LEFT JOIN leases AS l ON l.name = 'channel:' || o.channel_key AND ? != ''"
            f" WHERE o.status='pending' AND o.platform IN ({marks})",
            (now, owner, owner, *platforms),
        )
        due = rows[0]["due"] if rows else None
        return float(due) if due is not None else None

    async def recent_sends(self, channel_keys: Collection[str], since: float) -> dict[str, list[float]]:
        if not channel_keys:
            return {}
        marks = ",".join("?" * len(channel_keys))
        rows = await self._rows(
            "SELECT channel_key, min(sent_at) AS at FROM outbox WHERE status='sent' AND sent_at > ?"
            f" AND channel_key IN ({marks}) GROUP BY channel_key, message_id",
            (since, *channel_keys),
        )
        sends: dict[str, list[float]] = {}
        for row in rows:
            sends.setdefault(row["channel_key"], []).append(float(row["at"]))
        return sends

    async def channel_outbox(self, channel: ChannelRef, now: float) -> ChannelOutbox:
        [row] = await self._rows(
            "SELECT"
            " sum(status='pending' AND next_attempt_at <= ?) AS due,"
            " sum(status='pending' AND next_attempt_at > ?) AS held,"
            " sum(status='failed') AS failed,"
            " max(sent_at) AS last_sent_at"
            " FROM outbox WHERE channel_key=?",
            (now, now, channel.key),
        )
        errors = await self._rows(
            "SELECT last_error FROM outbox WHERE channel_key=? AND status IN ('pending', 'failed')"
            " AND last_error != '' ORDER BY rowid DESC LIMIT 1",
            (channel.key,),
        )
        return ChannelOutbox(
            due=int(row["due"] or 0),
            held=int(row["held"] or 0),
            failed=int(row["failed"] or 0),
            last_error=errors[0]["last_error"] if errors else "",
            last_sent_at=row["last_sent_at"],
        )

    async def hold_for_channel(self, alert_ids: Sequence[str], error: str) -> None:
        marks = ",".join("?" * len(alert_ids))
        await self._write(
            f"UPDATE outbox SET next_attempt_at=?, last_error=? WHERE id IN ({marks})",
            (HELD_FOR_CHANNEL, error, *alert_ids),
        )

    async def release_channel(self, channel: ChannelRef, now: float) -> int:
        return await self._write(
            "UPDATE outbox SET next_attempt_at=? WHERE channel_key=? AND status='pending'"
            " AND next_attempt_at >= ?",
            (now, channel.key, HELD_FOR_CHANNEL),
        )

    async def begin_attempt(self, alert_ids: Sequence[str]) -> None:
        marks = ",".join("?" * len(alert_ids))
        await self._write(f"UPDATE outbox SET attempts=attempts+1 WHERE id IN ({marks})", alert_ids)

    async def mark_delivered(self, alert_id: str, ref: MessageRef, now: float) -> None:
        await self._write(
            "UPDATE outbox SET status='sent', sent_at=?, message_id=?,"
            " message_channel=?, last_error='' WHERE id=?",
            (now, ref.message_id, ref.channel_id, alert_id),
        )

    async def defer(self, alert_id: str, until: float) -> None:
        await self._write("UPDATE outbox SET next_attempt_at=? WHERE id=?", (until, alert_id))

    async def edits_due(self, platforms: Collection[str], limit: int) -> list[tuple[OutboxItem, MessageRef]]:
        if not platforms:
            return []
        marks = ",".join("?" * len(platforms))
        rows = await self._rows(
            "SELECT payload, attempts, platform, message_channel, message_id FROM outbox"
            f" WHERE status='sent' AND needs_edit=1 AND platform IN ({marks}) ORDER BY rowid LIMIT ?",
            (*platforms, limit),
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
            "UPDATE outbox SET needs_edit=0 WHERE id=? AND json_array_length(payload, '$.also') <= ?",
            (edited.id, len(edited.also)),
        )

    async def mark_retry(self, alert_id: str, error: str, next_attempt_at: float) -> None:
        await self._write(
            "UPDATE outbox SET last_error=?, next_attempt_at=? WHERE id=?",
            (error, next_attempt_at, alert_id),
        )

    async def mark_failed(self, alert_id: str, error: str) -> None:
        await self._write(
            "UPDATE outbox SET status='failed', last_error=? WHERE id=?",
            (error, alert_id),
        )

    async def pending_count(self) -> int:
        rows = await self._rows("SELECT count(*) AS n FROM outbox WHERE status='pending'")
        return int(rows[0]["n"])

    async def outbox_depth(self, now: float) -> OutboxDepth:
        [row] = await self._rows(
            "SELECT count(*) AS n, min(CASE WHEN next_attempt_at <= ? THEN created_at END) AS oldest"
            " FROM outbox WHERE status='pending'",
            (now,),
        )
        oldest = row["oldest"]
        return OutboxDepth(int(row["n"]), float(oldest) if oldest is not None else None)


async def insert_alerts(db: aiosqlite.Connection, alerts: Sequence[Alert], now: float) -> int:
    """Insert ``alerts`` into the outbox on ``db`` without committing: the caller's transaction
    decides. An alert id already queued gains the new alert's source instead; returns how many were new."""
    added = 0
    for alert in alerts:
        async with db.execute(
            "INSERT OR IGNORE INTO outbox (id, platform, channel_key, payload, next_attempt_at,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (alert.id, alert.channel.platform, alert.channel.key, alert_to_json(alert), now, now),
        ) as cur:
            inserted = cur.rowcount > 0
        if inserted:
            added += 1
        elif alert.kind == "article" and alert.source:
            await _add_source(db, alert)
    return added


async def _add_source(db: aiosqlite.Connection, alert: Alert) -> None:
    """A second outlet reported a story this channel has an alert for: name it on that alert."""
    async with db.execute("SELECT payload, status FROM outbox WHERE id=?", (alert.id,)) as cur:
        row = await cur.fetchone()
    if row is None:
        return
    existing = alert_from_json(row["payload"])
    if alert.source == existing.source or alert.source in existing.also:
        return
    merged = dataclasses.replace(existing, also=(*existing.also, alert.source))
    await db.execute(
        "UPDATE outbox SET payload=?, needs_edit=? WHERE id=?",
        (alert_to_json(merged), int(row["status"] == "sent"), alert.id),
    )

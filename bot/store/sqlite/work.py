"""Shared work in SQLite (:class:`bot.store.work.WorkStore`). SQLite serves one process, so a claim never
meets another owner's; the same rules hold all the same, so the poller and the delivery worker run one
way on either store."""

from __future__ import annotations

from collections.abc import Collection

from bot.core.models import FeedState, Subscription
from bot.store.rows import feed_from_row, subscription_from_row
from bot.store.sqlite.base import SqliteBase
from bot.store.work import SubscriptionChanges

RECHECK = 10.0
"""Seconds of changes reported again (see :meth:`bot.store.work.WorkStore.subscription_changes`)."""
CHANNEL = "channel:"


class SqliteWork(SqliteBase):
    """:class:`bot.store.work.WorkStore` on the feeds' claim columns and the ``leases`` and
    ``subscription_changes`` tables."""

    async def claim_feeds(self, owner: str, now: float, limit: int, until: float) -> list[FeedState]:
        async with (
            self._transaction("claiming feeds") as db,
            db.execute(
                "UPDATE feeds SET claimed_by=?, claimed_until=? WHERE url IN (SELECT url FROM feeds"
                " WHERE paused=0 AND next_fetch_at <= ? AND (claimed_until <= ? OR claimed_by=?)"
                " ORDER BY next_fetch_at, added_at, url LIMIT ?) RETURNING *",
                (owner, until, now, now, owner, limit),
            ) as cur,
        ):
            rows = list(await cur.fetchall())
        rows.sort(key=lambda r: (r["next_fetch_at"], r["added_at"], r["url"]))  # RETURNING keeps no order
        return [feed_from_row(r) for r in rows]

    async def make_feeds_due(self, now: float) -> int:
        return await self._write(
            "UPDATE feeds SET next_fetch_at=? WHERE paused=0 AND next_fetch_at > ?", (now, now)
        )

    async def next_feed_due(self, owner: str, now: float) -> float | None:
        rows = await self._rows(
            "SELECT min(CASE WHEN claimed_until > ? AND claimed_by != ?"
            " THEN max(claimed_until, next_fetch_at) ELSE next_fetch_at END) AS due"
            " FROM feeds WHERE paused=0",
            (now, owner),
        )
        due = rows[0]["due"] if rows else None
        return float(due) if due is not None else None

    async def claim_channels(
        self, owner: str, now: float, until: float, platforms: Collection[str], limit: int
    ) -> list[str]:
        if not platforms:
            return []
        marks = ",".join("?" * len(platforms))
        async with self._transaction("claiming channels") as db:
            await db.execute(
                "INSERT INTO leases (name, owner, until)"
                f" SELECT DISTINCT '{CHANNEL}' || channel_key, ?, ?"
                " FROM outbox INDEXED BY outbox_pending_queue"
                f" WHERE status='pending' AND next_attempt_at <= ? AND platform IN ({marks}) LIMIT ?"
                " ON CONFLICT (name) DO UPDATE SET owner=excluded.owner, until=excluded.until"
                " WHERE leases.until <= ? OR leases.owner = excluded.owner",
                (owner, until, now, *platforms, limit, now),
            )
            await db.execute(
                "UPDATE leases SET until=? WHERE owner=? AND name LIKE ? AND until > ?",
                (until, owner, CHANNEL + "%", now),
            )
            async with db.execute(
                "SELECT substr(name, ?) AS channel_key FROM leases"
                " WHERE owner=? AND name LIKE ? AND until > ?",
                (len(CHANNEL) + 1, owner, CHANNEL + "%", now),
            ) as cur:
                return [r["channel_key"] for r in await cur.fetchall()]

    async def release_channels(self, owner: str) -> None:
        await self._write("DELETE FROM leases WHERE owner=? AND name LIKE ?", (owner, CHANNEL + "%"))

    async def take_lease(self, name: str, owner: str, now: float, until: float) -> bool:
        taken = await self._write(
            "INSERT INTO leases (name, owner, until) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE"
            " SET owner=excluded.owner, until=excluded.until WHERE leases.until <= ? OR leases.owner = ?",
            (name, owner, until, now, owner),
        )
        return taken > 0

    async def renew(self, owner: str, until: float) -> int:
        async with self._transaction("renewing claims") as db:
            async with db.execute(
                "UPDATE feeds SET claimed_until=? WHERE claimed_by=? AND claimed_until > 0", (until, owner)
            ) as cur:
                feeds = cur.rowcount
            async with db.execute(
                "UPDATE leases SET until=? WHERE owner=? AND name LIKE ?", (until, owner, CHANNEL + "%")
            ) as cur:
                return feeds + cur.rowcount

    async def release(self, owner: str) -> None:
        async with self._transaction("releasing claims") as db:
            await db.execute("DELETE FROM leases WHERE owner=?", (owner,))
            await db.execute(
                "UPDATE feeds SET claimed_until=0 WHERE claimed_by=? AND claimed_until > 0", (owner,)
            )

    async def subscription_changes(self, cursor: int | None, now: float) -> SubscriptionChanges:
        rows = await self._rows("SELECT coalesce(max(seq), 0) AS top FROM subscription_changes")
        top = int(rows[0]["top"])
        if cursor is None:
            return SubscriptionChanges(top, frozenset())
        changed = await self._rows(
            "SELECT DISTINCT subscription_id FROM subscription_changes WHERE seq > ? OR at >= ?",
            (cursor, now - RECHECK),
        )
        return SubscriptionChanges(top, frozenset(int(r["subscription_id"]) for r in changed))

    async def subscriptions_by_id(self, ids: Collection[int]) -> dict[int, Subscription]:
        found: dict[int, Subscription] = {}
        wanted = list(ids)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in await self._rows(f"SELECT * FROM subscriptions WHERE id IN ({marks})", chunk):
                found[int(row["id"])] = subscription_from_row(row)
        return found

    async def prune_subscription_changes(self, before: float) -> int:
        return await self._write("DELETE FROM subscription_changes WHERE at < ?", (before,))

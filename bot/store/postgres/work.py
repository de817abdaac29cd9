"""Shared work in PostgreSQL (:class:`bot.store.work.WorkStore`): feeds are claimed with
``FOR UPDATE SKIP LOCKED`` (two workers asking at once get different feeds, neither waits), channels and
named leases with ``INSERT … ON CONFLICT DO UPDATE … WHERE`` (the row lock makes the second of two
racing workers see the first's claim and take nothing)."""

from __future__ import annotations

from collections.abc import Collection

from bot.core.models import FeedState, Subscription
from bot.store.postgres.base import PostgresBase, changed_rows
from bot.store.rows import feed_from_row, subscription_from_row
from bot.store.sqlite.work import CHANNEL, RECHECK
from bot.store.work import SubscriptionChanges


class PostgresWork(PostgresBase):
    """:class:`bot.store.work.WorkStore` on the feeds' claim columns and the ``leases`` and
    ``subscription_changes`` tables."""

    async def claim_feeds(self, owner: str, now: float, limit: int, until: float) -> list[FeedState]:
        rows = await self._rows(
            "UPDATE feeds SET claimed_by=$1, claimed_until=$2 WHERE url IN (SELECT url FROM feeds"
            " WHERE NOT paused AND next_fetch_at <= $3 AND (claimed_until <= $3 OR claimed_by=$1)"
            " ORDER BY next_fetch_at, added_at, url LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING *",
            owner,
            until,
            now,
            limit,
        )
        rows.sort(key=lambda r: (r["next_fetch_at"], r["added_at"], r["url"]))
        return [feed_from_row(r) for r in rows]

    async def make_feeds_due(self, now: float) -> int:
        return await self._write(
            "UPDATE feeds SET next_fetch_at=$1 WHERE NOT paused AND next_fetch_at > $1", now
        )

    async def next_feed_due(self, owner: str, now: float) -> float | None:
        rows = await self._rows(
            "SELECT min(CASE WHEN claimed_until > $1 AND claimed_by != $2"
            " THEN greatest(claimed_until, next_fetch_at) ELSE next_fetch_at END) AS due"
            " FROM feeds WHERE NOT paused",
            now,
            owner,
        )
        due = rows[0]["due"] if rows else None
        return float(due) if due is not None else None

    async def claim_channels(
        self, owner: str, now: float, until: float, platforms: Collection[str], limit: int
    ) -> list[str]:
        if not platforms:
            return []
        async with self._transaction("claiming channels") as db:
            await db.execute(
                "INSERT INTO leases (name, owner, until)"
                " SELECT $1 || channel_key, $2, $3 FROM (SELECT DISTINCT channel_key FROM outbox"
                "   WHERE status='pending' AND next_attempt_at <= $4 AND platform = ANY($5::text[])"
                "   LIMIT $6) AS due"
                " ON CONFLICT (name) DO UPDATE SET owner=excluded.owner, until=excluded.until"
                " WHERE leases.until <= $4 OR leases.owner = excluded.owner",
                CHANNEL,
                owner,
                until,
                now,
                list(platforms),
                limit,
            )
            rows = await db.fetch(
                "UPDATE leases SET until=$1 WHERE owner=$2 AND name LIKE $3 AND until > $4"
                " RETURNING substr(name, $5) AS channel_key",
                until,
                owner,
                CHANNEL + "%",
                now,
                len(CHANNEL) + 1,
            )
        return [r["channel_key"] for r in rows]

    async def release_channels(self, owner: str) -> None:
        await self._write("DELETE FROM leases WHERE owner=$1 AND name LIKE $2", owner, CHANNEL + "%")

    async def take_lease(self, name: str, owner: str, now: float, until: float) -> bool:
        taken = await self._write(
            "INSERT INTO leases (name, owner, until) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE"
            " SET owner=excluded.owner, until=excluded.until WHERE leases.until <= $4 OR leases.owner = $2",
            name,
            owner,
            until,
            now,
        )
        return taken > 0

    async def renew(self, owner: str, until: float) -> int:
        async with self._transaction("renewing claims") as db:
            feeds = await db.execute(
                "UPDATE feeds SET claimed_until=$1 WHERE claimed_by=$2 AND claimed_until > 0", until, owner
            )
            leases = await db.execute(
                "UPDATE leases SET until=$1 WHERE owner=$2 AND name LIKE $3", until, owner, CHANNEL + "%"
            )
        return changed_rows(feeds) + changed_rows(leases)

    async def release(self, owner: str) -> None:
        async with self._transaction("releasing claims") as db:
            await db.execute("DELETE FROM leases WHERE owner=$1", owner)
            await db.execute(
                "UPDATE feeds SET claimed_until=0 WHERE claimed_by=$1 AND claimed_until > 0", owner
            )

    async def subscription_changes(self, cursor: int | None, now: float) -> SubscriptionChanges:
        rows = await self._rows("SELECT coalesce(max(seq), 0) AS top FROM subscription_changes")
        top = int(rows[0]["top"])
        if cursor is None:
            return SubscriptionChanges(top, frozenset())
        changed = await self._rows(
            "SELECT DISTINCT subscription_id FROM subscription_changes WHERE seq > $1 OR at >= $2",
            cursor,
            now - RECHECK,
        )
        return SubscriptionChanges(top, frozenset(int(r["subscription_id"]) for r in changed))

    async def subscriptions_by_id(self, ids: Collection[int]) -> dict[int, Subscription]:
        rows = await self._rows("SELECT * FROM subscriptions WHERE id = ANY($1::bigint[])", list(ids))
        return {int(r["id"]): subscription_from_row(r) for r in rows}

    async def prune_subscription_changes(self, before: float) -> int:
        return await self._write("DELETE FROM subscription_changes WHERE at < $1", before)

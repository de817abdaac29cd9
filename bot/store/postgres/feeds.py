"""Feeds in PostgreSQL (:class:`bot.store.feeds.FeedStore`)."""

from __future__ import annotations

import time

from bot.core.identity import feed_scope
from bot.core.models import ChannelRef, FeedState
from bot.store.postgres.base import PostgresBase
from bot.store.rows import feed_from_row


class PostgresFeeds(PostgresBase):
    """:class:`bot.store.feeds.FeedStore` on the ``feeds`` and ``feed_channels`` tables (and, when a feed
    moves, its ``articles``)."""

    async def upsert_feed(
        self,
        url: str,
        name: str = "",
        interval: float | None = None,
        *,
        backfill: int = 0,
        max_age: float | None = None,
    ) -> FeedState:
        rows = await self._rows(
            "INSERT INTO feeds (url, name, interval, backfill, max_age, added_at)"
            " VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT (url) DO UPDATE SET name=excluded.name, interval=excluded.interval,"
            " backfill=excluded.backfill, max_age=excluded.max_age RETURNING *",
            url,
            name,
            interval,
            backfill,
            max_age,
            time.time(),
        )
        return feed_from_row(rows[0])

    async def list_feeds(self) -> list[FeedState]:
        return [feed_from_row(r) for r in await self._rows("SELECT * FROM feeds ORDER BY added_at, url")]

    async def save_feed_state(self, state: FeedState) -> None:
        await self._write(
            "UPDATE feeds SET etag=$1, last_modified=$2, body_hash=$3, next_fetch_at=$4, failures=$5,"
            " last_error=$6, last_success_at=$7, failing_since=$8, health_stage=$9, paused=$10,"
            " claimed_until=0 WHERE url=$11",
            state.etag,
            state.last_modified,
            state.body_hash,
            state.next_fetch_at,
            state.failures,
            state.last_error,
            state.last_success_at,
            state.failing_since,
            state.health_stage,
            state.paused,
            state.url,
        )

    async def move_feed(self, old_url: str, new_url: str) -> None:
        async with self._transaction(f"moving feed {old_url}") as db:
            if await db.fetchval("SELECT 1 FROM feeds WHERE url=$1", new_url):
                await db.execute("DELETE FROM feeds WHERE url=$1", old_url)
            else:
                await db.execute("UPDATE feeds SET url=$1 WHERE url=$2", new_url, old_url)
            await db.execute(
                "INSERT INTO feed_channels (feed_url, platform, workspace, channel, added_by, added_at)"
                " SELECT $1, platform, workspace, channel, added_by, added_at FROM feed_channels"
                " WHERE feed_url=$2 ON CONFLICT DO NOTHING",
                new_url,
                old_url,
            )
            await db.execute("DELETE FROM feed_channels WHERE feed_url=$1", old_url)
            # Its items' GUIDs are scoped to its URL: they move with it, or the next fetch would find them
            # all new. One already seen under the new URL keeps its old id.
            old_scope, new_scope = feed_scope(old_url) + "#", feed_scope(new_url) + "#"
            if old_scope != new_scope:
                await db.execute(
                    "UPDATE articles AS a SET id = $1 || substr(a.id, $2) WHERE a.feed_url=$3"
                    " AND substr(a.id, 1, $4) = $5 AND NOT EXISTS"
                    " (SELECT 1 FROM articles AS b WHERE b.id = $1 || substr(a.id, $2))",
                    new_scope,
                    len(old_scope) + 1,
                    old_url,
                    len(old_scope),
                    old_scope,
                )
            await db.execute("UPDATE articles SET feed_url=$1 WHERE feed_url=$2", new_url, old_url)

    async def remove_feed(self, url: str) -> bool:
        async with self._transaction(f"removing feed {url}") as db:
            await db.execute("DELETE FROM feed_channels WHERE feed_url=$1", url)
            return await db.fetchval("DELETE FROM feeds WHERE url=$1 RETURNING 1", url) is not None

    async def add_feed_channel(self, url: str, channel: ChannelRef, added_by: str = "") -> None:
        await self._write(
            "INSERT INTO feed_channels (feed_url, platform, workspace, channel, added_by, added_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            url,
            channel.platform,
            channel.workspace_id,
            channel.channel_id,
            added_by,
            time.time(),
        )

    async def remove_feed_channel(self, url: str, channel: ChannelRef) -> bool:
        removed = await self._write(
            "DELETE FROM feed_channels WHERE feed_url=$1 AND platform=$2 AND workspace=$3 AND channel=$4",
            url,
            channel.platform,
            channel.workspace_id,
            channel.channel_id,
        )
        return removed > 0

    async def feed_channels(self, url: str) -> list[ChannelRef]:
        rows = await self._rows(
            "SELECT platform, workspace, channel FROM feed_channels WHERE feed_url=$1 ORDER BY added_at",
            url,
        )
        return [ChannelRef(r["platform"], r["channel"], r["workspace"]) for r in rows]

    async def channel_feeds(self, channel: ChannelRef) -> list[str]:
        rows = await self._rows(
            "SELECT feed_url FROM feed_channels WHERE platform=$1 AND workspace=$2 AND channel=$3"
            " ORDER BY added_at",
            channel.platform,
            channel.workspace_id,
            channel.channel_id,
        )
        return [r["feed_url"] for r in rows]

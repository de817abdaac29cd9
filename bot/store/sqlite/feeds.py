"""Feeds in SQLite (:class:`bot.store.feeds.FeedStore`)."""

from __future__ import annotations

import time

from bot.core.identity import feed_scope
from bot.core.models import ChannelRef, FeedState
from bot.store.rows import feed_from_row
from bot.store.sqlite.base import SqliteBase


class SqliteFeeds(SqliteBase):
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
        await self._write(
            "INSERT INTO feeds (url, name, interval, backfill, max_age, added_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(url) DO UPDATE SET name=excluded.name, interval=excluded.interval,"
            " backfill=excluded.backfill, max_age=excluded.max_age",
            (url, name, interval, backfill, max_age, time.time()),
        )
        rows = await self._rows("SELECT * FROM feeds WHERE url=?", (url,))
        return feed_from_row(rows[0])

    async def list_feeds(self) -> list[FeedState]:
        return [feed_from_row(r) for r in await self._rows("SELECT * FROM feeds ORDER BY added_at, url")]

    async def save_feed_state(self, state: FeedState) -> None:
        await self._write(
            "UPDATE feeds SET etag=?, last_modified=?, body_hash=?, next_fetch_at=?, failures=?,"
            " last_error=?, last_success_at=?, failing_since=?, health_stage=?, paused=?, claimed_until=0"
            " WHERE url=?",
            (
                state.etag,
                state.last_modified,
                state.body_hash,
                state.next_fetch_at,
                state.failures,
                state.last_error,
                state.last_success_at,
                state.failing_since,
                state.health_stage,
                int(state.paused),
                state.url,
            ),
        )

    async def move_feed(self, old_url: str, new_url: str) -> None:
        async with self._transaction(f"moving feed {old_url}") as db:
            async with db.execute("SELECT 1 FROM feeds WHERE url=?", (new_url,)) as cur:
                exists = await cur.fetchone() is not None
            if exists:
                await db.execute("DELETE FROM feeds WHERE url=?", (old_url,))
            else:
                await db.execute("UPDATE feeds SET url=? WHERE url=?", (new_url, old_url))
            await db.execute(
                "UPDATE OR IGNORE feed_channels SET feed_url=? WHERE feed_url=?", (new_url, old_url)
            )
            await db.execute("DELETE FROM feed_channels WHERE feed_url=?", (old_url,))
            # Its items' GUIDs are scoped to its URL: they move with it, or the next fetch would find them
            # all new. One already seen under the new URL keeps its old id (OR IGNORE).
            old_scope, new_scope = feed_scope(old_url) + "#", feed_scope(new_url) + "#"
            if old_scope != new_scope:
                await db.execute(
                    "UPDATE OR IGNORE articles SET id = ? || substr(id, ?)"
                    " WHERE feed_url=? AND substr(id, 1, ?) = ?",
                    (new_scope, len(old_scope) + 1, old_url, len(old_scope), old_scope),
                )
            await db.execute("UPDATE articles SET feed_url=? WHERE feed_url=?", (new_url, old_url))

    async def remove_feed(self, url: str) -> bool:
        await self._write("DELETE FROM feed_channels WHERE feed_url=?", (url,))
        return await self._write("DELETE FROM feeds WHERE url=?", (url,)) > 0

    async def add_feed_channel(self, url: str, channel: ChannelRef, added_by: str = "") -> None:
        await self._write(
            "INSERT OR IGNORE INTO feed_channels (feed_url, platform, workspace, channel, added_by, added_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (url, channel.platform, channel.workspace_id, channel.channel_id, added_by, time.time()),
        )

    async def remove_feed_channel(self, url: str, channel: ChannelRef) -> bool:
        removed = await self._write(
            "DELETE FROM feed_channels WHERE feed_url=? AND platform=? AND workspace=? AND channel=?",
            (url, channel.platform, channel.workspace_id, channel.channel_id),
        )
        return removed > 0

    async def feed_channels(self, url: str) -> list[ChannelRef]:
        rows = await self._rows(
            "SELECT platform, workspace, channel FROM feed_channels WHERE feed_url=? ORDER BY added_at",
            (url,),
        )
        return [ChannelRef(r["platform"], r["channel"], r["workspace"]) for r in rows]

    async def channel_feeds(self, channel: ChannelRef) -> list[str]:
        rows = await self._rows(
            "SELECT feed_url FROM feed_channels WHERE platform=? AND workspace=? AND channel=?"
            " ORDER BY added_at",
            (channel.platform, channel.workspace_id, channel.channel_id),
        )
        return [r["feed_url"] for r in rows]

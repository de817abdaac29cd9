"""The embedded store: one SQLite file in WAL mode, reached through aiosqlite's worker thread so the
event loop never waits on the disk."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Sequence
from datetime import datetime
from importlib import resources
from pathlib import Path

import aiosqlite

from bot.core.errors import StoreError
from bot.core.identity import canonical_url, content_hash
from bot.core.models import Alert, Article, ChannelRef, FeedState, Subscription
from bot.store.articles import Processed, SeenArticle
from bot.store.channels import ChannelSettings
from bot.store.sqlite_outbox import OutboxTables

log = logging.getLogger(__name__)


def migrations() -> list[tuple[int, str]]:
    """Numbered ``NNN_name.sql`` files shipped with the package, in order."""
    folder = resources.files("bot.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class SqliteStore(OutboxTables):
    """The embedded store: subscriptions, feeds, articles and stories here; the outbox in
    :class:`OutboxTables`."""

    @classmethod
    async def open(cls, path: str | Path) -> SqliteStore:
        """Open (creating it and its folder if needed) and migrate. ``":memory:"`` is allowed."""
        path = str(path)
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = await aiosqlite.connect(path)
            conn.row_factory = sqlite3.Row
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
            store = cls(conn, path)
            await store._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the database at {path}: {exc}") from exc
        return store

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        current = int(row[0]) if row else 0
        for number, sql in migrations():
            if number <= current:
                continue
            log.info("applying database migration %03d", number)
            await self._db.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")

    async def close(self) -> None:
        try:
            await self._db.close()
        except sqlite3.Error as exc:
            raise StoreError(f"closing the database failed: {exc}") from exc

    # subscriptions

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
        added = await self._write(
            "INSERT OR IGNORE INTO subscriptions"
            " (platform, workspace, channel, query, raw_query, created_by, mention, mode, created_at, thread)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                channel.platform,
                channel.workspace_id,
                channel.channel_id,
                query,
                raw_query,
                created_by,
                mention,
                mode,
                time.time(),
                int(thread),
            ),
        )
        rows = await self._rows(
            "SELECT * FROM subscriptions WHERE platform=? AND workspace=? AND channel=? AND query=?",
            (channel.platform, channel.workspace_id, channel.channel_id, query),
        )
        return _subscription(rows[0]), added > 0

    async def remove_subscription(self, subscription_id: int) -> bool:
        return await self._write("DELETE FROM subscriptions WHERE id=?", (subscription_id,)) > 0

    async def list_subscriptions(self, channel: ChannelRef | None = None) -> list[Subscription]:
        if channel is None:
            rows = await self._rows("SELECT * FROM subscriptions ORDER BY id")
        else:
            rows = await self._rows(
                "SELECT * FROM subscriptions WHERE platform=? AND workspace=? AND channel=? ORDER BY id",
                (channel.platform, channel.workspace_id, channel.channel_id),
            )
        return [_subscription(r) for r in rows]

    # feeds

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
        return _feed(rows[0])

    async def list_feeds(self) -> list[FeedState]:
        return [_feed(r) for r in await self._rows("SELECT * FROM feeds ORDER BY added_at, url")]

    async def save_feed_state(self, state: FeedState) -> None:
        await self._write(
            "UPDATE feeds SET etag=?, last_modified=?, body_hash=?, next_fetch_at=?, failures=?,"
            " last_error=?, last_success_at=?, failing_since=?, health_stage=?, paused=? WHERE url=?",
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
        try:
            await self._db.execute("BEGIN")
            async with self._db.execute("SELECT 1 FROM feeds WHERE url=?", (new_url,)) as cur:
                exists = await cur.fetchone() is not None
            if exists:
                await self._db.execute("DELETE FROM feeds WHERE url=?", (old_url,))
            else:
                await self._db.execute("UPDATE feeds SET url=? WHERE url=?", (new_url, old_url))
            await self._db.execute(
                "UPDATE OR IGNORE feed_channels SET feed_url=? WHERE feed_url=?", (new_url, old_url)
            )
            await self._db.execute("DELETE FROM feed_channels WHERE feed_url=?", (old_url,))
            await self._db.commit()
        except sqlite3.Error as exc:
            await self._db.rollback()
            raise StoreError(f"moving feed {old_url} failed: {exc}") from exc

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

    # articles and stories

    async def unseen(self, articles: Sequence[Article]) -> list[Article]:
        if not articles:
            return []
        known: set[str] = set()
        ids = list({a.id for a in articles})
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = await self._rows(f"SELECT id FROM articles WHERE id IN ({marks})", chunk)
            known.update(r["id"] for r in rows)
        return [a for a in articles if a.id not in known]

    async def find_story(self, keys: Sequence[str], since: float) -> str | None:
        if not keys:
            return None
        marks = ",".join("?" * len(keys))
        rows = await self._rows(
            f"SELECT story_id FROM story_keys WHERE key IN ({marks}) AND seen_at >= ?"
            " ORDER BY seen_at LIMIT 1",
            (*keys, since),
        )
        return str(rows[0]["story_id"]) if rows else None

    async def channel_feeds(self, channel: ChannelRef) -> list[str]:
        rows = await self._rows(
            "SELECT feed_url FROM feed_channels WHERE platform=? AND workspace=? AND channel=?"
            " ORDER BY added_at",
            (channel.platform, channel.workspace_id, channel.channel_id),
        )
        return [r["feed_url"] for r in rows]

    async def changed(self, articles: Sequence[Article]) -> list[Article]:
        if not articles:
            return []
        stored: dict[str, str] = {}
        ids = list({a.id for a in articles})
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = await self._rows(f"SELECT id, content_hash FROM articles WHERE id IN ({marks})", chunk)
            stored.update((r["id"], r["content_hash"]) for r in rows)
        return [a for a in articles if a.id in stored and stored[a.id] != content_hash(a)]

    async def record_updates(self, articles: Sequence[Article]) -> None:
        try:
            await self._db.executemany(
                "UPDATE articles SET content_hash=?, title=?, url=?, text=? WHERE id=?",
                [(content_hash(a), a.title, a.url, a.text, a.id) for a in articles],
            )
            await self._db.commit()
        except sqlite3.Error as exc:
            raise StoreError(f"recording article updates failed: {exc}") from exc

    async def recent_articles(self, limit: int) -> list[SeenArticle]:
        rows = await self._rows("SELECT * FROM articles ORDER BY seen_at DESC, rowid DESC LIMIT ?", (limit,))
        return [_seen(r) for r in rows]

    async def find_article(self, canonical_url: str) -> SeenArticle | None:
        rows = await self._rows(
            "SELECT * FROM articles WHERE canonical_url=? ORDER BY seen_at DESC LIMIT 1", (canonical_url,)
        )
        return _seen(rows[0]) if rows else None

    async def record_processed(
        self, processed: Sequence[Processed], alerts: Sequence[Alert], now: float
    ) -> int:
        try:
            await self._db.execute("BEGIN")
            await self._db.executemany(
                "INSERT OR IGNORE INTO articles (id, content_hash, title, url, source, feed_url, published,"
                " story_id, seen_at, text, canonical_url, quiet) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        p.article.id,
                        p.feed_hash or content_hash(p.article),
                        p.article.title,
                        p.article.url,
                        p.article.source,
                        p.article.feed_url,
                        p.article.published.isoformat() if p.article.published else None,
                        p.story_id,
                        now,
                        p.article.text,
                        canonical_url(p.article.url) if p.article.url else "",
                        int(p.quiet),
                    )
                    for p in processed
                ],
            )
            await self._db.executemany(
                "INSERT OR IGNORE INTO story_keys (key, story_id, seen_at) VALUES (?, ?, ?)",
                [(key, p.story_id, now) for p in processed for key in p.story_keys],
            )
            added = await self._insert_alerts(alerts, now)
            await self._db.commit()
        except sqlite3.Error as exc:
            await self._db.rollback()
            raise StoreError(f"recording processed articles failed: {exc}") from exc
        return added

    async def channel_settings(self, channel: ChannelRef) -> ChannelSettings:
        rows = await self._rows(
            "SELECT muted_until, digest FROM channel_settings WHERE platform=? AND workspace=? AND channel=?",
            (channel.platform, channel.workspace_id, channel.channel_id),
        )
        return ChannelSettings(rows[0]["muted_until"], rows[0]["digest"]) if rows else ChannelSettings()

    async def set_mute(self, channel: ChannelRef, until: float) -> None:
        await self._write(
            "INSERT INTO channel_settings (platform, workspace, channel, muted_until) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO UPDATE SET muted_until=excluded.muted_until",
            (channel.platform, channel.workspace_id, channel.channel_id, until),
        )

    async def set_digest(self, channel: ChannelRef, schedule: str) -> None:
        await self._write(
            "INSERT INTO channel_settings (platform, workspace, channel, digest) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO UPDATE SET digest=excluded.digest",
            (channel.platform, channel.workspace_id, channel.channel_id, schedule),
        )

    async def pause_channel(self, channel: ChannelRef) -> int:
        return await self._set_paused(channel, True)

    async def resume_channel(self, channel: ChannelRef) -> int:
        return await self._set_paused(channel, False)

    async def _set_paused(self, channel: ChannelRef, paused: bool) -> int:
        return await self._write(
            "UPDATE subscriptions SET paused=? WHERE platform=? AND workspace=? AND channel=? AND paused<>?",
            (int(paused), channel.platform, channel.workspace_id, channel.channel_id, int(paused)),
        )


def _seen(row: sqlite3.Row) -> SeenArticle:
    published = row["published"]
    article = Article(
        id=row["id"],
        title=row["title"],
        text=row["text"],
        url=row["url"],
        source=row["source"],
        feed_url=row["feed_url"],
        published=datetime.fromisoformat(published) if published else None,
    )
    return SeenArticle(article, row["story_id"] or row["id"], row["seen_at"], bool(row["quiet"]))


def _subscription(row: sqlite3.Row) -> Subscription:
    return Subscription(
        id=int(row["id"]),
        channel=ChannelRef(
            platform=row["platform"], channel_id=row["channel"], workspace_id=row["workspace"]
        ),
        query=row["query"],
        raw_query=row["raw_query"],
        created_by=row["created_by"],
        mention=row["mention"],
        mode=row["mode"],
        paused=bool(row["paused"]),
        thread=bool(row["thread"]),
    )


def _feed(row: sqlite3.Row) -> FeedState:
    return FeedState(
        url=row["url"],
        name=row["name"],
        interval=row["interval"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        body_hash=row["body_hash"],
        next_fetch_at=row["next_fetch_at"],
        failures=row["failures"],
        last_error=row["last_error"],
        last_success_at=row["last_success_at"],
        backfill=row["backfill"],
        max_age=row["max_age"],
        failing_since=row["failing_since"],
        health_stage=row["health_stage"],
        paused=bool(row["paused"]),
    )

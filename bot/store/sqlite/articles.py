"""Seen articles and story keys in SQLite (:class:`bot.store.articles.ArticleStore`)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.identity import canonical_url, content_hash
from bot.core.models import Alert, Article
from bot.store.articles import Processed, SeenArticle, StoryRow
from bot.store.rows import seen_from_row
from bot.store.sqlite.base import SqliteBase
from bot.store.sqlite.outbox import insert_alerts

PRUNE_BATCH = 2000
"""Articles blanked a transaction: a first prune of a large store never holds the connection long."""


class SqliteArticles(SqliteBase):
    """:class:`bot.store.articles.ArticleStore` on the ``articles`` and ``story_keys`` tables;
    :meth:`record_processed` queues its alerts in the ``outbox`` in the same transaction."""

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
        async with self._transaction("recording article updates") as db:
            await db.executemany(
                "UPDATE articles SET content_hash=?, title=?, url=?, text=? WHERE id=?",
                [(content_hash(a), a.title, a.url, a.text, a.id) for a in articles],
            )

    async def linked_stories(self, keys: Sequence[str], since: float) -> dict[str, tuple[str, float]]:
        found: dict[str, tuple[str, float]] = {}
        wanted = list(dict.fromkeys(keys))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = await self._rows(
                f"SELECT key, story_id, seen_at FROM story_keys WHERE key IN ({marks}) AND seen_at >= ?",
                (*chunk, since),
            )
            found.update((r["key"], (str(r["story_id"]), float(r["seen_at"]))) for r in rows)
        return found

    async def record_processed(
        self, processed: Sequence[Processed], alerts: Sequence[Alert], now: float
    ) -> int:
        async with self._transaction("recording processed articles") as db:
            await db.executemany(
                "INSERT OR IGNORE INTO articles (id, content_hash, title, url, source, feed_url, published,"
                " story_id, seen_at, text, canonical_url, quiet, story_entry, story_why)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                        p.story_entry,
                        p.story_why,
                    )
                    for p in processed
                ],
            )
            await db.executemany(
                "INSERT OR IGNORE INTO story_keys (key, story_id, seen_at) VALUES (?, ?, ?)",
                [(key, p.story_id, now) for p in processed for key in p.story_keys],
            )
            return await insert_alerts(db, alerts, now)

    async def story_window(self, since: float) -> list[StoryRow]:
        rows = await self._rows(
            "SELECT id, story_id, seen_at, title, source, story_entry FROM articles"
            " WHERE seen_at >= ? AND story_entry != '' ORDER BY seen_at, rowid",
            (since,),
        )
        return [
            StoryRow(
                r["id"], r["story_id"] or r["id"], r["seen_at"], r["title"], r["source"], r["story_entry"]
            )
            for r in rows
        ]

    async def recent_articles(self, limit: int) -> list[SeenArticle]:
        rows = await self._rows("SELECT * FROM articles ORDER BY seen_at DESC, rowid DESC LIMIT ?", (limit,))
        return [seen_from_row(r) for r in rows]

    async def find_article(self, canonical_url: str) -> SeenArticle | None:
        rows = await self._rows(
            "SELECT * FROM articles WHERE canonical_url=? ORDER BY seen_at DESC LIMIT 1", (canonical_url,)
        )
        return seen_from_row(rows[0]) if rows else None

    async def prune_text(self, before: float) -> int:
        pruned = 0
        while True:
            changed = await self._write(
                "UPDATE articles SET text='', story_entry='' WHERE rowid IN (SELECT rowid FROM articles"
                " WHERE seen_at < ? AND (text != '' OR story_entry != '') LIMIT ?)",
                (before, PRUNE_BATCH),
            )
            pruned += changed
            if changed < PRUNE_BATCH:
                break
        await self._write("DELETE FROM story_keys WHERE seen_at < ?", (before,))
        return pruned

"""Seen articles and story keys in PostgreSQL (:class:`bot.store.articles.ArticleStore`)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.identity import canonical_url, content_hash
from bot.core.models import Alert, Article
from bot.store.articles import Processed, SeenArticle, StoryRow
from bot.store.postgres.base import PostgresBase
from bot.store.postgres.outbox import insert_alerts
from bot.store.rows import seen_from_row

PRUNE_BATCH = 2000
"""Articles blanked a statement: a first prune of a large store never holds many rows locked long."""


class PostgresArticles(PostgresBase):
    """:class:`bot.store.articles.ArticleStore` on the ``articles`` and ``story_keys`` tables;
    :meth:`record_processed` queues its alerts in the ``outbox`` in the same transaction."""

    async def unseen(self, articles: Sequence[Article]) -> list[Article]:
        if not articles:
            return []
        rows = await self._rows(
            "SELECT id FROM articles WHERE id = ANY($1::text[])", list({a.id for a in articles})
        )
        known = {r["id"] for r in rows}
        return [a for a in articles if a.id not in known]

    async def changed(self, articles: Sequence[Article]) -> list[Article]:
        if not articles:
            return []
        rows = await self._rows(
            "SELECT id, content_hash FROM articles WHERE id = ANY($1::text[])", list({a.id for a in articles})
        )
        stored = {r["id"]: r["content_hash"] for r in rows}
        return [a for a in articles if a.id in stored and stored[a.id] != content_hash(a)]

    async def record_updates(self, articles: Sequence[Article]) -> None:
        await self._many(
            "UPDATE articles SET content_hash=$1, title=$2, url=$3, text=$4 WHERE id=$5",
            [(content_hash(a), a.title, a.url, a.text, a.id) for a in articles],
        )

    async def linked_stories(self, keys: Sequence[str], since: float) -> dict[str, tuple[str, float]]:
        if not keys:
            return {}
        rows = await self._rows(
            "SELECT key, story_id, seen_at FROM story_keys WHERE key = ANY($1::text[]) AND seen_at >= $2",
            list(dict.fromkeys(keys)),
            since,
        )
        return {r["key"]: (str(r["story_id"]), float(r["seen_at"])) for r in rows}

    async def record_processed(
        self, processed: Sequence[Processed], alerts: Sequence[Alert], now: float
    ) -> int:
        async with self._transaction("recording processed articles") as db:
            if processed:
                await db.executemany(
                    "INSERT INTO articles (id, content_hash, title, url, source, feed_url, published,"
                    " story_id, seen_at, text, canonical_url, quiet, story_entry, story_why)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                    " ON CONFLICT DO NOTHING",
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
                            p.quiet,
                            p.story_entry,
                            p.story_why,
                        )
                        for p in processed
                    ],
                )
            keys = [(key, p.story_id, now) for p in processed for key in p.story_keys]
            if keys:
                await db.executemany(
                    "INSERT INTO story_keys (key, story_id, seen_at) VALUES ($1, $2, $3)"
                    " ON CONFLICT DO NOTHING",
                    keys,
                )
            return await insert_alerts(db, alerts, now)

    async def story_window(self, since: float) -> list[StoryRow]:
        rows = await self._rows(
            "SELECT id, story_id, seen_at, title, source, story_entry FROM articles"
            " WHERE seen_at >= $1 AND story_entry != '' ORDER BY seen_at, seq",
            since,
        )
        return [
            StoryRow(
                r["id"], r["story_id"] or r["id"], r["seen_at"], r["title"], r["source"], r["story_entry"]
            )
            for r in rows
        ]

    async def recent_articles(self, limit: int) -> list[SeenArticle]:
        rows = await self._rows("SELECT * FROM articles ORDER BY seen_at DESC, seq DESC LIMIT $1", limit)
        return [seen_from_row(r) for r in rows]

    async def find_article(self, canonical_url: str) -> SeenArticle | None:
        rows = await self._rows(
            "SELECT * FROM articles WHERE canonical_url=$1 ORDER BY seen_at DESC, seq DESC LIMIT 1",
            canonical_url,
        )
        return seen_from_row(rows[0]) if rows else None

    async def prune_text(self, before: float) -> int:
        pruned = 0
        while True:
            changed = await self._write(
                "UPDATE articles SET text='', story_entry='' WHERE id IN (SELECT id FROM articles"
                " WHERE seen_at < $1 AND (text <> '' OR story_entry <> '') LIMIT $2)",
                before,
                PRUNE_BATCH,
            )
            pruned += changed
            if changed < PRUNE_BATCH:
                break
        await self._write("DELETE FROM story_keys WHERE seen_at < $1", before)
        return pruned

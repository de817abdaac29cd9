from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.core.models import Article, ChannelRef
from bot.store import SqliteStore
from bot.store.sqlite import migrations

OTHER = ChannelRef("discord", "42", "guild-1")


def article(n: int, title: str = "Headline") -> Article:
    return Article(id=f"a{n}", title=f"{title} {n}", text="Body.", url=f"https://x.example/{n}", source="X")


async def test_first_open_creates_file_and_applies_numbered_migrations(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "bot.db"
    store = await SqliteStore.open(path)
    await store.close()
    assert path.exists()
    with sqlite3.connect(path) as db:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert version == max(n for n, _ in migrations()) >= 1
    assert {"subscriptions", "feeds", "articles", "story_keys", "outbox"} <= tables
    again = await SqliteStore.open(path)  # re-opening applies nothing twice
    await again.close()


async def test_migration_9_keeps_what_an_older_database_held(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # a database as version 6 left it (007 needs the store's functions)
        for number, sql in migrations():
            if number <= 6:
                db.executescript(sql)
        db.execute("PRAGMA user_version = 6")
        db.execute("INSERT INTO channel_settings (platform, channel, digest) VALUES ('slack', 'C1', 'daily')")
        db.execute(
            "INSERT INTO subscriptions (platform, channel, query, raw_query, created_at, paused)"
            " VALUES ('slack', 'C1', 'ukraine', 'Ukraine', 0, 1)"
        )
    store = await SqliteStore.open(path)
    try:
        settings = await store.channel_settings(ChannelRef("slack", "C1"))
        assert (settings.digest, settings.timezone) == ("daily", "UTC")
        [sub] = await store.list_subscriptions()
        assert sub.paused and not sub.user_paused
    finally:
        await store.close()

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.core.errors import StoreError
from bot.core.models import Article, ChannelRef, FeedState, MessageRef
from bot.store import Processed, SqliteStore
from bot.store.sqlite import migrations
from tests.store_support import CHAN, alert, sent_ref

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


async def test_subscriptions_are_per_channel_and_unique(store: SqliteStore) -> None:
    sub, added = await store.add_subscription(CHAN, "ukraine", "Ukraine", created_by="me")
    assert added and sub.query == "ukraine" and sub.raw_query == "Ukraine" and sub.channel == CHAN
    again, added_again = await store.add_subscription(CHAN, "ukraine", "ukraine")
    assert not added_again and again.id == sub.id
    other, _ = await store.add_subscription(OTHER, "ukraine", "Ukraine")
    assert other.id != sub.id and other.channel == OTHER
    assert [s.id for s in await store.list_subscriptions(CHAN)] == [sub.id]
    assert len(await store.list_subscriptions()) == 2
    assert await store.remove_subscription(sub.id)
    assert not await store.remove_subscription(sub.id)
    assert await store.list_subscriptions(CHAN) == []


async def test_feed_state_round_trips(store: SqliteStore) -> None:
    feed = await store.upsert_feed("https://f.example/rss", "F", 300.0)
    assert feed == FeedState(url="https://f.example/rss", name="F", interval=300.0)
    await store.save_feed_state(
        FeedState(
            feed.url,
            "F",
            300.0,
            etag='"e1"',
            last_modified="Tue",
            body_hash="h",
            next_fetch_at=5.0,
            failures=2,
            last_error="HTTP 503",
            last_success_at=1.0,
        )
    )
    [saved] = await store.list_feeds()
    assert (saved.etag, saved.failures, saved.last_error, saved.next_fetch_at) == ('"e1"', 2, "HTTP 503", 5.0)
    await store.upsert_feed("https://f.example/rss", "Renamed")
    [renamed] = await store.list_feeds()
    assert renamed.name == "Renamed" and renamed.etag == '"e1"'


async def test_articles_are_new_until_recorded_with_their_alerts(store: SqliteStore) -> None:
    a1, a2 = article(1), article(2)
    assert await store.unseen([a1, a2]) == [a1, a2]
    queued = await store.record_processed([Processed(a1, "a1", ("url:x",))], [alert("a1")], now=100.0)
    assert queued == 1
    assert await store.unseen([a1, a2]) == [a2]
    assert await store.find_story(["url:x", "url:y"], since=0.0) == "a1"
    assert await store.find_story(["url:x"], since=101.0) is None  # outside the window
    assert await store.pending_count() == 1


async def test_outbox_refuses_a_second_alert_for_the_same_story_and_channel(store: SqliteStore) -> None:
    assert await store.record_processed([], [alert("s1"), alert("s1", OTHER)], now=1.0) == 2
    assert await store.record_processed([], [alert("s1")], now=2.0) == 0
    assert await store.pending_count() == 2


async def test_outbox_lifecycle_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    store = await SqliteStore.open(path)
    await store.record_processed([], [alert("s1"), alert("s2"), alert("s3")], now=1.0)
    due = await store.due_alerts(now=1.0, limit=10, platforms=["console"])
    assert [i.alert.story_id for i in due] == ["s1", "s2", "s3"]
    assert due[0].alert == alert("s1")  # the payload round-trips exactly
    await store.begin_attempt([due[0].alert.id, due[1].alert.id])  # counted before the requests go out
    await store.mark_delivered(due[0].alert.id, MessageRef("console", "console", "m1"), now=2.0)
    await store.mark_retry(due[1].alert.id, "HTTP 500", next_attempt_at=50.0)
    await store.close()

    store = await SqliteStore.open(path)
    # s3 waits behind s2, which is backing off: a channel's alerts never overtake each other.
    assert await store.due_alerts(now=3.0, limit=10, platforms=["console"]) == []
    later = await store.due_alerts(now=60.0, limit=10, platforms=["console"])
    assert [(i.alert.story_id, i.attempts) for i in later] == [("s2", 1), ("s3", 0)]
    assert await sent_ref(store, alert("s1").id) == MessageRef("console", "console", "m1")
    assert await sent_ref(store, alert("s2").id) is None
    await store.mark_failed(alert("s2").id, "channel gone")
    assert [i.alert.story_id for i in await store.due_alerts(now=60.0, limit=10, platforms=["console"])] == [
        "s3"
    ]
    await store.close()


async def test_tasks_sharing_the_store_never_meet_inside_each_others_transactions(tmp_path: Path) -> None:
    """A push being recorded while the delivery worker writes: each transaction commits whole and
    alone (this used to end in "cannot start a transaction within a transaction", a 503 to the pusher,
    or a write committing half of another task's transaction)."""
    store = await SqliteStore.open(tmp_path / "bot.db")
    await store.record_processed([], [alert(f"w{i}") for i in range(50)], now=1.0)

    async def push(n: int) -> int:
        return await store.record_processed([], [alert(f"p{n}-{i}") for i in range(20)], now=2.0)

    async def deliver(i: int) -> None:
        await store.defer(alert(f"w{i}").id, 99.0)

    try:
        results = await asyncio.gather(*[push(n) for n in range(20)], *[deliver(i) for i in range(50)])
        assert results[:20] == [20] * 20
        assert await store.pending_count() == 50 + 20 * 20
    finally:
        await store.close()


async def test_a_channels_time_zone_and_a_paused_subscription_are_kept(store: SqliteStore) -> None:
    await store.set_mute(CHAN, 99.0)
    await store.set_timezone(CHAN, "Asia/Kolkata")
    settings = await store.channel_settings(CHAN)
    assert (settings.muted_until, settings.digest, settings.timezone) == (99.0, "off", "Asia/Kolkata")
    assert (await store.channel_settings(OTHER)).timezone == "UTC"
    await store.set_timezone(OTHER, "Europe/Kyiv")  # a channel with no settings row yet
    assert (await store.channel_settings(OTHER)).timezone == "Europe/Kyiv"

    sub, _ = await store.add_subscription(CHAN, "ukraine", "Ukraine")
    assert not sub.user_paused and sub.live
    assert await store.set_subscription_paused(sub.id, True)
    await store.pause_channel(CHAN)
    await store.resume_channel(CHAN)  # the channel's pause and a command's are separate
    [kept] = await store.list_subscriptions(CHAN)
    assert kept.user_paused and not kept.paused and not kept.live
    assert await store.set_subscription_paused(sub.id, False)
    assert not await store.set_subscription_paused(sub.id + 100, True)
    assert (await store.list_subscriptions(CHAN))[0].live


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


async def test_pruning_blanks_old_text_but_the_article_stays_seen(store: SqliteStore) -> None:
    old, recent = article(1), article(2)
    await store.record_processed([Processed(old, "a1", ("url:old",), story_entry="entry")], [], now=100.0)
    await store.record_processed([Processed(recent, "a2", ("url:new",), story_entry="entry")], [], now=300.0)
    assert await store.prune_text(before=200.0) == 1
    assert await store.prune_text(before=200.0) == 0  # nothing left to blank
    assert await store.unseen([old, recent]) == []  # still seen: it never alerts again
    assert await store.changed([old]) == []  # nor counts as an update of itself
    seen = {a.article.id: a for a in await store.recent_articles(10)}
    assert seen["a1"].article.text == "" and seen["a1"].story_id == "a1"
    assert seen["a2"].article.text == "Body."
    assert [row.article_id for row in await store.story_window(0.0)] == ["a2"]
    assert await store.find_story(["url:old"], since=0.0) is None
    assert await store.find_story(["url:new"], since=0.0) == "a2"


async def test_outbox_depth_counts_pending_and_dates_the_oldest_due(store: SqliteStore) -> None:
    assert (await store.outbox_depth(now=10.0)).pending == 0
    await store.queue_alerts([alert("s1")], now=1.0)
    await store.queue_alerts([alert("s2"), alert("s3", OTHER)], now=5.0)
    await store.defer(alert("s1").id, until=50.0)  # a mute: not waiting on the bot
    depth = await store.outbox_depth(now=10.0)
    assert (depth.pending, depth.oldest_due_at) == (3, 5.0)
    await store.mark_delivered(alert("s2").id, MessageRef("console", "console", "m"), now=11.0)
    await store.mark_failed(alert("s3", OTHER).id, "gone")
    depth = await store.outbox_depth(now=12.0)
    assert (depth.pending, depth.oldest_due_at) == (1, None)
    assert (await store.outbox_depth(now=60.0)).oldest_due_at == 1.0


async def test_ping_answers_until_the_store_is_closed(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "bot.db")
    await store.ping()
    await store.close()
    with pytest.raises(StoreError, match="not open"):
        await store.ping()

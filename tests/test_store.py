"""The store's behaviour, once per backend (``any_store``: SQLite and PostgreSQL, the latter on a
throwaway cluster, see tests/postgres.py): what one backend does, the other must."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from unittest.mock import ANY

import pytest

from bot.core.errors import StoreError
from bot.core.models import Article, ChannelRef, FeedState, MessageRef
from bot.store import Processed, SavedInstallation
from bot.store.base import Store
from tests.store_support import CHAN, alert, sent_ref

Opener = Callable[[], Awaitable[Store]]
OTHER = ChannelRef("discord", "42", "guild-1")


def article(n: int, title: str = "Headline") -> Article:
    return Article(id=f"a{n}", title=f"{title} {n}", text="Body.", url=f"https://x.example/{n}", source="X")


async def test_subscriptions_are_per_channel_and_unique(any_store: Store) -> None:
    sub, added = await any_store.add_subscription(CHAN, "ukraine", "Ukraine", created_by="me")
    assert added and sub.query == "ukraine" and sub.raw_query == "Ukraine" and sub.channel == CHAN
    again, added_again = await any_store.add_subscription(CHAN, "ukraine", "ukraine")
    assert not added_again and again.id == sub.id
    other, _ = await any_store.add_subscription(OTHER, "ukraine", "Ukraine")
    assert other.id != sub.id and other.channel == OTHER
    assert [s.id for s in await any_store.list_subscriptions(CHAN)] == [sub.id]
    assert len(await any_store.list_subscriptions()) == 2
    assert await any_store.remove_subscription(sub.id)
    assert not await any_store.remove_subscription(sub.id)
    assert await any_store.list_subscriptions(CHAN) == []


async def test_feed_state_round_trips(any_store: Store) -> None:
    feed = await any_store.upsert_feed("https://f.example/rss", "F", 300.0)
    assert feed == FeedState(url="https://f.example/rss", name="F", interval=300.0)
    await any_store.save_feed_state(
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
    [saved] = await any_store.list_feeds()
    assert (saved.etag, saved.failures, saved.last_error, saved.next_fetch_at) == ('"e1"', 2, "HTTP 503", 5.0)
    await any_store.upsert_feed("https://f.example/rss", "Renamed")
    [renamed] = await any_store.list_feeds()
    assert renamed.name == "Renamed" and renamed.etag == '"e1"'


async def test_articles_are_new_until_recorded_with_their_alerts(any_store: Store) -> None:
    a1, a2 = article(1), article(2)
    assert await any_store.unseen([a1, a2]) == [a1, a2]
    queued = await any_store.record_processed([Processed(a1, "a1", ("url:x",))], [alert("a1")], now=100.0)
    assert queued == 1
    assert await any_store.unseen([a1, a2]) == [a2]
    assert await any_store.linked_stories(["url:x", "url:y"], since=0.0) == {"url:x": ("a1", 100.0)}
    assert await any_store.linked_stories(["url:x"], since=101.0) == {}  # outside the window
    assert await any_store.pending_count() == 1


async def test_outbox_refuses_a_second_alert_for_the_same_story_and_channel(any_store: Store) -> None:
    assert await any_store.record_processed([], [alert("s1"), alert("s1", OTHER)], now=1.0) == 2
    assert await any_store.record_processed([], [alert("s1")], now=2.0) == 0
    assert await any_store.pending_count() == 2


async def test_outbox_lifecycle_survives_restart(open_store: Opener) -> None:
    store = await open_store()
    await store.record_processed([], [alert("s1"), alert("s2"), alert("s3")], now=1.0)
    due = await store.due_alerts(now=1.0, limit=10, platforms=["console"])
    assert [i.alert.story_id for i in due] == ["s1", "s2", "s3"]
    assert due[0].alert == alert("s1")  # the payload round-trips exactly
    await store.begin_attempt([due[0].alert.id, due[1].alert.id])  # counted before the requests go out
    await store.mark_delivered(due[0].alert.id, MessageRef("console", "console", "m1"), now=2.0)
    await store.mark_retry(due[1].alert.id, "HTTP 500", next_attempt_at=50.0)
    await store.close()

    store = await open_store()
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


async def test_tasks_sharing_the_store_never_meet_inside_each_others_transactions(open_store: Opener) -> None:
    """A push being recorded while the delivery worker writes: each transaction commits whole and
    alone (this used to end in "cannot start a transaction within a transaction", a 503 to the pusher,
    or a write committing half of another task's transaction)."""
    store = await open_store()
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


async def test_a_channels_time_zone_and_a_paused_subscription_are_kept(any_store: Store) -> None:
    await any_store.set_mute(CHAN, 99.0)
    await any_store.set_timezone(CHAN, "Asia/Kolkata")
    settings = await any_store.channel_settings(CHAN)
    assert (settings.muted_until, settings.digest, settings.timezone) == (99.0, "off", "Asia/Kolkata")
    assert (await any_store.channel_settings(OTHER)).timezone == "UTC"
    await any_store.set_timezone(OTHER, "Europe/Kyiv")  # a channel with no settings row yet
    assert (await any_store.channel_settings(OTHER)).timezone == "Europe/Kyiv"

    sub, _ = await any_store.add_subscription(CHAN, "ukraine", "Ukraine")
    assert not sub.user_paused and sub.live
    assert await any_store.set_subscription_paused(sub.id, True)
    await any_store.pause_channel(CHAN)
    await any_store.resume_channel(CHAN)  # the channel's pause and a command's are separate
    [kept] = await any_store.list_subscriptions(CHAN)
    assert kept.user_paused and not kept.paused and not kept.live
    assert await any_store.set_subscription_paused(sub.id, False)
    assert not await any_store.set_subscription_paused(sub.id + 100, True)
    assert (await any_store.list_subscriptions(CHAN))[0].live


async def test_a_feed_is_claimed_by_one_worker_until_its_state_is_saved(any_store: Store) -> None:
    for n in range(5):
        await any_store.upsert_feed(f"https://f.example/{n}", f"F{n}")
    first = await any_store.claim_feeds("w1", now=10.0, limit=3, until=100.0)
    second = await any_store.claim_feeds("w2", now=10.0, limit=10, until=100.0)
    assert len(first) == 3 and len(second) == 2
    assert {f.url for f in first}.isdisjoint(f.url for f in second)
    assert await any_store.claim_feeds("w3", now=10.0, limit=10, until=100.0) == []
    # Fetched: saving its state releases it, and it is due again only at its next fetch time.
    done = first[0]
    await any_store.save_feed_state(FeedState(done.url, done.name, next_fetch_at=50.0))
    assert await any_store.claim_feeds("w3", now=20.0, limit=10, until=100.0) == []
    assert [f.url for f in await any_store.claim_feeds("w3", now=60.0, limit=10, until=100.0)] == [done.url]
    # w2 died: its claims run out and another worker takes its feeds.
    taken = await any_store.claim_feeds("w1", now=101.0, limit=10, until=200.0)
    assert {f.url for f in second} <= {f.url for f in taken}


async def test_an_idle_worker_waits_for_the_end_of_other_workers_claims(any_store: Store) -> None:
    await any_store.upsert_feed("https://f.example/a", "A")
    assert await any_store.next_feed_due("w1", now=5.0) == 0.0
    await any_store.claim_feeds("w2", now=5.0, limit=1, until=300.0)
    assert await any_store.next_feed_due("w1", now=5.0) == 300.0
    assert await any_store.next_feed_due("w2", now=5.0) == 0.0
    await any_store.release("w2")
    assert await any_store.next_feed_due("w1", now=5.0) == 0.0


async def test_make_feeds_due_brings_every_unpaused_feed_forward(any_store: Store) -> None:
    await any_store.upsert_feed("https://f.example/a", "A")
    paused = await any_store.upsert_feed("https://f.example/b", "B")
    await any_store.save_feed_state(FeedState(paused.url, "B", paused=True, next_fetch_at=500.0))
    [claimed] = await any_store.claim_feeds("w1", now=1.0, limit=5, until=9.0)
    await any_store.save_feed_state(FeedState(claimed.url, "A", next_fetch_at=900.0))
    assert await any_store.make_feeds_due(10.0) == 1
    assert [f.url for f in await any_store.claim_feeds("w1", now=10.0, limit=5, until=90.0)] == [claimed.url]


async def test_a_channels_alerts_are_sent_by_the_worker_that_holds_it(any_store: Store) -> None:
    await any_store.queue_alerts([alert("s1"), alert("s2"), alert("s3", OTHER)], now=1.0)
    held = await any_store.claim_channels(
        "w1", now=2.0, until=60.0, platforms=["console", "discord"], limit=1
    )
    assert len(held) == 1
    others = await any_store.claim_channels(
        "w2", now=2.0, until=60.0, platforms=["console", "discord"], limit=5
    )
    assert set(others) == {CHAN.key, OTHER.key} - set(held)
    due_w1 = await any_store.due_alerts(2.0, 10, ["console", "discord"], held)
    due_w2 = await any_store.due_alerts(2.0, 10, ["console", "discord"], others)
    assert {i.alert.channel.key for i in due_w1}.isdisjoint(i.alert.channel.key for i in due_w2)
    assert len(due_w1) + len(due_w2) == 3
    # w1 waits for the end of w2's claim rather than spinning on alerts it may not send.
    assert await any_store.next_attempt_at(["console", "discord"], "w1", 2.0) == 1.0  # its own channel
    await any_store.release_channels("w1")
    assert len(await any_store.claim_channels("w2", 3.0, 60.0, ["console", "discord"], 5)) == 2
    assert await any_store.next_attempt_at(["console", "discord"], "w1", 3.0) == 60.0
    assert await any_store.claim_channels(
        "w3", now=61.0, until=99.0, platforms=["console", "discord"], limit=5
    )


async def test_a_named_lease_has_one_holder_until_it_runs_out(any_store: Store) -> None:
    assert await any_store.take_lease("discord:shard:0", "w1", now=1.0, until=30.0)
    assert not await any_store.take_lease("discord:shard:0", "w2", now=2.0, until=31.0)
    assert await any_store.take_lease("discord:shard:0", "w1", now=20.0, until=50.0)  # renewed
    assert not await any_store.take_lease("discord:shard:0", "w2", now=40.0, until=70.0)
    assert await any_store.take_lease("discord:shard:0", "w2", now=51.0, until=80.0)  # w1 died
    await any_store.release("w2")
    assert await any_store.take_lease("discord:shard:0", "w1", now=52.0, until=80.0)


async def test_every_change_to_a_subscription_is_logged_for_the_other_workers(any_store: Store) -> None:
    start = await any_store.subscription_changes(None, now=1e12)
    assert start.ids == frozenset()
    sub, _ = await any_store.add_subscription(CHAN, "ukraine", "Ukraine")
    gone, _ = await any_store.add_subscription(CHAN, "nato", "NATO")
    await any_store.remove_subscription(gone.id)
    changes = await any_store.subscription_changes(start.cursor, now=1e12)
    assert changes.ids == {sub.id, gone.id} and changes.cursor > start.cursor
    assert set(await any_store.subscriptions_by_id(changes.ids)) == {sub.id}
    await any_store.set_subscription_paused(sub.id, True)
    later = await any_store.subscription_changes(changes.cursor, now=1e12)
    assert later.ids == {sub.id}
    assert (await any_store.subscriptions_by_id([sub.id]))[sub.id].user_paused


async def test_installations_are_kept_per_team_and_installer_and_outlive_a_restart(
    open_store: Opener,
) -> None:
    store = await open_store()
    await store.save_installation(SavedInstallation("", "TA", "UA1", '{"bot_token": "xoxb-a1"}', 100.0))
    await store.save_installation(SavedInstallation("", "TA", "UA2", '{"bot_token": "xoxb-a2"}', 200.0))
    await store.save_installation(SavedInstallation("E1", "TB", "UB", '{"bot_token": "xoxb-b"}', 150.0))
    await store.save_installation(SavedInstallation("", "TA", "UA1", '{"bot_token": "xoxb-a3"}', 300.0))
    await store.close()

    store = await open_store()
    latest = await store.find_installation("", "TA")
    assert latest is not None and (latest.user_id, latest.data) == ("UA1", '{"bot_token": "xoxb-a3"}')
    by_user = await store.find_installation(None, "TA", user_id="UA2")
    assert by_user is not None and by_user.data == '{"bot_token": "xoxb-a2"}'
    assert (await store.find_installation(None, "TB")) == SavedInstallation(
        "E1", "TB", "UB", '{"bot_token": "xoxb-b"}', 150.0
    )
    assert await store.find_installation("", "TB") is None  # TB is in enterprise E1
    assert "xoxb" not in repr(latest)
    teams = [(t.team_id, t.installed_at) for t in await store.installed_teams()]
    assert teams == [("TB", 150.0), ("TA", 300.0)]

    assert await store.delete_installations(None, "TA", user_id="UA2") == 1
    assert await store.delete_installations(None, "TA") == 1
    assert await store.find_installation(None, "TA") is None
    assert [t.team_id for t in await store.installed_teams()] == ["TB"]
    await store.close()


async def test_a_workers_heartbeat_keeps_what_it_holds_and_nothing_it_gave_up(any_store: Store) -> None:
    for n in range(3):
        await any_store.upsert_feed(f"https://f.example/{n}", f"F{n}")
    *_, third = await any_store.claim_feeds("w1", now=1.0, limit=3, until=10.0)
    await any_store.queue_alerts([alert("s1")], now=1.0)
    assert await any_store.claim_channels("w1", 1.0, 10.0, ["console"], 5) == [CHAN.key]
    assert await any_store.take_lease("discord:shard:0", "w1", now=1.0, until=10.0)
    await any_store.save_feed_state(FeedState(third.url, third.name, next_fetch_at=1.0))  # fetched: released
    assert await any_store.renew("w1", until=100.0) == 3  # two feeds and the channel
    assert [f.url for f in await any_store.claim_feeds("w2", now=50.0, limit=5, until=60.0)] == [third.url]
    assert await any_store.claim_channels("w2", 50.0, 60.0, ["console"], 5) == []
    # A named lease is its taker's to renew: a worker that stopped wanting a shard lets it run out.
    assert await any_store.take_lease("discord:shard:0", "w2", now=50.0, until=60.0)


async def test_pruning_blanks_old_text_but_the_article_stays_seen(any_store: Store) -> None:
    old, recent = article(1), article(2)
    await any_store.record_processed([Processed(old, "a1", ("url:old",), story_entry="entry")], [], now=100.0)
    await any_store.record_processed(
        [Processed(recent, "a2", ("url:new",), story_entry="entry")], [], now=300.0
    )
    assert await any_store.prune_text(before=200.0) == 1
    assert await any_store.prune_text(before=200.0) == 0  # nothing left to blank
    assert await any_store.unseen([old, recent]) == []  # still seen: it never alerts again
    assert await any_store.changed([old]) == []  # nor counts as an update of itself
    seen = {a.article.id: a for a in await any_store.recent_articles(10)}
    assert seen["a1"].article.text == "" and seen["a1"].story_id == "a1"
    assert seen["a2"].article.text == "Body."
    assert [row.article_id for row in await any_store.story_window(0.0)] == ["a2"]
    assert await any_store.linked_stories(["url:old", "url:new"], since=0.0) == {"url:new": ("a2", ANY)}


async def test_outbox_depth_counts_pending_and_dates_the_oldest_due(any_store: Store) -> None:
    assert (await any_store.outbox_depth(now=10.0)).pending == 0
    await any_store.queue_alerts([alert("s1")], now=1.0)
    await any_store.queue_alerts([alert("s2"), alert("s3", OTHER)], now=5.0)
    await any_store.defer(alert("s1").id, until=50.0)  # a mute: not waiting on the bot
    depth = await any_store.outbox_depth(now=10.0)
    assert (depth.pending, depth.oldest_due_at) == (3, 5.0)
    await any_store.mark_delivered(alert("s2").id, MessageRef("console", "console", "m"), now=11.0)
    await any_store.mark_failed(alert("s3", OTHER).id, "gone")
    depth = await any_store.outbox_depth(now=12.0)
    assert (depth.pending, depth.oldest_due_at) == (1, None)
    assert (await any_store.outbox_depth(now=60.0)).oldest_due_at == 1.0


async def test_ping_answers_until_the_store_is_closed(open_store: Opener) -> None:
    store = await open_store()
    await store.ping()
    await store.close()
    with pytest.raises(StoreError):
        await store.ping()


async def test_an_edit_made_while_the_story_gained_another_source_stays_due(any_store: Store) -> None:
    first = alert("s1")
    await any_store.queue_alerts([first], now=1.0)
    await any_store.mark_delivered(first.id, MessageRef("console", "console", "m1"), now=2.0)
    await any_store.queue_alerts([dataclasses.replace(first, source="Outlet B")], now=3.0)
    [(read, _)] = await any_store.edits_due(["console"], 10)
    assert read.alert.also == ("Outlet B",)
    # While that edit is being sent, a third outlet reports the story (another worker records it).
    await any_store.queue_alerts([dataclasses.replace(first, source="Outlet C")], now=4.0)
    await any_store.mark_edited(read.alert)
    [(again, _)] = await any_store.edits_due(["console"], 10)  # the message must show Outlet C too
    assert again.alert.also == ("Outlet B", "Outlet C")
    await any_store.mark_edited(again.alert)
    assert await any_store.edits_due(["console"], 10) == []

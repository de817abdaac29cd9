"""A book loaded with the store's ids and queries (``SubscriptionBook.load``, as the bot starts: a
subscription is read from the store when it first matches, ``match_stored``) alerts the same channels as
one loaded with every subscription made (``add_many``), at start and after each change a user or another
worker makes, on both backends."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Collection

import pytest

from bot.core.models import Article, ChannelRef, Match, Subscription
from bot.matching import default_aliases
from bot.processing.subscriptions import SubscriptionBook, match_stored, pause_channel, resume_channel
from bot.store.base import Store

DESK = ChannelRef("slack", "C0DESK", "T1")
WIRE = ChannelRef("discord", "77", "guild-1")
TEAM = ChannelRef("slack", "C0TEAM", "T1")
LOST = ChannelRef("slack", "C0LOST", "T2")

ARTICLES = [
    Article(id="a1", title="Ukraine and NATO meet", text="Talks in Brussels about Ukraine.", source="X"),
    Article(
        id="a2", title="Earthquake near Kharkiv", text="A strong earthquake shook the region.", source="X"
    ),
    Article(id="a3", title="Kyiv based startup raises funds", text="The Kyiv based firm grew.", source="X"),
    Article(id="a4", title="Markets", text="Stocks were flat on Tuesday.", source="X"),
]


def canonical(text: str) -> str:
    return SubscriptionBook(default_aliases()).parse(text).canonical


async def fill(store: Store) -> dict[str, Subscription]:
    """Subscriptions as users make them: a query several channels share, one in a thread, one with a
    mention, one paused with ``/news pause``, a channel the bot lost (paused). Keyed ``channel/query``."""
    made: dict[str, Subscription] = {}
    for channel, text, options in (
        (DESK, "Ukraine", {}),
        (WIRE, "Ukraine", {"mention": "@here"}),
        (TEAM, "Ukraine", {}),
        (DESK, "NATO", {}),
        (WIRE, "earthquake", {"thread": True}),
        (TEAM, "Kharkiv", {}),
        (DESK, '"Kyiv based"', {}),
        (LOST, "earthquake OR Kharkiv", {}),
        (WIRE, "NATO OR Brussels", {}),
    ):
        subscription, added = await store.add_subscription(channel, canonical(text), text, **options)
        assert added
        made[f"{channel.channel_id}/{text}"] = subscription
    assert await store.set_subscription_paused(made["C0TEAM/Ukraine"].id, True)
    assert await store.pause_channel(LOST) == 1
    return made


async def books(store: Store) -> tuple[SubscriptionBook, SubscriptionBook]:
    """A book loaded with ids and queries, as the bot loads it, and one with the store's subscriptions."""
    lazy = SubscriptionBook(default_aliases())
    lazy.load(await store.subscription_keys())
    made = SubscriptionBook(default_aliases())
    made.add_many(await store.list_subscriptions())
    return lazy, made


async def matches(store: Store, book: SubscriptionBook) -> list[list[Match]]:
    return [await match_stored(store, book, article) for article in ARTICLES]


async def alerted(store: Store, book: SubscriptionBook, article: Article) -> set[tuple[str, str]]:
    """Which channel is alerted, for which of its queries as typed."""
    found = await match_stored(store, book, article)
    return {(m.subscription.channel.channel_id, m.subscription.raw_query) for m in found}


async def assert_same(store: Store, *pairs: tuple[SubscriptionBook, SubscriptionBook]) -> None:
    for lazy, made in pairs:
        assert await matches(store, lazy) == await matches(store, made)
        assert len(lazy) == len(made)


async def test_a_book_loaded_by_id_alerts_as_one_loaded_with_subscriptions(any_store: Store) -> None:
    await fill(any_store)
    lazy, made = await books(any_store)
    assert len(lazy) == len(made) == 9
    ukraine, quake, kyiv, markets = ARTICLES
    assert await alerted(any_store, lazy, ukraine) == {
        ("C0DESK", "Ukraine"),
        ("77", "Ukraine"),
        ("C0DESK", "NATO"),
        ("77", "NATO OR Brussels"),
    }  # not C0TEAM's paused Ukraine
    assert await alerted(any_store, lazy, quake) == {
        ("77", "earthquake"),
        ("C0TEAM", "Kharkiv"),
    }  # not the lost channel
    assert await alerted(any_store, lazy, kyiv) == {("C0DESK", '"Kyiv based"')}
    assert await alerted(any_store, lazy, markets) == set()
    [wire] = [
        m.subscription
        for m in await match_stored(any_store, lazy, ukraine)
        if m.subscription.channel == WIRE and m.subscription.query == "ukraine"
    ]
    assert (wire.mention, wire.channel) == ("@here", WIRE)
    [thread] = [
        m.subscription for m in await match_stored(any_store, lazy, quake) if m.subscription.channel == WIRE
    ]
    assert thread.thread
    await assert_same(any_store, (lazy, made))


async def test_changes_to_a_book_loaded_by_id_act_as_on_one_loaded_with_subscriptions(
    any_store: Store,
) -> None:
    subs = await fill(any_store)
    changed = await books(any_store)  # the same books through every change, matched after each

    async def change(
        store_change: Callable[[], Awaitable[object]], book_change: Callable[[SubscriptionBook], object]
    ) -> None:
        fresh = await books(any_store)  # loaded before the change, nothing matched yet
        await store_change()
        results = {book_change(book) for book in (*fresh, *changed)}
        assert len(results) == 1  # what the change returns (follow: how many moved)
        await assert_same(any_store, fresh, changed)

    # /news unsubscribe: DESK's Ukraine (a query other channels share) and DESK's NATO (its own)
    shared, own = subs["C0DESK/Ukraine"], subs["C0DESK/NATO"]
    await change(lambda: any_store.remove_subscription(shared.id), lambda book: book.remove(shared))
    await change(lambda: any_store.remove_subscription(own.id), lambda book: book.remove(own))
    assert await alerted(any_store, changed[0], ARTICLES[0]) == {
        ("77", "Ukraine"),
        ("77", "NATO OR Brussels"),
    }

    # /news pause: TEAM's Kharkiv; /news resume: TEAM's Ukraine (paused in a shared query)
    kharkiv, ukraine = subs["C0TEAM/Kharkiv"], subs["C0TEAM/Ukraine"]
    await change(
        lambda: any_store.set_subscription_paused(kharkiv.id, True),
        lambda book: book.replace(dataclasses.replace(kharkiv, user_paused=True)),
    )
    await change(
        lambda: any_store.set_subscription_paused(ukraine.id, False),
        lambda book: book.replace(dataclasses.replace(ukraine, user_paused=False)),
    )
    assert await alerted(any_store, changed[0], ARTICLES[1]) == {("77", "earthquake")}
    assert ("C0TEAM", "Ukraine") in await alerted(any_store, changed[0], ARTICLES[0])

    # the bot loses WIRE, then gets it back; the lost channel comes back
    await change(lambda: any_store.pause_channel(WIRE), lambda book: book.set_paused(WIRE, True))
    assert {channel for channel, _ in await alerted(any_store, changed[0], ARTICLES[0])} == {"C0TEAM"}
    await change(lambda: any_store.resume_channel(WIRE), lambda book: book.set_paused(WIRE, False))
    await change(lambda: any_store.resume_channel(LOST), lambda book: book.set_paused(LOST, False))
    assert await alerted(any_store, changed[0], ARTICLES[1]) == {
        ("77", "earthquake"),
        ("C0LOST", "earthquake OR Kharkiv"),
    }

    # another worker removed WIRE's earthquake, paused WIRE's NATO OR Brussels and added one for DESK
    quake, nato = subs["77/earthquake"], subs["77/NATO OR Brussels"]
    added: list[Subscription] = []

    async def elsewhere() -> None:
        await any_store.remove_subscription(quake.id)
        await any_store.set_subscription_paused(nato.id, True)
        added.append((await any_store.add_subscription(DESK, canonical("Earthquake"), "Earthquake"))[0])

    fresh = await books(any_store)
    await elsewhere()
    ids = [quake.id, nato.id, added[0].id]
    stored = await any_store.subscriptions_by_id(ids)
    assert {book.follow(ids, stored) for book in (*fresh, *changed)} == {2}
    await assert_same(any_store, fresh, changed)
    assert await alerted(any_store, changed[0], ARTICLES[1]) == {
        ("C0DESK", "Earthquake"),
        ("C0LOST", "earthquake OR Kharkiv"),
    }
    assert await alerted(any_store, changed[0], ARTICLES[0]) == {("77", "Ukraine"), ("C0TEAM", "Ukraine")}


async def test_a_stored_query_that_no_longer_parses_is_logged_and_skipped(
    any_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    await fill(any_store)
    broken, _ = await any_store.add_subscription(TEAM, "(ukraine", "(Ukraine")  # an older grammar's
    logs = []
    for load in ("keys", "subscriptions"):
        caplog.clear()
        book = SubscriptionBook(default_aliases())
        with caplog.at_level(logging.ERROR, logger="bot.processing.subscriptions"):
            if load == "keys":
                book.load(await any_store.subscription_keys())
            else:
                book.add_many(await any_store.list_subscriptions())
        logs.append(caplog.messages)
        assert len(book) == 9
        assert ("C0TEAM", "(Ukraine") not in await alerted(any_store, book, ARTICLES[0])
    assert logs[0] == logs[1]
    [message] = logs[0]
    assert f"subscription {broken.id}: stored query '(ukraine' no longer parses" in message


async def test_a_subscription_another_worker_removed_before_it_first_matched_is_not_alerted(
    any_store: Store,
) -> None:
    subs = await fill(any_store)
    lazy, _ = await books(any_store)
    gone = subs["77/earthquake"]
    assert await any_store.remove_subscription(gone.id)  # elsewhere: this book has not followed yet
    assert await alerted(any_store, lazy, ARTICLES[1]) == {("C0TEAM", "Kharkiv")}
    assert len(lazy) == 8  # dropped when the store no longer had it
    assert await alerted(any_store, lazy, ARTICLES[1]) == {("C0TEAM", "Kharkiv")}


async def test_a_subscription_paused_in_the_store_before_it_first_matched_is_read_paused(
    any_store: Store,
) -> None:
    subs = await fill(any_store)
    lazy, made = await books(any_store)
    await match_stored(any_store, lazy, ARTICLES[0])  # DESK's, WIRE's and TEAM's Ukraine made, not NATO's
    assert await any_store.pause_channel(DESK) == 3  # the bot lost DESK
    for book in (lazy, made):
        book.set_paused(DESK, True)
    assert await alerted(any_store, lazy, ARTICLES[0]) == {("77", "Ukraine"), ("77", "NATO OR Brussels")}
    assert await alerted(any_store, lazy, ARTICLES[2]) == set()  # DESK's "Kyiv based", read paused
    await assert_same(any_store, (lazy, made))
    assert subs["C0DESK/NATO"].id in {s.id for s in await any_store.list_subscriptions(DESK)}


@pytest.mark.parametrize("lost", [True, False], ids=["paused", "resumed"])
async def test_a_channel_paused_or_resumed_while_its_subscriptions_are_read_is_matched_as_it_is_now(
    any_store: Store, monkeypatch: pytest.MonkeyPatch, lost: bool
) -> None:
    """The read answers after the change it began before (a pool's other connection, or SQLite between
    chunks of ids): its old state must not be taken."""
    await fill(any_store)
    if not lost:
        await any_store.pause_channel(DESK)
    lazy, _ = await books(any_store)
    read = any_store.subscriptions_by_id
    began, answer = asyncio.Event(), asyncio.Event()

    async def late(ids: Collection[int]) -> dict[int, Subscription]:
        found = await read(ids)
        began.set()
        await answer.wait()
        return found

    monkeypatch.setattr(any_store, "subscriptions_by_id", late)
    matching = asyncio.create_task(match_stored(any_store, lazy, ARTICLES[2]))  # DESK's "Kyiv based"
    await began.wait()
    if lost:
        await pause_channel(any_store, lazy, DESK, "the bot was removed")
    else:
        await resume_channel(any_store, lazy, DESK, 0.0)
    answer.set()
    found = {m.subscription.channel for m in await matching}
    assert found == (set() if lost else {DESK})
    assert {m.subscription.channel for m in await match_stored(any_store, lazy, ARTICLES[2])} == found

"""Article identity end to end: feeds served over loopback HTTP, polled, processed by the pipeline and
recorded in the store. A GUID is scoped to its feed, a repeated GUID within a feed is told apart, a moved
feed keeps its history, and migration 007 keeps what an older store had seen."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import feedparser
import pytest

from bot.core.identity import canonical_url, content_hash
from bot.core.models import ChannelRef
from bot.ingest.feeds import ParsedFeed, parse_feed
from bot.ingest.fetch import HttpReader, ReaderRegistry
from bot.ingest.poller import FeedPoller, PollPolicy
from bot.ingest.push import parse_push
from bot.matching import default_aliases
from bot.processing.pipeline import CycleReport, Pipeline
from bot.processing.subscriptions import SubscriptionBook
from bot.store import SqliteStore
from bot.store.sqlite import migrations
from bot.summarise.extractive import ExtractiveSummariser
from tests.conftest import EXAMPLES
from tests.feed_server import FeedServer, feed_server

NEWSROOM = ChannelRef("console", "newsroom")
DAY = 86400.0


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with feed_server() as s:
        yield s


def rss(*items: str, stamp: str = "1") -> bytes:
    """An RSS 2.0 document; ``stamp`` changes its bytes (so it is parsed again) without changing items."""
    return (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Desk</title>"
        f"<link>https://desk.example/</link><description>build {stamp}</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def item(title: str, *, guid: str = "", permalink: bool | None = False, link: str = "", day: int = 23) -> str:
    """An RSS item. ``permalink`` None leaves isPermaLink out (RSS then takes the GUID for a link)."""
    parts = [f"<title>{title}</title>", f"<description>{title}. Officials gave details.</description>"]
    parts.append(f"<pubDate>{day} Nov 2026 08:00:00 GMT</pubDate>")
    if guid:
        attribute = "" if permalink is None else f' isPermaLink="{str(permalink).lower()}"'
        parts.append(f"<guid{attribute}>{guid}</guid>")
    if link:
        parts.append(f"<link>{link}</link>")
    return "<item>" + "".join(parts) + "</item>"


@dataclasses.dataclass
class Bot:
    """The poller and the pipeline over one store, as the App runs them, with a Ukraine subscription."""

    store: SqliteStore
    poller: FeedPoller
    pipeline: Pipeline
    now: float = 1000.0

    async def cycle(self, at: float) -> CycleReport:
        self.now = at
        report = CycleReport(0, 0, 0, 0)
        async for polled in self.poller.poll_batches(at):
            report += await self.pipeline.process(polled.articles, polled.quiet)
        return report

    async def alert_titles(self) -> list[str]:
        return sorted(item.alert.title for item in await self.store.due_alerts(self.now, 100, ["console"]))


async def make_bot(store: SqliteStore, session: aiohttp.ClientSession, parse: Any = parse_feed) -> Bot:
    reader = HttpReader(session, timeout=2.0, max_body_bytes=1_000_000, user_agent="newsbot-test")
    poller = FeedPoller(store, ReaderRegistry({"http": reader}), PollPolicy(interval=60), parse=parse)
    book = SubscriptionBook(default_aliases())
    subs = await store.list_subscriptions(NEWSROOM)
    if not subs:
        subs = [(await store.add_subscription(NEWSROOM, book.parse("Ukraine").canonical, "Ukraine"))[0]]
    for sub in subs:
        book.add(sub)
    bot = Bot(store, poller, Pipeline(store, book, ExtractiveSummariser()))
    bot.pipeline.clock = lambda: bot.now
    return bot


@pytest.mark.parametrize("links", [True, False], ids=["with-links", "guid-only"])
async def test_two_feeds_with_the_same_opaque_guid_give_two_articles_and_two_alerts(
    server: FeedServer, session: aiohttp.ClientSession, store: SqliteStore, links: bool
) -> None:
    # With links: isPermaLink="false", as in the report. Without: a bare <guid>12345</guid>, which RSS
    # (and feedparser) take for the item's link too.
    a_link, b_link = ("https://a.example/kyiv", "https://b.example/ports") if links else ("", "")
    permalink = False if links else None
    server.feeds["a"] = rss(
        item("Kyiv talks on Ukraine resume", guid="12345", permalink=permalink, link=a_link)
    )
    server.feeds["b"] = rss(
        item("Ukraine grain ports reopen", guid="12345", permalink=permalink, link=b_link)
    )
    await store.upsert_feed(server.url("/feeds/a"), "Outlet A", backfill=10, max_age=0)
    bot = await make_bot(store, session)
    first = await bot.cycle(1000.0)
    assert (first.new, first.queued) == (1, 1)
    # Later the second outlet's feed is added; its item reuses the GUID of the first outlet's.
    await store.upsert_feed(server.url("/feeds/b"), "Outlet B", backfill=10, max_age=0)
    second = await bot.cycle(2000.0)
    assert (second.new, second.updated, second.queued) == (1, 0, 1)
    assert await bot.alert_titles() == ["Kyiv talks on Ukraine resume", "Ukraine grain ports reopen"]
    seen = {s.article.id: s.article for s in await store.recent_articles(10)}
    assert set(seen) == {server.url("/feeds/a#12345"), server.url("/feeds/b#12345")}
    assert seen[server.url("/feeds/a#12345")].title == "Kyiv talks on Ukraine resume"  # not overwritten
    assert {a.url for a in seen.values()} == {a_link, b_link}  # no link made up from the GUID


async def test_items_repeating_a_guid_in_one_feed_all_alert_with_one_warning(
    server: FeedServer, session: aiohttp.ClientSession, store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    titles = [f"Ukraine update {n}" for n in range(5)]
    items = [item(t, guid="42", link=f"https://c.example/{n}", day=10 + n) for n, t in enumerate(titles)]
    server.feeds["c"] = rss(*items)
    await store.upsert_feed(server.url("/feeds/c"), "Repeats", backfill=10, max_age=0)
    bot = await make_bot(store, session)
    with caplog.at_level(logging.WARNING, logger="bot.ingest.poller"):
        assert (await bot.cycle(1000.0)).queued == 5
        server.feeds["c"] = rss(*items, stamp="2")
        again = await bot.cycle(2000.0)
        # Another feed that repeats GUIDs is told about on its own.
        server.feeds["d"] = rss(item("NATO note", guid="7"), item("NATO memo", guid="7"))
        await store.upsert_feed(server.url("/feeds/d"), "Repeats too", backfill=10, max_age=0)
        await bot.cycle(3000.0)
    assert (again.new, again.updated, again.queued) == (0, 0, 0)
    assert await bot.alert_titles() == titles
    warning, other = [r.getMessage() for r in caplog.records]  # one a feed, not one a fetch
    assert server.url("/feeds/c") in warning and "5 items share 1 GUID" in warning
    assert other.startswith(f"feed {server.url('/feeds/d')}: 2 items share 1 GUID")


async def test_a_guid_that_starts_repeating_alerts_only_the_new_item(
    server: FeedServer, session: aiohttp.ClientSession, store: SqliteStore
) -> None:
    """The item alerted under ``<feed>#7`` is ``<feed>#7~<hash>`` once a second item takes its GUID: a
    new article to the store, but of the story it began (the same link), so no second alert."""
    old = item("Ukraine talks", guid="7", link="https://d.example/talks", day=20)
    server.feeds["d"] = rss(old)
    await store.upsert_feed(server.url("/feeds/d"), "Reuser", backfill=10, max_age=0)
    bot = await make_bot(store, session)
    assert (await bot.cycle(1000.0)).queued == 1
    server.feeds["d"] = rss(
        item("Ukraine ceasefire", guid="7", link="https://d.example/ceasefire", day=21), old
    )
    later = await bot.cycle(1000.0 + DAY)
    assert (later.new, later.updated, later.queued) == (2, 0, 1)
    assert await bot.alert_titles() == ["Ukraine ceasefire", "Ukraine talks"]
    assert len(await store.recent_articles(10)) == 3  # the row of the first fetch is kept as it was


async def test_a_moved_feed_keeps_its_articles_seen(
    server: FeedServer, session: aiohttp.ClientSession, store: SqliteStore
) -> None:
    body = (EXAMPLES / "world-news.rss").read_bytes()
    old, new = server.url("/feeds/old"), server.url("/rss")
    bot = await make_bot(store, session)
    first = await bot.pipeline.process(parse_feed(body, feed_url=old).articles)
    assert first.new == 14 and first.queued > 0
    await store.move_feed(old, new)  # what the poller does on a 301
    assert {s.article.feed_url for s in await store.recent_articles(20)} == {new}
    bot.now += 10 * DAY  # past the story window: only the ids can tell the items were seen
    again = await bot.pipeline.process(parse_feed(body, feed_url=new).articles)
    assert (again.new, again.queued) == (0, 0)


async def test_the_fetch_that_finds_a_feed_moved_reads_it_under_the_new_url(
    server: FeedServer, session: aiohttp.ClientSession, store: SqliteStore
) -> None:
    await store.upsert_feed(server.url("/moved"), "Moving", backfill=100, max_age=0)
    bot = await make_bot(store, session)
    assert (await bot.cycle(1000.0)).new == 14
    [feed] = await store.list_feeds()
    assert feed.url == server.url("/rss")
    server.body = server.body.replace(b"Meridian Wire", b"Meridian Wire (moved)")
    server.etag = '"v2"'
    again = await bot.cycle(1000.0 + 10 * DAY)
    assert (again.received, again.new, again.queued) == (14, 0, 0)


# Migration 007 ---------------------------------------------------------------------------------------


def legacy_article_id(guid: str, link: str, title: str, published: datetime | None) -> str:
    """bot.core.identity.article_id before 007: the bare GUID, global; else canonical link; else hash."""
    if guid.strip():
        return guid.strip()
    if link.strip():
        return canonical_url(link)
    stamp = published.isoformat() if published else ""
    return "sha256:" + hashlib.sha256(f"{title.strip()}\0{stamp}".encode()).hexdigest()[:24]


def legacy_parse(body: bytes, **kw: str) -> ParsedFeed:
    """parse_feed as it was before 007: the same articles, with the ids and links it gave them."""
    parsed = parse_feed(body, **kw)
    entries = feedparser.parse(body).entries
    articles = [
        dataclasses.replace(
            a,
            id=legacy_article_id(str(e.get("id", "")), str(e.get("link", "")), a.title, a.published),
            url=str(e.get("link", "")),
        )
        for a, e in zip(parsed.articles, entries, strict=True)
    ]
    return dataclasses.replace(parsed, articles=articles)


def write_store_at_006(
    path: Path, feeds: dict[str, tuple[str, bytes]], pushed: bytes, seen_at: float
) -> None:
    """A store as the release before 007 left it: migrations 1 to 6 applied as SqliteStore._migrate does,
    the feeds (url: name, body) fetched once, their items and a pushed article recorded with the ids and
    links the parser gave then. Written with that release's INSERT, not through today's store code,
    whose columns later migrations extend."""
    db = sqlite3.connect(path)
    for number, sql in migrations():
        if number <= 6:
            db.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
    articles = []
    for url, (name, body) in feeds.items():
        db.execute(
            "INSERT INTO feeds (url, name, max_age, added_at, last_success_at) VALUES (?, ?, 0, ?, ?)",
            (url, name, seen_at, seen_at),
        )
        articles += legacy_parse(body, feed_url=url, source=name).articles
    articles += [dataclasses.replace(a, id=a.id.removeprefix("push:")) for a in parse_push(pushed)]
    db.executemany(
        "INSERT OR IGNORE INTO articles (id, content_hash, title, url, source, feed_url, published,"
        " story_id, seen_at, text, canonical_url, quiet) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                a.id,
                content_hash(a),
                a.title,
                a.url,
                a.source,
                a.feed_url,
                a.published.isoformat() if a.published else None,
                a.id,
                seen_at,
                a.text,
                canonical_url(a.url) if a.url else "",
                0,
            )
            for a in articles
        ],
    )
    db.commit()
    db.close()


def article_rows(path: Path) -> dict[int, dict[str, Any]]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return {r["rowid"]: dict(r) for r in db.execute("SELECT rowid, * FROM articles")}
    finally:
        db.close()


FEED_A = [
    item("Kyiv talks on Ukraine resume", guid="12345", link="https://a.example/kyiv"),  # the report's case
    item("Ukraine grain deal holds", guid="98765", permalink=None),  # a bare GUID, also taken for the link
    item(
        "Ukraine energy grid repaired",
        guid="https://a.example/grid?utm_source=rss",  # a permalink GUID: its own link, once canonical
        permalink=True,
        link="https://a.example/grid",
    ),
    item("Ukraine rail links restored", guid="https://a.example/rail", permalink=True),
    item("Ukraine exports rise", link="https://a.example/exports?utm_medium=rss"),  # no GUID: the link
    item("Ukraine harvest report"),  # neither: a hash
    item("Ukraine local elections", link="/2026/local"),  # no GUID, a relative link
]
FEED_B = [
    item("Ukraine energy grid repaired", link="https://a.example/grid"),  # A's third item, linked from B
]


async def test_migration_007_keeps_every_row_and_nothing_seen_alerts_again(
    tmp_path: Path, server: FeedServer, session: aiohttp.ClientSession
) -> None:
    path = tmp_path / "bot.db"
    a, b = server.url("/feeds/a"), server.url("/feeds/b")
    pushed = (
        b'{"id": "wire-1", "title": "Ukraine wire item", "text": "Wire text.", "url": "https://w.example/1"}'
    )
    write_store_at_006(path, {a: ("A", rss(*FEED_A)), b: ("B", rss(*FEED_B))}, pushed, seen_at=1000.0)
    rows_before = article_rows(path)
    assert len(rows_before) == 9

    # The upgrade, ten days on (past the story window: only the ids can tell an item was seen). The feeds
    # were fetched before, so their items are news, not history: anything taken for new would alert.
    store = await SqliteStore.open(path)
    try:
        bot = await make_bot(store, session)
        server.feeds["a"], server.feeds["b"] = rss(*FEED_A), rss(*FEED_B)
        after = await bot.cycle(1000.0 + 10 * DAY)
        assert (after.received, after.new, after.updated, after.queued) == (8, 0, 0, 0)
        assert (await bot.pipeline.process(parse_push(pushed))).new == 0
        # And the defect is gone for what comes next: another feed's 12345 is an article of its own.
        server.feeds["b"] = rss(
            *FEED_B, item("Ukraine ports reopen", guid="12345", link="https://b.example/p")
        )
        assert (await bot.cycle(1000.0 + 11 * DAY)).queued == 1
    finally:
        await store.close()
    rows_after = {rowid: row for rowid, row in article_rows(path).items() if rowid in rows_before}
    assert rows_after.keys() == rows_before.keys()
    for rowid, before in rows_before.items():  # all a row held but its id is as it was
        assert {k: rows_after[rowid][k] for k in before if k != "id"} == {
            k: before[k] for k in before if k != "id"
        }
    harvest = legacy_article_id("", "", "Ukraine harvest report", datetime(2026, 11, 23, 8, tzinfo=UTC))
    assert {r["id"] for r in rows_after.values()} == {
        a + "#12345",
        a + "#98765",
        "https://a.example/grid?utm_source=rss",  # kept as it was: B's row has the canonical link already
        "https://a.example/grid",
        "https://a.example/rail",
        "https://a.example/exports",
        harvest,
        a + "#/2026/local",
        "push:wire-1",
    }

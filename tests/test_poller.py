from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.core.errors import FeedError
from bot.core.models import ChannelRef, FeedState
from bot.ingest.feeds import ParsedFeed, parse_feed
from bot.ingest.fetch import FileReader, HttpReader, ReaderRegistry
from bot.ingest.poller import FeedPoller, PollPolicy, PollResult
from bot.store import SqliteStore
from tests.conftest import EXAMPLES
from tests.feed_server import FeedServer, feed_server


async def poll_due(poller: FeedPoller, now: float) -> PollResult:
    """Every due feed in one result (the bot itself polls them a batch at a time)."""
    return await poller.poll(await poller.due_feeds(now), now)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with feed_server() as s:
        yield s


def http_reader(session: aiohttp.ClientSession, **kw: Any) -> HttpReader:
    options: dict[str, Any] = {"timeout": 2.0, "max_body_bytes": 1_000_000, "user_agent": "newsbot-test"}
    options.update(kw)
    return HttpReader(session, **options)


async def test_conditional_get_sends_validators_and_handles_304(
    server: FeedServer, session: aiohttp.ClientSession
) -> None:
    reader = http_reader(session)
    first = await reader.read(FeedState(server.url("/rss")))
    assert first.body == server.body and first.etag == '"v1"' and not first.not_modified
    second = await reader.read(FeedState(server.url("/rss"), etag=first.etag))
    assert second.not_modified and second.body == b""
    headers = server.requests[-1][1]
    assert headers["If-None-Match"] == '"v1"' and headers["User-Agent"] == "newsbot-test"
    assert "gzip" in headers["Accept-Encoding"]


async def test_permanent_redirect_reports_the_new_url(
    server: FeedServer, session: aiohttp.ClientSession
) -> None:
    result = await http_reader(session).read(FeedState(server.url("/moved")))
    assert result.moved_to == server.url("/rss") and result.body == server.body


@pytest.mark.parametrize(
    ("path", "message", "retryable", "retry_after"),
    [
        ("/limited", "HTTP 429", True, 120.0),
        ("/busy", "HTTP 503", True, None),
        ("/gone", "HTTP 404", False, None),
        ("/big", "over the 1000000-byte limit", True, None),
        ("/slow", "timed out", True, None),
    ],
)
async def test_http_failures_become_specific_feed_errors(
    server: FeedServer,
    session: aiohttp.ClientSession,
    path: str,
    message: str,
    retryable: bool,
    retry_after: float | None,
) -> None:
    with pytest.raises(FeedError, match=message) as info:
        await http_reader(session, timeout=0.5).read(FeedState(server.url(path)))
    assert (info.value.retryable, info.value.retry_after) == (retryable, retry_after)


async def test_unreachable_host_is_a_feed_error(session: aiohttp.ClientSession) -> None:
    with pytest.raises(FeedError):
        await http_reader(session).read(FeedState("http://127.0.0.1:9/feed"))


class CountingParse:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, body: bytes, **kw: str) -> ParsedFeed:
        self.calls += 1
        return parse_feed(body, **kw)


async def poller_for(store: SqliteStore, session: aiohttp.ClientSession, parse: CountingParse) -> FeedPoller:
    readers = ReaderRegistry({"http": http_reader(session), "file": FileReader(EXAMPLES)})
    return FeedPoller(store, readers, PollPolicy(interval=60, max_backoff=3600), parse=parse)


async def test_unchanged_feed_is_neither_refetched_in_full_nor_reparsed(
    server: FeedServer, session: aiohttp.ClientSession, store: SqliteStore
) -> None:
    await store.upsert_feed(server.url("/rss"), "With ETag")
    await store.upsert_feed(server.url("/plain"), "Without validators")
    parse = CountingParse()
    poller = await poller_for(store, session, parse)
    first = await poll_due(poller, now=1000.0)
    assert len(first.articles) == 28 and first.fetched == 2 and parse.calls == 2
    assert (await poll_due(poller, now=1030.0)).articles == []  # not due yet: nothing fetched
    assert server.hits("/rss") == 1
    [with_etag, plain] = sorted(await store.list_feeds(), key=lambda f: f.name)
    assert with_etag.etag == '"v1"'
    # The sample RSS says <ttl>15</ttl>: the publisher's hint wins over our 60 s interval.
    assert with_etag.next_fetch_at == plain.next_fetch_at == 1000.0 + 15 * 60
    again = await poll_due(poller, now=1000.0 + 15 * 60)
    assert again.articles == [] and again.unchanged == 2
    assert parse.calls == 2  # 304 for one, an identical body hash for the other
    server.body = server.body.replace(b"Meridian Wire", b"Meridian Wire (updated)")
    server.etag = '"v2"'
    assert len((await poll_due(poller, now=2000.0)).articles) == 28 and parse.calls == 4


async def test_failing_feed_is_logged_once_backs_off_and_recovers(
    server: FeedServer, session: aiohttp.ClientSession, store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    await store.upsert_feed(server.url("/rss"), "Flaky")
    server.status = 503
    poller = await poller_for(store, session, CountingParse())
    now = 1000.0
    with caplog.at_level(logging.DEBUG, logger="bot.ingest.poller"):
        for _ in range(4):
            assert (await poll_due(poller, now=now)).failed == 1
            [feed] = await store.list_feeds()
            now = feed.next_fetch_at
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "HTTP 503" in warnings[0]
        assert feed.failures == 4 and feed.last_error == "HTTP 503"
        assert feed.next_fetch_at - 1000.0 > 60 * (1 + 2 + 4 + 8) * 0.8  # the gaps grew

        server.status = 200
        assert len((await poll_due(poller, now=now)).articles) == 14
    [feed] = await store.list_feeds()
    assert (feed.failures, feed.last_error, feed.last_success_at) == (0, "", now)
    assert any("recovered after 4 failed attempts" in r.getMessage() for r in caplog.records)


async def test_rate_limited_feed_waits_at_least_retry_after(
    server: FeedServer, session: aiohttp.ClientSession, store: SqliteStore
) -> None:
    await store.upsert_feed(server.url("/limited"), "Limited")
    poller = await poller_for(store, session, CountingParse())
    await poll_due(poller, now=1000.0)
    [feed] = await store.list_feeds()
    assert feed.next_fetch_at >= 1120.0


async def test_file_feeds_are_read_and_skipped_while_unchanged(
    store: SqliteStore, session: aiohttp.ClientSession
) -> None:
    await store.upsert_feed("world-news.rss", "Meridian Wire")
    await store.upsert_feed("missing.rss", "Missing")
    parse = CountingParse()
    poller = await poller_for(store, session, parse)
    assert len((await poll_due(poller, now=1000.0)).articles) == 14
    assert (await poll_due(poller, now=5000.0)).articles == [] and parse.calls == 1
    missing = next(f for f in await store.list_feeds() if f.name == "Missing")
    assert missing.failures == 2 and "file not found" in missing.last_error


async def test_adding_a_feed_does_not_flood_and_only_new_items_alert_later(
    server: FeedServer, session: aiohttp.ClientSession, store: SqliteStore
) -> None:
    await store.upsert_feed(server.url("/plain"), "Quiet start", max_age=0)
    poller = await poller_for(store, session, CountingParse())
    first = await poll_due(poller, now=1000.0)
    assert len(first.articles) == 14 and first.quiet == {a.id for a in first.articles}
    fresh = b"<item><title>Brand new</title><guid>brand-new</guid><description>News.</description></item>"
    server.body = server.body.replace(b"<item>", fresh + b"<item>", 1)
    later = await poll_due(poller, now=10_000.0)
    assert server.url("/plain#brand-new") in {a.id for a in later.articles} and later.quiet == set()


async def test_backfill_lets_the_newest_items_through(
    server: FeedServer, session: aiohttp.ClientSession, store: SqliteStore
) -> None:
    await store.upsert_feed(server.url("/plain"), "Backfilled", backfill=2, max_age=0)
    poller = await poller_for(store, session, CountingParse())
    result = await poll_due(poller, now=1000.0)
    loud = [a for a in result.articles if a.id not in result.quiet]
    assert [a.id for a in loud] == [
        server.url("/plain#seed-000-79f34e07c9bfe2d1"),
        server.url("/plain#mw-world-20261123-kharkiv-villages"),
    ]


async def test_permanent_redirect_moves_the_feed_and_its_channels(
    server: FeedServer, session: aiohttp.ClientSession, store: SqliteStore
) -> None:
    old = server.url("/moved")
    await store.upsert_feed(old, "Moved")
    channel = ChannelRef("discord", "c1", "g1")
    await store.add_feed_channel(old, channel, added_by="ana")
    poller = await poller_for(store, session, CountingParse())
    assert len((await poll_due(poller, now=1000.0)).articles) == 14
    [feed] = await store.list_feeds()
    assert feed.url == server.url("/rss") and feed.etag == '"v1"'
    assert await store.feed_channels(server.url("/rss")) == [channel]
    assert await store.feed_channels(old) == []


async def test_failing_feed_notices_its_channels_once_then_pauses(
    server: FeedServer, session: aiohttp.ClientSession, store: SqliteStore
) -> None:
    await store.upsert_feed(server.url("/gone"), "Gone")
    readers = ReaderRegistry({"http": http_reader(session)})
    policy = PollPolicy(interval=60, max_backoff=3600, notify_after=6 * 3600, pause_after=3 * 86400)
    poller = FeedPoller(store, readers, policy)
    notices = []
    now = 0.0
    for _ in range(100):  # 404 is not retryable: one attempt per max_backoff (1 h, jittered)
        result = await poll_due(poller, now=now)
        notices.extend(n.message for n in result.notices)
        now += 3600
    assert notices == [
        "has failed for 6 h: HTTP 404",
        "has failed for 3 d (HTTP 404) and is now paused; re-add it to resume",
    ]
    [feed] = await store.list_feeds()
    assert feed.paused and feed.health_stage == 2
    hits = server.hits("/gone")
    assert (await poll_due(poller, now=now + 10 * 86400)).failed == 0  # paused: not fetched at all
    assert server.hits("/gone") == hits


async def test_due_feeds_come_a_batch_at_a_time(store: SqliteStore, session: aiohttp.ClientSession) -> None:
    await store.upsert_feed("world-news.rss", "A", backfill=100, max_age=0)
    await store.upsert_feed("europe-desk.atom", "B", backfill=100, max_age=0)
    poller = await poller_for(store, session, CountingParse())
    sizes = [len(batch.articles) async for batch in poller.poll_batches(now=1000.0, size=1)]
    assert sizes == [14, 11]


async def test_a_batch_whose_articles_were_not_recorded_is_fetched_again_in_full(
    server: FeedServer, session: aiohttp.ClientSession, store: SqliteStore
) -> None:
    """A crash (here: processing raising) between fetching a feed and recording its items must not
    leave the feed's state saved, or its body hash would say the items were seen and they never alert."""
    await store.upsert_feed(server.url("/rss"), "With ETag")
    poller = await poller_for(store, session, CountingParse())
    with pytest.raises(RuntimeError):
        async for _batch in poller.poll_batches(now=1000.0):
            raise RuntimeError("the process died while recording the batch")
    [feed] = await store.list_feeds()
    assert feed.etag == "" and feed.next_fetch_at == 0.0  # nothing of that fetch was kept
    # Its claim runs out; then (this worker or another) fetches it in full again and gets the items.
    retry = [b async for b in poller.poll_batches(now=1000.0 + poller.lease + 1)]
    assert sum(len(b.articles) for b in retry) == 14 and server.hits("/rss") == 2
    [feed] = await store.list_feeds()
    assert feed.etag == '"v1"' and feed.next_fetch_at > 1000.0

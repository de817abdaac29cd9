from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.errors import FeedError
from bot.ingest.feeds import ParsedFeed, parse_feed
from bot.ingest.fetch import FileReader, HttpReader, ReaderRegistry, retry_after_seconds
from bot.ingest.poller import FeedPoller, PollPolicy, backoff_delay
from bot.store import FeedState, SqliteStore
from tests.conftest import EXAMPLES
from tests.feed_server import FeedServer, feed_server


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with feed_server() as s:
        yield s


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
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


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Wed, 21 Oct 2026 07:28:00 GMT", now=1792567620.0) == 60.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_backoff_is_exponential_capped_and_jittered() -> None:
    assert [backoff_delay(n, 60, 3600, rand=lambda: 0.5) for n in (1, 2, 3, 10)] == [60, 120, 240, 3600]
    assert backoff_delay(1, 60, 3600, rand=lambda: 0.0) == 48.0
    assert backoff_delay(1, 60, 3600, rand=lambda: 1.0) == pytest.approx(72.0)


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
    first = await poller.poll_due(now=1000.0)
    assert len(first) == 28 and parse.calls == 2
    assert await poller.poll_due(now=1030.0) == []  # not due yet: nothing fetched
    assert server.hits("/rss") == 1
    assert await poller.poll_due(now=1061.0) == []
    assert parse.calls == 2  # 304 for one, an identical body hash for the other
    [with_etag, _plain] = sorted(await store.list_feeds(), key=lambda f: f.name)
    assert with_etag.etag == '"v1"' and with_etag.next_fetch_at == 1121.0
    server.body = server.body.replace(b"Meridian Wire", b"Meridian Wire (updated)")
    server.etag = '"v2"'
    assert len(await poller.poll_due(now=2000.0)) == 28 and parse.calls == 4


async def test_failing_feed_is_logged_once_backs_off_and_recovers(
    server: FeedServer, session: aiohttp.ClientSession, store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    await store.upsert_feed(server.url("/rss"), "Flaky")
    server.status = 503
    poller = await poller_for(store, session, CountingParse())
    now = 1000.0
    with caplog.at_level(logging.DEBUG, logger="bot.ingest.poller"):
        for _ in range(4):
            assert await poller.poll_due(now=now) == []
            [feed] = await store.list_feeds()
            now = feed.next_fetch_at
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "HTTP 503" in warnings[0]
        assert feed.failures == 4 and feed.last_error == "HTTP 503"
        assert feed.next_fetch_at - 1000.0 > 60 * (1 + 2 + 4 + 8) * 0.8  # the gaps grew

        server.status = 200
        assert len(await poller.poll_due(now=now)) == 14
    [feed] = await store.list_feeds()
    assert (feed.failures, feed.last_error, feed.last_success_at) == (0, "", now)
    assert any("recovered after 4 failed attempts" in r.getMessage() for r in caplog.records)


async def test_rate_limited_feed_waits_at_least_retry_after(
    server: FeedServer, session: aiohttp.ClientSession, store: SqliteStore
) -> None:
    await store.upsert_feed(server.url("/limited"), "Limited")
    poller = await poller_for(store, session, CountingParse())
    await poller.poll_due(now=1000.0)
    [feed] = await store.list_feeds()
    assert feed.next_fetch_at >= 1120.0


async def test_file_feeds_are_read_and_skipped_while_unchanged(
    store: SqliteStore, session: aiohttp.ClientSession
) -> None:
    await store.upsert_feed("world-news.rss", "Meridian Wire")
    await store.upsert_feed("missing.rss", "Missing")
    parse = CountingParse()
    poller = await poller_for(store, session, parse)
    assert len(await poller.poll_due(now=1000.0)) == 14
    assert await poller.poll_due(now=5000.0) == [] and parse.calls == 1
    missing = next(f for f in await store.list_feeds() if f.name == "Missing")
    assert missing.failures == 2 and "file not found" in missing.last_error

"""``/news feeds add`` with a site's page instead of its feed: the feed is found through the page's
``<link rel="alternate">`` or at a usual path, fetched the way the poller fetches (guarded session, body
cap), against sites served on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack

import pytest
from aiohttp import web

from bot.core.errors import CommandError, FeedError
from bot.core.models import ChannelRef
from bot.ingest.discover import FeedFinder, NoFeedFound, feed_links
from bot.ingest.fetch import HttpReader
from bot.ingest.safety import UnsafeUrlError, UrlPolicy, guarded_session
from bot.matching import default_aliases
from bot.processing.subscriptions import SubscriptionBook
from bot.store import SqliteStore
from handlers.commands import CommandService, Invocation
from tests.conftest import EXAMPLES
from tests.loopback import serve

RSS = (EXAMPLES / "world-news.rss").read_bytes()
ATOM = (EXAMPLES / "europe-desk.atom").read_bytes()
ADMIN = Invocation(ChannelRef("console", "here"), user="ana", is_admin=True)
_URL = re.compile(r"https?://\S+")


def page(head: str = "") -> bytes:
    return (
        f"<!DOCTYPE html><html><head><title>Site</title>{head}</head><body><p>Hi</p></body></html>".encode()
    )


Site = Mapping[str, tuple[bytes, str]]
"""path -> (body, content type); any other path is a 404."""


def app_for(site: Site, hits: list[str]) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        hits.append(request.path)
        if request.path not in site:
            return web.Response(status=404)
        body, kind = site[request.path]
        return web.Response(body=body, content_type=kind)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    return app


class Sites:
    """Loopback sites, each on its own port (the usual paths are per origin)."""

    def __init__(self, stack: AsyncExitStack) -> None:
        self.stack = stack
        self.hits: dict[str, list[str]] = {}

    async def serve(self, site: Site) -> str:
        hits: list[str] = []
        base = await self.stack.enter_async_context(serve(app_for(site, hits)))
        self.hits[base] = hits
        return base


@pytest.fixture
async def sites() -> AsyncIterator[Sites]:
    async with AsyncExitStack() as stack:
        yield Sites(stack)


@pytest.fixture
async def finder() -> AsyncIterator[FeedFinder]:
    async with guarded_session(UrlPolicy(["127.0.0.1"])) as session:
        yield FeedFinder(HttpReader(session, timeout=5, max_body_bytes=1_000_000, user_agent="newsbot-test"))


def test_feed_links_are_read_from_the_page_in_order_with_comment_feeds_last() -> None:
    html = """<html><head>
      <base href="/blog/">
      <link rel="alternate" type="application/rss+xml" title="Comments Feed" href="comments/feed">
      <link rel="Alternate" type="application/atom+xml; charset=utf-8" href="atom.xml">
      <link rel="alternate" type="application/feed+json" href="https://cdn.example/feed.json">
      <link rel="alternate" type="text/html" hreflang="fr" href="/fr/">
      <link rel="stylesheet" type="application/rss+xml" href="not-alternate.xml">
      <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
      <link rel="alternate" type="application/rss+xml" href="atom.xml">
    </head><body><a rel="alternate" type="application/rss+xml" href="/a-link-not-a-link-tag"></a>"""
    assert feed_links(html, "https://site.example/blog/post?x=1") == [
        "https://site.example/blog/atom.xml",
        "https://cdn.example/feed.json",
        "https://site.example/blog/comments/feed",
    ]
    assert feed_links("<html><link rel=alternate type=application/rss+xml href=", "https://s.example/") == []


async def test_a_feed_is_taken_as_it_is(sites: Sites, finder: FeedFinder) -> None:
    base = await sites.serve({"/rss": (RSS, "application/rss+xml")})
    found = await finder.find(base + "/rss")
    assert (found.url, found.title, found.how) == (base + "/rss", "Meridian Wire — World", "given")


async def test_a_page_gives_the_feed_it_links(sites: Sites, finder: FeedFinder) -> None:
    head = (
        '<link rel="alternate" type="application/rss+xml" title="Comments" href="/comments.rss">'
        '<link rel="alternate" type="application/atom+xml" href="/broken.atom">'
        '<link rel="alternate" type="application/atom+xml" href="desk/feed.atom">'
    )
    base = await sites.serve(
        {
            "/news/": (page(head), "text/html"),
            "/broken.atom": (b"<html>not a feed</html>", "text/html"),
            "/news/desk/feed.atom": (ATOM, "application/atom+xml"),
            "/comments.rss": (RSS, "application/rss+xml"),
        }
    )
    found = await finder.find(base + "/news/")
    assert (found.url, found.how) == (base + "/news/desk/feed.atom", "link")
    assert found.title
    assert "/comments.rss" not in sites.hits[base]  # the main feeds first


async def test_a_page_without_links_gives_the_feed_at_a_usual_path(sites: Sites, finder: FeedFinder) -> None:
    base = await sites.serve({"/": (page(), "text/html"), "/atom.xml": (ATOM, "application/atom+xml")})
    found = await finder.find(base + "/")
    assert (found.url, found.how) == (base + "/atom.xml", "path")
    assert sites.hits[base] == ["/", "/feed", "/rss", "/feed.xml", "/atom.xml"]


async def test_a_page_with_no_feed_anywhere_says_where_it_looked(sites: Sites, finder: FeedFinder) -> None:
    base = await sites.serve({"/about": (page(), "text/html")})
    with pytest.raises(NoFeedFound) as raised:
        await finder.find(base + "/about")
    assert str(raised.value) == (
        'it is a web page, not a feed, and names none (no `rel="alternate"` link to RSS, Atom or JSON Feed); '
        "there is none at /feed, /rss, /feed.xml, /atom.xml or /index.xml either"
    )
    assert not raised.value.retryable


async def test_a_linked_feed_at_a_private_address_is_refused_like_a_typed_one(
    sites: Sites, finder: FeedFinder
) -> None:
    head = '<link rel="alternate" type="application/rss+xml" href="http://10.1.2.3/feed">'
    base = await sites.serve({"/": (page(head), "text/html"), "/index.xml": (RSS, "application/rss+xml")})
    found = await finder.find(base + "/")
    assert (found.url, found.how) == (base + "/index.xml", "path")  # the private link was not fetched
    with pytest.raises(UnsafeUrlError, match="private address"):
        await finder.find("http://10.1.2.3/feed")


async def test_a_site_that_cannot_be_reached_is_a_retryable_error(finder: FeedFinder) -> None:
    with pytest.raises(FeedError) as raised:
        await finder.find("http://127.0.0.1:9/feed")
    assert raised.value.retryable and not isinstance(raised.value, NoFeedFound)


# ---- through the command --------------------------------------------------------------------------


@pytest.fixture
def service(store: SqliteStore, finder: FeedFinder) -> CommandService:
    return CommandService(
        store,
        SubscriptionBook(default_aliases()),
        url_check=UrlPolicy(["127.0.0.1"]).check_url,
        find_feed=finder.find,
    )


def assert_urls_stand_alone(text: str) -> None:
    """No punctuation right after a URL: a client that makes links would take it in (`/feed.xml:` 404s)."""
    for url in _URL.findall(text):
        assert url[-1] not in ".,:;!?)]}'\"”", f"{url!r} in {text!r}"


async def test_feeds_add_with_a_page_watches_its_feed_and_says_which(
    sites: Sites, service: CommandService
) -> None:
    head = '<link rel="alternate" type="application/rss+xml" href="/feed.xml">'
    base = await sites.serve({"/": (page(head), "text/html"), "/feed.xml": (RSS, "application/rss+xml")})
    reply = await service.run_text(ADMIN, f"feeds add {base}/")
    assert reply.text.splitlines() == [
        f"{base}/ is a web page, not a feed: I found its feed “Meridian Wire — World” through the page's "
        'rel="alternate" link.',
        f"Watching {base}/feed.xml for this channel. Its current items are history; new ones will be matched "
        "against every subscription.",
    ]
    assert [f.url for f in await service.store.list_feeds()] == [base + "/feed.xml"]
    assert await service.store.channel_feeds(ADMIN.channel) == [base + "/feed.xml"]
    assert_urls_stand_alone(reply.text)
    listed = await service.run_text(ADMIN, "feeds list")
    removed = await service.run_text(ADMIN, "feeds remove 1")
    assert removed.text == f"This channel no longer watches {base}/feed.xml"
    for text in (listed.text, removed.text):
        assert_urls_stand_alone(text)


async def test_feeds_add_tells_why_a_url_cannot_be_watched(sites: Sites, service: CommandService) -> None:
    base = await sites.serve({"/about": (page(), "text/html")})
    with pytest.raises(CommandError) as no_feed:
        await service.run_text(ADMIN, f"feeds add {base}/about")
    assert str(no_feed.value).splitlines() == [
        f"I found no feed for {base}/about",
        'It is a web page, not a feed, and names none (no `rel="alternate"` link to RSS, Atom or JSON Feed); '
        "there is none at /feed, /rss, /feed.xml, /atom.xml or /index.xml either.",
    ]
    with pytest.raises(CommandError) as gone:
        await service.run_text(ADMIN, f"feeds add {base}/gone.rss")
    assert str(gone.value) == f"I can't watch {base}/gone.rss as a feed: HTTP 404."
    with pytest.raises(CommandError, match="private address"):
        await service.run_text(ADMIN, "feeds add http://192.168.1.20/rss")
    for error in (no_feed.value, gone.value):
        assert_urls_stand_alone(str(error))
    assert await service.store.list_feeds() == []


async def test_a_feed_that_cannot_be_fetched_now_is_watched_as_typed(service: CommandService) -> None:
    reply = await service.run_text(ADMIN, "feeds add http://127.0.0.1:9/rss 3")
    first, note = reply.text.splitlines()
    assert first.startswith(
        "Watching http://127.0.0.1:9/rss for this channel. Its 3 newest items will be alerted"
    )
    assert note.startswith("I couldn't fetch it just now (") and note.endswith("if it keeps failing.")
    [feed] = await service.store.list_feeds()
    assert (feed.url, feed.backfill) == ("http://127.0.0.1:9/rss", 3)
    assert_urls_stand_alone(reply.text)


async def test_a_feed_the_bot_already_watches_is_not_fetched_again(
    sites: Sites, service: CommandService
) -> None:
    base = await sites.serve({"/rss": (RSS, "application/rss+xml")})
    await service.run_text(ADMIN, f"feeds add {base}/rss")
    other = Invocation(ChannelRef("console", "there"), user="ben", is_admin=True)
    reply = await service.run_text(other, f"feeds add {base}/rss")
    assert reply.text.startswith(f"Watching {base}/rss for this channel.")
    assert sites.hits[base] == ["/rss"]

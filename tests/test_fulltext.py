from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.core.models import Article, ChannelRef
from bot.ingest.extract import ArticlePageFetcher
from bot.ingest.fulltext import FullText
from bot.matching import default_aliases
from bot.processing.pipeline import Pipeline
from bot.processing.subscriptions import SubscriptionBook
from bot.store import SqliteStore
from bot.summarise.extractive import ExtractiveSummariser
from tests.loopback import serve

PAGE = """<html><head><title>Grain</title></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Danube ports resume grain loadings</h1>
<p>Loadings at Izmail and Reni restarted by mid-morning after an overnight drone attack damaged a grain
silo and two berths, the port authority said on Saturday.</p>
<p>Officials in Kharkiv said a separate attack had cut power to parts of the city for several hours,
and repair crews were working through the night to restore heating.</p>
<p>Exporters said insurance costs for ships calling at the Danube ports had risen again this month.</p>
</article><footer>Copyright Example News</footer></body></html>"""


@pytest.fixture
async def site() -> AsyncIterator[str]:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500)

    app = web.Application()
    app.router.add_get("/grain", page)
    app.router.add_get("/broken", broken)
    async with serve(app) as base:
        yield base


async def test_teaser_only_items_are_matched_on_their_full_text(site: str, store: SqliteStore) -> None:
    book = SubscriptionBook(default_aliases())
    channel = ChannelRef("console", "c")
    sub, _ = await store.add_subscription(channel, "kharkiv", "Kharkiv")
    book.add(sub)
    teaser = "Loadings restarted after an overnight drone attack."
    async with aiohttp.ClientSession() as session:
        full_text = FullText(ArticlePageFetcher(session, timeout=5), min_chars=300)
        pipeline = Pipeline(store, book, ExtractiveSummariser(), full_text=full_text)
        report = await pipeline.process(
            [
                Article(id="a", title="Danube ports resume grain loadings", text=teaser, url=f"{site}/grain"),
                Article(id="b", title="Kharkiv power cut", text="Power was cut.", url=f"{site}/broken"),
            ]
        )
    assert report.queued == 2  # one through its full text, one on its teaser when the page failed
    alerts = {i.alert.story_id: i.alert for i in await store.due_alerts(1e12, 10, ["console"])}
    assert alerts["a"].terms == ("Kharkiv",)
    assert "Izmail and Reni" in alerts["a"].summary and "Copyright" not in alerts["a"].summary


class Pages:
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def fetch_text(self, url: str) -> str:
        self.asked.append(url)
        return "A much longer article body than the teaser, with several sentences of reporting. " * 3


async def test_only_short_bodies_with_a_link_are_fetched() -> None:
    pages = Pages()
    full = FullText(pages, min_chars=50)
    long_body = "x " * 100
    result = await full.fill(
        [
            Article(id="1", title="t", text="short", url="https://a.example/1"),
            Article(id="2", title="t", text=long_body, url="https://a.example/2"),
            Article(id="3", title="t", text="short"),
        ]
    )
    assert pages.asked == ["https://a.example/1"]
    assert result[0].text.startswith("A much longer article") and result[1].text == long_body
    assert await FullText(pages, min_chars=0).fill([Article(id="4", title="t", text="", url="u")]) == [
        Article(id="4", title="t", text="", url="u")
    ]


async def test_a_teaser_item_seen_again_is_not_an_update(store: SqliteStore) -> None:
    class Pages:
        async def fetch_text(self, url: str) -> str:
            return "The whole article, much longer than its teaser, with several sentences. " * 5

    book = SubscriptionBook(default_aliases())
    pipeline = Pipeline(store, book, ExtractiveSummariser(), full_text=FullText(Pages(), min_chars=300))
    teaser = Article(id="t", title="Teaser", text="Short teaser.", url="https://a.example/t")
    assert (await pipeline.process([teaser])).new == 1
    again = await pipeline.process([teaser])
    assert (again.new, again.updated) == (0, 0)
    [seen] = await store.recent_articles(1)
    assert seen.article.text.startswith("The whole article")

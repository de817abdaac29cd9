"""Full text for teaser-only items: extraction on real pages and on the seed article dressed as a
low-quality outlet's page, robustness on junk, and fetching article pages from a loopback server."""

from __future__ import annotations

import asyncio
import gzip
import html
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import FeedError
from bot.ingest.extract import MIN_ARTICLE_CHARS, ArticlePageFetcher, extract_article, needs_full_text
from tests.conftest import FIXTURES, SEED
from tests.loopback import serve

BENCHMARK = FIXTURES / "extraction"
"""Three pages of scrapinghub/article-extraction-benchmark (MIT), with their human-cleaned bodies."""
SEED_URL = "https://london-defender.example/news/world/russia-ukraine-any-point"
LEAD = "The Biden administration is weighing new options"


def benchmark_page(doc_id: str) -> tuple[str, str, str]:
    """(html, url, human-cleaned body) of one benchmark page, by a prefix of its id."""
    truth = json.loads((BENCHMARK / "ground-truth.json").read_text(encoding="utf-8"))
    (key,) = [k for k in truth if k.startswith(doc_id)]
    with gzip.open(BENCHMARK / "html" / f"{key}.html.gz", "rt", encoding="utf-8") as f:
        page = f.read()
    return page, truth[key]["url"], truth[key]["articleBody"]


def paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


# --- real pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc_id", "boilerplate"),
    [
        # Sputnik: a cookie notice, a section menu, "most read" links around a column
        ("1f765c48", ["Our website uses cookies", "Privacy Policy"]),
        # pv magazine: two cookie banners and a newsletter box
        ("b0cf2bbf", ["This website uses cookies", "allow cookies"]),
    ],
)
def test_real_article_pages_keep_the_story_and_drop_the_page_furniture(
    doc_id: str, boilerplate: list[str]
) -> None:
    page, url, truth = benchmark_page(doc_id)
    text = extract_article(page, url)
    expected = paragraphs(truth)
    got = paragraphs(text)
    assert got[0] == expected[0]  # starts with the real lead
    assert expected[-1] in got  # and reaches the end of the story
    assert sum(p in got for p in expected) >= 0.9 * len(expected)
    for phrase in boilerplate:
        assert phrase in page  # it is on the page, outside the story
        assert phrase not in truth and phrase not in text, phrase
    assert not {"Home", "World", "Business"} & set(got)  # menu entries


def test_a_listing_page_keeps_its_items_and_drops_its_tag_links() -> None:
    """A race calendar is list items, none of them a sentence. Cleaning the extracted text as one piece
    of feed text would drop every item and keep only the page's line of tag links; cleaned block by
    block, the items stay and the tag links (all link text, no sentence) go."""
    page, url, _ = benchmark_page("cc03ddb5")
    got = paragraphs(extract_article(page, url))
    assert "Calendário da Stock Car 2018" in got
    for item in ("1a etapa: 10 de março – Interlagos", "12a etapa: 9 de dezembro – Interlagos"):
        assert item in got
    assert "stock car interlagos" in page
    assert all("stock car interlagos" not in p for p in got)


# --- the seed article as a full page ------------------------------------------------------------------


def seed_page() -> str:
    """The seed article as the outlet serves it: branding, a cookie banner, navigation, the headline and
    standfirst, pictures whose captions end in "(Image: Getty)" (one of them a bare paragraph in the body,
    as sloppy templates have it), a related-story link, a block of "[REVEAL]" teaser links, a "most read"
    box and a footer."""
    brand, tagline, title, standfirst, *body = [
        b.strip() for b in SEED.read_text(encoding="utf-8").split("\n\n") if b.strip()
    ]
    e = html.escape
    parts: list[str] = []
    index = 0
    while index < len(body):
        block = body[index]
        following = body[index + 1] if index + 1 < len(body) else ""
        if "(Image:" in following and "[" not in block:  # a picture: its title, then caption and credit
            parts.append(
                f'<figure><img src="/img/{index}.jpg" alt="{e(block)}"><figcaption><strong>{e(block)}'
                f"</strong> {e(following)}</figcaption></figure>"
            )
            index += 2
            continue
        if "(Image:" in block:
            parts.append(f"<p>{e(block)}</p>")
        elif "[REVEAL]" in block:
            links = [
                f'<a href="/news/{n}"><strong>{e(line)}</strong></a>'
                for n, line in enumerate(block.split("\n"))
            ]
            parts.append(f"<p>{'<br>'.join(links)}</p>")
        elif not block.endswith((".", "”", ":")):  # a related story, set in the body as a link
            parts.append(f'<p><a href="/news/world/related">{e(block)}</a></p>')
        else:
            parts.append(f"<p>{e(block)}</p>")
        index += 1
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title)} | {e(brand)}</title>
<meta property="og:title" content="{e(title)}"><script>window.dataLayer = [];</script></head>
<body>
<div id="cookie-consent"><p>We use cookies to improve your experience on our site. By continuing to browse
you accept our use of cookies.</p><button>Accept all</button></div>
<header><a class="logo" href="/">{e(brand)}</a><p class="strapline">{e(tagline)}</p>
<nav><ul><li><a href="/news">News</a></li><li><a href="/politics">Politics</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/showbiz">Showbiz</a></li></ul></nav></header>
<main><article><h1>{e(title)}</h1><p class="standfirst">{e(standfirst)}</p>
<div class="byline">By Jane Reporter · 08:00, Tue, Jan 18, 2022</div>
<div class="article-body">{"".join(parts)}</div></article>
<aside><h3>Most read</h3><ul><li><a href="/a">Queen heartbreak as royal news emerges</a></li>
<li><a href="/b">Weather maps turn red as heat hits</a></li></ul></aside></main>
<footer><p>© {e(brand)} 2022. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>"""


def test_seed_page_gives_the_story_and_nothing_else() -> None:
    text = extract_article(seed_page(), SEED_URL)
    assert text.startswith(LEAD)
    seed_blocks = [b.strip() for b in SEED.read_text(encoding="utf-8").split("\n\n") if b.strip()][4:]
    story = [" ".join(b.split()) for b in seed_blocks if b.endswith((".", "”")) and "(Image:" not in b]
    assert paragraphs(text) == story  # every real paragraph, in order, and nothing more
    for furniture in (
        "London Defender",  # branding
        "Daily Mirror",
        "Russia threatened with war",  # the headline, shown separately in alerts
        "Image:",  # photo credits and the captions they end
        "Putin and Biden",  # a picture's title
        "Russian vs US jets compared",  # a caption set as a bare paragraph
        "[REVEAL]",  # teaser links
        "Sturgeon humiliated",
        "Canada sends forces",  # a related-story link
        "cookies",
        "Most read",
        "Politics",
        "rights reserved",
    ):
        assert furniture not in text, furniture


def test_pages_without_an_article_give_nothing() -> None:
    nav_only = "<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav></body></html>"
    not_found = "<html><body><h1>Page not found</h1><p>Sorry.</p></body></html>"
    for page in ("", "   \n", nav_only, not_found, "plain words, no markup"):
        assert extract_article(page) == ""


_PROSE = (
    "<p>" + "The council met on Tuesday and voted to keep the library open for another year. " * 3 + "</p>"
)


@pytest.mark.parametrize(
    "page",
    [
        pytest.param("<p>\ud800 stray surrogate</p>" + _PROSE * 3, id="lone-surrogate"),
        pytest.param("\x00" * 100 + _PROSE * 3, id="nul-bytes"),
        pytest.param('<?xml version="1.0" encoding="ISO-8859-1"?><html><body>' + _PROSE * 3, id="xml-decl"),
        pytest.param('<p title="' + "a" * 200_000 + '">x</p>' + _PROSE * 3, id="huge-attribute"),
    ],
)
def test_odd_but_real_pages_still_give_their_text(page: str) -> None:
    assert "voted to keep the library open" in extract_article(page)


@pytest.mark.parametrize(
    "page",
    [
        pytest.param("<div>" * 20_000 + _PROSE + "</div>" * 20_000, id="deep-nesting"),
        pytest.param("<ul><li>" * 3_000 + "x" + "</li></ul>" * 3_000, id="deep-lists"),
        pytest.param("\ufffd\x89PNG\r\n\x1a\n" + "\x00\xff" * 2_000, id="binary"),
    ],
)
def test_hostile_pages_do_not_raise(page: str) -> None:
    assert isinstance(extract_article(page), str)


_TAGS = st.sampled_from(
    ["<p>", "</p>", "<div>", "</div>", "<br>", "<a href='/x'>", "</a>", "<script>", "<!--"]
)
_TAGS |= st.sampled_from(["<table><tr><td>", "</td></tr>", "<li>", "<ul>", "<h2>", "<", ">", "&amp;", "&#0;"])
_SOUP = st.lists(
    st.one_of(_TAGS, st.text(max_size=40), st.just("Prose goes on here, sentence after sentence. " * 3)),
    max_size=60,
).map("".join)


@settings(max_examples=60, deadline=None)
@given(
    page=st.one_of(_SOUP, st.text(max_size=500), st.binary(max_size=500).map(lambda b: b.decode("latin-1")))
)
def test_junk_never_raises(page: str) -> None:
    text = extract_article(page, "http://example.invalid/x")
    assert text == "" or len(text) >= MIN_ARTICLE_CHARS
    assert "\n\n\n" not in text


def test_teaser_decision() -> None:
    teaser = "Russia could invade Ukraine at any point, US says.   Read the full story on our site."
    assert needs_full_text(teaser, 300)
    assert needs_full_text("", 300)
    assert not needs_full_text("word " * 100, 300)
    assert not needs_full_text(teaser, 0)  # 0 turns full-text fetching off
    assert needs_full_text("a" * 299 + " \n\n " * 50, 300)  # whitespace is not text


# --- fetching article pages ---------------------------------------------------------------------------


@dataclass
class PageServer:
    base: str = ""
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
async def page_server() -> AsyncIterator[PageServer]:
    state = PageServer()
    article = seed_page()

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=article, content_type="text/html")

    async def legacy(request: web.Request) -> web.Response:  # cp1252 bytes, charset only in <meta>
        body = article.replace('<meta charset="utf-8">', '<meta charset="windows-1252">')
        body = body.replace(LEAD, "Café owners say: " + LEAD)
        return web.Response(body=body.encode("cp1252", "replace"), headers={"Content-Type": "text/html"})

    async def gone(request: web.Request) -> web.Response:
        return web.Response(status=404, text="not here")

    async def busy(request: web.Request) -> web.Response:
        return web.Response(status=503)

    async def pdf(request: web.Request) -> web.Response:
        return web.Response(body=b"%PDF-1.7 ...", content_type="application/pdf")

    async def slow(request: web.Request) -> web.Response:
        await state.release.wait()
        return web.Response(text=article, content_type="text/html")

    async def huge(request: web.Request) -> web.StreamResponse:  # chunked: no Content-Length to go by
        resp = web.StreamResponse(headers={"Content-Type": "text/html"})
        await resp.prepare(request)
        for _ in range(64):
            await resp.write(b"<p>" + b"x" * 65536 + b"</p>")
        return resp

    async def declared_huge(request: web.Request) -> web.Response:
        return web.Response(body=b"<p>" + b"x" * 300_000 + b"</p>", content_type="text/html")

    app = web.Application()
    routes: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]]
    routes = {"/article": page, "/legacy": legacy, "/gone": gone, "/busy": busy, "/paper.pdf": pdf}
    routes |= {"/slow": slow, "/huge": huge, "/declared-huge": declared_huge}
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    async with serve(app) as base:
        state.base = base
        try:
            yield state
        finally:
            state.release.set()


async def test_fetches_and_extracts_an_article_page(
    page_server: PageServer, session: aiohttp.ClientSession
) -> None:
    fetcher = ArticlePageFetcher(session, timeout=10, max_body_bytes=1_000_000)
    text = await fetcher.fetch_text(page_server.url("/article"))
    assert text.startswith(LEAD)
    assert "(Image:" not in text and "[REVEAL]" not in text


async def test_decodes_by_the_pages_declared_charset(
    page_server: PageServer, session: aiohttp.ClientSession
) -> None:
    text = await ArticlePageFetcher(session).fetch_text(page_server.url("/legacy"))
    assert text.startswith("Café owners say: " + LEAD)


@pytest.mark.parametrize(
    ("path", "reason", "retryable"),
    [
        ("/gone", "HTTP 404", False),
        ("/busy", "HTTP 503", True),
        ("/paper.pdf", "is application/pdf, not an HTML page", False),
        ("/huge", "over the 200000-byte limit", False),
        ("/declared-huge", "over the 200000-byte limit", False),
        ("/slow", "timed out after 0.3s", True),
    ],
)
async def test_a_page_that_cannot_be_used_is_a_clear_feed_error(
    page_server: PageServer, session: aiohttp.ClientSession, path: str, reason: str, retryable: bool
) -> None:
    fetcher = ArticlePageFetcher(session, timeout=0.3, max_body_bytes=200_000)
    with pytest.raises(FeedError) as caught:
        await fetcher.fetch_text(page_server.url(path))
    assert reason in str(caught.value)
    assert page_server.url(path) in str(caught.value)  # the log line says which page
    assert caught.value.retryable is retryable


async def test_an_unreachable_host_is_a_feed_error(session: aiohttp.ClientSession) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()  # nothing listens on the port any more
    with pytest.raises(FeedError, match="ClientConnectorError"):
        await ArticlePageFetcher(session).fetch_text(f"http://127.0.0.1:{port}/gone-away")

"""Hostile and broken feeds end in a clean FeedError (or a parse with warnings), never a traceback,
a runaway allocation or an endless read: entity tricks, broken XML, wrong encodings, gzip bombs and
bodies that never end, the last two served by a real server on 127.0.0.1."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.core.errors import FeedError
from bot.core.models import FeedState
from bot.ingest.feeds import ParsedFeed, parse_feed
from bot.ingest.fetch import HttpReader
from bot.ingest.safety import UrlPolicy, guarded_session
from tests.conftest import EXAMPLES
from tests.loopback import serve

RSS = (EXAMPLES / "world-news.rss").read_bytes()


def rss(prolog: str, description: str = "Plain text.") -> bytes:
    return (
        f'<?xml version="1.0"?>\n{prolog}\n<rss version="2.0"><channel><title>Wire</title>'
        f"<item><title>Headline</title><link>https://example.com/a</link>"
        f"<description>{description}</description></item></channel></rss>"
    ).encode()


# Written out: each level refers ten times to the one below, so &lol9; is 10^9 "lol"s.
BILLION_LAUGHS = rss(
    '<!DOCTYPE rss [\n<!ENTITY lol0 "lol">\n'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(1, 10))
    + "]>",
    "&lol9;",
)
# One 1 MB entity referred to a million times: 4 MB of feed, a terabyte of text.
QUADRATIC_BLOWUP = rss(f'<!DOCTYPE rss [\n<!ENTITY a "{"A" * 1_000_000}">\n]>', "&a;" * 1_000_000)


def external_entity(path: Path) -> bytes:
    return rss(f'<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "file://{path}">\n]>', "&xxe;")


HOSTILE = {
    "billion laughs": BILLION_LAUGHS,
    "quadratic blowup": QUADRATIC_BLOWUP,
    "parameter entity": rss('<!DOCTYPE rss [\n<!ENTITY % dtd SYSTEM "http://127.0.0.1:9/x.dtd">\n%dtd;\n]>'),
    # feedparser's own DOCTYPE rewriting would lift this one out of the comment and declare it
    "declaration in a comment": rss(f'<!DOCTYPE rss>\n<!--\n<!ENTITY a "{"A" * 1000}">\n-->', "&a;"),
    # a "<" in a value ends the part of the prolog feedparser rewrites, so the rest reaches expat intact
    "markup in an entity value": rss(
        '<!DOCTYPE rss [\n<!ENTITY b "<b>bold</b>">\n<!ENTITY a "x">\n]>', "&b;"
    ),
    "utf-16": BILLION_LAUGHS.replace(b'"1.0"?>', b'"1.0" encoding="utf-16"?>').decode().encode("utf-16"),
    # no "<!ENTITY" in the bytes: "<" is "+ADw-" in UTF-7, which feedparser decodes
    "utf-7": rss(f'<!DOCTYPE rss>\n<!--\n+ADw-!ENTITY a "{"A" * 1000}">\n-->', "&a;").replace(
        b'"1.0"?>', b'"1.0" encoding="utf-7"?>'
    ),
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_feeds_declaring_entities_are_refused_before_parsing(body: bytes) -> None:
    with pytest.raises(FeedError, match="declares XML entities") as info:
        parse_feed(body, feed_url="https://example.com/rss")
    assert info.value.retryable is False


def test_an_external_entity_never_reads_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-7f3a9c", encoding="utf-8")
    for target in (secret, Path("/etc/passwd")):
        with pytest.raises(FeedError) as info:
            parse_feed(external_entity(target))
        assert "SECRET-7f3a9c" not in str(info.value) and "root:" not in str(info.value)


def test_entity_text_in_an_article_and_a_netscape_doctype_are_fine() -> None:
    about_xml = '<![CDATA[Attackers declare <!ENTITY xxe SYSTEM "file:///etc/passwd"> to read files.]]>'
    parsed = parse_feed(rss("", about_xml))
    assert "<!ENTITY xxe" in parsed.articles[0].text
    netscape = (
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://127.0.0.1:9/rss.dtd">'
    )
    assert parse_feed(rss(netscape)).articles[0].title == "Headline"
    assert parse_feed(b"\n\n  " + rss("<!-- a comment -->", about_xml)).articles[0].title == "Headline"


def test_a_truncated_feed_keeps_its_complete_items_and_says_what_went_wrong() -> None:
    parsed = parse_feed(RSS[: len(RSS) // 2], feed_url="https://example.com/rss")
    assert isinstance(parsed, ParsedFeed)
    assert len(parsed.articles) >= 3 and all(a.title for a in parsed.articles)
    assert parsed.warnings


@pytest.mark.parametrize(
    "body",
    [
        b"\x00\x01\x02\xff\xfe garbage \x89PNG\r\n",
        b"<html><body><p>Not a feed</p></body></html>",
        b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>Unclosed',
        b"<<<>>>&&&;;;</rss>",
        b"",
    ],
    ids=["binary", "html page", "unclosed", "junk markup", "empty"],
)
def test_broken_xml_parses_with_warnings_or_is_a_clean_feed_error(body: bytes) -> None:
    try:
        parsed = parse_feed(body)
    except FeedError as exc:
        assert exc.retryable is False and str(exc).startswith("not a feed")
    else:
        assert parsed.warnings


@pytest.mark.parametrize(
    ("declared", "actual"),
    [("iso-8859-1", "utf-8"), ("utf-8", "iso-8859-1"), ("utf-8", "windows-1252"), ("us-ascii", "utf-8")],
)
def test_a_wrongly_declared_encoding_still_reads_correctly(declared: str, actual: str) -> None:
    body = (
        f'<?xml version="1.0" encoding="{declared}"?>\n<rss version="2.0"><channel><title>Zürich Desk</title>'
        "<item><title>Café owners in Zürich protest</title><link>https://example.com/z</link>"
        "<description>Naïve façades and crème brûlée.</description></item></channel></rss>"
    ).encode(actual)
    [article] = parse_feed(body).articles
    assert article.title == "Café owners in Zürich protest"
    assert "Naïve façades and crème brûlée." in article.text


# --- bodies that must be cut off while reading -------------------------------------------------


def gzip_bomb(gib: int) -> bytes:
    """A gzip stream of ``gib`` GiB of zeros, about 1 MB per GiB: one compressed MiB, repeated."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(bytes(1 << 20)) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(bytes(1 << 20)) + deflate.flush(zlib.Z_FULL_FLUSH)  # same bytes each time
    trailer = deflate.flush() + struct.pack("<II", 0, 0)  # a wrong CRC: the reader must stop long before
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + first + again * (gib * 1024 - 1) + trailer


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    bomb = gzip_bomb(4)
    assert len(bomb) < 5_000_000  # under the default body cap as sent: only the decompressed size is over

    async def gzipped(request: web.Request) -> web.Response:
        return web.Response(body=zlib.compress(RSS, wbits=31), headers={"Content-Encoding": "gzip"})

    async def bomb_handler(request: web.Request) -> web.Response:
        return web.Response(
            body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/xml"}
        )

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
        try:
            while True:
                await resp.write(b"<item><title>again</title></item>" * 2000)
        except (ConnectionError, RuntimeError):  # the reader hung up
            pass
        return resp

    app = web.Application()
    app.router.add_get("/gzipped", gzipped)
    app.router.add_get("/bomb", bomb_handler)
    app.router.add_get("/endless", endless)
    async with serve(app) as base:
        yield base


async def read(url: str) -> bytes:
    async with guarded_session(UrlPolicy(["127.0.0.1"])) as session:
        reader = HttpReader(session, timeout=30.0, max_body_bytes=5_000_000, user_agent="newsbot-test")
        return (await reader.read(FeedState(url))).body


async def test_a_gzipped_feed_is_decompressed_and_parses(base_url: str) -> None:
    body = await read(base_url + "/gzipped")
    assert body == RSS and len(parse_feed(body).articles) == 14


async def test_a_gzip_bomb_stops_at_the_body_cap_on_decompressed_bytes(base_url: str) -> None:
    with pytest.raises(FeedError, match="over the 5000000-byte limit"):
        await read(base_url + "/bomb")


async def test_an_endless_chunked_body_stops_at_the_body_cap(base_url: str) -> None:
    with pytest.raises(FeedError, match="over the 5000000-byte limit"):
        await read(base_url + "/endless")

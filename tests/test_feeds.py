from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.errors import FeedError
from bot.core.identity import article_id, canonical_url, feed_scope, feed_scoped_id
from bot.ingest.feeds import parse_feed
from tests.conftest import EXAMPLES, SEED_ID


def test_bundled_rss_and_atom_samples_parse_into_clean_articles() -> None:
    rss = parse_feed((EXAMPLES / "world-news.rss").read_bytes(), feed_url="examples/world-news.rss")
    atom = parse_feed(
        (EXAMPLES / "europe-desk.atom").read_bytes(), feed_url="e.atom", source="Northbound Post"
    )
    assert (len(rss.articles), len(atom.articles)) == (14, 11)
    assert rss.version == "rss20" and atom.version == "atom10"
    assert rss.warnings == [] and atom.warnings == []
    assert rss.title == "Meridian Wire — World"
    assert {a.source for a in atom.articles} == {"Northbound Post"}
    seed = next(a for a in rss.articles if a.id == "examples/world-news.rss#" + SEED_ID)
    assert seed.published == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert seed.text.startswith("The Biden administration is weighing new options")
    assert "(Image:" not in seed.text and "[REVEAL]" not in seed.text
    assert seed.feed_url == "examples/world-news.rss"
    assert all(a.id.startswith("e.atom#tag:northbound-post.example,2026-") for a in atom.articles)
    assert any(a.image_url.endswith(".jpg") for a in rss.articles)


def test_json_feed_parses() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "JF", "items": ['
        b'{"id": "1", "url": "https://j.example/1", "title": "Kyiv talks",'
        b' "content_html": "<p>Talks began.</p>",'
        b' "date_published": "2026-11-20T10:00:00Z"}]}'
    )
    parsed = parse_feed(body, feed_url="https://j.example/feed.json")
    [article] = parsed.articles
    assert (article.id, article.title, article.text, article.source) == (
        "https://j.example/feed.json#1",
        "Kyiv talks",
        "Talks began.",
        "JF",
    )
    assert parsed.version == "json"
    assert article.published == datetime(2026, 11, 20, 10, tzinfo=UTC)


@pytest.mark.parametrize("body", [b"<html><body><p>Just a page</p></body></html>", b"", b"\x00\x01garbage"])
def test_not_a_feed_is_a_clear_non_retryable_error(body: bytes) -> None:
    with pytest.raises(FeedError, match="not a feed") as info:
        parse_feed(body)
    assert not info.value.retryable


def test_broken_feed_keeps_the_items_it_can_read() -> None:
    body = b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title><item><title>One</title>"
    body += (
        b"<guid>1</guid><description>Fine &amp; dandy</description></item><item><title>Two &bogus;</title>"
    )
    parsed = parse_feed(body, feed_url="https://b.example/rss")
    assert [a.id for a in parsed.articles][:1] == ["https://b.example/rss#1"]
    assert parsed.warnings  # the problem is reported, not hidden


def test_canonical_url_strips_tracking_and_normalises() -> None:
    assert (
        canonical_url("HTTPS://WWW.Example.COM:443/a/b?utm_source=rss&id=7&fbclid=x&utm_medium=y#frag")
        == "https://www.example.com/a/b?id=7"
    )
    assert canonical_url("http://example.com") == "http://example.com/"
    assert canonical_url("http://example.com:8080/x?gclid=1") == "http://example.com:8080/x"


def test_article_identity_prefers_guid_then_link_then_content_hash() -> None:
    when = datetime(2026, 11, 1, tzinfo=UTC)
    feed = "https://x.example/rss"
    assert article_id(" g-1 ", "https://x.example/a", "T", when, feed_url=feed) == "https://x.example/rss#g-1"
    link = "https://x.example/a?utm_campaign=z"
    assert article_id("", link, "T", when, feed_url=feed) == "https://x.example/a"
    hashed = article_id("", "", "Title", when, feed_url=feed)
    assert hashed.startswith("sha256:") and hashed == article_id("", "", "Title", when, feed_url="other")
    assert hashed != article_id("", "", "Title", None, feed_url=feed)


def test_a_guid_is_scoped_to_its_feed_and_a_link_is_not() -> None:
    when = datetime(2026, 11, 1, tzinfo=UTC)
    a, b = "https://a.example/rss", "https://b.example/feed?cid=7"
    assert article_id("12345", "https://a.example/x", "T", when, feed_url=a) != article_id(
        "12345", "https://b.example/y", "T", when, feed_url=b
    )
    assert article_id("", "https://c.example/z", "T", when, feed_url=a) == article_id(
        "", "https://c.example/z?utm_source=b", "U", None, feed_url=b
    )
    # A GUID that is the item's own link (as permalink GUIDs are) names the page: the link's id.
    permalink = "https://c.example/z?utm_medium=rss"
    assert article_id(permalink, "https://C.example/z", "T", when, feed_url=a) == "https://c.example/z"
    assert article_id(permalink, "https://c.example/other", "T", when, feed_url=a) == a + "#" + permalink


def test_feed_scope_keeps_what_tells_feeds_apart() -> None:
    assert feed_scope(" HTTPS://User:pw@Feeds.Example.COM:443/rss?cid=7&utm_source=x#top ") == (
        "https://feeds.example.com/rss?cid=7&utm_source=x"
    )
    assert feed_scope("https://feeds.example.com/rss?cid=7") != feed_scope(
        "https://feeds.example.com/rss?cid=8"
    )
    assert feed_scope("examples/world-news.rss") == "examples/world-news.rss"
    assert "#" not in feed_scoped_id("/srv/feeds#1.rss", "g").removesuffix("#g")


def test_plain_text_titles_keep_their_angle_brackets() -> None:
    body = (
        b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>T</title>"
        b"<entry><id>1</id><title type='text'>Why &lt;script&gt; tags matter</title></entry>"
        b"<entry><id>2</id><title type='html'>A &lt;b&gt;bold&lt;/b&gt; move</title></entry></feed>"
    )
    assert [a.title for a in parse_feed(body).articles] == ["Why <script> tags matter", "A bold move"]


def test_the_sample_items_match_what_examples_readme_lists() -> None:
    from bot.core.models import ChannelRef, Subscription
    from bot.matching import default_aliases
    from bot.processing.subscriptions import SubscriptionBook

    book = SubscriptionBook(default_aliases())
    for n, query in enumerate(("Ukraine", "NATO", "=NATO"), 1):
        book.add(Subscription(n, ChannelRef("console", "c"), book.parse(query).canonical, query))
    articles = parse_feed((EXAMPLES / "world-news.rss").read_bytes()).articles
    articles += parse_feed((EXAMPLES / "europe-desk.atom").read_bytes()).articles
    hits: dict[str, set[str]] = {"Ukraine": set(), "NATO": set(), "=NATO": set()}
    for article in articles:
        for match in book.match(article):
            hits[match.subscription.raw_query].add(article.id.rsplit("/", 1)[-1].rsplit("#", 1)[-1])
    assert hits["Ukraine"] == {
        SEED_ID,
        "mw-world-20261123-kharkiv-villages",
        "mw-world-20261122-nato-ukraine-council",
        "mw-world-20261121-danube-ports",
        "mw-world-20261119-zelensky-energy-minister",
        "zelenskiy-brussels-accession",
        "kyiv-analysts-membership-path",
        "ukraine-nations-league-promotion",
        "night-trains-poland-romania",
        "podil-winter-blackouts",
    }
    exact_case = {
        SEED_ID,
        "mw-world-20261122-nato-ukraine-council",
        "mw-world-20261120-nato-baltic-air-policing",
        "eastern-allies-permanent-brigades",
        "france-defence-review-european-pillar",
        "kyiv-analysts-membership-path",
    }
    assert hits["=NATO"] == exact_case
    assert hits["NATO"] == exact_case | {"mw-world-20261109-football-nato-double"}
    assert "mw-world-20261112-storm-orla" not in hits["Ukraine"] | hits["NATO"]  # the teaser trap


def _rss(*items: str) -> bytes:
    return ("<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>" + "".join(items)).encode() + (
        b"</channel></rss>"
    )


def test_items_sharing_a_guid_are_told_apart_by_link_or_title_and_said_so() -> None:
    """The parser says it (``repeated_guids``); the poller logs it once a feed (tests/test_identity.py)."""
    body = _rss(
        "<item><guid isPermaLink='false'>g</guid><title>One</title><link>https://d.example/1</link></item>",
        "<item><guid isPermaLink='false'>g</guid><title>Two</title><link>https://d.example/2</link></item>",
        "<item><guid isPermaLink='false'>g</guid><title>Three</title></item>",
        "<item><guid isPermaLink='false'>g</guid><title>Four</title></item>",
        "<item><guid isPermaLink='false'>g</guid><title>One again</title>"
        "<link>https://d.example/1?utm_source=x</link></item>",
        "<item><guid isPermaLink='false'>h</guid><title>Alone</title><link>https://d.example/5</link></item>",
    )
    feed = "https://dup.example/rss?unit"
    parsed = parse_feed(body, feed_url=feed)
    assert [a.id for a in parse_feed(body, feed_url=feed).articles] == [a.id for a in parsed.articles]
    ids = [a.id for a in parsed.articles]
    assert all(i.startswith(feed + "#g~") for i in ids[:5]) and ids[5] == feed + "#h"
    assert len(set(ids[:4])) == 4  # four items, four articles
    assert ids[4] == ids[0]  # the same link again: the same article
    assert (
        parsed.repeated_guids.startswith("5 items share 1 GUID") and parsed.repeated_guids in parsed.warnings
    )
    assert (
        parse_feed(_rss("<item><guid>g</guid><title>One</title></item>"), feed_url=feed).repeated_guids == ""
    )


def test_a_guid_taken_for_a_link_is_a_link_only_when_it_is_a_web_url() -> None:
    body = _rss(
        "<item><guid>98765</guid><title>Opaque</title></item>",
        "<item><guid>https://e.example/a?utm_source=rss</guid><title>Permalink</title></item>",
    )
    opaque, permalink = parse_feed(body, feed_url="https://e.example/rss").articles
    assert (opaque.id, opaque.url) == ("https://e.example/rss#98765", "")
    assert (permalink.id, permalink.url) == ("https://e.example/a", "https://e.example/a?utm_source=rss")

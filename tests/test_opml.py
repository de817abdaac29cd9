"""OPML subscription lists: what a user exports from another reader comes in, flattened and only
once; what the bot exports opens anywhere, whatever characters the names and URLs hold."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bot.config import load_config
from bot.core.errors import InputError
from bot.ingest.opml import OpmlFeed, new_feeds, parse_opml, render_opml
from bot.store import SqliteStore
from tests.conftest import REPO, write_config

NESTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>My reader</title></head>
  <body>
    <outline text="News">
      <outline text="World">
        <outline type="rss" text="Meridian Wire" xmlUrl="https://meridian.example/world.rss" />
        <outline type="rss" text="Duplicate" xmlUrl="https://meridian.example/world.rss" />
      </outline>
    </outline>
    <outline title="Tech" text="Technology">
      <outline text="Blog" xmlurl=" https://blog.example/feed " htmlUrl="https://blog.example/" />
      <outline text="A bookmark, not a feed" url="https://blog.example/about" />
    </outline>
    <outline title="Top stories" text="Top" xmlUrl="https://top.example/top.xml" />
    <outline xmlUrl="https://untitled.example/atom" />
  </body>
</opml>"""

AWKWARD = [
    OpmlFeed(url='https://a.example/rss?x=1&y=<2>&q="three"', title="Q&A <live> \"Kyiv\" 'desk'"),
    OpmlFeed(url="https://b.example/ünïcode/feed", title="Zürich — 東京 «news»", category="World & <Europe>"),
    OpmlFeed(url="https://c.example/feed", title="Bell\x07 and\x00 nul", category=""),
    OpmlFeed(url="examples/world-news.rss", title="", category="World & <Europe>"),
]


def test_nested_outlines_are_flattened_in_order_each_url_once() -> None:
    assert parse_opml(NESTED) == [
        OpmlFeed(url="https://meridian.example/world.rss", title="Meridian Wire", category="News/World"),
        OpmlFeed(url="https://blog.example/feed", title="Blog", category="Tech"),
        OpmlFeed(url="https://top.example/top.xml", title="Top stories"),
        OpmlFeed(url="https://untitled.example/atom", title=""),
    ]


def test_what_the_bot_exports_reads_back_the_same() -> None:
    document = render_opml(AWKWARD, title="Desk & <friends>")
    back = {feed.url: feed for feed in parse_opml(document)}
    assert list(back) == [AWKWARD[0].url, AWKWARD[1].url, AWKWARD[3].url, AWKWARD[2].url]  # by category
    assert back[AWKWARD[0].url] == AWKWARD[0]
    assert back[AWKWARD[1].url] == AWKWARD[1]
    assert back[AWKWARD[2].url].title == "Bell and nul"  # characters XML cannot carry are dropped
    assert back[AWKWARD[3].url].title == AWKWARD[3].url  # OPML wants a name: the URL stands in
    again = parse_opml(render_opml(back.values(), title="again"))
    assert again == list(back.values())


def test_export_is_opml_2_with_escaped_attributes_any_xml_parser_reads() -> None:
    document = render_opml(AWKWARD, title="Desk & <friends>")
    assert document.startswith(b"<?xml")
    text = document.decode("utf-8")
    assert 'xmlUrl="https://a.example/rss?x=1&amp;y=&lt;2&gt;&amp;q=&quot;three&quot;"' in text
    assert "Q&amp;A &lt;live&gt; &quot;Kyiv&quot;" in text
    assert "<title>Desk &amp; &lt;friends&gt;</title>" in text
    root = ET.fromstring(document)  # the standard library, not our reader
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "Desk & <friends>"
    outlines = root.findall(".//outline[@xmlUrl]")
    assert [o.get("type") for o in outlines] == ["rss"] * 4
    assert all(o.get("text") for o in outlines)  # OPML 2.0 requires text on every outline
    group = root.find("body/outline[@text='World & <Europe>']")
    assert group is not None and len(group) == 2


def test_an_empty_list_is_still_a_valid_document() -> None:
    assert parse_opml(render_opml([], title="nothing")) == []


@pytest.mark.parametrize(
    ("junk", "reason"),
    [
        (b"", "malformed XML"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "malformed XML"),
        (b"<html><body><p>Subscriptions</p></body></html>", "root element is <html>"),
        (b'<rss version="2.0"><channel><title>x</title></channel></rss>', "root element is <rss>"),
        (b'<opml version="2.0"><head/></opml>', "no <body>"),
        (b"<opml><body><outline xmlUrl='x'></body></opml>", "malformed XML"),
    ],
)
def test_what_is_not_opml_is_refused_with_a_reason(junk: bytes, reason: str) -> None:
    with pytest.raises(InputError, match=r"^not an OPML file: ") as caught:
        parse_opml(junk)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


def test_entities_are_never_expanded_nor_external_files_read() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><opml><body><outline text="&c;" xmlUrl="https://x/"/>'
        b"</body></opml>"
    )
    with pytest.raises(InputError, match="declares XML entities"):
        parse_opml(laughs)
    external = (
        b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY e SYSTEM "file:///etc/hostname">]>'
        b'<opml><body><outline text="&e;" xmlUrl="https://x/"/></body></opml>'
    )
    with pytest.raises(InputError, match="not an OPML file"):
        parse_opml(external)


def test_only_feeds_the_store_lacks_are_new() -> None:
    feeds = parse_opml(NESTED)
    assert new_feeds(feeds, ["https://blog.example/feed", "https://elsewhere.example/"]) == [
        feeds[0],
        feeds[2],
        feeds[3],
    ]


# The command line.


def bot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


async def stored(config: Path) -> dict[str, str]:
    loaded = load_config(config)
    store = await SqliteStore.open(loaded.store_location())
    try:
        return {feed.url: feed.name for feed in await store.list_feeds()}
    finally:
        await store.close()


async def test_import_adds_every_feed_once_and_export_writes_them_back(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    opml = tmp_path / "subscriptions.opml"
    opml.write_bytes(NESTED)

    first = bot("feeds", "import", str(opml), "--config", str(config))
    assert first.returncode == 0, first.stderr
    assert "4 feed(s) added, 0 already known" in first.stdout
    again = bot("feeds", "import", str(opml), "--config", str(config))
    assert again.returncode == 0, again.stderr
    assert "0 feed(s) added, 4 already known" in again.stdout
    assert await stored(config) == {
        "https://meridian.example/world.rss": "Meridian Wire",
        "https://blog.example/feed": "Blog",
        "https://top.example/top.xml": "Top stories",
        "https://untitled.example/atom": "",
    }

    exported = bot("feeds", "export", "--config", str(config))
    assert exported.returncode == 0, exported.stderr
    back = parse_opml(exported.stdout.encode("utf-8"))
    assert {f.url: f.title for f in back} == {
        "https://meridian.example/world.rss": "Meridian Wire",
        "https://blog.example/feed": "Blog",
        "https://top.example/top.xml": "Top stories",
        "https://untitled.example/atom": "https://untitled.example/atom",
    }

    out = tmp_path / "out.opml"
    to_file = bot("feeds", "export", "--out", str(out), "--config", str(config))
    assert to_file.returncode == 0, to_file.stderr
    assert to_file.stdout == ""
    assert parse_opml(out.read_bytes()) == back


async def test_a_name_the_user_gave_is_kept_when_the_list_is_imported_again(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    loaded = load_config(config)
    store = await SqliteStore.open(loaded.store_location())
    await store.upsert_feed("https://top.example/top.xml", "My top feed", 600.0)
    await store.close()
    opml = tmp_path / "subscriptions.opml"
    opml.write_bytes(NESTED)
    result = bot("feeds", "import", str(opml), "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "3 feed(s) added, 1 already known" in result.stdout
    assert (await stored(config))["https://top.example/top.xml"] == "My top feed"


def test_importing_something_else_exits_2_with_one_line_and_changes_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    cases = {
        REPO / "README.md": "not an OPML file",
        REPO / "examples" / "world-news.rss": "root element is <rss>",
        tmp_path / "missing.opml": "cannot read",
    }
    for path, reason in cases.items():
        result = bot("feeds", "import", str(path), "--config", str(config))
        assert result.returncode == 2, (path, result.stderr)
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("error: ") and reason in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "bot.db").exists()

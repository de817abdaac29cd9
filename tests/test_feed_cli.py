"""``python -m bot feed PATH_OR_URL`` as a user runs it: what the bot sees in a feed, one JSON object an
item; exit 0 when it parsed, 2 with a one-line reason when it is not a feed."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.core.models import Article
from bot.ingest.fetch import HttpLimits
from bot.ingest.inspect import inspect_feed, item_line
from tests.conftest import EXAMPLES, REPO, SEED_ID, write_config
from tests.feed_server import feed_server

FIELDS = ["id", "title", "url", "source", "published", "image_url", "text"]
ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}


def bot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=REPO, timeout=60, env=ENV
    )


async def abot(*args: str) -> tuple[int, str, str]:
    """The CLI in a subprocess without blocking the loop that serves the test feeds."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=REPO,
        env=ENV,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def items(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_an_rss_file_prints_one_cleaned_json_object_per_item() -> None:
    result = bot("feed", str(EXAMPLES / "world-news.rss"))
    assert result.returncode == 0, result.stderr
    rows = items(result.stdout)
    assert len(rows) == 14
    assert all(list(row) == FIELDS for row in rows)
    seed = next(row for row in rows if row["id"] == f"{EXAMPLES / 'world-news.rss'}#{SEED_ID}")
    assert seed["url"] == "https://london-defender.example/news/world/russia-ukraine-any-point"
    assert seed["published"] == "2026-11-24T08:00:00+00:00"
    assert seed["source"] == "Meridian Wire — World"
    text = str(seed["text"])
    assert text.startswith("The Biden administration is weighing new options")
    for junk in ("(Image:", "[REVEAL]", "<p>"):
        assert junk not in text
    assert 'rss20 feed "Meridian Wire — World", 14 items' in result.stderr
    assert "Traceback" not in result.stderr


def test_an_atom_file_and_a_file_url_read_the_same() -> None:
    path = EXAMPLES / "europe-desk.atom"
    by_path = bot("feed", str(path))
    by_url = bot("feed", path.as_uri())
    assert by_path.returncode == by_url.returncode == 0, by_path.stderr + by_url.stderr
    assert len(items(by_path.stdout)) == 11
    # The same items; their GUIDs are scoped to the feed as it was named, as the bot scopes them.
    assert [row["id"] for row in items(by_url.stdout)] == [
        path.as_uri() + "#" + str(row["id"]).split("#", 1)[1] for row in items(by_path.stdout)
    ]
    assert [{**row, "id": ""} for row in items(by_path.stdout)] == [
        {**row, "id": ""} for row in items(by_url.stdout)
    ]


def test_something_that_is_not_a_feed_exits_2_with_one_line(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>Hello & goodbye</p></body></html>", encoding="utf-8")
    expected = {
        str(REPO / "README.md"): "not a feed",
        str(page): "not a feed",
        str(tmp_path / "missing.xml"): "not found",
        "ftp://example.com/feed": "unsupported URL scheme 'ftp'",
    }
    for location, reason in expected.items():
        result = bot("feed", location)
        assert result.returncode == 2, (location, result.stderr)
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("error: ") and reason in result.stderr, result.stderr


def test_a_broken_feed_that_still_parses_exits_0_with_warnings_on_stderr(tmp_path: Path) -> None:
    feed = tmp_path / "broken.rss"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Desk</title>'
        "<item><title>Kyiv talks</title><link>https://news.example/a</link>"
        "<description>Body &nbsp; text &unknown; here</description></item></channel>",  # unclosed
        encoding="utf-8",
    )
    result = bot("feed", str(feed))
    assert result.returncode == 0, result.stderr
    assert [row["title"] for row in items(result.stdout)] == ["Kyiv talks"]
    assert result.stderr.startswith("warning: ")
    assert "Traceback" not in result.stderr


async def test_a_url_is_fetched_once_like_the_poller_does_and_http_errors_are_exit_codes(
    tmp_path: Path,
) -> None:
    config = str(write_config(tmp_path, "polling:\n  max_body_bytes: 1000000\n  user_agent: inspector/1\n"))
    async with feed_server() as server:
        code, out, err = await abot("feed", server.url("/rss"), "--config", config)
        assert code == 0, err
        assert len(items(out)) == 14
        assert server.hits("/rss") == 1
        assert server.requests[0][1]["User-Agent"] == "inspector/1"

        code, out, err = await abot("feed", server.url("/gone"), "--config", config)
        assert (code, out) == (2, "")
        assert "HTTP 404" in err and "Traceback" not in err

        code, out, err = await abot("feed", server.url("/busy"), "--config", config)  # not the user's fault
        assert (code, out) == (1, "")
        assert "HTTP 503" in err and "Traceback" not in err

        code, out, err = await abot("feed", server.url("/big"), "--config", config)
        assert (code, out) == (1, "")
        assert "1000000-byte limit" in err and "Traceback" not in err

        # Without the config's allow_hosts, loopback is refused as the poller refuses it, before any request.
        before = len(server.requests)
        code, out, err = await abot("feed", server.url("/rss"))
        assert (code, out) == (2, "")
        assert "loopback" in err and "safety.allow_hosts" in err and "Traceback" not in err
        assert len(server.requests) == before


async def test_inspect_feed_sees_what_the_cli_prints() -> None:
    parsed = await inspect_feed(
        str(EXAMPLES / "world-news.rss"), limits=HttpLimits(20.0, 1_000_000, "newsbot-test")
    )
    result = bot("feed", str(EXAMPLES / "world-news.rss"))
    assert [item_line(a) for a in parsed.articles] == result.stdout.splitlines()


def test_item_text_cannot_drive_the_terminal_yet_decodes_unchanged() -> None:
    nasty = "Red \x1b[31mALERT\x1b[0m \x9b2J \u202eevil\u202c \U000e0041 café 東京"
    article = Article(id="x", title=nasty, text=nasty, published=datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    line = item_line(article)
    for char in ("\x1b", "\x9b", "\u202e", "\u202c", "\U000e0041", "\n"):
        assert char not in line
    assert "café 東京" in line  # printable text stays readable
    assert json.loads(line) == {
        "id": "x",
        "title": nasty,
        "url": "",
        "source": "",
        "published": "2026-11-24T08:00:00+00:00",
        "image_url": "",
        "text": nasty,
    }


def test_piping_into_head_ends_quietly(tmp_path: Path) -> None:
    entries = "".join(
        f"<item><title>Story {i}</title><link>https://news.example/{i}</link>"
        f"<description>{'Words about Kyiv and NATO. ' * 40}</description></item>"
        for i in range(500)
    )
    feed = tmp_path / "large.rss"
    feed.write_text(f'<rss version="2.0"><channel><title>Big</title>{entries}</channel></rss>', "utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "feed", str(feed)],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert json.loads(first)["title"] == "Story 0"
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err

"""What bench/scale.py runs against: the feeds' contents (every item a story of its own), the feed server
in a process of its own that counts each feed's requests, the fake Slack that counts each alert, the
workers' config, and reading a worker's CPU time and peak RSS from /proc."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import re
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.fake_slack import FakeSlack

ITEMS = 2
"""Items a feed: each one alerts if its feed does."""
ALERT_EVERY = 10
"""Every tenth feed's items name a subscribed word: about 1 article in 10 alerts."""
CHANNELS = 100
TITLE = re.compile(r"Scale story (\d{7})")
SYLLABLES = ("ka", "lo", "mi", "ve", "ru", "ta", "no", "si", "de", "pa", "gu", "ze", "fo", "bi", "ha", "ny")


# ---- data ----------------------------------------------------------------------------------------


def made_up(k: int, syllables: int = 4) -> str:
    """A pronounceable made-up word for each ``k`` below 16**syllables, a different one for each."""
    parts = []
    for _ in range(syllables):
        k, r = divmod(k, len(SYLLABLES))
        parts.append(SYLLABLES[r])
    return "".join(parts)


def word(channel: int) -> str:
    """The letters-only word channel ``channel`` subscribes to ("zqaaa", "zqaab", ...)."""
    letters = ""
    for _ in range(3):
        channel, r = divmod(channel, 26)
        letters = chr(ord("a") + r) + letters
    return "zq" + letters


def alerting(feed: int) -> int | None:
    """The channel whose word feed ``feed``'s items name, or None."""
    return (feed // ALERT_EVERY) % CHANNELS if feed % ALERT_EVERY == 0 else None


def story(n: int, channel: int | None) -> tuple[str, str]:
    """Headline and text of story ``n``: its names (a town, a person, a company) and most of its words
    made up for it alone, so that no two stories share a name and the story detector keeps each apart."""
    town, person, firm = (made_up(n * 8 + k).capitalize() for k in range(3))
    thing, place, act = (made_up(n * 8 + k, 3) for k in range(3, 6))
    tag = f" The {word(channel)} desk is following it." if channel is not None else ""
    title = f"Scale story {n:07d}: {town} council approves {thing} plan"
    text = (
        f"The council of {town} approved the {thing} plan on Tuesday after a long debate. "
        f"Mayor {person} said work at the {place} site would start in spring, with {firm} as contractor. "
        f"Residents asked for {act} measures before the first phase.{tag}"
    )
    return title, text


def feed_body(index: int, published: datetime) -> bytes:
    channel = alerting(index)
    entries = []
    for j in range(ITEMS):
        n = index * ITEMS + j
        title, text = story(n, channel)
        when = format_datetime(published - timedelta(minutes=j), usegmt=True)
        entries.append(
            f"<item><title>{title}</title><link>https://news{index % 50}.example/{index}/{n}</link>"
            f"<guid>s{n}</guid><pubDate>{when}</pubDate><description>{text}</description></item>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Feed {index}</title>'
        f"<link>https://news{index % 50}.example/</link><description>Scale bench feed</description>"
        + "".join(entries)
        + "</channel></rss>"
    ).encode()


def expected_alerts(feeds: int) -> int:
    return ITEMS * sum(1 for i in range(feeds) if alerting(i) is not None)


# ---- the feed server, in its own process ---------------------------------------------------------


def serve_feeds(port_queue: multiprocessing.Queue[int], feeds: int) -> None:
    """/feed/<i> for each feed, its requests counted; GET /stats, POST /reset (a new run)."""
    hits = [0] * feeds
    first = {"at": 0.0, "last_new_at": 0.0}
    published = datetime.now(UTC) - timedelta(minutes=5)

    async def feed(request: web.Request) -> web.Response:
        index = int(request.match_info["index"])
        if not 0 <= index < feeds:
            return web.Response(status=404)
        now = time.time()
        if not first["at"]:
            first["at"] = now
        if not hits[index]:
            first["last_new_at"] = now
        hits[index] += 1
        return web.Response(body=feed_body(index, published), content_type="application/rss+xml")

    async def stats(request: web.Request) -> web.Response:
        fetched = sum(1 for h in hits if h)
        return web.json_response(
            {
                "requests": sum(hits),
                "fetched": fetched,
                "most": max(hits),
                "first_at": first["at"],
                "last_new_at": first["last_new_at"],
            }
        )

    async def reset(request: web.Request) -> web.Response:
        hits[:] = [0] * feeds
        first.update(at=0.0, last_new_at=0.0)
        return web.Response(text="ok")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{index}", feed)
        app.router.add_get("/stats", stats)
        app.router.add_post("/reset", reset)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0, backlog=2048).start()
        port_queue.put(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


def start_feed_server(feeds: int) -> tuple[multiprocessing.Process, str]:
    queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    process = multiprocessing.Process(target=serve_feeds, args=(queue, feeds), daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{queue.get(timeout=30)}"


async def feed_stats(session: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    async with session.get(base + "/stats") as resp:
        result: dict[str, Any] = await resp.json()
        return result


# ---- the chat server -----------------------------------------------------------------------------


class CountingSlack(FakeSlack):
    """The tests' fake Slack, counting the messages of each bench story and noting when (``time.time()``)
    the last came."""

    def __init__(self) -> None:
        super().__init__()
        self.alerts: dict[int, int] = {}
        self.last_at = 0.0
        self.other = 0

    async def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        result = await super()._post_message(args)
        if match := TITLE.search(str(args.get("text", ""))):
            n = int(match.group(1))
            self.alerts[n] = self.alerts.get(n, 0) + 1
            self.last_at = time.time()
        else:
            self.other += 1
        return result

    def delivered(self) -> int:
        return sum(self.alerts.values())

    def duplicates(self) -> int:
        return sum(c - 1 for c in self.alerts.values() if c > 1)


# ---- the workers ---------------------------------------------------------------------------------

CONCURRENCY = 100
"""polling.concurrency and polling.per_host in the bench's config (defaults 20 and 2): every feed here
is on one host, 127.0.0.1, where per_host 2 would allow two fetches at a time."""


def write_config(folder: Path, store: str, slack: FakeSlack) -> Path:
    subs = "".join(
        f"  - query: {word(c)}\n    platform: slack\n    channel: C{c:05d}\n" for c in range(CHANNELS)
    )
    where = f"url: {store}" if store.startswith("postgresql://") else f"path: {store}"
    path = folder / "config.yaml"
    path.write_text(
        f"store:\n  {where}\n"
        "feeds: []\n"
        f"subscriptions:\n{subs}"
        f"polling:\n  concurrency: {CONCURRENCY}\n  per_host: {CONCURRENCY}\n  timeout: 60s\n"
        "extraction:\n  enabled: false\n"
        "safety:\n  allow_hosts: ['127.0.0.1']\n"
        "web:\n  enabled: false\n"
        "delivery:\n  channel_rate: 0\n"
        "platforms:\n  console:\n    enabled: false\n"
        f"  slack:\n    enabled: true\n    api_base: {slack.api_base}\n"
        "logging:\n  level: INFO\n  format: json\n",
        encoding="utf-8",
    )
    return path


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_cpu_with_children(pid: int) -> float:
    """CPU seconds of a process and of its children that have exited (a PostgreSQL server's backends)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def log_lines(path: Path, needle: str) -> list[dict[str, Any]]:
    """The worker's JSON log lines whose message contains ``needle``."""
    found = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if needle in str(record.get("message", record.get("msg", ""))):
            found.append(record)
    return found

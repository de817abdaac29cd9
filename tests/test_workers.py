"""Three workers (``python -m bot run``, each its own process) sharing one PostgreSQL database, as the
README's compose file deploys them: 2,000 loopback feeds, requests counted at the feed server, alerts
counted at the fake Slack. Each feed is fetched once per interval however many workers run, no alert is
posted twice, a SIGKILLed worker's work is finished by the others, and a subscription added through one
worker matches on another within seconds. Every wait is a safety net, never a speed check."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import asyncpg
import pytest
from aiohttp import web

from tests.conftest import REPO, write_config
from tests.fake_slack import FakeSlack
from tests.postgres import Cluster
from tests.test_faults import ENV, Bot, free_port, slack_alerts

FEEDS = 2000
DESKS = ("amber", "basalt", "cobalt", "dune", "ember", "fjord", "garnet", "harbor", "indigo", "jasper")
"""Each feed's items carry one desk word; each desk is a subscription of its own Slack channel, so the
alerts of a round spread over ten channels that the workers claim between them."""
SIGNING_SECRET = "workers-signing-secret"
INTERVAL = 25.0
SAFETY = 120.0


@dataclass
class FeedFarm:
    """``/f/N``: feed N, one item a round (round 1: history, recorded quietly; each later round adds one
    new item). Every request is counted by path."""

    round: int = 1
    hits: Counter[str] = field(default_factory=Counter)

    def item(self, feed: int, round_: int) -> str:
        serial = zlib.crc32(f"{feed}-{round_}".encode())
        desk = DESKS[feed % len(DESKS)]
        published = format_datetime(datetime.now(UTC))
        return (
            f"<item><title>{desk.title()} bulletin {serial} from the summit</title>"
            f"<link>https://wire.example/{feed}/{round_}</link><guid>{feed}-{round_}</guid>"
            f"<pubDate>{published}</pubDate><description>{desk.title()} desk session {serial}: delegates "
            f"met for round {serial} and agreed on item {serial}.</description></item>"
        )

    async def handle(self, request: web.Request) -> web.Response:
        self.hits[request.path] += 1
        feed = int(request.match_info["n"])
        items = "".join(self.item(feed, r) for r in range(self.round, 0, -1))
        channel = f"<channel><title>Feed {feed}</title>{items}</channel>"
        body = f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'
        return web.Response(body=body.encode(), content_type="application/rss+xml")

    def fetched(self) -> Counter[int]:
        """How often each feed was fetched (the feeds never fetched are absent)."""
        return Counter({int(p.rsplit("/", 1)[1]): n for p, n in self.hits.items() if p.startswith("/f/")})


@pytest.fixture
async def farm() -> AsyncIterator[tuple[FeedFarm, str]]:
    farm = FeedFarm()
    app = web.Application()
    app.router.add_get("/f/{n}", farm.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield farm, f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


def worker_config(tmp_path: Path, name: str, url: str, slack: FakeSlack, port: int) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    subs = "".join(
        f"  - query: {desk}\n    platform: slack\n    channel: C0{desk.upper()}\n" for desk in DESKS
    )
    extra = (
        f"  slack:\n    enabled: true\n    mode: http\n    api_base: {slack.api_base}\n"
        f"web:\n  enabled: true\n  port: {port}\n"
        f"polling:\n  interval: {INTERVAL:g}s\n  concurrency: 20\n  per_host: 20\n"
        "delivery:\n  retry_base: 1s\n  retry_max: 2s\n  channel_rate: 0\n"
        "extraction:\n  enabled: false\nlogging:\n  level: INFO\n  format: json\n"
    )
    config = write_config(folder, extra, feeds="  []\n", subs=subs)
    text = config.read_text(encoding="utf-8")
    path_line = next(line for line in text.splitlines() if line.startswith("  path: "))
    config.write_text(text.replace(path_line, f"  url: {url}\n  lease: 10s"), encoding="utf-8")
    return config


async def until(predicate: Callable[[], bool], what: str, bots: list[Bot]) -> None:
    deadline = time.monotonic() + SAFETY
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"not within {SAFETY:.0f}s: {what}\n" + "\n".join(b.logs(1500) for b in bots)
            )
        await asyncio.sleep(0.1)


@pytest.mark.timeout(400)
async def test_three_workers_share_the_feeds_and_alerts_and_finish_a_killed_workers_work(
    tmp_path: Path, pg_cluster: Cluster, farm: tuple[FeedFarm, str], slack: FakeSlack
) -> None:
    feeds, base = farm
    url = pg_cluster.database()
    opml = tmp_path / "feeds.opml"
    outlines = "".join(f'<outline type="rss" text="Feed {n}" xmlUrl="{base}/f/{n}"/>' for n in range(FEEDS))
    opml.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>', "utf-8")
    env = {**ENV, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    bots = []
    for n in range(3):
        port = free_port()
        config = worker_config(tmp_path, f"w{n + 1}", url, slack, port)
        bots.append(Bot(config, port, tmp_path / f"w{n + 1}" / "bot", env))
    imported = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "feeds", "import", str(opml), "--config", str(bots[0].config),
        cwd=REPO, env={**os.environ, **env}, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, errors = await imported.communicate()
    assert imported.returncode == 0, errors.decode()
    try:
        await asyncio.gather(*(b.start() for b in bots))

        # Round 1: every feed fetched once, its items recorded as history (a new feed never floods).
        await until(lambda: len(feeds.fetched()) == FEEDS, "every feed fetched", bots)
        await asyncio.sleep(2)
        assert set(feeds.fetched().values()) == {1}, "a feed was fetched twice within its interval"
        assert slack_alerts(slack) == []

        # A subscription added through worker 1 matches an article worker 3 takes in.
        status, _ = await slack.post_command_http(
            f"{bots[0].url}/slack/events", SIGNING_SECRET, "subscribe Vilnius", channel="C0VILNIUS"
        )
        assert status == 200 and (await slack.wait_response())["text"].startswith("Subscribed.")
        await asyncio.sleep(1.5)
        pushed = {
            "id": "vilnius-1",
            "title": "Summit in Vilnius agrees on air defence",
            "text": "Leaders meeting in Vilnius agreed on a common air defence plan for the Baltic states.",
            "url": "https://wire.example/vilnius",
            "source": "Wire",
        }
        await bots[2].push([pushed])
        await until(
            lambda: any(t.startswith("Summit in Vilnius") for _, t in slack_alerts(slack, "C0VILNIUS")),
            "the Vilnius alert",
            bots,
        )

        # Round 2: a new item in every feed. One worker is killed while the round is under way.
        feeds.round = 2
        await until(lambda: sum(feeds.fetched().values()) >= FEEDS + 300, "round 2 under way", bots)
        await bots[1].kill()
        await until(lambda: min(feeds.fetched().values()) >= 2, "every feed fetched in round 2", bots)
        await until(
            lambda: len({a for a, t in slack_alerts(slack) if "bulletin" in t}) == FEEDS,
            "an alert for every new item",
            bots,
        )
        await asyncio.sleep(2)
        posted = Counter(alert_id for alert_id, title in slack_alerts(slack) if "bulletin" in title)
        assert len(posted) == FEEDS and set(posted.values()) == {1}, posted.most_common(3)
        per_channel = Counter(m.channel for m in slack.messages if "bulletin" in str(m.blocks[0]))
        assert per_channel == {f"C0{d.upper()}": FEEDS // len(DESKS) for d in DESKS}
        # Only the feeds the killed worker held when it died may have been fetched again in round 2.
        again = [n for n, hits in feeds.fetched().items() if hits > 2]
        assert len(again) <= 500, f"{len(again)} feeds fetched more than once in round 2"
        for survivor in (bots[0], bots[2]):
            assert survivor.proc is not None and survivor.proc.returncode is None

        # SIGTERM in the middle of round 3: what each worker holds goes back at once, not when its lease
        # runs out.
        feeds.round = 3
        await until(lambda: sum(feeds.fetched().values()) >= 2 * FEEDS + 600, "round 3 under way", bots)
        await asyncio.gather(bots[0].stop(), bots[2].stop())
        db = await asyncpg.connect(url)
        try:
            now = time.time()
            assert await db.fetchval("SELECT count(*) FROM leases WHERE until > $1", now) == 0
            assert await db.fetchval("SELECT count(*) FROM feeds WHERE claimed_until > $1", now) == 0
        finally:
            await db.close()
    finally:
        for b in bots:
            await b.stop()

"""Fault tests: the bot as its own process (``python -m bot run CONFIG``) against the fake Slack and the
fake Discord on 127.0.0.1, articles pushed to its signed ``POST /articles``, faults injected in the
fakes (or by SIGKILL), and what each fake stored counted per alert id: Slack's ``newsbot_alert``
metadata, Discord's enforced nonce. Retry timings are shortened (``delivery.retry_base: 1s``,
``retry_max: 2s``) and flood control is off, so each test takes seconds; every wait is a generous
safety net, never a speed check."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import socket
import sys
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.web.intake import SIGNATURE_HEADER, sign_body
from tests.conftest import REPO, write_config
from tests.fake_discord import CHANNEL_ID, GUILD_ID, TOKEN, FakeDiscord
from tests.fake_slack import FakeSlack

SECRET = "fault-test-webhook-secret"
DISCORD_TOKEN_ENV = "NEWSBOT_TEST_DISCORD_TOKEN"
ENV = {
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_APP_TOKEN": "xapp-test",
    "NEWSBOT_WEBHOOK_SECRET": SECRET,
    DISCORD_TOKEN_ENV: TOKEN,
    "PYTHONIOENCODING": "utf-8",
}
SLACK_CHANNELS = ("C0NEWS", "C0DESK")
SAFETY = 60.0
"""Seconds a test waits for what should happen well within it: a hung bot, not a slow one."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def article(n: int, tag: str = "a") -> dict[str, str]:
    """A pushed article every subscription (query NATO) matches, its own story: one item of a templated
    bulletin feed, told apart from the others by the serial number in its headline (bot/stories: a
    template filled twice with other headline numbers is two stories)."""
    serial = zlib.crc32(f"{tag}-{n}".encode())
    return {
        "id": f"{tag}-{n}",
        "title": f"NATO bulletin {serial} from the summit",
        "text": f"NATO allies met for session {serial}. Air defence topped the agenda in Vilnius on Tuesday.",
        "url": f"https://meridian-wire.example/{tag}/{n}",
        "source": "Meridian Wire",
        "published": datetime.now(UTC).isoformat(),
    }


@dataclass
class Bot:
    """``python -m bot run CONFIG`` as a user starts it; its log (JSON lines) goes to a file."""

    config: Path
    port: int
    log: Path
    env: dict[str, str]
    proc: asyncio.subprocess.Process | None = None
    starts: int = 0
    kills: int = 0
    _logs: list[Any] = field(default_factory=list)

    async def start(self) -> None:
        assert self.proc is None or self.proc.returncode is not None
        self.starts += 1
        out = self.log.with_suffix(f".{self.starts}.log").open("wb")
        self._logs.append(out)
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            str(self.config),
            cwd=REPO,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env={**os.environ, **self.env},
        )
        await self.wait_healthy()

    async def wait_healthy(self) -> None:
        """Until ``GET /healthz`` answers: the platforms are connected and pushes are taken."""
        deadline = time.monotonic() + SAFETY
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.returncode is not None:
                    raise AssertionError(f"the bot exited with {self.proc.returncode}:\n{self.logs()}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{self.url}/healthz") as r:
                        if r.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise AssertionError(f"the bot did not come up:\n{self.logs()}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def push(self, articles: list[dict[str, str]]) -> int:
        """POST the articles as a sender following the README does: a 503 (nothing stored) is sent
        again. Returns how many 503s it took."""
        body = json.dumps(articles).encode()
        headers = {SIGNATURE_HEADER: sign_body(body, SECRET), "Content-Type": "application/json"}
        refused = 0
        async with aiohttp.ClientSession() as session:
            while True:
                async with session.post(f"{self.url}/articles", data=body, headers=headers) as r:
                    answer = await r.json()
                    if r.status == 503 and refused < 20:
                        refused += 1
                        await asyncio.sleep(0.2)
                        continue
                    assert r.status == 200, answer
                    assert answer == {"accepted": len(articles), "new": len(articles)}, answer
                    return refused

    async def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, as a power cut or the OOM killer would."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        self.kills += 1

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end; safe to call on a bot already gone."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        for out in self._logs:
            out.close()
        self._logs.clear()

    def logs(self, tail: int = 4000) -> str:
        """The end of each run's log (``tail`` characters of each; 0: all of it)."""
        for out in self._logs:
            out.flush()
        return "\n".join(
            p.read_text(encoding="utf-8", errors="replace")[-tail:]
            for p in sorted(self.log.parent.glob(self.log.stem + ".*.log"))
        )


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def make_bot(tmp_path: Path) -> AsyncIterator[Callable[..., Bot]]:
    """Builds the bot's config and its process; every process is ended after the test, pass or fail."""
    bots: list[Bot] = []

    def make(slack: FakeSlack, discord: FakeDiscord | None = None, env: dict[str, str] | None = None) -> Bot:
        port = free_port()
        subs = "".join(f"  - query: NATO\n    platform: slack\n    channel: {c}\n" for c in SLACK_CHANNELS)
        platforms = f"  slack:\n    enabled: true\n    api_base: {slack.api_base}\n"
        if discord is not None:
            subs += f"  - query: NATO\n    platform: discord\n    channel: '{CHANNEL_ID}'\n"
            platforms += (
                f"  discord:\n    enabled: true\n    token_env: {DISCORD_TOKEN_ENV}\n"
                f"    api_base: {discord.api_base}\n    gateway_url: {discord.gateway_url}\n"
                f"    dev_guild_ids: ['{GUILD_ID}']\n"
            )
        extra = (
            f"{platforms}web:\n  enabled: true\n  port: {port}\n"
            "delivery:\n  retry_base: 1s\n  retry_max: 2s\n  channel_rate: 0\n"
            "extraction:\n  enabled: false\nlogging:\n  level: INFO\n  format: json\n"
        )
        config = write_config(tmp_path, extra, feeds="  []\n", subs=subs)
        bot = Bot(config, port, tmp_path / "bot", {**ENV, **(env or {})})
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        await bot.stop()


def slack_alerts(fake: FakeSlack, channel: str | None = None) -> list[tuple[str, str]]:
    """(alert id, headline) of every alert message the fake Slack stored, in posting order."""
    found = []
    for posted in fake.messages:
        metadata = posted.metadata or {}
        if metadata.get("event_type") != "newsbot_alert" or channel not in (None, posted.channel):
            continue
        found.append((str(metadata["event_payload"]["alert_id"]), str(posted.blocks[0]["text"]["text"])))
    return found


def discord_alerts(fake: FakeDiscord) -> list[tuple[str, str]]:
    """(nonce, embed title) of every message the fake Discord stored in the channel, in posting order."""
    return [(str(m.body.get("nonce")), str(m.body["embeds"][0]["title"])) for m in fake.channel_messages()]


async def until(predicate: Callable[[], bool], bot: Bot, what: str, safety: float = SAFETY) -> None:
    deadline = time.monotonic() + safety
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {safety:.0f}s: {what}\n{bot.logs()}")
        await asyncio.sleep(0.05)


def assert_once_each(alerts: list[tuple[str, str]], titles: list[str], where: str) -> None:
    """Every title posted exactly once, under one alert id each, and nothing else."""
    by_id = Counter(alert_id for alert_id, _ in alerts)
    doubled = {alert_id: n for alert_id, n in by_id.items() if n > 1}
    assert not doubled, f"{where}: posted more than once: {doubled}"
    by_title = Counter(title for _, title in alerts)
    assert sorted(by_title) == sorted(titles), f"{where}: missing {set(titles) - set(by_title)}"
    assert all(n == 1 for n in by_title.values()), f"{where}: {by_title.most_common(3)}"


# ---- 1. crash -----------------------------------------------------------------------------------

CRASH_ROUNDS = 20
CRASH_BURST = 10
"""20 SIGKILLs, 200 alerts to each of three channels: a burst pushed before each kill, so a kill lands
while the earlier bursts' backlog is still going out."""


@pytest.mark.timeout(240)
async def test_sigkill_while_delivering_then_restart_posts_every_alert_exactly_once(
    slack: FakeSlack, discord: FakeDiscord, make_bot: Callable[..., Bot]
) -> None:
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    slack.latency = discord.latency = 0.03  # each send's answer in flight for a while: a kill can land there
    bot = make_bot(slack, discord)
    titles: list[str] = []
    landed_mid_delivery = refused = 0
    try:
        for round_ in range(CRASH_ROUNDS):
            await bot.start()
            before = len(slack.messages) + len(discord.messages)

            def sending(before: int = before) -> bool:
                return len(slack.messages) + len(discord.messages) > before

            burst = [article(n, f"r{round_}") for n in range(CRASH_BURST)]
            titles += [a["title"] for a in burst]
            refused += await bot.push(burst)
            # The kill lands at a random moment once sending has begun (or a bit before).
            await until(sending, bot, "a first send")
            await asyncio.sleep(rng.uniform(0.0, 0.8))
            outstanding = len(titles) * 3 - len(slack_alerts(slack)) - len(discord_alerts(discord))
            landed_mid_delivery += outstanding > 0
            await bot.kill()
        await bot.start()
        expected = len(titles) * 3  # two Slack channels and one Discord channel
        await until(
            lambda: len(slack_alerts(slack)) + len(discord_alerts(discord)) >= expected,
            bot,
            f"{expected} alerts after {bot.kills} kills (seed {seed})",
        )
        await asyncio.sleep(1.0)  # time for a duplicate to show up, were one coming
    finally:
        await bot.stop()
    looked = bot.logs(0).count("was already posted")
    print(
        f"seed {seed}: {bot.kills} kills, {landed_mid_delivery} mid-delivery, {looked} found posted, "
        f"{refused} pushes refused"
    )
    assert landed_mid_delivery >= CRASH_ROUNDS // 2, f"kills mostly after delivery ended (seed {seed})"
    for channel in SLACK_CHANNELS:
        assert_once_each(slack_alerts(slack, channel), titles, f"slack {channel} (seed {seed})")
    assert_once_each(discord_alerts(discord), titles, f"discord (seed {seed})")


async def test_a_push_while_the_bot_delivers_is_never_refused(
    slack: FakeSlack, make_bot: Callable[..., Bot]
) -> None:
    """Nothing fails in the fakes, so nothing may be refused: pushes used to get 503 ("cannot start a
    transaction within a transaction") while alerts went out, until the store put a lock around its
    one connection. Found by the crash test, whose pushes (as the README says) send a refused push
    again."""
    bot = make_bot(slack)
    await bot.start()
    await bot.push([article(n, "backlog") for n in range(150)])
    refused = 0
    for n in range(60):  # one article a push while the 300 alerts of the backlog go out
        refused += await bot.push([article(n, "single")])
    await until(lambda: len(slack_alerts(slack)) >= 2 * 210, bot, "every alert")
    await bot.stop()
    print(f"{refused} of 60 pushes refused at least once")
    assert refused == 0, f"{refused} pushes were refused with 503 though the store works"


def titles_in(alerts: list[tuple[str, str]]) -> list[str]:
    return [title for _, title in alerts]


# ---- 2. outage ----------------------------------------------------------------------------------

OUTAGE = 60.0
"""Seconds the platforms fail every send, as long as the issue asks: some thirty of the shortened retries
(the production defaults would retry it about five times and give nothing up for a day)."""


async def test_an_outage_then_recovery_delivers_every_alert_once_in_each_channels_order(
    slack: FakeSlack, discord: FakeDiscord, make_bot: Callable[..., Bot]
) -> None:
    bot = make_bot(slack, discord)
    await bot.start()
    # C0NEWS: Slack stores each message, then answers 500 (the bot can't tell it was posted);
    # C0DESK: Slack answers internal_error before doing anything; Discord answers 503.
    slack.fail_for("chat.postMessage", "internal_error", OUTAGE, status=500, after=True, channel="C0NEWS")
    slack.fail_for("chat.postMessage", "internal_error", OUTAGE, channel="C0DESK")
    discord.outage("POST", f"/channels/{CHANNEL_ID}/messages", OUTAGE)
    pushed = [article(n, "outage") for n in range(20)]
    try:
        await bot.push(pushed)
        await until(
            lambda: len(slack_alerts(slack)) + len(discord_alerts(discord)) >= 3 * len(pushed),
            bot,
            "every alert after the outage",
            safety=OUTAGE + SAFETY,
        )
        await asyncio.sleep(1.0)  # time for a duplicate to show up, were one coming
    finally:
        await bot.stop()
    titles = [a["title"] for a in pushed]
    assert any(c.status == 500 for c in slack.called("chat.postMessage")), "no outage was seen"
    assert any(r.status == 503 for r in discord.calls("POST", "/messages")), "no outage was seen"
    for channel in SLACK_CHANNELS:
        assert_once_each(slack_alerts(slack, channel), titles, f"slack {channel}")
        assert titles_in(slack_alerts(slack, channel)) == titles, f"slack {channel}: order"
    assert_once_each(discord_alerts(discord), titles, "discord")
    assert titles_in(discord_alerts(discord)) == titles, "discord: order"


# ---- 3. 429 storm -------------------------------------------------------------------------------


async def test_a_429_storm_is_honoured_no_request_goes_before_its_retry_after(
    slack: FakeSlack, discord: FakeDiscord, make_bot: Callable[..., Bot]
) -> None:
    bot = make_bot(slack, discord)
    await bot.start()
    # Slack limits chat.postMessage per channel: three 429s in a row in one, two in the other.
    for channel, seconds, times in (("C0NEWS", 2, 3), ("C0DESK", 1, 2)):
        slack.fail(
            "chat.postMessage",
            "ratelimited",
            status=429,
            headers={"Retry-After": str(seconds)},
            times=times,
            channel=channel,
        )
    # Discord: a short limit discord.py waits out inside the send, then one longer than the bot's 5 s
    # that comes back to the outbox with its retry_after.
    discord.rate_limit("POST", f"/channels/{CHANNEL_ID}/messages", 1.5)
    discord.rate_limit("POST", f"/channels/{CHANNEL_ID}/messages", 6.0)
    pushed = [article(n, "storm") for n in range(10)]
    try:
        await bot.push(pushed)
        await until(
            lambda: len(slack_alerts(slack)) + len(discord_alerts(discord)) >= 3 * len(pushed),
            bot,
            "every alert after the 429s",
        )
    finally:
        await bot.stop()
    titles = [a["title"] for a in pushed]
    limited = 0
    for channel, retry_after in (("C0NEWS", 2.0), ("C0DESK", 1.0)):
        sends = [c for c in slack.called("chat.postMessage") if c.args.get("channel") == channel]
        for answered, following in itertools.pairwise(sends):
            if answered.status == 429:
                limited += 1
                early = answered.at + retry_after - following.at
                assert early <= 0.01, f"slack {channel}: sent {early:.2f}s before Retry-After"
        assert_once_each(slack_alerts(slack, channel), titles, f"slack {channel}")
        assert titles_in(slack_alerts(slack, channel)) == titles, f"slack {channel}: order"
    assert limited == 5
    posts = discord.calls("POST", f"/channels/{CHANNEL_ID}/messages")
    waits = iter((1.5, 6.0))
    for refused, then in itertools.pairwise(posts):
        if refused.status == 429:
            wait = next(waits)
            early = refused.at + wait - then.at
            assert early <= 0.01, f"discord: sent {early:.2f}s before retry_after {wait}"
    assert next(waits, None) is None, "the fake's 429s were not all answered"
    assert_once_each(discord_alerts(discord), titles, "discord")
    assert titles_in(discord_alerts(discord)) == titles, "discord: order"


# ---- 4. refused token ---------------------------------------------------------------------------

REFUSED = 3.0
"""Seconds both platforms refuse the bot's token. The worker tries a refused platform again after
TOKEN_RETRY's first wait (60 s, jittered to 48-72 s), so this test takes about a minute."""


@pytest.mark.timeout(180)
async def test_a_token_refused_for_a_while_then_accepted_loses_nothing(
    slack: FakeSlack, discord: FakeDiscord, make_bot: Callable[..., Bot]
) -> None:
    bot = make_bot(slack, discord)
    await bot.start()
    slack.fail_for("chat.postMessage", "token_revoked", REFUSED)
    discord.revoke_token()  # REST answers 401; the live gateway session is left as it is
    pushed = [article(n, "token") for n in range(10)]
    try:
        await bot.push(pushed)
        await until(
            lambda: (
                any(c.status == 401 for c in discord.calls("POST", "/messages"))
                and bool(slack.called("chat.postMessage"))
            ),
            bot,
            "the refusals",
        )
        await asyncio.sleep(REFUSED)
        discord.token_revoked = False  # the token works again (Slack's refusal ran out by itself)
        await until(
            lambda: len(slack_alerts(slack)) + len(discord_alerts(discord)) >= 3 * len(pushed),
            bot,
            "every alert once the token works",
            safety=120.0,
        )
        await asyncio.sleep(1.0)
    finally:
        await bot.stop()
    titles = [a["title"] for a in pushed]
    for channel in SLACK_CHANNELS:
        assert_once_each(slack_alerts(slack, channel), titles, f"slack {channel}")
        assert titles_in(slack_alerts(slack, channel)) == titles, f"slack {channel}: order"
    assert_once_each(discord_alerts(discord), titles, "discord")
    assert titles_in(discord_alerts(discord)) == titles, "discord: order"
    assert "refused the bot's token" in bot.logs(0)


# ---- 5. a send that raises ----------------------------------------------------------------------


async def test_an_alert_whose_send_raises_is_set_aside_and_every_other_alert_goes_out(
    slack: FakeSlack, discord: FakeDiscord, make_bot: Callable[..., Bot]
) -> None:
    """Both fakes answer one article's sends with a 200 that holds nothing a message needs, so the real
    notifiers raise (KeyError in the Slack notifier, in discord.py's Message on Discord): not an
    answer they know, a bug the send trips over. That alert is logged with its traceback once, tried a
    few times, set aside; the rest of its channel, and every other channel, is delivered in order."""
    bot = make_bot(slack, discord)
    await bot.start()
    pushed = [article(n, "raise") for n in range(12)]
    poison = pushed[3]["title"]
    slack.garbled.add(poison)
    discord.garbled.add(poison)
    try:
        await bot.push(pushed)
        titles = [a["title"] for a in pushed if a["title"] != poison]
        await until(
            lambda: len(slack_alerts(slack)) + len(discord_alerts(discord)) >= 3 * len(titles),
            bot,
            "every other alert",
        )
        await until(lambda: bot.logs(0).count("failed for good") >= 3, bot, "the bad alert set aside")
        await asyncio.sleep(1.0)
    finally:
        await bot.stop()
    for channel in SLACK_CHANNELS:
        assert_once_each(slack_alerts(slack, channel), titles, f"slack {channel}")
        assert titles_in(slack_alerts(slack, channel)) == titles, f"slack {channel}: order"
    assert_once_each(discord_alerts(discord), titles, "discord")
    assert titles_in(discord_alerts(discord)) == titles, "discord: order"
    log = bot.logs(0)
    assert log.count("Traceback") == 3, log  # once per channel, not once per try
    assert "KeyError" in log
    assert bot.proc is not None and bot.proc.returncode == 0, "the bot did not stop cleanly"

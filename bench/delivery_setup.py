"""What the latency part of bench/delivery.py sets up: the channel words and the pushed articles, the
fakes that note when each message arrived, the bot's config and its process."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.fake_discord import GUILD_ID, TOKEN, FakeDiscord, text_channel_id
from tests.fake_slack import FakeSlack

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-webhook-secret"
DISCORD_TOKEN_ENV = "NEWSBOT_BENCH_DISCORD_TOKEN"
TITLE = re.compile(r"Bench story (\d{6})")


# ---- data ----------------------------------------------------------------------------------------


def word(i: int) -> str:
    """A made-up letters-only word per channel ("zqaaa", "zqaab", ...): one channel a platform matches it."""
    letters = ""
    for _ in range(3):
        i, r = divmod(i, 26)
        letters = chr(ord("a") + r) + letters
    return "zq" + letters


def article_body(n: int, words: list[str]) -> dict[str, Any]:
    named = " and ".join(words)
    sentences = [
        f"Officials in {named} said on Tuesday that talks over energy prices would resume next week.",
        "The ministers met for six hours and agreed a statement on supply and storage before the winter.",
        f"Analysts said the agreement on {named} was narrower than expected but that markets rose anyway.",
        "Households have seen bills double over two years, and several governments face elections soon.",
        "A second round of negotiations is planned for the spring, with industry groups invited to attend.",
        "Opposition parties said the deal did not go far enough and called for a cap on wholesale prices.",
    ]
    return {
        "id": f"bench-{n:06d}",
        "title": f"Bench story {n:06d}: {named} ministers agree energy statement",
        "text": " ".join(sentences),
        "url": f"https://wire.example/bench/{n}",
        "source": "Bench Wire",
        "published": datetime.now(UTC).isoformat(),
    }


# ---- the fakes, with arrival times ---------------------------------------------------------------


class Arrivals:
    """When each bench message reached a fake (perf_counter, this process), by article number."""

    def __init__(self) -> None:
        self.stored: dict[int, list[float]] = {}
        self.arrived = asyncio.Event()

    def note(self, text: str) -> None:
        if match := TITLE.search(text):
            self.stored.setdefault(int(match.group(1)), []).append(time.perf_counter())
            self.arrived.set()

    def count(self, numbers: range) -> int:
        return sum(len(self.stored.get(n, ())) for n in numbers)

    def times(self, numbers: range | dict[int, float]) -> list[float]:
        return [t for n in numbers for t in self.stored.get(n, ())]


class TimedSlack(FakeSlack):
    """The tests' fake Slack, noting when each bench message was stored."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals = Arrivals()

    async def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        result = await super()._post_message(args)
        self.arrivals.note(str(args.get("text", "")))
        return result


class TimedDiscord(FakeDiscord):
    """The tests' fake Discord with ``channels`` more text channels, noting when each bench message was
    stored (its embed's title names the story)."""

    def __init__(self, channels: int) -> None:
        super().__init__(text_channels=channels)
        self.arrivals = Arrivals()

    async def _create_message(self, request: web.Request) -> web.Response:
        response = await super()._create_message(request)
        if response.status == 200:
            embeds = (await request.json()).get("embeds") or [{}]  # the body is read already: cached
            self.arrivals.note(str(embeds[0].get("title", "")))
        return response


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_config(folder: Path, slack: FakeSlack, discord: FakeDiscord, port: int, channels: int) -> Path:
    """Each channel word subscribed once in a Slack channel and once in a Discord channel."""
    subs = "".join(
        f"  - query: {word(i)}\n    platform: slack\n    channel: C{i:05d}\n"
        f"  - query: {word(i)}\n    platform: discord\n    channel: '{text_channel_id(i)}'\n"
        for i in range(channels)
    )
    path = folder / "config.yaml"
    path.write_text(
        f"store:\n  path: {folder / 'bot.db'}\n"
        "feeds: []\n"
        f"subscriptions:\n{subs}"
        "extraction:\n  enabled: false\n"
        f"web:\n  enabled: true\n  host: 127.0.0.1\n  port: {port}\n"
        "delivery:\n  channel_rate: 0\n"
        "platforms:\n  console:\n    enabled: false\n"
        f"  slack:\n    enabled: true\n    api_base: {slack.api_base}\n"
        f"  discord:\n    enabled: true\n    token_env: {DISCORD_TOKEN_ENV}\n"
        f"    api_base: {discord.api_base}\n    gateway_url: {discord.gateway_url}\n"
        f"    dev_guild_ids: ['{GUILD_ID}']\n"
        "logging:\n  level: INFO\n  format: json\n",
        encoding="utf-8",
    )
    return path


async def start_bot(folder: Path, config: Path, profile: Path | None) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "NEWSBOT_WEBHOOK_SECRET": SECRET,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_APP_TOKEN": "xapp-bench",
        DISCORD_TOKEN_ENV: TOKEN,
    }
    return await spawn_bot(config, env, folder / "bot.log", profile)


async def spawn_bot(
    config: Path, env: dict[str, str], log: Path, profile: Path | None = None
) -> asyncio.subprocess.Process:
    """``python -m bot run CONFIG`` from the repository, its output into ``log``, under cProfile (into
    ``profile``) if given."""
    cprofile = ["-m", "cProfile", "-o", str(profile)] if profile else []
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            *cprofile,
            "-m",
            "bot",
            "run",
            str(config),
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=out,
        )


def tail(path: Path, chars: int = 0) -> str:
    text = path.read_text(errors="replace")
    return text[-chars:] if chars else text


async def ready(
    session: aiohttp.ClientSession,
    base: str,
    slack: FakeSlack,
    discord: FakeDiscord,
    bot: asyncio.subprocess.Process,
    log: Path,
) -> None:
    """Until the bot answers /healthz with both platforms connected."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if bot.returncode is not None:
            raise RuntimeError(f"the bot exited with {bot.returncode}: {tail(log, 2000)}")
        try:
            async with session.get(base + "/healthz") as resp:
                if resp.status == 200 and slack.connections_opened and discord.connected.is_set():
                    await slack.wait_connected()
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the bot did not answer /healthz with Slack and Discord connected within 60 s")

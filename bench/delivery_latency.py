"""Push -> posted latency through the real bot process, on the fake Slack and the fake Discord at once
(the first part of bench/delivery.py, which describes it and prints what :func:`latency` returns)."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from delivery_setup import (
    SECRET,
    Arrivals,
    TimedDiscord,
    TimedSlack,
    article_body,
    free_port,
    ready,
    start_bot,
    tail,
    word,
    write_config,
)

from tests.fake_discord import CHANNEL_ID, TOKEN, FakeDiscord
from tests.fake_slack import FakeSlack

WARMUP = 20
IDLE_SECONDS = 3.0
PLATFORMS = ("slack", "discord")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


# ---- pushing, and the floors ---------------------------------------------------------------------


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


ANSWERED: dict[int, float] = {}
"""When POST /articles answered 200, by article number: push -> answered is intake, the rest delivery."""
RETRIES: list[int] = []
"""One entry per POST /articles answered 503 (the store refused; the README says send it again)."""


async def push(session: aiohttp.ClientSession, url: str, n: int, words: list[str]) -> float:
    """POST one article, again after a 503 as the README asks; returns when the first try started."""
    body = json.dumps(article_body(n, words)).encode()
    headers = {"X-Newsbot-Signature": sign(body), "Content-Type": "application/json"}
    started = time.perf_counter()
    for _ in range(50):
        async with session.post(url, data=body, headers=headers) as resp:
            answer = await resp.text()
            if resp.status == 200:
                ANSWERED[n] = time.perf_counter()
                return started
            if resp.status != 503:
                raise RuntimeError(f"POST /articles answered {resp.status}: {answer}")
        RETRIES.append(n)
        await asyncio.sleep(0.005)
    raise RuntimeError(f"POST /articles answered 503 fifty times for article {n}: {answer}")


async def floor(
    session: aiohttp.ClientSession, url: str, payload: dict[str, Any], auth: str, count: int
) -> list[float]:
    """One bare POST at a time to a fake: the cost of the last hop alone, in ms."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        async with session.post(url, json=payload, headers={"Authorization": auth}) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"floor POST {url} answered {resp.status}")
        times.append((time.perf_counter() - started) * 1000)
    return times


async def floors(
    session: aiohttp.ClientSession, slack: FakeSlack, discord: FakeDiscord, count: int
) -> dict[str, list[float]]:
    """Bare ``chat.postMessage`` to the fake Slack; bare Create Message, with the bot token, to the fake
    Discord (a channel no subscription names)."""
    return {
        "slack": await floor(
            session,
            slack.api_base + "chat.postMessage",
            {"channel": "C-floor", "text": "floor", "blocks": []},
            "Bearer xoxb-bench",
            count,
        ),
        "discord": await floor(
            session,
            f"{discord.api_base}/channels/{CHANNEL_ID}/messages",
            {"content": "floor", "embeds": []},
            f"Bot {TOKEN}",
            count,
        ),
    }


async def wait_for(arrivals: list[Arrivals], numbers: range, expected: int, within: float) -> None:
    """Until each of ``arrivals`` has ``expected`` messages of ``numbers``, or ``within`` seconds."""
    deadline = time.monotonic() + within
    for each in arrivals:
        while each.count(numbers) < expected and time.monotonic() < deadline:
            each.arrived.clear()
            try:
                await asyncio.wait_for(each.arrived.wait(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---- the run -------------------------------------------------------------------------------------


@dataclass
class Phase:
    """One phase (paced or burst) on one platform."""

    floor_ms: list[float]
    """Bare posts to this platform's fake, one at a time, just before the phase."""
    latency_ms: list[float]
    """Push -> posted, one entry per alert posted."""
    after_ms: list[float]
    """POST /articles answered -> posted."""
    missing: int
    alerts_per_s: float
    """Alerts posted from the phase's first push to its last post on this platform."""


@dataclass
class LatencyResult:
    paced: dict[str, Phase]
    burst: dict[str, Phase]
    paced_intake_ms: list[float]
    burst_alerts_per_s: float
    burst_pushes_per_s: float
    bot_cpu_s: float = 0.0
    idle_cpu: float = 0.0
    paced_503: int = 0
    burst_503: int = 0
    notes: list[str] = field(default_factory=list)


def phase(
    arrivals: Arrivals, pushed: dict[int, float], expected: int, start: float, floor_ms: list[float]
) -> Phase:
    stored = arrivals.times(pushed)
    return Phase(
        floor_ms=floor_ms,
        latency_ms=[(t - pushed[n]) * 1000 for n in pushed for t in arrivals.stored.get(n, ())],
        after_ms=[(t - ANSWERED[n]) * 1000 for n in pushed for t in arrivals.stored.get(n, ())],
        missing=expected - len(stored),
        alerts_per_s=len(stored) / (max(stored) - start) if stored else 0.0,
    )


async def latency(args: argparse.Namespace) -> LatencyResult:
    slack, discord = TimedSlack(), TimedDiscord(args.channels)
    await slack.start()
    await discord.start()
    arrivals = {"slack": slack.arrivals, "discord": discord.arrivals}
    folder = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    port = free_port()
    config = write_config(folder, slack, discord, port, args.channels)
    log_path = folder / "bot.log"
    bot = await start_bot(folder, config, args.profile)
    base = f"http://127.0.0.1:{port}"
    fanout = max(1, min(args.fanout, args.channels))

    def words(n: int) -> list[str]:
        return [word((n * fanout + k) % args.channels) for k in range(fanout)]

    try:
        connector = aiohttp.TCPConnector(limit=max(8, args.concurrency))
        async with aiohttp.ClientSession(connector=connector) as session:
            await ready(session, base, slack, discord, bot, log_path)

            warm = range(0, WARMUP)
            for n in warm:
                await push(session, base + "/articles", n, words(n))
            await wait_for(list(arrivals.values()), warm, WARMUP * fanout, 30)

            idle_start = proc_cpu(bot.pid)
            await asyncio.sleep(IDLE_SECONDS)
            idle_cpu = (proc_cpu(bot.pid) - idle_start) / IDLE_SECONDS
            paced_floors = await floors(session, slack, discord, args.floor)
            cpu_before = proc_cpu(bot.pid)
            paced = range(WARMUP, WARMUP + args.articles)
            pushed: dict[int, float] = {}
            interval = 1.0 / args.rate if args.rate > 0 else 0.0
            start = time.perf_counter()
            for i, n in enumerate(paced):
                if interval:
                    delay = start + i * interval - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                pushed[n] = await push(session, base + "/articles", n, words(n))
            await wait_for(list(arrivals.values()), paced, len(paced) * fanout, 60)
            cpu_paced = proc_cpu(bot.pid) - cpu_before

            burst_floors = await floors(session, slack, discord, args.floor)
            cpu_before = proc_cpu(bot.pid)
            burst = range(paced.stop, paced.stop + args.burst)
            burst_pushed: dict[int, float] = {}
            queue = iter(burst)

            async def pusher() -> None:
                for n in queue:
                    burst_pushed[n] = await push(session, base + "/articles", n, words(n))

            burst_start = time.perf_counter()
            await asyncio.gather(*(pusher() for _ in range(args.concurrency)))
            pushes_done = time.perf_counter()
            await wait_for(list(arrivals.values()), burst, len(burst) * fanout, 120)
            bot_cpu = cpu_paced + proc_cpu(bot.pid) - cpu_before
    except BaseException:
        sys.stderr.write(tail(log_path, 3000))
        raise
    finally:
        bot.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(bot.wait(), 15)
        except TimeoutError:
            bot.kill()
            await bot.wait()
        await slack.stop()
        await discord.close()
    errors = [
        line
        for line in tail(log_path).splitlines()
        if '"level": "error"' in line and "pushed articles not stored" not in line
    ]
    shutil.rmtree(folder, ignore_errors=True)
    every = [t for a in arrivals.values() for t in a.times(burst)]
    result = LatencyResult(
        paced={p: phase(arrivals[p], pushed, len(paced) * fanout, start, paced_floors[p]) for p in PLATFORMS},
        burst={
            p: phase(arrivals[p], burst_pushed, len(burst) * fanout, burst_start, burst_floors[p])
            for p in PLATFORMS
        },
        paced_intake_ms=[(ANSWERED[n] - pushed[n]) * 1000 for n in pushed],
        burst_alerts_per_s=len(every) / (max(every) - burst_start) if every else 0.0,
        burst_pushes_per_s=len(burst) / (pushes_done - burst_start) if len(burst) else 0.0,
        bot_cpu_s=bot_cpu,
        idle_cpu=idle_cpu,
        paced_503=sum(1 for n in RETRIES if n in paced),
        burst_503=sum(1 for n in RETRIES if n in burst),
    )
    if errors:
        result.notes.append(f"{len(errors)} ERROR lines in the bot's log, first: {errors[0][:300]}")
    return result

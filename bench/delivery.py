"""Delivery: push-to-posted latency through the real bot, and how fast the outbox drains a backlog.

1. Latency. The bot runs as its own process (``python -m bot run CONFIG``) with the web server on a free
   127.0.0.1 port, ``NEWSBOT_WEBHOOK_SECRET`` set, Slack in Socket Mode pointed at the fake Slack of
   tests/fake_slack.py (run in this process, which records when it stored each message), the extractive
   summariser, ``delivery.channel_rate: 0`` and ``--channels`` (100) channels each subscribed to a word
   of its own. Discord is not measured: tests/fake_discord.py knows three channels, one of them
   postable, so it cannot stand for 100. ``--articles`` (1,000) articles are pushed through signed
   ``POST /articles``, one request per article, paced at ``--rate`` (20/s); each names ``--fanout`` (1)
   channels' words, so it makes that many alerts. Latency is from just before the POST to the moment
   the fake stored the message. Then ``--burst`` (1,000) more are pushed as fast as ``--concurrency``
   (4) requests in flight allow: alerts per second sustained from the first push to the last message.
   Floor, same run, same fake: bare ``chat.postMessage`` POSTs with aiohttp, one at a time.
2. Backlog drain. A store filled directly (``record_processed([], alerts, now)``) with N pending alerts
   over 1,000 channels, drained in this process by the bot's DeliveryWorker (built as bot/app.py does,
   batch and retry policy from the config defaults, ``channel_rate: 0``). With a notifier that records
   and returns at once (the worker and the store alone) at each ``--backlog`` size; with the real
   SlackNotifier against the fake Slack in a helper process at each ``--real-backlog`` size. Rate over
   the whole drain, and over its first 1,000 sends (the rate while the backlog is still full).

    python bench/delivery.py [--articles 1000] [--rate 20] [--burst 1000] [--backlog 1000,100000]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

try:
    import aiohttp
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.config import DeliveryConfig
    from bot.core.models import Alert, ChannelRef, MessageRef
    from bot.delivery.notify import NotifierRegistry
    from bot.delivery.worker import DeliveryWorker, RetryPolicy
    from bot.matching import default_aliases
    from bot.processing.subscriptions import SubscriptionBook
    from bot.store import SqliteStore
    from handlers.slack.notifier import SlackNotifier
    from tests.fake_slack import FakeSlack
    from tests.store_support import alert
except ImportError as exc:  # e.g. run outside the venv, or without the tests folder
    print(f"delivery bench: cannot import {exc.name} (run `make test` first, from a full checkout)")
    sys.exit(2)

SECRET = "bench-webhook-secret"
TITLE = re.compile(r"Bench story (\d{6})")
WARMUP = 20
IDLE_SECONDS = 3.0
DRAIN_CHANNELS = 1000
TARGET_P50_MS = 50.0
TARGET_P99_MS = 250.0


# ---- data ----------------------------------------------------------------------------------------


def word(i: int) -> str:
    """A made-up letters-only word per channel ("zqaaa", "zqaab", ...): one channel matches it."""
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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


# ---- the fake, with arrival times ----------------------------------------------------------------


class TimedSlack(FakeSlack):
    """The tests' fake Slack, noting when each bench message was stored (perf_counter, this process)."""

    def __init__(self) -> None:
        super().__init__()
        self.stored: dict[int, list[float]] = {}
        self.arrived = asyncio.Event()

    async def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        result = await super()._post_message(args)
        if match := TITLE.search(str(args.get("text", ""))):
            self.stored.setdefault(int(match.group(1)), []).append(time.perf_counter())
            self.arrived.set()
        return result

    def count(self, numbers: range) -> int:
        return sum(len(self.stored.get(n, ())) for n in numbers)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_config(folder: Path, fake: FakeSlack, port: int, channels: int) -> Path:
    subs = "".join(
        f"  - query: {word(i)}\n    platform: slack\n    channel: C{i:05d}\n" for i in range(channels)
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
        f"  slack:\n    enabled: true\n    api_base: {fake.api_base}\n"
        "logging:\n  level: INFO\n  format: json\n",
        encoding="utf-8",
    )
    return path


# ---- 1. latency through the real bot -------------------------------------------------------------


@dataclass
class LatencyResult:
    floor_ms: list[float]
    paced_ms: list[float]
    paced_intake_ms: list[float]
    paced_after_ms: list[float]
    paced_missing: int
    burst_ms: list[float]
    burst_missing: int
    burst_alerts_per_s: float
    burst_pushes_per_s: float
    paced_span_s: float
    bot_cpu_s: float = 0.0
    idle_cpu: float = 0.0
    paced_503: int = 0
    burst_503: int = 0
    notes: list[str] = field(default_factory=list)


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


async def floor(session: aiohttp.ClientSession, api_base: str, count: int) -> list[float]:
    """One bare chat.postMessage at a time to the same fake: the cost of the last hop alone."""
    times = []
    payload = {"channel": "C-floor", "text": "floor", "blocks": []}
    for _ in range(count):
        started = time.perf_counter()
        async with session.post(
            api_base + "chat.postMessage", json=payload, headers={"Authorization": "Bearer xoxb-bench"}
        ) as resp:
            await resp.read()
        times.append((time.perf_counter() - started) * 1000)
    return times


async def wait_for(fake: TimedSlack, numbers: range, expected: int, within: float) -> None:
    deadline = time.monotonic() + within
    while fake.count(numbers) < expected and time.monotonic() < deadline:
        fake.arrived.clear()
        try:
            await asyncio.wait_for(fake.arrived.wait(), max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            break


def split(fake: TimedSlack, pushed: dict[int, float]) -> tuple[list[float], list[float]]:
    """Push -> 200 (intake: match, summarise, store) and 200 -> posted (wake, outbox, Slack)."""
    intake = [(ANSWERED[n] - pushed[n]) * 1000 for n in pushed]
    after = [(t - ANSWERED[n]) * 1000 for n in pushed for t in fake.stored.get(n, ())]
    return intake, after


def latencies(fake: TimedSlack, pushed: dict[int, float]) -> list[float]:
    return [(t - pushed[n]) * 1000 for n in pushed for t in fake.stored.get(n, ())]


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def latency(args: argparse.Namespace) -> LatencyResult:
    fake = TimedSlack()
    await fake.start()
    folder = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    port = free_port()
    config = write_config(folder, fake, port, args.channels)
    env = {
        **os.environ,
        "NEWSBOT_WEBHOOK_SECRET": SECRET,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_APP_TOKEN": "xapp-bench",
    }
    log_path = folder / "bot.log"
    with log_path.open("wb") as log:
        profile = ["-m", "cProfile", "-o", str(args.profile)] if args.profile else []
        bot = await asyncio.create_subprocess_exec(
            sys.executable,
            *profile,
            "-m",
            "bot",
            "run",
            str(config),
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=log,
        )
    base = f"http://127.0.0.1:{port}"
    fanout = max(1, min(args.fanout, args.channels))

    def words(n: int) -> list[str]:
        return [word((n * fanout + k) % args.channels) for k in range(fanout)]

    try:
        connector = aiohttp.TCPConnector(limit=max(8, args.concurrency))
        async with aiohttp.ClientSession(connector=connector) as session:
            await ready(session, base, fake, bot, log_path)
            floor_ms = await floor(session, fake.api_base, args.floor)

            warm = range(0, WARMUP)
            for n in warm:
                await push(session, base + "/articles", n, words(n))
            await wait_for(fake, warm, WARMUP * fanout, 30)

            idle_start = proc_cpu(bot.pid)
            await asyncio.sleep(IDLE_SECONDS)
            idle_cpu = (proc_cpu(bot.pid) - idle_start) / IDLE_SECONDS
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
            await wait_for(fake, paced, len(paced) * fanout, 60)
            paced_ms = latencies(fake, pushed)
            paced_intake, paced_after = split(fake, pushed)
            paced_last = max((max(fake.stored[n]) for n in pushed if n in fake.stored), default=start)
            paced_span = paced_last - start

            burst = range(paced.stop, paced.stop + args.burst)
            burst_pushed: dict[int, float] = {}
            queue = iter(burst)

            async def pusher() -> None:
                for n in queue:
                    burst_pushed[n] = await push(session, base + "/articles", n, words(n))

            burst_start = time.perf_counter()
            await asyncio.gather(*(pusher() for _ in range(args.concurrency)))
            pushes_done = time.perf_counter()
            await wait_for(fake, burst, len(burst) * fanout, 120)
            burst_ms = latencies(fake, burst_pushed)
            stored = [t for n in burst for t in fake.stored.get(n, ())]
            burst_span = (max(stored) - burst_start) if stored else float("nan")
            bot_cpu = proc_cpu(bot.pid) - cpu_before
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
        await fake.stop()
    errors = [
        line
        for line in tail(log_path).splitlines()
        if '"level": "error"' in line and "pushed articles not stored" not in line
    ]
    shutil.rmtree(folder, ignore_errors=True)
    result = LatencyResult(
        floor_ms=floor_ms,
        paced_ms=paced_ms,
        paced_intake_ms=paced_intake,
        paced_after_ms=paced_after,
        paced_missing=len(paced) * fanout - len(paced_ms),
        burst_ms=burst_ms,
        burst_missing=len(burst) * fanout - len(burst_ms),
        burst_alerts_per_s=len(stored) / burst_span if stored else 0.0,
        burst_pushes_per_s=len(burst) / (pushes_done - burst_start) if len(burst) else 0.0,
        paced_span_s=paced_span,
        bot_cpu_s=bot_cpu,
        idle_cpu=idle_cpu,
        paced_503=sum(1 for n in RETRIES if n in paced),
        burst_503=sum(1 for n in RETRIES if n in burst),
    )
    if errors:
        result.notes.append(f"{len(errors)} ERROR lines in the bot's log, first: {errors[0][:300]}")
    return result


def tail(path: Path, chars: int = 0) -> str:
    text = path.read_text(errors="replace")
    return text[-chars:] if chars else text


async def ready(
    session: aiohttp.ClientSession, base: str, fake: FakeSlack, bot: asyncio.subprocess.Process, log: Path
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if bot.returncode is not None:
            raise RuntimeError(f"the bot exited with {bot.returncode}: {tail(log, 2000)}")
        try:
            async with session.get(base + "/healthz") as resp:
                if resp.status == 200 and fake.connections_opened:
                    await fake.wait_connected()
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the bot did not answer /healthz within 60 s")


# ---- 2. backlog drain ----------------------------------------------------------------------------

DRAIN_SUMMARY = "Summary of the story in a sentence or two, as the extractive summariser writes it."


def drain_alert(i: int) -> Alert:
    """One story per alert, the channels taken in turn."""
    channel = ChannelRef("slack", f"C{i % DRAIN_CHANNELS:05d}", "T0TEAM")
    return alert(f"s{i}", channel, summary=DRAIN_SUMMARY)


class RecordingNotifier:
    """Takes every alert at once: what is left is the worker and the store."""

    platform = "slack"

    def __init__(self) -> None:
        self.sent: list[float] = []

    async def send(self, alert: Alert, *, retry: bool = False) -> MessageRef:
        self.sent.append(time.perf_counter())
        return MessageRef(
            platform="slack", channel_id=alert.channel.channel_id, message_id=str(len(self.sent))
        )

    async def edit(self, ref: MessageRef, alert: Alert) -> None:
        return None


class TimedSlackNotifier(SlackNotifier):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[float] = []

    async def send(self, alert: Alert, *, retry: bool = False) -> MessageRef:
        ref = await super().send(alert, retry=retry)
        self.sent.append(time.perf_counter())
        return ref


@dataclass
class DrainResult:
    kind: str
    pending: int
    fill_s: float
    drain_s: float
    sent: int
    first_1k_per_s: float

    @property
    def per_s(self) -> float:
        return self.sent / self.drain_s if self.drain_s else 0.0


async def drain(pending: int, api_base: str | None) -> DrainResult:
    folder = Path(tempfile.mkdtemp(prefix="bench-drain-"))
    store = await SqliteStore.open(folder / "drain.db")
    try:
        fill_start = time.perf_counter()
        now = time.time() - 1
        for start in range(0, pending, 5000):
            alerts = [drain_alert(i) for i in range(start, min(pending, start + 5000))]
            await store.record_processed([], alerts, now)
        fill_s = time.perf_counter() - fill_start

        notifier: RecordingNotifier | TimedSlackNotifier
        client = None
        if api_base is None:
            notifier = RecordingNotifier()
        else:
            client = AsyncWebClient(token="xoxb-bench", base_url=api_base)
            notifier = TimedSlackNotifier(client, store, SubscriptionBook(default_aliases()))
        registry = NotifierRegistry()
        registry.register(notifier)
        config = DeliveryConfig()
        worker = DeliveryWorker(
            store,
            registry,
            RetryPolicy(give_up_after=config.give_up_after, base=config.retry_base, cap=config.retry_max),
            batch=config.batch,
            channel_rate=0,
            paced={"slack"},
        )
        started = time.perf_counter()
        report = await worker.deliver_due()
        drain_s = time.perf_counter() - started
        if client is not None and client.session is not None:
            await client.session.close()
    finally:
        await store.close()
        shutil.rmtree(folder, ignore_errors=True)
    sent = notifier.sent
    head = min(1000, len(sent))
    first = head / (sent[head - 1] - started) if head else 0.0
    kind = "recording notifier" if api_base is None else "SlackNotifier -> fake Slack"
    return DrainResult(kind, pending, fill_s, drain_s, report.sent, first)


def serve_fake(ports: multiprocessing.Queue[int]) -> None:
    async def main() -> None:
        fake = FakeSlack()
        await fake.start()
        ports.put(fake.port)
        await asyncio.Event().wait()

    asyncio.run(main())


# ---- output --------------------------------------------------------------------------------------


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q):.1f} ms" if values else "–"


def report(args: argparse.Namespace, lat: LatencyResult | None, drains: list[DrainResult]) -> None:
    if lat is not None:
        fanout = max(1, min(args.fanout, args.channels))
        pace = f"paced at {args.rate:g}/s" if args.rate > 0 else "one at a time, unpaced"
        print(
            f"# Latency: real bot process, Slack (Socket Mode) against tests/fake_slack.py in the bench "
            f"process; {args.channels} channels, one word each; {args.articles} articles {pace}, "
            f"then {args.burst} with {args.concurrency} in flight; {fanout} alert(s) per article; "
            "channel_rate 0; extractive summaries\n"
        )
        print("| measure | bot: push -> posted | floor: bare chat.postMessage to the fake | target |")
        print("|---|---:|---:|---:|")
        print(f"| p50 ({pace}) | {ms(lat.paced_ms, 50)} | {ms(lat.floor_ms, 50)} | <= {TARGET_P50_MS:g} ms |")
        print(f"| p99 ({pace}) | {ms(lat.paced_ms, 99)} | {ms(lat.floor_ms, 99)} | <= {TARGET_P99_MS:g} ms |")
        print(
            f"| of which push -> 200 / 200 -> posted, p50 | {ms(lat.paced_intake_ms, 50)} / "
            f"{ms(lat.paced_after_ms, 50)} | | |"
        )
        print(f"| max ({pace}) | {ms(lat.paced_ms, 100)} | {ms(lat.floor_ms, 100)} | |")
        print(f"| p50 / p99 (burst) | {ms(lat.burst_ms, 50)} / {ms(lat.burst_ms, 99)} | | |")
        print(
            f"| sustained alerts/s (burst, first push to last post) | {lat.burst_alerts_per_s:.0f} "
            f"(pushes accepted {lat.burst_pushes_per_s:.0f}/s) | {1000 / percentile(lat.floor_ms, 50):.0f} "
            "(1 / floor p50) | |"
        )
        print(f"| alerts not posted (paced / burst) | {lat.paced_missing} / {lat.burst_missing} | | 0 |")
        print(
            f"| POST /articles answered 503, sent again (paced / burst) | {lat.paced_503} / {lat.burst_503} "
            "| | 0 |"
        )
        print(f"| bot CPU, paced + burst | {lat.bot_cpu_s:.1f} s | | |")
        print(f"| bot CPU while idle ({IDLE_SECONDS:g} s, nothing pushed) | {lat.idle_cpu * 100:.1f} % | | |")
        for note in lat.notes:
            print(f"\nnote: {note}")
        print()
    if drains:
        print(f"# Backlog drain: DeliveryWorker in-process, {DRAIN_CHANNELS} channels, channel_rate 0\n")
        print("| notifier | pending | fill | drain | alerts/s (whole drain) | alerts/s (first 1k sends) |")
        print("|---|---:|---:|---:|---:|---:|")
        for d in drains:
            print(
                f"| {d.kind} | {d.pending:,} | {d.fill_s:.1f} s | {d.drain_s:.1f} s | {d.per_s:,.0f} "
                f"| {d.first_1k_per_s:,.0f} |"
            )
        recording = [d for d in drains if d.kind == "recording notifier"]
        if len(recording) >= 2:
            small, large = recording[0], recording[-1]
            ratio = small.per_s / large.per_s if large.per_s else float("inf")
            print(
                f"\nrecording notifier: {small.pending:,} pending drains {ratio:.2f}x as fast as "
                f"{large.pending:,} (target: within 2x)"
            )


def sizes(text: str) -> list[int]:
    return [int(s.replace("_", "")) for s in text.split(",") if s.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000, help="paced pushes (default 1000)")
    parser.add_argument("--rate", type=float, default=20.0, help="pushes a second; 0: unpaced (default 20)")
    parser.add_argument("--burst", type=int, default=1000, help="pushes as fast as possible (default 1000)")
    parser.add_argument("--concurrency", type=int, default=4, help="burst requests in flight (default 4)")
    parser.add_argument("--channels", type=int, default=100, help="subscribed channels (default 100)")
    parser.add_argument("--fanout", type=int, default=1, help="channels each article matches (default 1)")
    parser.add_argument("--floor", type=int, default=1000, help="bare POSTs for the floor (default 1000)")
    parser.add_argument("--backlog", default="1000,100000", help="pending sizes, recording notifier")
    parser.add_argument("--real-backlog", default="1000", help="pending sizes, real SlackNotifier")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--profile", type=Path, help="run the bot under cProfile, its stats to this file")
    args = parser.parse_args()

    lat = None if args.skip_latency else asyncio.run(latency(args))
    drains = [asyncio.run(drain(n, None)) for n in sizes(args.backlog)]
    if real := sizes(args.real_backlog):
        ports: multiprocessing.Queue[int] = multiprocessing.Queue()
        server = multiprocessing.Process(target=serve_fake, args=(ports,), daemon=True)
        server.start()
        try:
            api_base = f"http://127.0.0.1:{ports.get(timeout=30)}/api/"
            drains += [asyncio.run(drain(n, api_base)) for n in real]
        finally:
            server.terminate()
            server.join()
    report(args, lat, drains)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How fast the outbox drains a backlog (the second part of bench/delivery.py, which describes it and
prints what :func:`drain` returns)."""

from __future__ import annotations

import asyncio
import multiprocessing
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

DRAIN_CHANNELS = 1000
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
            # One connection pool, as the Slack adapter gives its client (handlers/slack/adapter.py).
            client = AsyncWebClient(token="xoxb-bench", base_url=api_base, session=aiohttp.ClientSession())
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


def real_drains(sizes: list[int]) -> list[DrainResult]:
    """Drains through the real SlackNotifier, the fake Slack served by a helper process."""
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve_fake, args=(ports,), daemon=True)
    server.start()
    try:
        api_base = f"http://127.0.0.1:{ports.get(timeout=30)}/api/"
        return [asyncio.run(drain(n, api_base)) for n in sizes]
    finally:
        server.terminate()
        server.join()

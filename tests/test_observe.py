"""GET /metrics and GET /healthz as an operator meets them: the real app, its web server on 127.0.0.1,
a cycle over the bundled sample feeds delivering to the console, and a real HTTP client (and, for the
health check, the real ``newsbot health`` command)."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App
from bot.config import load_config
from bot.core.errors import DeliveryError
from bot.core.models import ChannelRef
from bot.delivery.notify import NotifierRegistry
from bot.delivery.worker import DeliveryWorker, RetryPolicy
from bot.observe.metrics import Metrics, share_by_platform
from bot.store import SqliteStore
from tests.conftest import REPO, write_config
from tests.store_support import alert
from tests.test_delivery import A, B, Clock, ScriptedNotifier

WEB = "web:\n  enabled: true\n  host: 127.0.0.1\n  port: {port}\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    bot = await App.build(load_config(write_config(tmp_path, WEB.format(port=free_port()))))
    await bot.start()
    try:
        yield bot
    finally:
        await bot.close()


async def get(app: App, path: str) -> tuple[int, str, str]:
    assert app.web is not None
    async with aiohttp.ClientSession() as http, http.get(app.web.url + path) as resp:
        return resp.status, resp.headers["Content-Type"], await resp.text()


async def health(app: App) -> tuple[int, dict[str, Any]]:
    assert app.web is not None
    async with aiohttp.ClientSession() as http, http.get(app.web.url + "/healthz") as resp:
        return resp.status, await resp.json()


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(app: App) -> Samples:
    status, content_type, text = await get(app, "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_a_cycle_from_the_feeds_to_the_console(
    app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    result = await app.run_cycle(force=True)
    printed = capsys.readouterr().out.count("━━━ ")
    assert result.ingest.new > 0 and result.delivery.sent == printed > 0
    samples = await scrape(app)
    assert value(samples, "newsbot_feed_fetches_total", outcome="ok") == 2
    assert value(samples, "newsbot_feed_fetches_total", outcome="failed") == 0
    assert value(samples, "newsbot_feed_fetch_seconds_count") == 2
    assert value(samples, "newsbot_articles_new_total") == result.ingest.new
    assert value(samples, "newsbot_articles_matched_total") == result.ingest.matched > 0
    assert value(samples, "newsbot_alerts_queued_total", platform="console") == result.ingest.queued
    assert value(samples, "newsbot_alerts_sent_total", platform="console") == printed
    assert value(samples, "newsbot_alert_delivery_seconds_count", platform="console") == printed
    assert value(samples, "newsbot_outbox_pending") == 0
    assert value(samples, "newsbot_outbox_oldest_due_age_seconds") == 0
    assert value(samples, "newsbot_store_up") == 1

    await app.run_cycle(force=True)  # the same files again: fetched, unchanged, nothing new
    again = await scrape(app)
    assert value(again, "newsbot_feed_fetches_total", outcome="unchanged") == 2
    assert value(again, "newsbot_articles_new_total") == result.ingest.new
    assert value(again, "newsbot_alerts_sent_total", platform="console") == printed


async def test_alerts_waiting_for_a_platform_show_as_outbox_depth_and_age(app: App) -> None:
    """Alerts for Discord, which this bot does not run, stay queued and due: the backlog an operator
    alerts on."""
    two_minutes_ago = time.time() - 120
    await app.store.queue_alerts(
        [alert(f"s{n}", ChannelRef("discord", "42", "g")) for n in range(3)], two_minutes_ago
    )
    samples = await scrape(app)
    assert value(samples, "newsbot_outbox_pending") == 3
    assert value(samples, "newsbot_outbox_oldest_due_age_seconds") >= 120


async def test_two_apps_in_one_process_count_apart(tmp_path: Path, app: App) -> None:
    (tmp_path / "other").mkdir()
    other = await App.build(load_config(write_config(tmp_path / "other", WEB.format(port=free_port()))))
    await other.start()
    try:
        await app.run_cycle(force=True)
        assert value(await scrape(app), "newsbot_feed_fetches_total", outcome="ok") == 2
        assert value(await scrape(other), "newsbot_feed_fetches_total", outcome="ok") == 0
    finally:
        await other.close()


async def test_healthz_is_ok_after_a_cycle_and_says_what_it_checked(app: App) -> None:
    await app.run_cycle(force=True)
    status, body = await health(app)
    assert status == 200
    assert body["status"] == "ok" and body["reasons"] == [] and body["store"] == "ok"
    assert body["platforms"] == {"console": "connected"}
    assert isinstance(body["last_cycle_age"], float) and isinstance(body["last_delivery_age"], float)
    assert body["cycle_limit"] == 3 * 900 + 60  # three default polling intervals and a minute


async def test_healthz_is_503_with_the_reason_when_the_store_is_closed(app: App) -> None:
    await app.run_cycle(force=True)
    await app.store.close()
    status, body = await health(app)
    assert status == 503 and body["status"] == "unhealthy"
    assert body["store"].startswith("unreachable: ") and body["reasons"] == [f"store {body['store']}"]
    samples = await scrape(app)  # /metrics still answers, and says the store is down
    assert value(samples, "newsbot_store_up") == 0


async def test_newsbot_health_prints_why_a_bot_whose_loop_stalled_is_unhealthy(tmp_path: Path) -> None:
    config = write_config(tmp_path, WEB.format(port=free_port()))
    bot = await App.build(load_config(config))
    await bot.start()
    try:
        await bot.run_cycle(force=True)
        bot.health.last_cycle_at = time.time() - 3600  # as if the loop had been stuck for an hour

        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "health", str(config), cwd=REPO, stderr=asyncio.subprocess.PIPE
        )
        _, err = await proc.communicate()
    finally:
        await bot.close()
    check = subprocess.CompletedProcess([], proc.returncode, "", err.decode())
    assert check.returncode == 1
    assert re.search(
        r"answered HTTP 503: the last poll cycle completed \d+s ago \(limit 2760s\)$", check.stderr
    )


async def test_a_port_in_use_is_a_clear_error_naming_the_settings(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path, WEB.format(port=port))
        check = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", str(config), cwd=REPO, stderr=asyncio.subprocess.PIPE
        )
        _, err = await check.communicate()
    assert check.returncode == 1
    assert err.decode().splitlines()[-1].startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert "(web.host, web.port; web.enabled: false turns it off)" in err.decode()


async def test_sends_that_fail_count_as_retried_or_failed_and_a_send_counts_its_wait(
    store: SqliteStore,
) -> None:
    """A real worker and store, a platform whose first send to A is refused for a while and whose
    send to B is refused for good."""
    clock = Clock()
    notifier = ScriptedNotifier(
        {"A": [DeliveryError("503")], "B": [DeliveryError("no access", retryable=False)]}
    )
    registry = NotifierRegistry()
    registry.register(notifier)
    metrics = Metrics()
    worker = DeliveryWorker(store, registry, RetryPolicy(base=1.0), clock=clock, metrics=metrics)
    await store.queue_alerts([alert("a1", A), alert("b1", B)], now=clock.now)
    await worker.deliver_due()
    clock.now += 90  # the retry is due; A's alert has waited a minute and a half since it was queued
    await worker.deliver_due()
    body, _ = await metrics.scrape(store, clock.now)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }
    assert value(samples, "newsbot_alerts_retried_total", platform="test") == 1
    assert value(samples, "newsbot_alerts_failed_total", platform="test") == 1
    assert value(samples, "newsbot_alerts_sent_total", platform="test") == 1
    assert value(samples, "newsbot_alert_delivery_seconds_bucket", platform="test", le="60.0") == 0
    assert value(samples, "newsbot_alert_delivery_seconds_bucket", platform="test", le="300.0") == 1


def test_alerts_queued_are_shared_by_platform_and_sum_to_what_the_store_queued() -> None:
    assert share_by_platform(["slack", "slack", "discord"], 3) == {"slack": 2, "discord": 1}
    assert share_by_platform(["slack", "slack", "slack"], 1) == {"slack": 1}  # one platform: exact
    shared = share_by_platform(["slack"] * 5 + ["discord"] * 2, 4)
    assert sum(shared.values()) == 4 and shared["slack"] >= shared["discord"]
    assert share_by_platform(["slack", "discord"], 0) == {}

"""Slack with several workers: two whole bots (Apps) on one PostgreSQL database, each with its own Socket
Mode connection to one fake Slack, which spreads the envelopes over them as Slack does. Every command is
answered once, by the worker it reached; a subscription made through one worker matches on the other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fake_slack import FakeSlack
from tests.fleet_support import Start, fleet, until
from tests.postgres import Cluster
from tests.test_slack import (
    CHANNEL,
    ENV,
    article,
    slack_server,  # noqa: F401 (the fixture fake)
)


def fleet_config(tmp_path: Path, fake: FakeSlack, url: str, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"store:\n  url: {url}\nfeeds: []\nsubscriptions: []\nsafety:\n  allow_hosts: ['127.0.0.1']\n"
        f"platforms:\n  slack:\n    enabled: true\n    api_base: {fake.api_base}\n    mode: socket\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def start_worker(
    tmp_path: Path, fake: FakeSlack, pg_cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Start]:
    """Starts a worker (``newsbot run``'s App) on the test's database; all are closed after the test."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    url = pg_cluster.database()
    async with fleet(lambda name: fleet_config(tmp_path, fake, url, name)) as start:
        yield start


async def test_each_worker_holds_a_connection_and_every_command_is_answered_once(
    start_worker: Start, fake: FakeSlack
) -> None:
    await start_worker("first")
    await start_worker("second")
    await fake.wait_connections(2)
    assert fake.open_connections == [1, 2]

    envelopes = [await fake.slash_command("list") for _ in range(10)]
    for envelope in envelopes:
        await fake.wait_ack(envelope)
    await fake.wait_response(10)

    assert all(len(fake.delivered_on[e]) == 1 for e in envelopes)  # none sent twice ...
    assert all(fake.acked_on[e] == fake.delivered_on[e] for e in envelopes)  # ... acked once, where it went
    assert sorted(ticket for e in envelopes for ticket in fake.acked_on[e]) == [1] * 5 + [2] * 5
    assert len(fake.responses) == 10
    assert all("no subscriptions" in r["text"] for r in fake.responses)


async def test_a_subscription_made_through_one_worker_alerts_from_the_other(
    start_worker: Start, fake: FakeSlack
) -> None:
    workers = {1: await start_worker("first")}
    await fake.wait_connections(1)
    workers[2] = await start_worker("second")
    await fake.wait_connections(2)

    envelope = await fake.slash_command("subscribe NATO")
    await fake.wait_ack(envelope)
    assert (await fake.wait_response())["text"].startswith("Subscribed. Watching for: NATO")
    (answered_by,) = fake.acked_on[envelope]
    other = workers[3 - answered_by]
    await until(lambda: len(other.book) == 1, within=2.0)  # the change log, followed

    assert await other.intake([article(1)]) == 1  # pushed to the worker that did not answer
    await asyncio.gather(*(w.delivery.deliver_due() for w in workers.values()))
    (posted,) = fake.messages
    assert posted.channel == CHANNEL and posted.blocks[0]["text"]["text"] == "NATO summit opens in Vilnius"

"""Discord with several workers: two whole bots (Apps) on one PostgreSQL database and one fake Discord.
Each gateway shard is held by one worker through its lease; a worker that dies leaves its shards to the
other once the lease runs out; a worker that loses a lease closes that shard's connection at once; every
worker sends alerts over REST, whether or not it holds a shard."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from handlers.discord.shards import lease_name
from tests.fake_discord import CHANNEL_ID, FORUM_CHANNEL_ID, GUILD_ID, TOKEN, FakeDiscord
from tests.fleet_support import Start, fleet, until
from tests.postgres import Cluster
from tests.test_discord import (
    TOKEN_ENV,
    adapter_of,
    article,
    discord_server,  # noqa: F401 (the fixture fake)
    text_of,
)

LEASE = 3.0
"""store.lease: a dead worker's shards are taken over within this (and a third of it, the next round)."""
SHARDS = 2
GUILD_SHARD = (int(GUILD_ID) >> 22) % SHARDS
"""The shard GUILD_ID's commands arrive on (Discord's formula); the other shard has no server here."""


def fleet_config(tmp_path: Path, fake: FakeDiscord, url: str, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"store:\n  url: {url}\n  lease: {LEASE:g}s\nfeeds: []\nsubscriptions: []\n"
        "safety:\n  allow_hosts: ['127.0.0.1']\n"
        "platforms:\n"
        f"  discord:\n    enabled: true\n    token_env: {TOKEN_ENV}\n    api_base: {fake.api_base}\n"
        f"    dev_guild_ids: ['{GUILD_ID}']\n    shards: {SHARDS}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def start_worker(
    tmp_path: Path, fake: FakeDiscord, pg_cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Start]:
    """Starts a worker (``newsbot run``'s App) on the test's database; all are closed after the test."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    url = pg_cluster.database()
    async with fleet(lambda name: fleet_config(tmp_path, fake, url, name)) as start:
        yield start


def held(app: App) -> set[int]:
    return set(adapter_of(app).shards.held())


def titles(fake: FakeDiscord, channel: str = CHANNEL_ID) -> list[str]:
    return sorted(m.body["embeds"][0]["title"] for m in fake.channel_messages(channel))


async def test_each_shard_has_one_gateway_and_a_dead_workers_shards_are_taken_over(
    start_worker: Start, fake: FakeDiscord
) -> None:
    first = await start_worker("first")
    second = await start_worker("second")

    assert held(first) == {0, 1} and held(second) == set()  # the first worker found them free
    assert sorted(fake.identified_shards()) == [0, 1]  # one IDENTIFY each, from the first worker
    assert [len(fake.live_sessions(shard)) for shard in range(SHARDS)] == [1, 1]

    reply = await fake.command("subscribe", {"query": "Ukraine"})
    assert text_of(reply).startswith("Subscribed. Watching for: ukraine")
    await until(lambda: len(second.book) == 1)  # the other worker follows the change log

    # Alerts queued by either worker reach the channel once, whichever sends them.
    await first.intake([article(1, "Ukraine asks allies for air defence")])
    await second.intake([article(2, "Ukraine grain corridor reopens")])
    await asyncio.gather(first.delivery.deliver_due(), second.delivery.deliver_due())
    await asyncio.gather(first.delivery.deliver_due(), second.delivery.deliver_due())
    assert titles(fake) == ["Ukraine asks allies for air defence", "Ukraine grain corridor reopens"]

    # The first worker dies: its connections go, its leases stay in the store until they run out.
    await adapter_of(first).stop()
    assert fake.live_sessions() == []
    await until(lambda: held(second) == {0, 1}, within=LEASE * 3)
    await until(lambda: len(fake.live_sessions(GUILD_SHARD)) == 1)

    listed = await fake.command("list")  # answered by the second worker's gateway
    assert "ukraine" in text_of(listed)
    assert sorted(fake.identified_shards()) == [0, 0, 1, 1]
    assert [len(fake.live_sessions(shard)) for shard in range(SHARDS)] == [1, 1]

    await second.intake([article(3, "Ukraine and allies sign a pact")])
    await second.delivery.deliver_due()
    assert titles(fake) == [
        "Ukraine and allies sign a pact",
        "Ukraine asks allies for air defence",
        "Ukraine grain corridor reopens",
    ]


async def test_a_worker_without_a_shard_posts_in_a_forum_as_a_post(
    start_worker: Start, fake: FakeDiscord
) -> None:
    """Its REST client has no gateway cache: it asks Discord what the channel is, once."""
    first = await start_worker("first")
    second = await start_worker("second")
    assert held(first) == {0, 1} and held(second) == set()
    await fake.command("subscribe", {"query": "NATO"}, channel=FORUM_CHANNEL_ID)
    await until(lambda: len(second.book) == 1)

    await second.intake([article(1, "NATO ministers meet in Brussels"), article(2, "NATO summit opens")])
    await second.delivery.deliver_due()

    assert sorted(t["name"] for t in fake.threads) == ["NATO ministers meet in Brussels", "NATO summit opens"]
    assert fake.channel_messages(FORUM_CHANNEL_ID) == []
    assert len(fake.calls("GET", f"/channels/{FORUM_CHANNEL_ID}")) == 1


async def test_a_worker_that_loses_a_shards_lease_closes_its_gateway_at_once(
    start_worker: Start, fake: FakeDiscord
) -> None:
    """It stalled past its lease and someone else took the shard: two gateways must never serve it."""
    first = await start_worker("first")
    second = await start_worker("second")
    now = time.time()
    taken = await first.store.take_lease(lease_name(GUILD_SHARD), "elsewhere", now + LEASE + 1, now + 60)
    assert taken  # as if the first worker's lease had run out

    await until(lambda: GUILD_SHARD not in held(first))
    await until(lambda: fake.live_sessions(GUILD_SHARD) == [])
    assert held(first) == {1 - GUILD_SHARD} and len(fake.live_sessions(1 - GUILD_SHARD)) == 1
    assert held(second) == set()  # "elsewhere" holds it now

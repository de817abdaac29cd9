"""One configuration of bench/scale.py (which describes the bench): a fresh store filled with the feeds,
``workers`` bot processes started on it, watched until every feed was fetched and every alert posted,
then measured and stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
from delivery_setup import spawn_bot
from scale_setup import (
    ITEMS,
    CountingSlack,
    expected_alerts,
    feed_stats,
    log_lines,
    peak_rss_mb,
    proc_cpu,
    proc_cpu_with_children,
    write_config,
)

from bot.store import open_store
from tests.postgres import Cluster

SETTLE = 2.0
"""Seconds watched after the last alert, for a late duplicate fetch or alert."""
STALLED = 60.0
"""Seconds without a feed fetched or an alert posted, once fetching began, after which a run is stuck."""
RESET_QUERY = "SELECT pg_advisory_unlock_all()"
"""How asyncpg's pool reset query (sent on every release) starts."""


@dataclass
class Run:
    label: str
    workers: int
    feeds: int
    expected: int
    wall_s: float = 0.0
    """From starting the workers to the later of the last new feed fetched and the last alert posted."""
    startup_s: float = 0.0
    """From starting the workers to the first feed request."""
    fetch_s: float = 0.0
    """From the first feed request to the last feed's first request (a worker fetches a batch of 500,
    processes it, then fetches the next: not a throughput on its own)."""
    cpu_s: list[float] = field(default_factory=list)
    """Each worker's CPU seconds, start-up included."""
    startup_cpu_s: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    db_cpu_s: float | None = None
    requests: int = 0
    fetched: int = 0
    most: int = 0
    delivered: int = 0
    duplicates: int = 0
    xacts: int | None = None
    statements: int | None = None
    resets: int | None = None
    top: list[tuple[int, str]] = field(default_factory=list)
    exits: list[int | None] = field(default_factory=list)
    errors: int = 0

    @property
    def busy_s(self) -> float:
        """From the first feed request until done: the cycle without the start-up."""
        return self.wall_s - self.startup_s


class Database:
    """The cluster's statistics around one run: transactions (pg_stat_database), statements
    (pg_stat_statements, loaded at the cluster's start) and the server's CPU (the postmaster with its
    exited backends)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])

    async def open(self) -> None:
        self.conn = await asyncpg.connect(self.cluster.url())
        await self.conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    async def close(self) -> None:
        await self.conn.close()

    async def xacts(self, name: str) -> int:
        await self.conn.execute("SELECT pg_stat_clear_snapshot()")
        value = await self.conn.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1", name
        )
        return int(value or 0)

    async def before(self, name: str) -> tuple[int, float]:
        await self.conn.execute("SELECT pg_stat_statements_reset()")
        return await self.xacts(name), proc_cpu_with_children(self.postmaster)

    async def after(self, run: Run, name: str, xacts: int, cpu: float) -> None:
        await asyncio.sleep(1.0)  # backends flush their transaction counts as they exit
        run.xacts = await self.xacts(name) - xacts
        run.db_cpu_s = proc_cpu_with_children(self.postmaster) - cpu
        rows = await self.conn.fetch(
            "SELECT calls, query FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database"
            " WHERE datname = $1) ORDER BY calls DESC",
            name,
        )
        # The reset query is one message of four statements, each counted: count it once.
        utility = ("CLOSE ALL", "UNLISTEN *", "RESET ALL")
        counted = [(int(r["calls"]), " ".join(r["query"].split())) for r in rows if r["query"] not in utility]
        run.statements = sum(c for c, _ in counted)
        run.resets = sum(c for c, q in counted if q.startswith(RESET_QUERY))
        run.top = counted[:10]


async def fill(location: str, base: str, feeds: int) -> None:
    """The feeds, added as ``newsbot feeds import`` would, each alerting on its first fetch (backfill)."""
    store = await open_store(location)
    try:
        for i in range(feeds):
            await store.upsert_feed(f"{base}/feed/{i}", f"Feed {i}", backfill=ITEMS)
    finally:
        await store.close()


async def start_worker(config: Path, log: Path, profile: Path | None = None) -> asyncio.subprocess.Process:
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_APP_TOKEN": "xapp-bench"}
    return await spawn_bot(config, env, log, profile)


async def run_one(
    label: str,
    workers: int,
    feeds: int,
    base: str,
    session: aiohttp.ClientSession,
    cluster: Cluster | None,
    limit_s: float,
    profile: Path | None = None,
) -> Run:
    run = Run(label, workers, feeds, expected_alerts(feeds))
    with tempfile.TemporaryDirectory(prefix="newsbot-scale-") as tmp:
        folder = Path(tmp)
        location = cluster.database() if cluster else str(folder / "bot.db")
        await fill(location, base, feeds)
        database = Database(cluster) if cluster else None
        name = location.rsplit("/", 1)[-1]
        if database:
            await database.open()
            xacts, db_cpu = await database.before(name)
        slack = CountingSlack()
        await slack.start()
        config = write_config(folder, location, slack)
        async with session.post(base + "/reset") as resp:
            await resp.read()
        logs = [folder / f"worker{k}.log" for k in range(workers)]
        started = time.time()
        procs = [await start_worker(config, log, profile if k == 0 else None) for k, log in enumerate(logs)]
        try:
            await watch(run, procs, session, base, slack, started, limit_s)
            for proc in procs:  # measured while they run: exited processes have no /proc entry
                run.cpu_s.append(proc_cpu(proc.pid))
                run.rss_mb.append(peak_rss_mb(proc.pid))
        finally:
            await stop(procs)
            run.exits = [p.returncode for p in procs]
            await slack.stop()
        stats = await feed_stats(session, base)
        run.requests, run.fetched, run.most = stats["requests"], stats["fetched"], stats["most"]
        run.delivered, run.duplicates = slack.delivered(), slack.duplicates()
        run.errors = sum(len(log_lines(log, "failed")) for log in logs)
        if database:
            await database.after(run, name, xacts, db_cpu)
            await database.close()
    return run


async def watch(
    run: Run,
    procs: list[asyncio.subprocess.Process],
    session: aiohttp.ClientSession,
    base: str,
    slack: CountingSlack,
    started: float,
    limit_s: float,
) -> None:
    """Until every feed was fetched and every alert posted (then :data:`SETTLE` seconds more)."""
    deadline = time.monotonic() + limit_s
    done_at = None
    progress, moved_at = (-1, -1), time.monotonic()
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.returncode is not None:
                raise RuntimeError(f"{run.label}: a worker exited with {proc.returncode}")
        stats = await feed_stats(session, base)
        if stats["first_at"] and not run.startup_cpu_s:
            run.startup_cpu_s = [proc_cpu(p.pid) for p in procs]
        if (stats["fetched"], slack.delivered()) != progress:
            progress, moved_at = (stats["fetched"], slack.delivered()), time.monotonic()
        elif stats["first_at"] and time.monotonic() - moved_at > STALLED:
            raise RuntimeError(
                f"{run.label}: stuck for {STALLED:g} s at {progress[0]} of {run.feeds} feeds fetched,"
                f" {progress[1]} of {run.expected} alerts posted (see the workers' logs)"
            )
        finished = stats["fetched"] >= run.feeds and slack.delivered() >= run.expected
        if finished and done_at is None:
            done_at = time.monotonic()
            run.startup_s = stats["first_at"] - started
            run.fetch_s = stats["last_new_at"] - stats["first_at"]
            run.wall_s = max(stats["last_new_at"], slack.last_at) - started
        if done_at is not None and time.monotonic() - done_at >= SETTLE:
            return
        await asyncio.sleep(0.1)
    stats = await feed_stats(session, base)
    raise RuntimeError(
        f"{run.label}: not done after {limit_s:g} s: {stats['fetched']} of {run.feeds} feeds fetched,"
        f" {slack.delivered()} of {run.expected} alerts posted"
    )


async def stop(procs: list[asyncio.subprocess.Process]) -> None:
    for proc in procs:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()

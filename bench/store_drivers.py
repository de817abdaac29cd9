"""PostgreSQL drivers: asyncpg (what bot/store/postgres uses) beside psycopg 3 (async), by measurement.

One throwaway cluster (tests/postgres.py), one database migrated by the store itself, 10,000 feeds and
10,000 articles in it; then the store's hot statements, each driver in turn, alternating over
``--rounds`` rounds (the median round is printed, so a noisy moment on the shared machine moves one
round, not the figure):

- ``pk``: ``SELECT * FROM feeds WHERE url = $1``, one row by primary key;
- ``unseen``: ``SELECT id FROM articles WHERE id = ANY($1)`` with 100 ids (half known), the pipeline's
  seen-check of a feed's items;
- ``insert``: 500 article rows in one transaction (``executemany``, ``ON CONFLICT DO NOTHING``), as
  ``record_processed`` writes a batch;
- ``claim``: the poller's ``UPDATE feeds … WHERE url IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING *``
  for 500 feeds (the same owner claims them again each time: the statement's cost, not contention);
- ``concurrent``: 50 tasks each running the ``pk`` query, at once.

asyncpg three ways: through ``asyncpg.create_pool`` with its default reset (``pool.fetch``: an acquire,
and a release that runs the pool's reset query, per statement; 50 connections for ``concurrent``); the
same pool with ``reset=`` a no-op, as the store opens it (asyncpg still rolls back a transaction left
open); and on connections
of its own (the driver alone). psycopg_pool is not installed in this venv, so psycopg uses one
``AsyncConnection`` for the serial statements and one per task for ``concurrent``: compare it with
asyncpg's own connections. psycopg prepares a statement after its fifth run (``prepare_threshold``,
default) and pipelines ``executemany``; asyncpg prepares on first use.

    python bench/store_drivers.py [--seconds 1.0] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

try:
    import asyncpg
    import psycopg

    from bot.store.postgres import PostgresStore
    from tests.postgres import Cluster, binaries
except ImportError as exc:
    print(f"store_drivers bench: cannot import {exc.name} (asyncpg and psycopg[binary] in the venv)")
    sys.exit(2)

ROWS = 10_000
TASKS = 50
OWNER = "bench"
ARTICLE_COLUMNS = "id, content_hash, title, url, source, feed_url, seen_at, text"
CLAIM = (
    "UPDATE feeds SET claimed_by={0}, claimed_until={1} WHERE url IN (SELECT url FROM feeds"
    " WHERE NOT paused AND next_fetch_at <= {2} AND (claimed_until <= {2} OR claimed_by={0})"
    " ORDER BY next_fetch_at, added_at, url LIMIT {3} FOR UPDATE SKIP LOCKED) RETURNING *"
)
Op = Callable[[int], Awaitable[Any]]


def feed_url(i: int) -> str:
    return f"https://news{i % 50}.example/feeds/{i}.rss"


def article(key: str) -> tuple[Any, ...]:
    text = "Officials said the talks would continue next week as prices rose across the region. " * 4
    return (key, "0" * 32, f"Story {key}", f"https://wire.example/{key}", "Bench", feed_url(0), 1.0, text)


async def fill(url: str) -> None:
    store = await PostgresStore.open(url)  # the store's own migrations: the same schema the bot has
    await store.close()
    conn = await asyncpg.connect(url)
    try:
        await conn.executemany(
            "INSERT INTO feeds (url, name, added_at) VALUES ($1, $2, $3)",
            [(feed_url(i), f"Feed {i}", float(i)) for i in range(ROWS)],
        )
        await conn.executemany(
            f"INSERT INTO articles ({ARTICLE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            [article(f"known-{i}") for i in range(ROWS)],
        )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def unseen_ids(n: int) -> list[str]:
    return [f"known-{(n * 50 + i) % ROWS}" if i % 2 else f"new-{n}-{i}" for i in range(100)]


async def skip_reset(conn: asyncpg.Connection[Any]) -> None:
    """A pool ``reset`` that sends nothing: asyncpg still rolls back a transaction left open."""


class AsyncpgOps:
    """asyncpg through a pool as the store uses it (``pooled``: ``pool.fetch``, an acquire and a release,
    which runs the pool's reset query, per statement), or on connections of its own (the driver alone)."""

    def __init__(self, pooled: bool, reset: bool = True) -> None:
        self.pooled = pooled
        self.reset = reset
        self.name = "asyncpg 0.32, one connection"
        if pooled:
            self.name = (
                "asyncpg, create_pool (its default reset)"
                if reset
                else "asyncpg, create_pool(reset=no-op), as the store"
            )

    async def open(self, url: str) -> None:
        if self.pooled:
            kwargs: dict[str, Any] = {} if self.reset else {"reset": skip_reset}
            self.pool = await asyncpg.create_pool(url, min_size=TASKS, max_size=TASKS, **kwargs)
        self.conn = await asyncpg.connect(url)
        self.conns = [] if self.pooled else [await asyncpg.connect(url) for _ in range(TASKS)]

    async def close(self) -> None:
        if self.pooled:
            await self.pool.close()
        for conn in [self.conn, *self.conns]:
            await conn.close()

    async def _fetch(self, sql: str, *params: Any, conn: asyncpg.Connection[Any] | None = None) -> Any:
        if self.pooled:
            return await self.pool.fetch(sql, *params)
        return await (conn or self.conn).fetch(sql, *params)

    async def pk(self, n: int, conn: Any = None) -> Any:
        return await self._fetch("SELECT * FROM feeds WHERE url = $1", feed_url(n % ROWS), conn=conn)

    async def unseen(self, n: int) -> Any:
        return await self._fetch("SELECT id FROM articles WHERE id = ANY($1::text[])", unseen_ids(n))

    async def insert(self, n: int) -> Any:
        placeholders = ", ".join(f"${i}" for i in range(1, 9))
        sql = f"INSERT INTO articles ({ARTICLE_COLUMNS}) VALUES ({placeholders}) ON CONFLICT DO NOTHING"
        rows = [article(f"a{int(self.pooled)}{int(self.reset)}-{n}-{i}") for i in range(500)]
        if self.pooled:
            async with self.pool.acquire() as pooled, pooled.transaction():
                await pooled.executemany(sql, rows)
        else:
            async with self.conn.transaction():
                await self.conn.executemany(sql, rows)

    async def claim(self, n: int) -> Any:
        now = time.time()
        return await self._fetch(CLAIM.format("$1", "$2", "$3", "$4"), OWNER, now + 300, now, 500)


class PsycopgOps:
    name = f"psycopg {psycopg.__version__}, one AsyncConnection"

    async def open(self, url: str) -> None:
        self.conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
        self.conns = [await psycopg.AsyncConnection.connect(url, autocommit=True) for _ in range(TASKS)]

    async def close(self) -> None:
        for conn in [self.conn, *self.conns]:
            await conn.close()

    async def _fetch(self, conn: psycopg.AsyncConnection[Any], sql: str, *params: Any) -> list[Any]:
        cursor = await conn.execute(sql, params)
        return await cursor.fetchall()

    async def pk(self, n: int, conn: Any = None) -> Any:
        return await self._fetch(conn or self.conn, "SELECT * FROM feeds WHERE url = %s", feed_url(n % ROWS))

    async def unseen(self, n: int) -> Any:
        return await self._fetch(self.conn, "SELECT id FROM articles WHERE id = ANY(%s)", unseen_ids(n))

    async def insert(self, n: int) -> Any:
        placeholders = ", ".join(["%s"] * 8)
        async with self.conn.transaction(), self.conn.cursor() as cursor:
            await cursor.executemany(
                f"INSERT INTO articles ({ARTICLE_COLUMNS}) VALUES ({placeholders}) ON CONFLICT DO NOTHING",
                [article(f"p-{n}-{i}") for i in range(500)],
            )

    async def claim(self, n: int) -> Any:  # named parameters: the owner and now appear twice
        now = time.time()
        cursor = await self.conn.execute(
            CLAIM.format("%(o)s", "%(u)s", "%(n)s", "%(l)s"), {"o": OWNER, "u": now + 300, "n": now, "l": 500}
        )
        return await cursor.fetchall()


async def timed(op: Op, seconds: float) -> float:
    """Operations a second, one after another, for about ``seconds`` (after a few warm-up runs)."""
    for n in range(10):
        await op(-n - 1)
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        await op(count)
        count += 1
    return count / elapsed


async def concurrent(ops: AsyncpgOps | PsycopgOps, seconds: float) -> float:
    """Queries a second with :data:`TASKS` tasks each running ``pk`` back to back."""
    deadline = time.perf_counter() + seconds
    counts = [0] * TASKS

    async def task(k: int) -> None:
        conn = ops.conns[k] if ops.conns else None  # the pool: each query acquires a connection of its own
        while time.perf_counter() < deadline:
            await ops.pk(k * 1000 + counts[k], conn)
            counts[k] += 1

    started = time.perf_counter()
    await asyncio.gather(*(task(k) for k in range(TASKS)))
    return sum(counts) / (time.perf_counter() - started)


MEASURES = ("pk", "unseen", "insert", "claim", "concurrent")
LABELS = {
    "pk": "SELECT one feed by primary key",
    "unseen": "unseen: id = ANY($1), 100 ids",
    "insert": "INSERT 500 articles, one transaction (executemany)",
    "claim": "claim 500 feeds: UPDATE … FOR UPDATE SKIP LOCKED … RETURNING *",
    "concurrent": f"{TASKS} tasks at once, SELECT by primary key (queries/s)",
}


async def measure(ops: AsyncpgOps | PsycopgOps, seconds: float) -> dict[str, float]:
    return {
        "pk": await timed(ops.pk, seconds),
        "unseen": await timed(ops.unseen, seconds),
        "insert": await timed(ops.insert, seconds),
        "claim": await timed(ops.claim, seconds),
        "concurrent": await concurrent(ops, seconds),
    }


async def run(url: str, seconds: float, rounds: int) -> tuple[list[str], dict[str, dict[str, list[float]]]]:
    await fill(url)
    drivers: list[AsyncpgOps | PsycopgOps] = [
        AsyncpgOps(pooled=True),
        AsyncpgOps(pooled=True, reset=False),
        AsyncpgOps(pooled=False),
        PsycopgOps(),
    ]
    for ops in drivers:
        await ops.open(url)
    results: dict[str, dict[str, list[float]]] = {d.name: {m: [] for m in MEASURES} for d in drivers}
    try:
        for r in range(rounds):
            for ops in drivers if r % 2 == 0 else drivers[::-1]:  # alternating the order too
                for key, value in (await measure(ops, seconds)).items():
                    results[ops.name][key].append(value)
    finally:
        for ops in drivers:
            await ops.close()
    return [d.name for d in drivers], results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="each measurement's length (default 1)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, drivers alternating (default 3)")
    args = parser.parse_args()
    folder = binaries()
    if folder is None:
        print("store_drivers bench: PostgreSQL is not installed (no initdb on PATH or /usr/lib/postgresql)")
        return 2
    cluster = Cluster(folder).start()
    try:
        names, results = asyncio.run(run(cluster.database(), args.seconds, args.rounds))
    finally:
        cluster.stop()
    pooled, no_reset, alone, other = names
    print(
        "# PostgreSQL drivers: the store's hot statements, one throwaway cluster on 127.0.0.1, "
        f"{ROWS:,} feeds and {ROWS:,}+ articles; median of {args.rounds} rounds of {args.seconds:g} s, "
        "drivers alternating\n"
    )
    print(
        f"| statement, ops/s | {pooled} | {no_reset} | {alone} | {other} "
        "| asyncpg / psycopg (one connection each) | asyncpg pool / one connection | pool, no reset / pool |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for key in MEASURES:
        p, n, a, o = (statistics.median(results[name][key]) for name in names)
        print(
            f"| {LABELS[key]} | {p:,.0f} | {n:,.0f} | {a:,.0f} | {o:,.0f} | {a / o:.2f}x | {p / a:.2f}x "
            f"| {n / p:.2f}x |"
        )
    print(
        "\nconcurrent: the pool and one connection a task both have 50 connections. The pool's release runs"
        " its reset query (pg_advisory_unlock_all, CLOSE ALL, UNLISTEN *, RESET ALL): one more round trip per"
        " pool.fetch, which the store makes for every statement outside a transaction."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

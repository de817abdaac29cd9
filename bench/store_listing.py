"""Listing every subscription at start (``list_subscriptions``, before the book loads them): the store's
read beside the read it replaced, by measurement.

One SQLite file in a temporary folder and, where PostgreSQL is installed, one throwaway cluster
(tests/postgres.py), each migrated by the store itself and filled with ``--size`` subscriptions (2,000
channels on two platforms, some paused, some in threads) in one ``executemany``. Then, alternating over
``--rounds`` rounds (the median is printed): ``list_subscriptions`` (its columns named in the ``SELECT``,
rows read by position, plain tuples in SQLite, one ``ChannelRef`` per channel), and the read before it
(``SELECT *``, rows read by column name through ``sqlite3.Row`` or ``asyncpg.Record``, one
``ChannelRef`` per row). Both must give equal lists, or the run fails.

Then start-up as the bot does it (``App._sync_config``), from the same SQLite file, each round a fresh
process (the collector at its defaults, as a starting bot has it): ``subscription_keys`` (ids and
queries), ``SubscriptionBook.load``, ``heap.settle``; alternating with the start-up before it:
``list_subscriptions`` (every subscription made), ``SubscriptionBook.add_many``, ``heap.settle``. Beside
it, the loaded book's memory in both ways (tracemalloc, one fresh process each: bytes per subscription),
and what the bot now does later instead: the first match of an article that hits ``--hits`` subscriptions
not read yet (``match_stored``'s ``subscriptions_by_id``; 147 is what an article hits at 100k plain
keywords in bench/matching_peers.py), median of ``--rounds`` in one process.

    python bench/store_listing.py [--size 100000] [--rounds 5] [--hits 147]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.core.models import Subscription  # noqa: E402
from bot.matching import default_aliases, heap  # noqa: E402
from bot.processing.subscriptions import SubscriptionBook  # noqa: E402
from bot.store.postgres import PostgresStore  # noqa: E402
from bot.store.rows import subscription_from_row  # noqa: E402
from bot.store.sqlite import SqliteStore  # noqa: E402
from tests.postgres import Cluster, binaries  # noqa: E402

COLUMNS = "platform, workspace, channel, query, raw_query, created_by, mention, mode, created_at, thread"
List = Callable[[], Awaitable[list[Subscription]]]


def rows(size: int) -> list[tuple[Any, ...]]:
    found = []
    for i in range(size):
        c = (i * 7919) % 2000
        platform = "slack" if c % 3 else "discord"
        found.append(
            (
                platform,
                f"T{c % 50}" if platform == "slack" else "",
                f"C{c}",
                f"word{i}",
                f"Word{i}",
                f"U{c}",
                "" if i % 7 else "@here",
                ("instant", "hourly", "daily")[i % 3],
                1.0e9 + i,
                i % 5 == 0,
            )
        )
    return found


async def sqlite_listers(path: str, size: int) -> tuple[List, List, Callable[[], Awaitable[None]]]:
    store = await SqliteStore.open(path)
    values = [(*r[:-1], int(r[-1])) for r in rows(size)]
    async with store._transaction("filling") as db:
        await db.executemany(f"INSERT INTO subscriptions ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", values)
        await db.execute("UPDATE subscriptions SET paused=1 WHERE id % 11 = 0")
        await db.execute("UPDATE subscriptions SET user_paused=1 WHERE id % 13 = 0")

    async def before() -> list[Subscription]:
        return [
            subscription_from_row(r) for r in await store._rows("SELECT * FROM subscriptions ORDER BY id")
        ]

    return store.list_subscriptions, before, store.close


async def postgres_listers(url: str, size: int) -> tuple[List, List, Callable[[], Awaitable[None]]]:
    store = await PostgresStore.open(url)
    async with store._transaction("filling") as db:
        marks = ", ".join(f"${n}" for n in range(1, 11))
        await db.executemany(f"INSERT INTO subscriptions ({COLUMNS}) VALUES ({marks})", rows(size))
        await db.execute("UPDATE subscriptions SET paused=true WHERE id % 11 = 0")
        await db.execute("UPDATE subscriptions SET user_paused=true WHERE id % 13 = 0")

    async def before() -> list[Subscription]:
        return [
            subscription_from_row(r) for r in await store._rows("SELECT * FROM subscriptions ORDER BY id")
        ]

    return store.list_subscriptions, before, store.close


async def measure(
    listers: Awaitable[tuple[List, List, Callable[[], Awaitable[None]]]], rounds: int
) -> tuple[float, float]:
    ours, before, close = await listers
    times: dict[str, list[float]] = {"ours": [], "before": []}
    try:
        for _ in range(rounds):
            found: dict[str, list[Subscription]] = {}
            for name, run in (("before", before), ("ours", ours)):
                start = time.perf_counter()
                found[name] = await run()
                times[name].append(time.perf_counter() - start)
            if found["ours"] != found["before"]:
                raise SystemExit("store_listing bench: list_subscriptions and the read before it differ")
    finally:
        await close()
    return statistics.median(times["ours"]), statistics.median(times["before"])


async def load_book(store: SqliteStore, now: bool) -> SubscriptionBook:
    """The book as the bot loads it at start (``now``: ids and queries) or as it did before (every
    subscription made, then filed)."""
    book = SubscriptionBook(default_aliases())
    if now:
        book.load(await store.subscription_keys())
    else:
        book.add_many(await store.list_subscriptions())
    heap.settle()
    return book


async def start_up(path: str, now: bool) -> float:
    """Seconds from an open store to a loaded book, as the bot starts (one run, in this process)."""
    store = await SqliteStore.open(path)
    try:
        start = time.perf_counter()
        await load_book(store, now)
        return time.perf_counter() - start
    finally:
        await store.close()


def book_bytes(path: str, now: bool) -> int:
    """The memory the loaded book holds (one run, in this process)."""
    from matching import traced_bytes  # this folder's: imported here, not by the timed start-ups

    with asyncio.Runner() as runner:
        store = runner.run(SqliteStore.open(path))
        try:
            return traced_bytes(lambda: runner.run(load_book(store, now)))
        finally:
            runner.run(store.close())


async def first_matches(path: str, size: int, hits: int, rounds: int) -> float:
    """Median seconds to read ``hits`` subscriptions not made yet, as the first match of an article that
    hits them does (``subscriptions_by_id``, ids spread over the table)."""
    store = await SqliteStore.open(path)
    try:
        times = []
        for n in range(rounds):
            ids = [1 + (n + i * (size // hits)) % size for i in range(hits)]
            start = time.perf_counter()
            found = await store.subscriptions_by_id(ids)
            times.append(time.perf_counter() - start)
            assert len(found) == hits
        return statistics.median(times)
    finally:
        await store.close()


MODES = ("now", "before")


def in_fresh_process(what: str, path: str, mode: str) -> float:
    command = [sys.executable, __file__, what, path, mode]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return float(done.stdout.split()[-1])


def start_ups(path: str, rounds: int) -> dict[str, float]:
    """Median seconds to a loaded book, now and before, each round two fresh processes."""
    found: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(rounds):
        for mode in MODES:
            found[mode].append(in_fresh_process("--start-up", path, mode))
    return {mode: statistics.median(times) for mode, times in found.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--hits", type=int, default=147, help="subscriptions an article's first match reads")
    parser.add_argument("--start-up", nargs=2, metavar=("DB", "MODE"), help="one start-up run (internal)")
    parser.add_argument("--memory", nargs=2, metavar=("DB", "MODE"), help="one book's memory (internal)")
    args = parser.parse_args()
    if args.start_up:
        print(asyncio.run(start_up(args.start_up[0], args.start_up[1] == "now")))
        return 0
    if args.memory:
        print(book_bytes(args.memory[0], args.memory[1] == "now"))
        return 0
    results: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        results["SQLite"] = asyncio.run(measure(sqlite_listers(f"{folder}/bench.db", args.size), args.rounds))
        seconds = start_ups(f"{folder}/bench.db", args.rounds)
        first = asyncio.run(first_matches(f"{folder}/bench.db", args.size, args.hits, args.rounds))
        per_subscription = {
            mode: in_fresh_process("--memory", f"{folder}/bench.db", mode) / args.size for mode in MODES
        }
    pg = binaries()
    if pg is None:
        print("store_listing bench: PostgreSQL is not installed; SQLite only")
    else:
        cluster = Cluster(pg).start()
        try:
            found = asyncio.run(measure(postgres_listers(cluster.database(), args.size), args.rounds))
            results["PostgreSQL"] = found
        finally:
            cluster.stop()
    print(
        f"\n# listing {args.size:,} subscriptions at start, median of {args.rounds} rounds, the two reads "
        "alternating (equal lists)\n"
    )
    print("| store | list_subscriptions | SELECT * read by column name (before) | ratio |")
    print("|---|---:|---:|---:|")
    for name, (ours, before) in results.items():
        print(f"| {name} | {ours:.3f} s | {before:.3f} s | {before / ours:.2f}x |")
    print(
        f"\n# start-up from SQLite to a loaded book ({args.size:,} subscriptions), median of {args.rounds} "
        "fresh processes each, alternating; the book's memory (tracemalloc, a fresh process each)\n"
    )
    print(
        "| | as the bot loads now (ids and queries; a subscription read when it first matches) "
        "| every subscription made (before) | ratio |"
    )
    print("|---|---:|---:|---:|")
    now, before = seconds["now"], seconds["before"]
    print(f"| start-up | {now:.3f} s | {before:.3f} s | {before / now:.2f}x |")
    now, before = per_subscription["now"], per_subscription["before"]
    print(f"| memory per subscription | {now:,.0f} B | {before:,.0f} B | {before / now:.2f}x |")
    print(
        f"\nlater, instead: the first match of an article hitting {args.hits} subscriptions not read yet "
        f"reads them in {first * 1000:.1f} ms (median of {args.rounds})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

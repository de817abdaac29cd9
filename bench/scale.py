"""Scale: one poll-and-deliver cycle over 10,000 loopback feeds with 1, 2 and 4 workers on PostgreSQL,
beside 1 worker on SQLite (the baseline), in one run on the same data.

A feed server in a process of its own serves ``--feeds`` (10,000) small RSS feeds on 127.0.0.1, two items
each, every item a story of its own (bench/scale_setup.py: made-up names, so the story detector keeps
them apart), and counts each feed's requests. Every tenth feed's items name one of 100 words, each
subscribed in one Slack channel: 2,000 alerts at 10,000 feeds, posted over HTTP to the fake Slack of
tests/fake_slack.py in this process (Socket Mode), which counts each story's messages. The feeds are put
in a fresh store (a new database on one throwaway PostgreSQL cluster, or a new SQLite file) before the
workers start, with ``backfill: 2`` so that their first fetch alerts. Each worker is ``python -m bot run``
in a process of its own. Config: ``polling.concurrency`` and ``polling.per_host`` 100 (defaults 20 and 2:
every feed here is on one host), ``delivery.channel_rate: 0`` (no folding into digests), extraction off.

Measured for each: wall time from starting the workers until every feed was fetched and every alert
posted (and, within it, start-up until the first feed request, and first to last feed fetched); CPU time
of the workers (/proc, read while they run; start-up included) and of the PostgreSQL server (the
postmaster's exited backends); peak RSS of each worker (VmHWM); alerts per second; transactions
(pg_stat_database) and statements (pg_stat_statements, the cluster started with it) per feed. Checked:
each feed fetched exactly once, each alert posted exactly once.

    python bench/scale.py [--feeds 10000] [--workers 1,2,4] [--quick] [--no-sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

try:
    import aiohttp
    from scale_run import Run, run_one
    from scale_setup import ALERT_EVERY, CHANNELS, CONCURRENCY, ITEMS, start_feed_server

    from tests.postgres import Cluster, binaries
except ImportError as exc:  # e.g. run outside the venv, or without the tests folder
    print(f"scale bench: cannot import {exc.name} (run it with the venv's python, from a full checkout)")
    sys.exit(2)

STATEMENTS = "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_utility=on"


def per_feed(value: float | None, feeds: int, digits: int = 1) -> str:
    return "–" if value is None else f"{value / feeds:.{digits}f}"


def table(runs: list[Run]) -> None:
    base = runs[0]
    print("| measure | " + " | ".join(r.label for r in runs) + " |")
    print("|---|" + "---:|" * len(runs))

    def row(name: str, cells: list[str]) -> None:
        print(f"| {name} | " + " | ".join(cells) + " |")

    row("wall: start -> every feed fetched and every alert posted", [f"{r.wall_s:.1f} s" for r in runs])
    row("  of which start-up (start -> first feed request)", [f"{r.startup_s:.1f} s" for r in runs])
    row("  first -> last feed fetched", [f"{r.fetch_s:.1f} s" for r in runs])
    row(
        "feeds a second, first feed request -> done; vs SQLite",
        [f"{r.feeds / r.busy_s:,.0f} ({base.busy_s / r.busy_s:.2f}x)" for r in runs],
    )
    row(
        "alerts posted a second (whole wall)",
        [f"{r.delivered / r.wall_s:,.0f}" for r in runs],
    )
    row("worker CPU, all workers (start-up included)", [f"{sum(r.cpu_s):.1f} s" for r in runs])
    row(
        "worker CPU per feed, after start-up",
        [f"{(sum(r.cpu_s) - sum(r.startup_cpu_s)) / r.feeds * 1000:.2f} ms" for r in runs],
    )
    row(
        "database server CPU",
        [f"{r.db_cpu_s:.1f} s" if r.db_cpu_s is not None else "(in the worker)" for r in runs],
    )
    row("peak RSS per worker", [" / ".join(f"{m:.0f}" for m in r.rss_mb) + " MB" for r in runs])
    row("transactions per feed (pg_stat_database)", [per_feed(r.xacts, r.feeds) for r in runs])
    row("statements per feed (pg_stat_statements)", [per_feed(r.statements, r.feeds) for r in runs])
    row("  of which the pool's reset query", [per_feed(r.resets, r.feeds) for r in runs])
    row(
        "feeds fetched / requests / most requests of one feed",
        [f"{r.fetched:,} / {r.requests:,} / {r.most}" for r in runs],
    )
    row(
        "alerts posted / expected / duplicates",
        [f"{r.delivered:,} / {r.expected:,} / {r.duplicates}" for r in runs],
    )
    row("worker exit codes; log lines saying 'failed'", [f"{r.exits}; {r.errors}" for r in runs])


def statements(run: Run) -> None:
    if not run.top:
        return
    print(f"\n## The most frequent statements, {run.label} ({run.feeds:,} feeds), calls per feed\n")
    print("| calls per feed | statement |\n|---:|---|")
    for calls, query in run.top:
        print(f"| {calls / run.feeds:.2f} | `{query[:150]}` |")


def check(runs: list[Run]) -> list[str]:
    problems = []
    for r in runs:
        if r.fetched != r.feeds or r.most != 1:
            problems.append(f"{r.label}: {r.fetched} of {r.feeds} feeds fetched, one of them {r.most} times")
        if r.delivered != r.expected or r.duplicates:
            problems.append(f"{r.label}: {r.delivered} alerts of {r.expected}, {r.duplicates} duplicates")
    return problems


async def main_async(args: argparse.Namespace, counts: list[int]) -> list[Run]:
    folder = binaries()
    cluster = Cluster(folder).start(STATEMENTS) if folder and counts else None
    if counts and cluster is None:
        print("scale bench: PostgreSQL is not installed: the SQLite run only")
    server, base = start_feed_server(args.feeds)
    runs: list[Run] = []
    try:
        connector = aiohttp.TCPConnector(limit=4)
        async with aiohttp.ClientSession(connector=connector) as session:
            plan: list[tuple[str, int, Cluster | None]] = (
                [] if args.no_sqlite else [("SQLite, 1 worker", 1, None)]
            )
            plan += [(f"PostgreSQL, {n} worker{'s' if n > 1 else ''}", n, cluster) for n in counts if cluster]
            for label, n, where in plan:
                profile = args.profile if not runs else None  # the first run's first worker
                run = await run_one(label, n, args.feeds, base, session, where, args.timeout, profile)
                print(f"{label}: {run.wall_s:.1f} s, {sum(run.cpu_s):.1f} s CPU", file=sys.stderr, flush=True)
                runs.append(run)
    finally:
        server.terminate()
        if cluster:
            cluster.stop()
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=10_000, help="feeds (default 10000)")
    parser.add_argument("--workers", default="1,2,4", help="PostgreSQL worker counts (default 1,2,4)")
    parser.add_argument("--quick", action="store_true", help="1,000 feeds, 1 and 2 workers: a try-out")
    parser.add_argument("--no-sqlite", action="store_true", help="leave out the SQLite baseline")
    parser.add_argument(
        "--profile", type=Path, help="run the first run's worker under cProfile, to this file"
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds a run may take (default 900)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the cluster and the workers stop
    if args.quick:
        args.feeds, args.workers = min(args.feeds, 1000), "1,2"
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    runs = asyncio.run(main_async(args, counts))
    print(
        f"# Scale: one cycle over {args.feeds:,} loopback feeds ({ITEMS} items each, every {ALERT_EVERY}th "
        f"feed's items alerting in one of {CHANNELS} Slack channels), each worker `python -m bot run`; "
        f"polling.concurrency and per_host {CONCURRENCY}, channel_rate 0; {os.cpu_count()} CPUs, shared\n"
    )
    table(runs)
    for run in runs:
        if run.workers == 1 and run.top:
            statements(run)
    problems = check(runs)
    for problem in problems:
        print(f"\nPROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

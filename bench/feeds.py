"""Polling at scale: 10,000 feeds on a loopback server, 90 % unchanged per cycle, 10 % with new items.

Our poller (conditional GET, body-hash skip, SQLite fetch state) is measured beside a baseline that
fetches every body in full and parses it with feedparser, in the same run against the same server.
The server runs in its own process so its CPU is not counted. Half the unchanged feeds answer 304
to conditional requests; the other half send no validators and return an identical body.

    python bench/feeds.py [--feeds 10000] [--items 20]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import aiohttp
import feedparser
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.ingest.fetch import HttpReader, ReaderRegistry
from bot.ingest.poller import FeedPoller, PollPolicy, PollResult
from bot.store import SqliteStore

START = datetime(2026, 11, 20, tzinfo=UTC)


def feed_body(index: int, generation: int, items: int) -> bytes:
    """A realistic RSS 2.0 feed; each generation adds two items at the top."""
    entries = []
    total = items + 2 * generation
    for n in range(total - 1, total - 1 - items, -1):
        when = format_datetime(START + timedelta(minutes=n), usegmt=True)
        entries.append(
            f"<item><title>Feed {index} story {n}: ministers meet over energy prices</title>"
            f"<link>https://news{index % 50}.example/{index}/{n}</link><guid>f{index}-{n}</guid>"
            f"<pubDate>{when}</pubDate><description><![CDATA[<p>Story {n} of feed {index}. "
            "Officials said the talks would continue next week as prices rose across the region, "
            "and analysts expected further moves before the winter.</p>"
            "<p>A second paragraph with more detail about the "
            f"negotiations and what they mean for households.</p>]]></description></item>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Feed {index}</title>'
        f"<link>https://news{index % 50}.example/</link><description>Bench feed</description>"
        + "".join(entries)
        + "</channel></rss>"
    ).encode()


def serve(port_queue: multiprocessing.Queue[int], items: int) -> None:
    generation = {"value": 0}
    cache: dict[tuple[int, int], bytes] = {}

    def body(index: int) -> tuple[bytes, int]:
        gen = generation["value"] if index % 10 == 0 else 0
        key = (index, gen)
        if key not in cache:
            cache[key] = feed_body(index, gen, items)
        return cache[key], gen

    async def feed(request: web.Request) -> web.Response:
        index = int(request.match_info["index"])
        data, gen = body(index)
        if index % 2 == 0:  # half the feeds support ETags
            etag = f'"{index}-{gen}"'
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304)
            return web.Response(body=data, content_type="application/rss+xml", headers={"ETag": etag})
        return web.Response(body=data, content_type="application/rss+xml")

    async def bump(request: web.Request) -> web.Response:
        generation["value"] += 1
        return web.Response(text=str(generation["value"]))

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{index}", feed)
        app.router.add_post("/bump", bump)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port_queue.put(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def bump(base: str) -> None:
    async with aiohttp.ClientSession() as session, session.post(base + "/bump") as resp:
        await resp.read()


async def ours(base: str, feeds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = await SqliteStore.open(Path(tmp) / "bench.db")
        for i in range(feeds):
            await store.upsert_feed(f"{base}/feed/{i}", f"Feed {i}", max_age=0)
        connector = aiohttp.TCPConnector(limit=100, limit_per_host=100)
        async with aiohttp.ClientSession(connector=connector) as session:
            reader = HttpReader(
                session, timeout=30, max_body_bytes=5_000_000, user_agent="bench", per_host=100
            )
            poller = FeedPoller(
                store, ReaderRegistry({"http": reader}), PollPolicy(interval=60, concurrency=100)
            )
            async for _ in poller.poll_batches(float("inf")):  # first fetch: every body, every parse
                pass

            cpu, wall = cpu_seconds(), time.perf_counter()
            quiet = PollResult()
            async for batch in poller.poll_batches(float("inf")):
                quiet.unchanged += batch.unchanged
            unchanged_cpu = cpu_seconds() - cpu
            unchanged_wall = time.perf_counter() - wall
            assert quiet.unchanged == feeds, quiet

            await bump(base)
            cpu, wall = cpu_seconds(), time.perf_counter()
            busy = PollResult()
            async for batch in poller.poll_batches(float("inf")):
                busy.fetched += batch.fetched
                busy.failed += batch.failed
            cycle_cpu = cpu_seconds() - cpu
            cycle_wall = time.perf_counter() - wall
            assert busy.fetched == feeds // 10, (busy.fetched, busy.failed)
        await store.close()
    per_unchanged = unchanged_cpu / feeds
    changed = feeds // 10
    per_changed = (cycle_cpu - per_unchanged * (feeds - changed)) / changed
    return {
        "cycle_s": cycle_wall,
        "cycle_cpu_s": cycle_cpu,
        "unchanged_cycle_s": unchanged_wall,
        "cpu_ms_unchanged": per_unchanged * 1000,
        "cpu_ms_changed": per_changed * 1000,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


async def baseline(base: str, feeds: int) -> dict[str, float]:
    """Every feed fetched in full (no conditional GET, no hash check) and parsed by feedparser."""
    connector = aiohttp.TCPConnector(limit=100, limit_per_host=100)
    gate = asyncio.Semaphore(100)

    async def one(session: aiohttp.ClientSession, i: int) -> int:
        async with gate:
            async with session.get(f"{base}/feed/{i}") as resp:
                data = await resp.read()
            parsed = await asyncio.to_thread(feedparser.parse, data)
            return len(parsed.entries)

    async with aiohttp.ClientSession(connector=connector) as session:
        cpu, wall = cpu_seconds(), time.perf_counter()
        counts = await asyncio.gather(*(one(session, i) for i in range(feeds)))
        cycle_cpu = cpu_seconds() - cpu
        cycle_wall = time.perf_counter() - wall
    assert all(counts)
    return {
        "cycle_s": cycle_wall,
        "cycle_cpu_s": cycle_cpu,
        "cpu_ms_per_feed": cycle_cpu / feeds * 1000,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_in_child(kind: str, base: str, feeds: int, out: multiprocessing.Queue[dict[str, float]]) -> None:
    out.put(asyncio.run(ours(base, feeds) if kind == "ours" else baseline(base, feeds)))


def measure(kind: str, base: str, feeds: int) -> dict[str, float]:
    """Each side in a fresh process, so peak RSS is its own."""
    queue: multiprocessing.Queue[dict[str, float]] = multiprocessing.Queue()
    child = multiprocessing.Process(target=run_in_child, args=(kind, base, feeds, queue))
    child.start()
    result = queue.get(timeout=1800)
    child.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=20)
    args = parser.parse_args()

    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports, args.items), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{ports.get(timeout=30)}"
    try:
        ours_result = measure("ours", base, args.feeds)
        base_result = measure("baseline", base, args.feeds)
    finally:
        server.terminate()

    print(f"# {args.feeds} feeds x {args.items} items; 10 % changed per cycle; server in its own process\n")
    print("| measure | ours | baseline (full GET + feedparser every feed) | target |")
    print("|---|---:|---:|---:|")
    o, b = ours_result, base_result
    print(f"| one full cycle, wall | {o['cycle_s']:.1f} s | {b['cycle_s']:.1f} s | <= 60 s |")
    print(
        f"| one full cycle, CPU | {ours_result['cycle_cpu_s']:.1f} s | {base_result['cycle_cpu_s']:.1f} s | |"
    )
    print(
        f"| CPU per unchanged feed | {ours_result['cpu_ms_unchanged']:.2f} ms | "
        f"{base_result['cpu_ms_per_feed']:.2f} ms | <= 0.5 ms |"
    )
    print(
        f"| CPU per changed feed | {ours_result['cpu_ms_changed']:.2f} ms | "
        f"{base_result['cpu_ms_per_feed']:.2f} ms | |"
    )
    print(f"| peak RSS | {ours_result['rss_mb']:.0f} MB | {base_result['rss_mb']:.0f} MB | <= 300 MB |")
    ratio = base_result["cycle_cpu_s"] / ours_result["cycle_cpu_s"]
    print(f"\nCPU per cycle: ours is {ratio:.1f}x less than the baseline.")


if __name__ == "__main__":
    main()

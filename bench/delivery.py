"""Delivery: push-to-posted latency through the real bot, and how fast the outbox drains a backlog.

1. Latency (bench/delivery_latency.py). The bot runs as its own process (``python -m bot run CONFIG``)
   with the web server on a free 127.0.0.1 port, ``NEWSBOT_WEBHOOK_SECRET`` set, Slack in Socket Mode
   pointed at the fake Slack of tests/fake_slack.py and Discord (gateway and REST) at the fake Discord
   of tests/fake_discord.py with ``--channels`` (100) extra text channels, both fakes run in this
   process, which records when each stored a message. The extractive summariser,
   ``delivery.channel_rate: 0``, and each of ``--channels`` words subscribed in one Slack channel and
   one Discord channel of its own. ``--articles`` (1,000) articles are pushed through signed
   ``POST /articles``, one request per article, paced at ``--rate`` (20/s); each names ``--fanout`` (1)
   channels' words, so it makes that many alerts on each platform. Latency is from just before the POST
   to the moment the fake stored the message. Then ``--burst`` (1,000) more are pushed as fast as
   ``--concurrency`` (4) requests in flight allow: alerts per second sustained from the first push to the
   last message. Floor, same run, same fakes, just before each phase, one at a time with aiohttp: a bare
   ``chat.postMessage`` to the fake Slack, a bare ``POST /channels/{id}/messages`` with the bot token to
   the fake Discord. The worker sends one alert at a time in the order they were queued, and each
   word's Slack subscription is declared before its Discord one: an article's Discord alert goes out
   after its Slack alert, and its latency includes that send (declared the other way round, Slack's
   would).
2. Backlog drain (bench/delivery_drain.py). A store filled directly (``record_processed([], alerts,
   now)``) with N pending alerts over 1,000 channels, drained in this process by the bot's DeliveryWorker
   (built as bot/app.py does, batch and retry policy from the config defaults, ``channel_rate: 0``). With
   a notifier that records and returns at once (the worker and the store alone) at each ``--backlog``
   size; with the real SlackNotifier against the fake Slack in a helper process at each
   ``--real-backlog`` size. Rate over the whole drain, and over its first 1,000 sends (the rate while the
   backlog is still full).

    python bench/delivery.py [--articles 1000] [--rate 20] [--burst 1000] [--backlog 1000,100000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

try:
    from delivery_drain import DRAIN_CHANNELS, DrainResult, drain, real_drains
    from delivery_latency import IDLE_SECONDS, PLATFORMS, LatencyResult, Phase, latency, percentile
except ImportError as exc:  # e.g. run outside the venv, or without the tests folder
    print(f"delivery bench: cannot import {exc.name} (run `make test` first, from a full checkout)")
    sys.exit(2)

TARGET_P50_MS = 50.0
TARGET_P99_MS = 250.0
FLOORS = {"slack": "bare chat.postMessage", "discord": "bare POST /channels/{id}/messages"}


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q):.1f} ms" if values else "–"


def per_platform(lat: LatencyResult, pace: str) -> None:
    """One table: each platform's figure beside its floor, each phase."""
    head = " | ".join(f"{p}: push -> posted | floor: {FLOORS[p]}" for p in PLATFORMS)
    print(f"| measure | {head} | target |")
    print("|---|" + "---:|" * (2 * len(PLATFORMS) + 1))

    def row(measure: str, cells: list[tuple[str, str]], target: str = "") -> None:
        print(f"| {measure} | " + " | ".join(f"{bot} | {floor}" for bot, floor in cells) + f" | {target} |")

    for name, phases, label in (("paced", lat.paced, pace), ("burst", lat.burst, "burst")):
        ph: list[Phase] = [phases[p] for p in PLATFORMS]
        targets = ("", "") if name == "burst" else (f"<= {TARGET_P50_MS:g} ms", f"<= {TARGET_P99_MS:g} ms")
        row(f"p50 ({label})", [(ms(x.latency_ms, 50), ms(x.floor_ms, 50)) for x in ph], targets[0])
        row(f"p99 ({label})", [(ms(x.latency_ms, 99), ms(x.floor_ms, 99)) for x in ph], targets[1])
        row(f"max ({label})", [(ms(x.latency_ms, 100), ms(x.floor_ms, 100)) for x in ph])
        row(
            f"of which 200 -> posted, p50 / p99 ({label})",
            [(f"{ms(x.after_ms, 50)} / {ms(x.after_ms, 99)}", "") for x in ph],
        )
        if name == "burst":
            row(
                "sustained alerts/s (burst, first push to last post; floor: 1 / floor p50)",
                [(f"{x.alerts_per_s:.0f}", f"{1000 / percentile(x.floor_ms, 50):.0f}") for x in ph],
            )
    row(
        "alerts not posted (paced / burst)",
        [(f"{lat.paced[p].missing} / {lat.burst[p].missing}", "") for p in PLATFORMS],
        "0",
    )


def report_latency(args: argparse.Namespace, lat: LatencyResult) -> None:
    fanout = max(1, min(args.fanout, args.channels))
    pace = f"paced at {args.rate:g}/s" if args.rate > 0 else "one at a time, unpaced"
    print(
        "# Latency: real bot process, Slack (Socket Mode) and Discord against tests/fake_slack.py and "
        f"tests/fake_discord.py in the bench process; {args.channels} channels a platform, one word each "
        f"subscribed in one of each; {args.articles} articles {pace}, then {args.burst} with "
        f"{args.concurrency} in flight; {fanout} alert(s) per article on each platform; channel_rate 0; "
        "extractive summaries\n"
    )
    per_platform(lat, pace)
    print("\n| whole bot | |\n|---|---:|")
    print(
        f"| push -> 200 (match, summarise, store), p50 / p99 ({pace}) | {ms(lat.paced_intake_ms, 50)} / "
        f"{ms(lat.paced_intake_ms, 99)} |"
    )
    print(
        f"| sustained alerts/s, both platforms (burst) | {lat.burst_alerts_per_s:.0f} "
        f"(pushes accepted {lat.burst_pushes_per_s:.0f}/s) |"
    )
    print(f"| POST /articles answered 503, sent again (paced / burst) | {lat.paced_503} / {lat.burst_503} |")
    print(f"| bot CPU, paced + burst | {lat.bot_cpu_s:.1f} s |")
    print(f"| bot CPU while idle ({IDLE_SECONDS:g} s, nothing pushed) | {lat.idle_cpu * 100:.1f} % |")
    for note in lat.notes:
        print(f"\nnote: {note}")
    print()


def report_drains(drains: list[DrainResult]) -> None:
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
    parser.add_argument("--channels", type=int, default=100, help="channels a platform (default 100)")
    parser.add_argument("--fanout", type=int, default=1, help="channels each article matches (default 1)")
    parser.add_argument("--floor", type=int, default=1000, help="bare POSTs a floor (default 1000)")
    parser.add_argument("--backlog", default="1000,100000", help="pending sizes, recording notifier")
    parser.add_argument("--real-backlog", default="1000", help="pending sizes, real SlackNotifier")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--profile", type=Path, help="run the bot under cProfile, its stats to this file")
    args = parser.parse_args()

    lat = None if args.skip_latency else asyncio.run(latency(args))
    drains = [asyncio.run(drain(n, None)) for n in sizes(args.backlog)]
    if real := sizes(args.real_backlog):
        drains += real_drains(real)
    if lat is not None:
        report_latency(args, lat)
    if drains:
        report_drains(drains)
    return 0


if __name__ == "__main__":
    sys.exit(main())

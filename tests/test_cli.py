"""The command line as a user runs it: real processes, the real config and sample feeds, no network."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import IO

from bot.store import SqliteStore
from tests.conftest import REPO, SEED, SEED_ID, write_config
from tests.store_support import alert

SEED_TITLE = "Russia threatened with war as US declares Ukraine could be invaded at ‘any point’"


def bot(*args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        input=stdin,
        timeout=timeout,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def start_bot(config: str, *, stdout: IO[str] | int = subprocess.PIPE) -> subprocess.Popen[str]:
    """``newsbot run CONFIG`` as a daemon: its alerts on ``stdout``, its logs on a pipe."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", config],
        cwd=REPO,
        stdout=stdout,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def test_run_once_prints_the_seed_alert_cleanly_and_a_restart_reposts_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    first = bot("run", "--once", "--config", str(config))
    assert first.returncode == 0, first.stderr
    alerts = [block for block in first.stdout.split("\n\n") if block.startswith("━━━")]
    seed = next(block for block in alerts if SEED_TITLE in block)
    assert "https://london-defender.example/news/world/russia-ukraine-any-point" in seed
    assert "The Biden administration is weighing new options" in seed
    assert "matched: Ukraine, NATO" in seed
    for junk in ("(Image:", "[REVEAL]", "London Defender\n", "Sturgeon"):
        assert junk not in seed
    assert "Traceback" not in first.stderr
    # Logs are JSON lines on stderr when it is not a terminal; alerts alone go to stdout.
    assert all(json.loads(line)["level"] for line in first.stderr.splitlines())

    second = bot("run", "--once", "--config", str(config))
    assert second.returncode == 0, second.stderr
    assert "━━━" not in second.stdout


def test_make_run_equivalent_prints_the_seed_alert_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    proc = start_bot(str(config))
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + 60  # a safety net for a hung process, not a speed check
    try:
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if SEED_TITLE in line:
                break
        assert any(SEED_TITLE in line for line in seen), "".join(seen)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8"
    )
    return path


def test_replay_outputs_matches_spans_summary_and_story_in_input_order(tmp_path: Path) -> None:
    seed_text = SEED.read_text(encoding="utf-8")
    articles = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": SEED_ID, "title": SEED_TITLE, "text": seed_text, "url": "https://ld.example/a"},
            "{not json",
            {"title": "no id"},
            {"id": "b", "title": "Markets rally", "html": "<p>Stocks rose on <b>Tuesday</b>.</p>"},
            {"id": "c", "title": SEED_TITLE, "text": "A copy.", "url": "https://ld.example/a?utm_source=x"},
        ],
    )
    queries = tmp_path / "queries.txt"
    queries.write_text("# one a line\nZelensky\n\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = bot("replay", str(articles), "--query", "NATO", "--queries", str(queries), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "line 2: not valid JSON" in result.stderr
    assert 'line 3: missing "id"' in result.stderr
    assert "Traceback" not in result.stderr

    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [SEED_ID, "b", "c"]
    seed = rows[0]
    assert [m["query"] for m in seed["matches"]] == ["NATO", "Zelensky"]
    spans = {text for m in seed["matches"] for _, _, text in m["spans"]}
    assert {"NATO", "Zelenskyy", "Zelensky"} <= spans
    assert seed["summary"].startswith("The Biden administration is weighing new options")
    assert "(Image:" not in seed["summary"]
    assert seed["story"] == SEED_ID
    assert rows[1] == {"id": "b", "matches": [], "summary": "Stocks rose on Tuesday.", "story": "b"}
    assert rows[2]["story"] == SEED_ID  # the same article again, through a tracking link


def test_replay_spans_point_into_title_and_cleaned_text(tmp_path: Path) -> None:
    articles = write_jsonl(
        tmp_path / "in.jsonl", [{"id": "x", "title": "NATO meets", "text": "Allies of NATO’s east."}]
    )
    result = bot("replay", str(articles), "--query", "NATO")
    assert result.returncode == 0, result.stderr
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    match_text = "NATO meets\n\nAllies of NATO’s east."
    for start, end, text in row["matches"][0]["spans"]:
        assert match_text[start:end] == text
    assert len(row["matches"][0]["spans"]) == 2


def test_replay_bad_query_is_a_user_error(tmp_path: Path) -> None:
    articles = write_jsonl(tmp_path / "in.jsonl", [{"id": "x", "title": "t"}])
    result = bot("replay", str(articles), "--query", "Ukraine", "--query", '"unclosed')
    assert result.returncode == 2
    assert "query 2 ('\"unclosed'): the `\"` at column 1 is never closed" in result.stderr
    assert "Traceback" not in result.stderr


def test_replay_missing_input_file_is_reported(tmp_path: Path) -> None:
    result = bot("replay", str(tmp_path / "missing.jsonl"), "--query", "x")
    assert result.returncode == 2 and "cannot read" in result.stderr and "Traceback" not in result.stderr


def test_replay_reads_stdin() -> None:
    result = bot(
        "replay", "-", "--query", "Kyiv", stdin=json.dumps({"id": "k", "text": "Talks in Kiev."}) + "\n"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["matches"][0]["spans"][0][2] == "Kiev"


EVENTS = (
    "Talks on grain exports resumed in Istanbul with Turkish mediators.",
    "A drone strike cut power to Kharkiv overnight, the mayor said.",
    "Parliament in Kyiv passed the budget after a long debate.",
)
"""One event per item: items with the same text would be one story, and one alert."""


def write_feed(path: Path, items: list[tuple[str, datetime]]) -> None:
    entries = "".join(
        f"<item><title>{title}</title><link>https://news.example/{i}</link><guid>n{i}</guid>"
        f"<pubDate>{format_datetime(when)}</pubDate>"
        f"<description>{EVENTS[i % len(EVENTS)]}</description></item>"
        for i, (title, when) in enumerate(items)
    )
    path.write_text(
        f'<rss version="2.0"><channel><title>Desk</title>{entries}</channel></rss>', encoding="utf-8"
    )


def test_once_runs_keep_the_real_clock_so_later_runs_and_a_daemon_alert_on_new_items(tmp_path: Path) -> None:
    """`--once` forces which feeds are polled, never the time: an item ten minutes old is not older than
    a 7-day max_age, and the feed's next fetch is a real time a daemon reaches."""
    feed = tmp_path / "desk.rss"
    now = datetime.now(UTC)
    items = [("Ukraine: first item", now - timedelta(minutes=10))]
    write_feed(feed, items)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"store:\n  path: {tmp_path / 'bot.db'}\nfeeds:\n  - url: {feed}\n    name: Desk\n"
        "subscriptions:\n  - query: Ukraine\npolling:\n  interval: 1s\n  min_interval: 1s\n  max_age: 7d\n"
        "platforms:\n  console:\n    color: false\n    commands: false\n",
        encoding="utf-8",
    )
    first = bot("run", "--once", str(config))
    assert first.returncode == 0 and "━━━" not in first.stdout  # a new feed's items are history

    items.append(("Ukraine: second item", now - timedelta(minutes=1)))
    write_feed(feed, items)
    second = bot("run", "--once", str(config))
    assert second.returncode == 0, second.stderr
    assert "━━━ Ukraine: second item" in second.stdout and "first item" not in second.stdout

    items.append(("Ukraine: third item", datetime.now(UTC)))
    write_feed(feed, items)
    proc = start_bot(str(config))
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + 60  # a safety net for a hung process, not a speed check
    try:
        while time.monotonic() < deadline and (line := proc.stdout.readline()):
            seen.append(line)
            if "third item" in line:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert any(line.startswith("━━━ Ukraine: third item") for line in seen), err
    assert not any("second item" in line for line in seen)


def test_a_store_that_cannot_be_opened_ends_the_run_at_once_with_exit_2(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(bytes(range(256)) * 400)
    newer = tmp_path / "newer.db"
    with contextlib.closing(sqlite3.connect(newer)) as db:
        db.execute("PRAGMA user_version = 999")
    for path, reason in (
        (corrupt, "file is not a database"),
        (newer, "has schema 999, from a newer newsbot"),
    ):
        config = tmp_path / f"{path.stem}.yaml"
        config.write_text(f"store:\n  path: {path}\nfeeds: []\n", encoding="utf-8")
        result = bot("run", "--once", str(config), timeout=30)  # it used to hang here, never exiting
        assert result.returncode == 2
        [line] = result.stderr.splitlines()
        assert line.startswith("error: ") and str(path) in line and reason in line


def test_sigterm_stops_the_bot_within_10_seconds_whatever_the_backlog(tmp_path: Path) -> None:
    """50,000 alerts queued: the bot is sending them when it is told to stop, and stops, keeping the
    rest for the next start. (The 10 s is the promise to an init system, a bound, not a speed check.)"""
    config = write_config(tmp_path, feeds="  []\n", subs="  []\n")

    async def fill() -> None:
        store = await SqliteStore.open(tmp_path / "data" / "bot.db")
        await store.record_processed([], [alert(f"s{i}") for i in range(50_000)], now=time.time())
        await store.close()

    asyncio.run(fill())
    output = tmp_path / "alerts.txt"
    with output.open("w", encoding="utf-8") as out:
        proc = start_bot(str(config), stdout=out)
        try:
            deadline = time.monotonic() + 60
            while output.stat().st_size < 20_000:  # delivering now
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
            asked = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
            took = time.monotonic() - asked
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    assert took < 10, f"SIGTERM took {took:.1f}s"

    async def pending() -> int:
        store = await SqliteStore.open(tmp_path / "data" / "bot.db")
        try:
            return await store.pending_count()
        finally:
            await store.close()

    assert 0 < asyncio.run(pending()) < 50_000  # some went out; the rest waits for the next start

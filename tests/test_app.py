from __future__ import annotations

import asyncio
import gc
import logging
import warnings
from pathlib import Path

import pytest

from bot.app import App, CycleResult
from bot.config import load_config
from bot.core.backoff import Backoff
from bot.core.errors import NewsBotError
from bot.core.models import Article, ChannelRef
from bot.processing.alerts import alert_id
from tests.conftest import EXAMPLES, write_config

UNREACHABLE = "http://127.0.0.1:9/feed.xml"  # the discard port: nothing listens there


async def run_cycles(config_path: Path, cycles: int = 1) -> list[tuple[int, int]]:
    app = await App.build(load_config(config_path))
    try:
        results = []
        for _ in range(cycles):
            result = await app.run_cycle(force=True)
            results.append((result.ingest.queued, result.delivery.sent))
        return results
    finally:
        await app.close()


async def test_unreachable_feed_is_logged_once_and_the_rest_keeps_working(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    feeds = (
        f"  - url: {UNREACHABLE}\n  - url: {EXAMPLES / 'world-news.rss'}\n    backfill: 100\n    max_age: 0\n"
    )
    config = write_config(tmp_path, feeds=feeds)
    with caplog.at_level(logging.INFO):
        results = await run_cycles(config, cycles=3)
    assert results[0][0] == results[0][1] > 0 and results[1:] == [(0, 0), (0, 0)]
    failures = [r for r in caplog.records if UNREACHABLE in r.getMessage() and r.levelno >= logging.WARNING]
    assert len(failures) == 1
    assert "Russia threatened with war" in capsys.readouterr().out


async def test_restart_delivers_a_pending_alert_and_never_reposts_a_delivered_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # First run: the console is switched off, so the alerts wait in the outbox.
    offline = write_config(tmp_path, "    enabled: false\n")
    [(queued, sent)] = await run_cycles(offline)
    assert queued > 0 and sent == 0
    assert "━━━" not in capsys.readouterr().out

    online = write_config(tmp_path)
    [(queued_again, delivered)] = await run_cycles(online)
    assert (queued_again, delivered) == (0, queued)
    out = capsys.readouterr().out
    assert out.count("━━━") == queued

    assert await run_cycles(online) == [(0, 0)]
    assert "━━━" not in capsys.readouterr().out


async def test_subscriptions_from_chat_survive_a_restart(tmp_path: Path) -> None:
    config = write_config(tmp_path, subs="  - query: Ukraine\n")
    app = await App.build(load_config(config))
    try:
        console = app.adapters[0]
        reply = await console.handle_line("/news subscribe Kharkiv")  # type: ignore[attr-defined]
        assert reply == "Subscribed. Watching for: kharkiv"
    finally:
        await app.close()
    app = await App.build(load_config(config))
    try:
        assert sorted(s.query for s in await app.store.list_subscriptions()) == ["kharkiv", "ukraine"]
        assert len(app.book) == 2
    finally:
        await app.close()


async def test_private_address_feeds_are_refused_unless_allow_listed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(
        tmp_path, feeds="  - url: http://10.0.0.5/feed.xml\n  - url: http://169.254.169.254/x\n"
    )
    with caplog.at_level(logging.WARNING):
        await run_cycles(config)
    messages = [r.getMessage() for r in caplog.records]
    assert any("10.0.0.5 is a private address" in m for m in messages), messages
    assert any("169.254.169.254" in m and "metadata" in m for m in messages), messages


async def test_a_platform_that_cannot_start_leaves_nothing_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store is opened before the adapters are built: when one fails (here Discord's token is gone
    from the environment by the time the bot starts), the store is closed, not left to the garbage
    collector (whose clean-up of a live connection warns, and whose timing is not ours)."""
    extra = "  discord:\n    enabled: true\n    token_env: NEWSBOT_TEST_DISCORD_TOKEN\n"
    config = load_config(write_config(tmp_path, extra), env={"NEWSBOT_TEST_DISCORD_TOKEN": "t"})
    monkeypatch.delenv("NEWSBOT_TEST_DISCORD_TOKEN", raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(NewsBotError, match="NEWSBOT_TEST_DISCORD_TOKEN"):
            await App.build(config)
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    # and the database was closed cleanly: it opens again at once
    app = await App.build(load_config(write_config(tmp_path)))
    await app.close()


async def test_a_bug_that_escapes_a_cycle_is_logged_and_the_loop_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = await App.build(load_config(write_config(tmp_path)))
    stop = asyncio.Event()
    cycles = 0
    real_cycle = app.run_cycle

    async def cycle(*, force: bool = False) -> CycleResult:
        nonlocal cycles
        cycles += 1
        if cycles == 1:
            raise RuntimeError("a bug in a notifier's error path")
        stop.set()
        return await real_cycle(force=force)

    monkeypatch.setattr(app, "run_cycle", cycle)
    monkeypatch.setattr("bot.app.LOOP_ERROR_BACKOFF", Backoff(base=0.01, cap=0.01, jitter=0))
    try:
        await asyncio.wait_for(app.run_forever(stop), timeout=30)
    finally:
        await app.close()
    assert cycles == 2
    assert "cycle failed on a bug" in caplog.text and "RuntimeError" in caplog.text


async def sent(app: App, alert: str) -> bool:
    status = await app.store.alert_status(alert)
    return status is not None and status.status == "sent"


async def test_a_pushed_article_is_posted_at_once_not_at_the_next_idle_tick(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The loop idles until its next feed is due (here: an hour away); a push wakes it."""
    monkeypatch.setattr("bot.app.IDLE_SLEEP_MAX", 3600.0)
    app = await App.build(load_config(write_config(tmp_path, feeds="  []\n")))
    stop = asyncio.Event()
    loop = asyncio.create_task(app.run_forever(stop))
    try:
        await asyncio.sleep(0.5)  # the first cycle has run: the loop is idle now
        pushed = Article(id="push-1", title="Ukraine and NATO open talks", text="Talks opened in Kyiv.")
        assert await app.intake([pushed]) == 1
        alert = alert_id(ChannelRef("console", "console"), "push-1")
        async with asyncio.timeout(30):  # a safety net: without the wake-up it would wait an hour
            while not await sent(app, alert):  # noqa: ASYNC110 - the store has no event to wait on
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(loop, timeout=30)
        await app.close()
    assert "━━━ Ukraine and NATO open talks" in capsys.readouterr().out


async def test_old_article_text_is_blanked_and_the_same_item_never_alerts_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    feed = tmp_path / "world.rss"
    feed.write_text((EXAMPLES / "world-news.rss").read_text(encoding="utf-8"), encoding="utf-8")
    feeds = f"  - url: {feed}\n    name: Meridian Wire\n    backfill: 100\n    max_age: 0\n"
    config = write_config(tmp_path, feeds=feeds)
    text = config.read_text(encoding="utf-8").replace("store:\n", "store:\n  keep_text: 3d\n", 1)
    config.write_text(text, encoding="utf-8")
    app = await App.build(load_config(config))
    try:
        first = await app.run_cycle(force=True)
        assert first.delivery.sent > 0
        [story] = await app.store.recent_articles(1)
        assert story.article.text
        # Four days later, as far as the store can tell: past keep_text.
        await app.store._write("UPDATE articles SET seen_at = seen_at - 4 * 86400")
        await app.store._write("UPDATE story_keys SET seen_at = seen_at - 4 * 86400")
    finally:
        await app.close()
    capsys.readouterr()
    # The publisher rebuilds the feed (the body changes, so every item is parsed again) and the bot restarts.
    rebuilt = feed.read_text(encoding="utf-8").replace(
        "08:00:00 GMT</lastBuildDate>", "09:00:00 GMT</lastBuildDate>"
    )
    feed.write_text(rebuilt, encoding="utf-8")
    caplog.set_level(logging.INFO, logger="bot.app")
    app = await App.build(load_config(config))
    try:
        again = await app.run_cycle(force=True)
        kept = await app.store.find_article(story.article.url)
    finally:
        await app.close()
    assert (again.ingest.received, again.ingest.new, again.ingest.queued, again.delivery.sent) == (
        first.ingest.received,
        0,
        0,
        0,
    )
    assert "━━━" not in capsys.readouterr().out
    assert kept is not None and kept.article.text == "" and kept.article.title == story.article.title
    assert f"blanked the text of {first.ingest.new} articles" in caplog.text

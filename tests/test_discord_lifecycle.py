"""Discord end to end, the interaction's and the bot's life around the commands: slow commands deferred
in time, a command sync Discord refuses, the guild-only payload, feed autocomplete, leaving a server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.core.backoff import Backoff
from bot.core.errors import CommandError
from handlers.commands import Reply
from handlers.discord import interactions, sync
from handlers.discord.commands import NewsGroup, feed_choices
from tests.discord_interactions import ANSWER_WITHIN, EPHEMERAL, Exchange
from tests.fake_discord import CHANNEL_ID, FORUM_CHANNEL_ID, GUILD_ID, TOKEN, FakeDiscord
from tests.test_discord import (
    HERE,
    TOKEN_ENV,
    adapter_of,
    arrive,
    article,
    discord_config,
    discord_server,  # noqa: F401 (the fixture fake)
    text_of,
)

SYNC_REFUSED = {
    "code": 50035,
    "message": "Invalid Form Body",
    "errors": {
        "0": {
            "options": {
                "1": {"autocomplete": {"_errors": [{"code": "UNKNOWN_FIELD", "message": "Unknown field"}]}}
            }
        }
    },
}
"""What a Discord-compatible server that does not know ``autocomplete`` answers the sync with."""


async def built(tmp_path: Path, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    return await App.build(discord_config(tmp_path, fake))


@pytest.fixture
async def app(tmp_path: Path, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[App]:
    application = await built(tmp_path, fake, monkeypatch)
    await application.start()
    yield application
    await application.close()


def news_group(app: App) -> NewsGroup:
    group = adapter_of(app).tree.get_command("news")
    assert isinstance(group, NewsGroup)
    return group


def slowed(monkeypatch: pytest.MonkeyPatch, target: object, name: str, seconds: float) -> None:
    """``target.name`` now takes ``seconds`` longer (a slow store, a slow feed)."""
    original = getattr(target, name)

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(seconds)
        return await original(*args, **kwargs)

    monkeypatch.setattr(target, name, slow)


def filled(exchange: Exchange) -> bool:
    """The "thinking" message has its content."""
    return exchange.original is not None and not exchange.original.loading


# ---- slow commands ------------------------------------------------------------------------------------


async def test_a_command_slower_than_discords_deadline_is_deferred_in_time_and_followed_up(
    app: App, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def slow_preview(query: str) -> Reply:
        await asyncio.sleep(ANSWER_WITHIN + 0.3)  # longer than Discord waits for an answer
        return Reply(f"2 of the 200 recent articles match {query}.")

    monkeypatch.setattr(news_group(app).service, "preview", slow_preview)
    exchange = await fake.interact("preview", {"query": "Ukraine"})

    assert exchange.callback is not None and exchange.callback["type"] == 5  # deferred ...
    assert exchange.callback_at - exchange.sent_at < ANSWER_WITHIN  # ... within the deadline
    assert exchange.callback["data"]["flags"] & EPHEMERAL  # "thinking" shows to the user alone
    assert exchange.late == []
    await exchange.until(filled)
    (shown,) = exchange.visible()
    assert shown.content == "2 of the 200 recent articles match Ukraine." and shown.ephemeral


async def test_a_quick_command_is_answered_directly(app: App, fake: FakeDiscord) -> None:
    exchange = await fake.interact("help")
    assert exchange.callback is not None and exchange.callback["type"] == 4
    await asyncio.sleep(interactions.GRACE + 0.2)  # the grace timer was stopped: no defer, no followup
    assert exchange.followups == [] and [r.path for r in fake.calls("POST", "/webhooks/")] == []


async def test_a_slow_reply_for_the_channel_is_posted_for_everyone(
    app: App, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interactions, "GRACE", 0.05)
    slowed(monkeypatch, news_group(app).service, "feeds", 0.6)  # fetching a slow feed's host

    exchange = await fake.interact("feeds add", {"url": "http://127.0.0.1:9/rss"})
    assert exchange.callback is not None and exchange.callback["type"] == 5
    await exchange.until(lambda e: e.original_deleted)

    (shown,) = exchange.visible()  # the ephemeral "thinking" copy is gone
    assert shown.content.startswith("Watching http://127.0.0.1:9/rss") and not shown.ephemeral
    assert [f.url for f in await app.store.list_feeds()] == ["http://127.0.0.1:9/rss"]


async def test_a_slow_command_that_fails_says_why_in_the_thinking_message(
    app: App, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interactions, "GRACE", 0.05)

    async def refused(*_args: object) -> Reply:
        await asyncio.sleep(0.3)
        raise CommandError("I can't watch that feed: it answered 404.")

    monkeypatch.setattr(news_group(app).service, "feeds", refused)
    exchange = await fake.interact("feeds add", {"url": "http://127.0.0.1:9/rss"})
    await exchange.until(filled)
    (shown,) = exchange.visible()
    assert shown.content == "I can't watch that feed: it answered 404." and shown.ephemeral


# ---- the command sync ---------------------------------------------------------------------------------


async def test_a_refused_sync_leaves_alerts_running_says_why_once_and_is_retried(
    tmp_path: Path, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sync, "SYNC_RETRY", Backoff(base=0.1, cap=0.2, jitter=0))
    fake.outage("PUT", "/commands", 1.0, status=400, body=SYNC_REFUSED)
    application = await built(tmp_path, fake, monkeypatch)
    try:
        with caplog.at_level(logging.DEBUG, logger="handlers.discord.sync"):
            await application.start()  # no "cannot reach Discord": Discord was reached
            subscription, _ = await application.store.add_subscription(HERE, "ukraine", "Ukraine")
            application.book.add(subscription)
            await arrive(application, article(1, "Ukraine asks allies for air defence"))
            assert len(fake.channel_messages(CHANNEL_ID)) == 1  # alerts went out meanwhile
            for _ in range(100):
                if GUILD_ID in fake.synced:
                    break
                await asyncio.sleep(0.05)
    finally:
        await application.close()

    assert [c["name"] for c in fake.synced[GUILD_ID]] == ["news"]
    refused = [r for r in fake.calls("PUT", "/commands") if r.status == 400]
    assert len(refused) >= 3  # the first try, and retries
    # discord.py's own one-time warnings (no PyNaCl, no voice) come with the first client of the process
    ours = [r for r in caplog.records if r.name.startswith("handlers")]
    warnings = [r.getMessage() for r in ours if r.levelno >= logging.WARNING]
    (said,) = warnings  # once, not once a try
    assert "HTTP 400" in said and "code 50035" in said and "Invalid Form Body" in said
    assert "autocomplete" in said and "Unknown field" in said
    assert any(
        "synced 1 commands to guild" in r.getMessage() and "failed tries" in r.getMessage()
        for r in caplog.records
    )


async def test_the_synced_command_is_installed_to_servers_and_used_in_them_only(
    app: App, fake: FakeDiscord
) -> None:
    (news,) = fake.synced[GUILD_ID]
    assert news["integration_types"] == [0]  # GUILD_INSTALL, not USER_INSTALL
    assert news["contexts"] == [0]  # GUILD, not BOT_DM or PRIVATE_CHANNEL
    assert news["dm_permission"] is False


def test_a_sync_failure_off_the_network_is_named_by_its_error() -> None:
    assert sync.failure_reason(TimeoutError("read timed out")) == "TimeoutError: read timed out"


# ---- autocomplete ----------------------------------------------------------------------------------------


async def test_feeds_remove_autocompletes_the_channels_feeds(app: App, fake: FakeDiscord) -> None:
    for url in ("http://127.0.0.1:9/world", "http://127.0.0.1:9/markets"):
        await fake.command("feeds add", {"url": url})

    choices = await fake.command("feeds remove", {"feed": "mark"}, autocomplete="feed")
    assert choices["type"] == 8
    assert choices["data"]["choices"] == [
        {"name": "2. http://127.0.0.1:9/markets", "value": "http://127.0.0.1:9/markets"}
    ]
    everything = await fake.command("feeds remove", {"feed": ""}, autocomplete="feed")
    assert [c["value"] for c in everything["data"]["choices"]] == [
        "http://127.0.0.1:9/world",
        "http://127.0.0.1:9/markets",
    ]
    elsewhere = await fake.command(
        "feeds remove", {"feed": ""}, autocomplete="feed", channel=FORUM_CHANNEL_ID
    )
    assert elsewhere["data"]["choices"] == []  # only the channel's own feeds

    removed = await fake.command("feeds remove", {"feed": "http://127.0.0.1:9/markets"})
    assert text_of(removed).startswith("This channel no longer watches http://127.0.0.1:9/markets")


def test_a_feed_link_too_long_for_a_choice_is_offered_by_its_number() -> None:
    long_url = "https://example.com/" + "x" * 100
    (short, long) = feed_choices(["https://example.com/rss", long_url], "")
    assert (short.name, short.value) == ("1. https://example.com/rss", "https://example.com/rss")
    assert long.value == "2" and len(long.name) == 100 and long.name.startswith("2. https://example.com/")
    assert [c.value for c in feed_choices(["https://example.com/rss", long_url], "2")] == ["2"]


# ---- leaving a server -------------------------------------------------------------------------------------


async def test_removal_from_a_server_pauses_every_channel_there_with_one_log_line(
    app: App, fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    await fake.command("subscribe", {"query": "Ukraine"})
    await fake.command("subscribe", {"query": "NATO"})
    await fake.command("subscribe", {"query": "NATO"}, channel=FORUM_CHANNEL_ID)
    with caplog.at_level(logging.WARNING):
        await fake.dispatch("GUILD_DELETE", {"id": GUILD_ID})
        for _ in range(100):
            if all(s.paused for s in await app.store.list_subscriptions()):
                break
            await asyncio.sleep(0.02)
        await arrive(app, article(1, "Ukraine and NATO discuss air defence"))

    assert all(s.paused for s in await app.store.list_subscriptions())
    assert fake.calls("POST", "/messages") == [] and fake.threads == []
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.processing.subscriptions"]
    assert line == (
        f"paused 3 subscription(s) in 2 channel(s) of discord:{GUILD_ID}: the bot was removed from the server"
    )

    resumed = await fake.command("subscribe", {"query": "Ukraine"})  # back in the server: as for one channel
    assert text_of(resumed).startswith("Resumed")

"""Slack end to end, around the commands: a start that warns about nothing, and the app's removal from
a workspace (``app_uninstalled``, ``tokens_revoked``) pausing its subscriptions; through the unmodified
slack-bolt app and the fake Slack, in Socket Mode and in HTTP mode."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.core.models import ChannelRef
from tests.fake_slack import BOT_USER, TEAM, FakeSlack
from tests.fake_slack_events import app_uninstalled, post_event_http, send_event, tokens_revoked
from tests.test_slack import (
    CHANNEL,
    SECRET,
    Bot,
    _bot,
    article,
    slack_bot,  # noqa: F401 (the fixture bot)
    slack_server,  # noqa: F401 (the fixture fake)
)

ELSEWHERE = ChannelRef("slack", "C0ELSE", "T0OTHER")
"""A channel of another workspace (an Enterprise Grid org's), which stays live."""


async def send(bot: Bot, event: dict[str, Any]) -> None:
    if bot.events_url:
        assert await post_event_http(bot.events_url, SECRET, event) == 200
    else:
        await bot.fake.wait_ack(await send_event(bot.fake, event))


async def paused(bot: Bot, channel: ChannelRef) -> list[bool]:
    return [s.paused for s in await bot.store.list_subscriptions(channel)]


async def until_paused(bot: Bot, channel: ChannelRef) -> None:
    for _ in range(100):
        if all(await paused(bot, channel)):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{channel.key} was not paused")


async def test_uninstalling_the_app_pauses_the_workspaces_subscriptions_with_one_log_line(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    here, there = ChannelRef("slack", CHANNEL, TEAM), ChannelRef("slack", "C0TWO", TEAM)
    await bot.command("subscribe NATO")
    await bot.command("subscribe NATO", channel="C0TWO")
    await bot.command("subscribe OTAN", channel="C0TWO")
    other, _ = await bot.store.add_subscription(ELSEWHERE, "NATO", "NATO")
    bot.book.add(other)

    with caplog.at_level(logging.WARNING, logger="bot.processing.subscriptions"):
        await send(bot, app_uninstalled())
        await until_paused(bot, here)
        await until_paused(bot, there)
        report = await bot.news(article())

    assert await paused(bot, ELSEWHERE) == [False]
    assert report.sent == 1 and [m.channel for m in bot.fake.messages] == ["C0ELSE"]
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.processing.subscriptions"]
    uninstalled = "the app was uninstalled from the workspace"
    assert line == f"paused 3 subscription(s) in 2 channel(s) of slack:{TEAM}: {uninstalled}"
    # Installed again: subscribing in a channel resumes it, as for a channel the bot had lost.
    assert (await bot.command("subscribe NATO")).startswith("Resumed")


async def test_a_revoked_bot_token_pauses_the_workspace_and_revoked_user_tokens_do_not(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    here = ChannelRef("slack", CHANNEL, TEAM)
    await bot.command("subscribe NATO")

    await send(bot, tokens_revoked(oauth=["U0ALICE"]))  # a user's token: the bot posts on
    await send(bot, tokens_revoked(bot=["U0OTHERBOT"]))  # another app's bot
    await asyncio.sleep(0.2)
    assert await paused(bot, here) == [False]

    with caplog.at_level(logging.WARNING, logger="bot.processing.subscriptions"):
        await send(bot, tokens_revoked(bot=[BOT_USER], oauth=["U0ALICE"]))
        await until_paused(bot, here)
    assert "the bot token was revoked" in caplog.text


async def test_a_start_logs_no_warning_about_an_unused_token(
    tmp_path: Path, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """SLACK_BOT_TOKEN is where the bot token is by default, and bolt reads it by itself too; given a
    client as well, it warned that the token "will be unused" at every start."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    with caplog.at_level(logging.INFO):
        async for started in _bot(tmp_path, fake, "socket"):
            assert (await started.command("subscribe NATO")).startswith("Subscribed.")
            assert (await started.news(article())).sent == 1
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "will be unused" not in caplog.text and "will be ignored" not in caplog.text
    tokens = {c.method: c.token for c in fake.calls}  # every call reached the fake, with its token
    assert tokens.pop("apps.connections.open") == "xapp-test"
    assert set(tokens.values()) == {"xoxb-test"} and "chat.postMessage" in tokens

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime

import pytest

from bot.core.models import Alert
from bot.matching import default_aliases
from bot.processing.alerts import alert_id
from bot.processing.subscriptions import SubscriptionBook
from bot.store import SqliteStore
from handlers.commands import CommandService
from handlers.console import CONSOLE_CHANNEL, ConsoleAdapter, ConsoleNotifier, render_console


def alert(**overrides: object) -> Alert:
    fields: dict[str, object] = {
        "id": alert_id(CONSOLE_CHANNEL, "s1"),
        "channel": CONSOLE_CHANNEL,
        "story_id": "s1",
        "title": "NATO ministers expand Baltic air policing",
        "url": "https://meridian-wire.example/nato",
        "source": "Meridian Wire",
        "summary": "NATO defence ministers agreed on Friday to expand the mission. " * 4,
        "terms": ("NATO",),
        "queries": ("NATO",),
        "published": datetime(2026, 11, 20, 17, 5, tzinfo=UTC),
    }
    fields.update(overrides)
    return Alert(**fields)  # type: ignore[arg-type]


def test_render_shows_title_source_time_link_summary_and_why() -> None:
    text = render_console(alert())
    lines = text.splitlines()
    assert lines[0] == "━━━ NATO ministers expand Baltic air policing"
    assert lines[1] == "  Meridian Wire · 20 Nov 2026 17:05 UTC"
    assert lines[2] == "  https://meridian-wire.example/nato"
    assert lines[3].startswith("  NATO defence ministers agreed")
    assert all(len(line) <= 100 for line in lines[3:-1])  # wrapped for a terminal
    assert lines[-1] == "  matched: NATO   (subscription: NATO)"
    assert "\033[" not in text


def test_color_render_bolds_matched_terms() -> None:
    assert "\033[1mNATO\033[0m defence" in render_console(alert(), color=True)


def test_article_text_cannot_drive_the_terminal() -> None:
    text = render_console(alert(title="Evil \033]0;pwned\007 title\r", summary="x\033[2Jy"))
    assert "\033" not in text and "\007" not in text and "\r" not in text


async def test_notifier_prints_to_its_stream_and_returns_a_ref() -> None:
    out = io.StringIO()
    ref = await ConsoleNotifier(out, color=False).send(alert())
    assert "NATO ministers expand Baltic air policing" in out.getvalue()
    assert (ref.platform, ref.message_id) == ("console", alert().id)


@pytest.fixture
def adapter(store: SqliteStore) -> ConsoleAdapter:
    return ConsoleAdapter(
        CommandService(store, SubscriptionBook(default_aliases())),
        notifier=ConsoleNotifier(io.StringIO(), color=False),
    )


async def test_typed_commands_run_through_the_command_service(adapter: ConsoleAdapter) -> None:
    assert (await adapter.handle_line("/news subscribe Ukraine")) == "Subscribed. Watching for: ukraine"
    assert (await adapter.handle_line("/news list")).endswith("1. ukraine")
    assert (await adapter.handle_line("/news unsubscribe 1")) == "Unsubscribed from: ukraine"


async def test_user_errors_are_shown_plainly(adapter: ConsoleAdapter) -> None:
    reply = await adapter.handle_line('/news subscribe "Kyiv')
    assert reply.startswith("I couldn't read that query: the \" at column 1 is never closed")
    assert '\n  "Kyiv\n  ^\n' in reply  # the spot marked under the query
    assert "Traceback" not in reply


async def test_unexpected_errors_are_logged_and_the_user_told(
    adapter: ConsoleAdapter, store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    await store.close()  # the database goes away under the command
    with caplog.at_level(logging.ERROR):
        reply = await adapter.handle_line("/news list")
    assert reply == "Something went wrong running that command; the details are in the log."
    assert "console command '/news list' failed" in caplog.text
    assert caplog.records[0].exc_info is not None


def test_feed_notice_renders_as_a_warning_not_an_alert() -> None:
    notice = alert(
        kind="notice", title="Feed F has failed for 6 h: HTTP 404", summary="The feed x failed.", terms=()
    )
    assert render_console(notice) == "⚠ Feed F has failed for 6 h: HTTP 404\n  The feed x failed.\n"


def test_color_bolds_whole_words_only() -> None:
    text = render_console(alert(summary="USA and US officials met.", terms=("US",)), color=True)
    assert "\033[1mUS\033[0m officials" in text and "\033[1mUS\033[0mA" not in text

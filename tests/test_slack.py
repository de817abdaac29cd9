"""Slack end to end: the unmodified slack-bolt app, in Socket Mode and in HTTP mode, against the fake
Slack in tests/fake_slack.py; alerts through the real pipeline and delivery worker."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import App
from bot.config import load_config
from bot.core.errors import DeliveryError
from bot.core.models import Article, ChannelRef
from bot.delivery.notify import NotifierRegistry
from bot.delivery.worker import DeliveryReport, DeliveryWorker, RetryPolicy
from bot.ingest.safety import UrlPolicy
from bot.matching import default_aliases
from bot.platforms import PlatformContext
from bot.processing.pipeline import Pipeline
from bot.processing.subscriptions import SubscriptionBook
from bot.store import ChannelSettings, SqliteStore
from bot.summarise.extractive import ExtractiveSummariser
from bot.web.server import WebServer, create_web_app
from handlers.slack.adapter import SlackAdapter, create_adapter
from handlers.slack.commands import parse_subscribe
from handlers.slack.http import MAX_BODY_BYTES, slack_routes
from handlers.slack.notifier import SlackNotifier
from tests.conftest import write_config
from tests.events import event
from tests.fake_slack import TEAM, FakeSlack

SECRET = "signing-secret-for-tests"
ENV = {
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_APP_TOKEN": "xapp-test",
    "SLACK_SIGNING_SECRET": SECRET,
    "NEWSBOT_WEBHOOK_SECRET": "w",
}
CHANNEL = "C0NEWS"
QUERY = '"NATO summit" OR OTAN -football'


def article(
    n: int = 1, title: str = "NATO summit opens in Vilnius", source: str = "Meridian Wire"
) -> Article:
    return Article(
        id=f"a{n}",
        title=title,
        text=event(n),
        url=f"https://meridian-wire.example/nato-{n}",
        source=source,
        published=datetime.now(UTC),
    )


@dataclass
class Bot:
    fake: FakeSlack
    store: SqliteStore
    book: SubscriptionBook
    adapter: SlackAdapter
    pipeline: Pipeline
    delivery: DeliveryWorker
    clock: list[float]
    events_url: str = ""

    async def command(
        self, text: str, *, user: str = "UUSER", channel: str = CHANNEL, team: str = TEAM
    ) -> str:
        """Run ``/news <text>`` and return the reply the user sees."""
        count = len(self.fake.responses) + 1
        if self.events_url:
            status, _ = await self.fake.post_command_http(
                self.events_url, SECRET, text, user=user, channel=channel, team=team
            )
            assert status == 200
        else:
            envelope = await self.fake.slash_command(text, user=user, channel=channel, team=team)
            await self.fake.wait_ack(envelope)
        return str((await self.fake.wait_response(count))["text"])

    async def news(self, *articles: Article) -> DeliveryReport:
        await self.pipeline.process(articles)
        return await self.delivery.deliver_due()


async def _bot(tmp_path: Path, fake: FakeSlack, mode: str) -> AsyncIterator[Bot]:
    extra = (
        f"  slack:\n    enabled: true\n    api_base: {fake.api_base}\n    mode: {mode}\n"
        "    admin_group: S0ADMINS\nweb:\n  enabled: true\n  port: 0\n"
    )
    config = load_config(write_config(tmp_path, extra, subs="  []\n"), env=ENV)
    store = await SqliteStore.open(tmp_path / "slack.db")
    book = SubscriptionBook(default_aliases())
    context = PlatformContext(store, book, UrlPolicy(config.safety.allow_hosts).check_url, True, ENV)
    adapter = create_adapter(config.platforms.slack, context)
    registry = NotifierRegistry()
    registry.register(adapter.notifier)
    clock = [0.0]  # seconds added to the delivery worker's clock
    bot = Bot(
        fake,
        store,
        book,
        adapter,
        Pipeline(store, book, ExtractiveSummariser()),
        DeliveryWorker(store, registry, RetryPolicy(base=1.0), clock=lambda: time.time() + clock[0]),
        clock,
    )
    server = None
    if mode == "http":
        server = WebServer(
            create_web_app(intake=_no_intake, secret="webhook", max_body_bytes=100_000, routes=adapter.routes)
        )
        await server.start()
        bot.events_url = server.url + "/slack/events"
    await adapter.start()
    try:
        yield bot
    finally:
        await adapter.stop()
        if server is not None:
            await server.stop()
        await store.close()


async def _no_intake(articles: object) -> int:
    return 0


@pytest.fixture(name="fake")
async def slack_server() -> AsyncIterator[FakeSlack]:
    """The fake Slack, as ``fake``; the other Slack test modules import it (and ``slack_bot``)."""
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.stop()


@pytest.fixture(name="bot", params=["socket", "http"])
async def slack_bot(request: pytest.FixtureRequest, tmp_path: Path, fake: FakeSlack) -> AsyncIterator[Bot]:
    """The bot on the fake Slack, as ``bot``, once in Socket Mode and once in HTTP mode."""
    async for b in _bot(tmp_path, fake, request.param):
        yield b


@pytest.fixture
async def socket_bot(tmp_path: Path, fake: FakeSlack) -> AsyncIterator[Bot]:
    async for b in _bot(tmp_path, fake, "socket"):
        yield b


# ---- commands, in both modes ---------------------------------------------------------------------


async def test_subscribe_then_article_posts_a_block_kit_alert_in_that_channel(bot: Bot) -> None:
    reply = await bot.command(f"subscribe {QUERY}")
    assert bot.fake.responses[-1]["response_type"] == "ephemeral"
    canonical = bot.book.parse(QUERY).canonical
    assert reply.startswith(f"Subscribed. Watching for: {canonical}")
    assert canonical == '"NATO summit" OR (OTAN AND NOT football)'  # quotes and operators survived

    report = await bot.news(article())
    assert report.sent == 1
    [posted] = bot.fake.messages
    assert posted.channel == CHANNEL
    assert posted.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "NATO summit opens in Vilnius", "emoji": True},
    }
    assert any(b["type"] == "actions" for b in posted.blocks)  # the "Open article" button
    assert posted.metadata is not None and posted.metadata["event_type"] == "newsbot_alert"
    assert posted.metadata["event_payload"]["alert_id"]
    assert [c.token for c in bot.fake.called("chat.postMessage")] == ["xoxb-test"]


async def test_unsubscribe_stops_alerts(bot: Bot) -> None:
    await bot.command("subscribe NATO")
    assert (await bot.command("unsubscribe 1")) == "Unsubscribed from: NATO"
    assert "no subscriptions" in await bot.command("list")
    await bot.news(article())
    assert bot.fake.messages == []


async def test_feeds_add_is_refused_to_a_plain_member_and_allowed_to_admins(bot: Bot) -> None:
    refused = await bot.command("feeds add https://example.com/rss", user="UUSER")
    assert refused == (
        "Only workspace admins or members of the admin user group can add and remove this channel's feeds; "
        "ask one of them."
    )
    assert await bot.store.channel_feeds(ChannelRef("slack", CHANNEL, TEAM)) == []

    assert (await bot.command("feeds add https://example.com/rss", user="UADMIN")).startswith("Watching")
    bot.fake.groups["S0ADMINS"] = ["UDESK"]
    assert (await bot.command("feeds add https://example.com/two", user="UDESK")).startswith("Watching")
    assert len(await bot.store.channel_feeds(ChannelRef("slack", CHANNEL, TEAM))) == 2


async def test_user_errors_are_specific_and_replies_ephemeral(bot: Bot) -> None:
    assert (await bot.command('subscribe "Kyiv')).startswith(
        "I couldn't read that query: the \" at column 1 is never closed"
    )
    assert bot.fake.responses[-1]["response_type"] == "ephemeral"
    assert "Unknown command 'frobnicate'" in await bot.command("frobnicate")


async def test_slow_work_happens_after_the_ack(bot: Bot) -> None:
    gate = bot.fake.hold("users.info")  # the admin check is slow today
    if bot.events_url:
        status, _ = await bot.fake.post_command_http(
            bot.events_url, SECRET, "feeds add https://example.com/rss", user="UADMIN"
        )
        assert status == 200  # Slack has its acknowledgement while the command is still running
    else:
        envelope = await bot.fake.slash_command("feeds add https://example.com/rss", user="UADMIN")
        await bot.fake.wait_ack(envelope)
    assert bot.fake.responses == []
    gate.set()
    assert (await bot.fake.wait_response())["text"].startswith("Watching https://example.com/rss")
    kinds = [kind for kind, _ in bot.fake.events if kind in ("ack", "respond")]
    assert kinds == ["ack", "respond"]


async def test_usergroup_and_mode_are_read_from_the_end_of_the_command(bot: Bot) -> None:
    reply = await bot.command(f"subscribe {QUERY} <!subteam^S0DESK|@desk>", user="UADMIN")
    assert reply.startswith("Subscribed.")
    [subscription] = await bot.store.list_subscriptions()
    assert (subscription.mention, subscription.raw_query) == ("S0DESK", QUERY)
    await bot.news(article())
    assert bot.fake.messages[0].text.startswith("<!subteam^S0DESK>")


async def test_channel_wide_commands_are_for_workspace_admins_and_the_admin_group(bot: Bot) -> None:
    here = ChannelRef("slack", CHANNEL, TEAM)
    for command, action in [
        ("mute 30d", "mute this channel"),
        ("digest daily", "change this channel's digest"),
        ("timezone Europe/Kyiv", "change this channel's time zone"),
    ]:
        assert await bot.command(command, user="UUSER") == (
            f"Only workspace admins or members of the admin user group can {action}; ask one of them."
        )
    assert await bot.store.channel_settings(here) == ChannelSettings()
    pinging = await bot.command("subscribe NATO <!subteam^S0DESK|@desk>", user="UUSER")
    assert pinging.startswith(
        "Only workspace admins or members of the admin user group can subscribe with a user group mention"
    )
    assert await bot.store.list_subscriptions() == []
    assert (await bot.command("subscribe NATO", user="UUSER")).startswith("Subscribed.")  # no ping: anyone

    bot.fake.groups["S0ADMINS"] = ["UDESK"]
    assert (await bot.command("mute 2h", user="UDESK")).startswith("Muted until ")
    assert (await bot.command("timezone Asia/Kolkata", user="UADMIN")).startswith(
        "This channel's time zone is now Asia/Kolkata:"
    )
    assert (await bot.command("timezone", user="UUSER")).startswith(
        "This channel's time zone is Asia/Kolkata."
    )
    assert len(bot.fake.called("users.info")) == 7  # not for the plain subscription


async def test_pause_and_resume_one_subscription(bot: Bot) -> None:
    await bot.command("subscribe NATO")
    await bot.command("subscribe Vilnius")
    assert (
        await bot.command("pause 1")
        == "Paused subscription 1: NATO\nIt matches nothing until /news resume 1."
    )
    assert "1. NATO (paused)" in await bot.command("list")
    assert (await bot.news(article())).sent == 1  # only Vilnius matched it
    assert [m.blocks[0]["text"]["text"] for m in bot.fake.messages] == ["NATO summit opens in Vilnius"]
    assert await bot.command("resume NATO") == "Resumed subscription 1: NATO"
    assert not bot.fake.called("users.info")


def test_slack_escaping_is_undone_and_quotes_kept() -> None:
    args = parse_subscribe("&lt;b&gt; &amp; \u201cNATO summit\u201d daily")
    assert (args.query, args.mode, args.mention) == ("<b> & \u201cNATO summit\u201d", "daily", "")
    args = parse_subscribe("Ukraine hourly <!subteam^S0DESK|@desk>")
    assert (args.query, args.mode, args.mention) == ("Ukraine", "hourly", "S0DESK")


# ---- HTTP mode: request signing ------------------------------------------------------------------


@pytest.fixture
async def http_bot(tmp_path: Path, fake: FakeSlack) -> AsyncIterator[Bot]:
    async for b in _bot(tmp_path, fake, "http"):
        yield b


async def test_forged_and_stale_requests_are_refused(http_bot: Bot) -> None:
    fake = http_bot.fake
    status, body = await fake.post_command_http(http_bot.events_url, "wrong-secret", "subscribe NATO")
    assert status == 401 and "Signature" in body
    stale = int(time.time()) - 301
    status, body = await fake.post_command_http(
        http_bot.events_url, SECRET, "subscribe NATO", timestamp=stale
    )
    assert status == 401 and "Timestamp" in body
    status, _ = await fake.post_command_http(http_bot.events_url, SECRET, "subscribe NATO", signature="")
    assert status == 401
    body = urlencode(fake.command_payload("subscribe NATO")).encode()
    for timestamp in ("", "soon", " "):
        status, text = await _post(http_bot.events_url, body, _signed(body, timestamp))
        assert status == 401 and "Timestamp" in text
    status, text = await _post(http_bot.events_url, body, _signed(body) | {"X-Slack-Signature": "v0=é"})
    assert status == 401 and "Signature" in text
    assert await http_bot.store.list_subscriptions() == []
    assert fake.responses == []


async def test_a_body_over_the_cap_is_refused_before_it_is_read(http_bot: Bot) -> None:
    fake = http_bot.fake
    status, text = await fake.post_command_http(
        http_bot.events_url, SECRET, "subscribe " + "x" * MAX_BODY_BYTES
    )
    assert status == 413 and str(MAX_BODY_BYTES) in text

    async def endless() -> AsyncIterator[bytes]:  # chunked, no Content-Length, no signature
        while True:
            yield b"x" * 10_000

    status, text = await _post(http_bot.events_url, endless(), {})
    assert status == 413 and str(MAX_BODY_BYTES) in text
    assert await http_bot.store.list_subscriptions() == []
    assert fake.responses == []


async def test_each_request_is_verified_once_by_the_route_not_again_by_bolt(http_bot: Bot) -> None:
    """The route checks the timestamp against its own clock; bolt, whose check would use the real one,
    does not check again."""
    an_hour_ago = time.time() - 3600
    routes = slack_routes(http_bot.adapter.app, SECRET, path="/then", clock=lambda: an_hour_ago)
    server = WebServer(create_web_app(intake=_no_intake, secret="w", max_body_bytes=100_000, routes=routes))
    await server.start()
    try:
        status, _ = await http_bot.fake.post_command_http(
            server.url + "/then", SECRET, "subscribe NATO", timestamp=int(an_hour_ago)
        )
        assert status == 200
        assert (await http_bot.fake.wait_response())["text"].startswith("Subscribed.")
        status, _ = await http_bot.fake.post_command_http(server.url + "/then", SECRET, "list")
        assert status == 401  # fresh by the real clock, an hour ahead by the route's
    finally:
        await server.stop()


def _signed(body: bytes, timestamp: str | None = None) -> dict[str, str]:
    ts = str(int(time.time())) if timestamp is None else timestamp
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


async def _post(url: str, body: bytes | AsyncIterator[bytes], headers: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.text()


# ---- alerts ----------------------------------------------------------------------------------------


async def test_rate_limit_is_honoured_and_the_retry_does_not_double_post(socket_bot: Bot) -> None:
    bot = socket_bot
    await bot.command("subscribe NATO")
    bot.fake.rate_limit("chat.postMessage", retry_after=30)
    report = await bot.news(article())
    assert (report.sent, report.retrying) == (0, 1)
    bot.clock[0] += 20  # backoff alone would have retried by now; Retry-After says not yet
    assert (await bot.delivery.deliver_due()).sent == 0
    bot.clock[0] += 15
    assert (await bot.delivery.deliver_due()).sent == 1
    assert len(bot.fake.messages) == 1
    assert len(bot.fake.called("conversations.history")) == 1  # the retry looked before posting


async def test_a_retry_finds_the_message_already_posted(socket_bot: Bot) -> None:
    bot = socket_bot
    await bot.command("subscribe NATO")
    await bot.pipeline.process([article()])
    [item] = await bot.store.due_alerts(time.time() + 1, 10, ["slack"])
    first = await bot.adapter.notifier.send(item.alert)
    again = await bot.adapter.notifier.send(item.alert, retry=True)
    assert again == first
    assert len(bot.fake.messages) == 1
    bot.fake.fail("conversations.history", "missing_scope")  # can't tell: posts rather than lose it
    assert (await bot.adapter.notifier.send(item.alert, retry=True)) != first


async def test_edit_replaces_the_message_with_chat_update(socket_bot: Bot) -> None:
    bot = socket_bot
    await bot.command("subscribe NATO")
    await bot.pipeline.process([article()])
    [item] = await bot.store.due_alerts(time.time() + 1, 10, ["slack"])
    ref = await bot.adapter.notifier.send(item.alert)
    await bot.adapter.notifier.edit(ref, item.alert)
    [posted] = bot.fake.messages
    [edit] = posted.edits
    assert edit["ts"] == posted.ts and edit["blocks"] == posted.blocks


async def test_a_story_gaining_a_source_updates_the_posted_alert(socket_bot: Bot) -> None:
    bot = socket_bot
    await bot.command("subscribe NATO")
    assert (await bot.news(article())).sent == 1
    report = await bot.news(article(2, source="Northbound Post"))  # the same story, another outlet
    assert (report.sent, report.edited) == (0, 1)
    [posted] = bot.fake.messages
    [edit] = posted.edits
    assert edit["ts"] == posted.ts
    assert "also reported by Northbound Post" in str(edit["blocks"])


async def test_channel_the_bot_left_is_paused_its_alerts_held_and_others_carry_on(
    socket_bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = socket_bot
    await bot.command("subscribe NATO", channel="C0GONE")
    await bot.command("subscribe NATO")
    bot.fake.fail("chat.postMessage", "not_in_channel", channel="C0GONE", times=1)
    with caplog.at_level(logging.WARNING, logger="bot.processing.subscriptions"):
        report = await bot.news(article())
        assert (report.sent, report.failed, report.held) == (1, 0, 1)  # held for the channel, not lost
        assert [m.channel for m in bot.fake.messages] == [CHANNEL]
        gone = await bot.store.list_subscriptions(ChannelRef("slack", "C0GONE", TEAM))
        here = await bot.store.list_subscriptions(ChannelRef("slack", CHANNEL, TEAM))
        assert [s.paused for s in gone] == [True] and [s.paused for s in here] == [False]
        [line] = [r.getMessage() for r in caplog.records if r.name == "bot.processing.subscriptions"]
        assert "C0GONE" in line and "not_in_channel" in line and "paused" in line
        # Matching stops for that channel at once: the next story makes no alert there at all.
        later = await bot.news(article(2, "NATO ministers agree on new air policing rules"))
        assert (later.sent, later.failed) == (1, 0)
        # Re-subscribing from the channel (the bot is back in it) resumes it, and what was held goes.
        reply = await bot.command("subscribe NATO", channel="C0GONE")
        assert reply.startswith("Resumed")
        assert (await bot.delivery.deliver_due()).sent == 1
        assert [m.channel for m in bot.fake.messages].count("C0GONE") == 1


async def test_a_revoked_token_holds_the_alerts_is_logged_once_and_pauses_nothing(
    socket_bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = socket_bot
    await bot.command("subscribe NATO")
    await bot.command("subscribe NATO", channel="C0TWO")
    await bot.pipeline.process([article()])
    due = await bot.store.due_alerts(time.time() + 1, 10, ["slack"])
    assert len(due) == 2
    bot.fake.fail("chat.postMessage", "token_revoked", times=2)  # this send, and the worker's first
    with caplog.at_level(logging.INFO, logger="bot.delivery.worker"):
        with pytest.raises(DeliveryError) as raised:
            await bot.adapter.notifier.send(due[0].alert)
        assert (raised.value.auth, raised.value.retryable) == (True, True)
        report = await bot.delivery.deliver_due()
        assert (report.sent, report.failed) == (0, 0)
        for item in due:  # held for the token, not failed
            status = await bot.store.alert_status(item.alert.id)
            assert status is not None and status.status == "pending"
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and "token_revoked" in errors[0]  # once, not per alert
        assert "needs a restart" in errors[0]
        assert not any(s.paused for s in await bot.store.list_subscriptions())
        bot.clock[0] += 120  # past the worker's next try of the platform: the token works again
        assert (await bot.delivery.deliver_due()).sent == 2
    assert sorted(m.channel for m in bot.fake.messages) == ["C0NEWS", "C0TWO"]
    again = [r.getMessage() for r in caplog.records if "accepts" in r.getMessage()]
    assert again == ["slack accepts the bot's token again; sending the alerts it held"]


async def test_the_app_runs_slack_as_a_platform_plugin(
    tmp_path: Path, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    extra = f"  slack:\n    enabled: true\n    api_base: {fake.api_base}\n"
    app = await App.build(load_config(write_config(tmp_path, extra, subs="  []\n")))
    try:
        await app.start()
        envelope = await fake.slash_command(f"subscribe {QUERY}")
        await fake.wait_ack(envelope)
        assert (await fake.wait_response())["text"].startswith("Subscribed.")
        await app.intake([article()])
        assert (await app.delivery.deliver_due()).sent == 1
        assert [m.channel for m in fake.messages] == [CHANNEL]
    finally:
        await app.close()


async def test_the_app_serves_slack_http_mode_on_its_own_web_server(
    tmp_path: Path, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**ENV, "SLACK_SIGNING_SECRET": SECRET, "NEWSBOT_WEBHOOK_SECRET": "hook"}.items():
        monkeypatch.setenv(name, value)
    extra = (
        f"  slack:\n    enabled: true\n    mode: http\n    api_base: {fake.api_base}\n"
        "web:\n  enabled: true\n  port: 0\n"
    )
    app = await App.build(load_config(write_config(tmp_path, extra, subs="  []\n")))
    try:
        await app.start()
        assert app.web is not None
        url = app.web.url + "/slack/events"
        status, _ = await fake.post_command_http(url, SECRET, f"subscribe {QUERY}")
        assert status == 200
        assert (await fake.wait_response())["text"].startswith("Subscribed.")
        forged, _ = await fake.post_command_http(url, "wrong-secret", "unsubscribe 1")
        assert forged == 401
        await app.intake([article()])
        assert (await app.delivery.deliver_due()).sent == 1
    finally:
        await app.close()


# ---- Socket Mode reconnect -------------------------------------------------------------------------


async def test_the_adapter_is_connected_from_start_to_stop(bot: Bot) -> None:
    """What /healthz shows for Slack: Socket Mode's websocket is open, or HTTP mode is serving."""
    assert await bot.adapter.is_connected()
    await bot.adapter.stop()
    assert not await bot.adapter.is_connected()


async def test_socket_mode_reconnect_loses_no_command_or_alert(socket_bot: Bot) -> None:
    bot, fake = socket_bot, socket_bot.fake
    assert fake.connections_opened == 1
    await fake.drop()
    envelope = await fake.slash_command("subscribe NATO")  # typed while the socket is down
    await fake.wait_connected()
    await fake.wait_ack(envelope)
    assert fake.connections_opened == 2
    assert (await fake.wait_response())["text"].startswith("Subscribed. Watching for: NATO")
    assert (await bot.news(article())).sent == 1
    assert len(fake.messages) == 1


async def test_thread_option_posts_the_days_alerts_in_one_thread(socket_bot: Bot) -> None:
    bot = socket_bot
    reply = await bot.command("subscribe NATO thread")
    assert "(alerts go into threads)" in reply
    [subscription] = await bot.store.list_subscriptions()
    assert subscription.thread and subscription.query == "NATO"
    bot.adapter.notifier.now = lambda: datetime(2024, 11, 24, 9, tzinfo=UTC)
    await bot.news(article(1))
    await bot.news(article(2, "NATO ministers agree on new air policing rules"))
    parent, first, second = bot.fake.messages
    assert parent.text == "News alerts · 24 Nov 2024"
    assert parent.metadata == {
        "event_type": "newsbot_thread",
        "event_payload": {"thread_id": f"slack:{TEAM}:{CHANNEL}:2024-11-24"},
    }
    calls = bot.fake.called("chat.postMessage")
    assert [c.args.get("thread_ts") for c in calls] == [None, parent.ts, parent.ts]
    assert (first.blocks[0]["text"]["text"], second.blocks[0]["text"]["text"]) == (
        "NATO summit opens in Vilnius",
        "NATO ministers agree on new air policing rules",
    )


async def test_the_days_thread_begins_at_the_channels_own_midnight(socket_bot: Bot) -> None:
    """In Asia/Kolkata (UTC+5:30), 17:00 and 20:00 UTC on the 24th are the 24th and the 25th there."""
    bot = socket_bot
    await bot.command("subscribe NATO thread")
    assert (await bot.command("timezone Asia/Kolkata", user="UADMIN")).startswith("This channel's time zone")
    bot.adapter.notifier.now = lambda: datetime(2024, 11, 24, 17, tzinfo=UTC)
    await bot.news(article(1))
    bot.adapter.notifier.now = lambda: datetime(2024, 11, 24, 20, tzinfo=UTC)
    await bot.news(article(2, "NATO ministers agree on new air policing rules"))
    parents = [m.text for m in bot.fake.messages if m.thread_ts is None]
    assert parents == ["News alerts · 24 Nov 2024", "News alerts · 25 Nov 2024"]


async def test_a_thread_reply_slack_stored_before_a_500_is_not_posted_again(socket_bot: Bot) -> None:
    bot = socket_bot
    await bot.command("subscribe NATO thread")
    assert (await bot.news(article(1))).sent == 1
    bot.fake.fail("chat.postMessage", "internal_error", status=500, after=True)  # stored, then 500
    report = await bot.news(article(2, "NATO ministers agree on new air policing rules"))
    assert (report.sent, report.retrying) == (0, 1)
    bot.clock[0] += 60
    assert (await bot.delivery.deliver_due()).sent == 1
    parent, first, second = bot.fake.messages  # no second copy of the reply
    assert (first.thread_ts, second.thread_ts) == (parent.ts, parent.ts)
    assert second.blocks[0]["text"]["text"] == "NATO ministers agree on new air policing rules"
    [look] = bot.fake.called("conversations.replies")  # history leaves replies out: the thread is read
    assert look.args["ts"] == parent.ts
    assert second.metadata is not None
    status = await bot.store.alert_status(second.metadata["event_payload"]["alert_id"])
    assert status is not None and (status.status, status.attempts) == ("sent", 2)


async def test_the_days_thread_parent_is_not_posted_twice_after_a_failure(socket_bot: Bot) -> None:
    bot = socket_bot
    await bot.command("subscribe NATO thread")
    bot.fake.fail("chat.postMessage", "internal_error", status=500, after=True)  # the parent: stored, 500
    report = await bot.news(article(1))
    assert (report.sent, report.retrying) == (0, 1)
    [parent] = bot.fake.messages
    bot.clock[0] += 60
    assert (await bot.delivery.deliver_due()).sent == 1
    assert [(m.ts, m.thread_ts) for m in bot.fake.messages] == [
        (parent.ts, None),
        (bot.fake.messages[1].ts, parent.ts),
    ]


async def test_after_a_restart_the_days_thread_is_found_again_not_started_twice(socket_bot: Bot) -> None:
    bot = socket_bot
    today, tomorrow = datetime(2024, 11, 24, 9, tzinfo=UTC), datetime(2024, 11, 25, 0, 5, tzinfo=UTC)
    bot.adapter.notifier.now = lambda: today
    await bot.command("subscribe NATO thread")
    assert (await bot.news(article(1))).sent == 1
    await bot.pipeline.process([article(2, "NATO ministers agree on new air policing rules")])
    [item] = await bot.store.due_alerts(time.time() + 1, 10, ["slack"])
    restarted = SlackNotifier(bot.adapter.client, bot.store, bot.book, now=lambda: today)
    await restarted.send(item.alert)
    parent, first, second = bot.fake.messages
    assert (first.thread_ts, second.thread_ts) == (parent.ts, parent.ts)
    assert parent.text == "News alerts · 24 Nov 2024"
    restarted.now = lambda: tomorrow  # a new day starts a new thread
    await bot.pipeline.process([article(3, "NATO opens its summit's second day")])
    due = await bot.store.due_alerts(time.time() + 1, 10, ["slack"])
    [item] = [i for i in due if i.alert.title.endswith("second day")]
    await restarted.send(item.alert)
    assert [m.text for m in bot.fake.messages if m.thread_ts is None] == [
        "News alerts · 24 Nov 2024",
        "News alerts · 25 Nov 2024",
    ]


# ---- the fake keeps threads as Slack does --------------------------------------------------------------


async def test_fake_slack_keeps_replies_out_of_history_and_serves_them_in_replies(fake: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_base)
    meta = {"event_type": "newsbot_alert", "event_payload": {"alert_id": "x"}}
    parent = await client.chat_postMessage(channel=CHANNEL, text="parent")
    reply = await client.chat_postMessage(
        channel=CHANNEL, text="reply", thread_ts=parent["ts"], metadata=meta
    )
    again = await client.chat_postMessage(
        channel=CHANNEL, text="reply", thread_ts=parent["ts"], metadata=meta
    )
    assert len(fake.messages) == 3 and reply["ts"] != again["ts"]  # nothing is deduplicated
    history = await client.conversations_history(channel=CHANNEL, include_all_metadata=True)
    assert [(m["ts"], m["reply_count"]) for m in history["messages"]] == [(parent["ts"], 2)]
    thread = await client.conversations_replies(channel=CHANNEL, ts=reply["ts"], include_all_metadata=True)
    assert [m["ts"] for m in thread["messages"]] == [parent["ts"], reply["ts"], again["ts"]]
    assert [m.get("metadata") for m in thread["messages"]] == [None, meta, meta]
    bare = await client.conversations_replies(channel=CHANNEL, ts=parent["ts"], limit=2)
    assert "metadata" not in bare["messages"][1] and bare["has_more"]
    rest = await client.conversations_replies(
        channel=CHANNEL, ts=parent["ts"], cursor=bare["response_metadata"]["next_cursor"]
    )
    assert [m["ts"] for m in rest["messages"]] == [again["ts"]]
    fake.fail("chat.postMessage", "internal_error", status=500, after=True)
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel=CHANNEL, text="stored, then 500", thread_ts=parent["ts"])
    assert fake.messages[-1].text == "stored, then 500" and fake.messages[-1].thread_ts == parent["ts"]


async def test_another_outlets_report_in_its_own_words_edits_the_one_alert_and_pings_nobody(
    socket_bot: Bot,
) -> None:
    """Joined by the story detector (other headline, other link, other words), not by a shared key."""
    from tests.test_stories import ARTICLES

    bot = socket_bot
    await bot.command("subscribe Izmir")
    assert (await bot.news(ARTICLES["izmir-reuters"])).sent == 1
    report = await bot.news(ARTICLES["izmir-ap"])
    assert (report.sent, report.edited) == (0, 1)
    [posted] = bot.fake.messages
    [edit] = posted.edits
    assert "also reported by Harbour Gazette" in str(edit["blocks"])
    sent = str(edit["blocks"]) + edit.get("text", "")
    assert not any(ping in sent for ping in ("<!channel", "<!here", "<!everyone", "<@", "<!subteam"))


async def test_web_api_calls_share_connections(socket_bot: Bot) -> None:
    """slack_sdk without a session connects anew for every call (about 1,900 connections for 650
    messages, measured): the adapter gives its client one pool, which bolt's clients share."""
    from tests.events import EVENTS

    bot = socket_bot
    await bot.command("subscribe NATO")
    before = len(bot.fake.peers)
    titles = [f"NATO update: {event.split(',')[0]}" for event in EVENTS[:20]]
    report = await bot.news(*(article(n, title) for n, title in enumerate(titles, 1)))
    assert report.sent == 20
    assert len(bot.fake.peers) - before <= 2, f"{len(bot.fake.peers) - before} connections for 20 messages"

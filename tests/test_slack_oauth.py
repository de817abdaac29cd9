"""One Slack app for many workspaces, end to end: an admin installs the bot through its own web server
(the install page, Slack's consent on the fake Slack, the redirect back), the installation lands in the
SQLite file, and each workspace's commands and alerts go with that workspace's own token. The unmodified
slack-bolt app in HTTP mode against tests/fake_slack.py, over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.oauth.state_store.stateless import StatelessOAuthStateStore

from bot.config import load_config
from bot.core.models import ChannelRef
from bot.delivery.notify import NotifierRegistry
from bot.delivery.worker import DeliveryWorker, RetryPolicy
from bot.ingest.safety import UrlPolicy
from bot.logs import QUIET_LOGGERS
from bot.matching import default_aliases
from bot.platforms import PlatformContext
from bot.processing.pipeline import Pipeline
from bot.processing.subscriptions import SubscriptionBook
from bot.store import SqliteStore
from bot.summarise.extractive import ExtractiveSummariser
from bot.web.server import WebServer, create_web_app
from handlers.slack.adapter import create_adapter
from tests.conftest import write_config
from tests.fake_slack import TEAM, FakeSlack, bot_user
from tests.fake_slack_events import app_uninstalled, post_event_http, tokens_revoked
from tests.test_slack import SECRET, Bot, article, slack_server  # noqa: F401 (the fixture fake)
from tests.test_slack_lifecycle import until_paused

pytestmark = pytest.mark.filterwarnings(  # slack_sdk's own oauth.v2.access call, not ours
    "ignore:BasicAuth is deprecated:DeprecationWarning:slack_sdk"
)

CLIENT_ID, CLIENT_SECRET, STATE_SECRET = "1111.2222", "client-secret-for-tests", "state-secret-for-tests"
ENV = {
    "SLACK_SIGNING_SECRET": SECRET,
    "SLACK_CLIENT_ID": CLIENT_ID,
    "SLACK_CLIENT_SECRET": CLIENT_SECRET,
    "SLACK_STATE_SECRET": STATE_SECRET,
    "NEWSBOT_WEBHOOK_SECRET": "w",
}
A, B = "T0ALPHA", "T0BRAVO"
COOKIE = "slack-app-oauth-state"


@dataclass
class Page:
    status: int
    text: str


@dataclass
class Worker:
    """One process of the fleet: its own store connection, adapter and web server, on the shared file."""

    bot: Bot
    url: str

    async def install(self, team: str, *, finish_on: Worker | None = None) -> Page:
        """An admin of ``team`` opens the install link here, approves on Slack's page, and the browser
        is sent back to the redirect URL (on ``finish_on``, another worker behind the same address)."""
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
            async with browser.get(self.url + "/slack/install", allow_redirects=False) as started:
                assert started.status == 302
                location = started.headers["Location"]
                cookie = started.cookies[COOKIE].value
            assert location.startswith(self.bot.fake.api_base.replace("/api/", "/oauth/v2/authorize?"))
            back = self.bot.fake.consent(location, team=team, name=f"Desk {team}")
            return await redirect(finish_on or self, back, cookie)


async def redirect(worker: Worker, query: dict[str, str], cookie: str | None) -> Page:
    headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie is not None else {}
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser,
        browser.get(worker.url + "/slack/oauth_redirect", params=query, headers=headers) as page,
    ):
        return Page(page.status, await page.text())


async def _worker(tmp_path: Path, fake: FakeSlack, env: dict[str, str]) -> AsyncIterator[Worker]:
    extra = (
        f"  slack:\n    enabled: true\n    api_base: {fake.api_base}\n    mode: http\n"
        "    oauth:\n      state_secret_env: SLACK_STATE_SECRET\n"
        f"      authorize_url: {fake.api_base.replace('/api/', '/oauth/v2/authorize')}\n"
        "web:\n  enabled: true\n  port: 0\n"
    )
    config = load_config(write_config(tmp_path, extra, subs="  []\n"), env=env)
    store = await SqliteStore.open(tmp_path / "fleet.db")
    book = SubscriptionBook(default_aliases())
    for subscription in await store.list_subscriptions():
        book.add(subscription)
    context = PlatformContext(store, book, UrlPolicy(config.safety.allow_hosts).check_url, True, env)
    adapter = create_adapter(config.platforms.slack, context)
    registry = NotifierRegistry()
    registry.register(adapter.notifier)
    delivery = DeliveryWorker(store, registry, RetryPolicy(base=1.0), clock=time.time)
    bot = Bot(fake, store, book, adapter, Pipeline(store, book, ExtractiveSummariser()), delivery, [0.0])
    server = WebServer(
        create_web_app(intake=_no_intake, secret="w", max_body_bytes=100_000, routes=adapter.routes)
    )
    await server.start()
    bot.events_url = server.url + "/slack/events"
    await adapter.start()
    try:
        yield Worker(bot, server.url)
    finally:
        await adapter.stop()
        await server.stop()
        await store.close()


async def _no_intake(articles: object) -> int:
    return 0


@pytest.fixture
async def worker(tmp_path: Path, fake: FakeSlack) -> AsyncIterator[Worker]:
    fake.register_app(CLIENT_ID, CLIENT_SECRET)
    async for w in _worker(tmp_path, fake, ENV):
        yield w


@pytest.fixture
async def second(tmp_path: Path, fake: FakeSlack, worker: Worker) -> AsyncIterator[Worker]:
    async for w in _worker(tmp_path, fake, ENV):
        yield w


def installed(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "fleet.db") as db:
        return [r[0] for r in db.execute("SELECT team_id FROM slack_installations ORDER BY installed_at")]


async def until_installed(tmp_path: Path, teams: list[str]) -> None:
    """Bolt acknowledges an event before its handler runs: wait for the handler's work."""
    for _ in range(250):
        if installed(tmp_path) == teams:
            return
        await asyncio.sleep(0.02)
    assert installed(tmp_path) == teams


def token_of(fake: FakeSlack, team: str) -> str:
    """The latest bot token Slack issued for ``team``."""
    return [token for token, of in fake.tokens.items() if of == team][-1]


async def test_an_admin_installs_the_bot_and_each_workspace_is_served_with_its_own_token(
    worker: Worker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake, bot = worker.bot.fake, worker.bot
    with contextlib.ExitStack() as levels:  # DEBUG, as bot.logs sets it up
        levels.enter_context(caplog.at_level(logging.DEBUG))
        for quiet in QUIET_LOGGERS:
            levels.enter_context(caplog.at_level(logging.WARNING, logger=quiet))
        page = await worker.install(A)
        assert (page.status, "newsbot is installed in Desk T0ALPHA") == (
            200,
            page.text.split("</h1><p>")[1][:36],
        )
        assert (await worker.install(B)).status == 200
    assert installed(tmp_path) == [A, B]
    token_a, token_b = token_of(fake, A), token_of(fake, B)
    assert token_a not in caplog.text and token_b not in caplog.text  # secrets never logged
    assert [c.args["code"].startswith("code-") for c in fake.called("oauth.v2.access")] == [True, True]

    # A command from each workspace is authorised with that workspace's token.
    assert (await bot.command("subscribe NATO", channel="C0ALPHA", team=A)).startswith("Subscribed.")
    assert (await bot.command("subscribe NATO", channel="C0BRAVO", team=B)).startswith("Subscribed.")
    assert (await bot.command("mute 1h", user="UADMIN", channel="C0BRAVO", team=B)).startswith("Muted")
    assert fake.called("users.info")[-1].token == token_b  # the admin check asked B's Slack
    assert (await bot.command("mute off", user="UADMIN", channel="C0BRAVO", team=B)).startswith(
        "Alerts are back on"
    )
    assert {c.token for c in fake.called("auth.test")} >= {token_a, token_b}

    # An alert for a channel of B is posted with B's token, A's with A's.
    report = await bot.news(article())
    assert report.sent == 2
    posted = {m.channel: (m.team, m.token) for m in fake.messages}
    assert posted == {"C0ALPHA": (A, token_a), "C0BRAVO": (B, token_b)}


async def test_a_forged_expired_or_foreign_state_is_refused_with_a_page_that_says_why(
    worker: Worker, tmp_path: Path
) -> None:
    fake = worker.bot.fake
    forged = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjk5OTk5OTk5OTl9.forged"
    expired = StatelessOAuthStateStore(expiration_seconds=-60, signing_secret=STATE_SECRET).issue()
    for state in (forged, expired):
        query = fake.consent(f"https://slack/authorize?client_id={CLIENT_ID}&state={state}", team=A)
        page = await redirect(worker, query, state)
        assert page.status == 401
        assert "This install link has expired or was not issued by this bot" in page.text
        assert '<a href="/slack/install">Start the install again</a>' in page.text
    # A genuine state whose cookie is not this browser's (a link sent to someone else).
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(worker.url + "/slack/install", allow_redirects=False) as r,
    ):
        location = r.headers["Location"]
    page = await redirect(worker, fake.consent(location, team=A), None)
    assert page.status == 400 and "opened in another browser" in page.text
    assert installed(tmp_path) == [] and fake.called("oauth.v2.access") == []


async def test_an_install_begun_on_one_worker_is_completed_by_another(
    worker: Worker, second: Worker, tmp_path: Path
) -> None:
    page = await worker.install(A, finish_on=second)
    assert page.status == 200, page.text
    assert installed(tmp_path) == [A]
    # The first worker, which never saw the redirect, serves the workspace from the shared database.
    assert (await worker.bot.command("subscribe NATO", channel="C0ALPHA", team=A)).startswith("Subscribed.")
    assert (await worker.bot.news(article())).sent == 1
    assert [(m.channel, m.token) for m in worker.bot.fake.messages] == [
        ("C0ALPHA", token_of(worker.bot.fake, A))
    ]


async def test_uninstalling_removes_the_installation_and_holds_that_workspaces_alerts(
    worker: Worker, tmp_path: Path
) -> None:
    fake, bot = worker.bot.fake, worker.bot
    await worker.install(A)
    await worker.install(B)
    await bot.command("subscribe NATO", channel="C0ALPHA", team=A)
    await bot.command("subscribe NATO", channel="C0BRAVO", team=B)
    await bot.pipeline.process([article()])  # both alerts queued

    assert await post_event_http(bot.events_url, SECRET, app_uninstalled(), team=B) == 200
    await until_installed(tmp_path, [A])
    await until_paused(bot, ChannelRef("slack", "C0BRAVO", B))
    report = await bot.delivery.deliver_due()
    assert (report.sent, report.held) == (1, 1)
    assert [m.channel for m in fake.messages] == ["C0ALPHA"]
    assert [s.paused for s in await bot.store.list_subscriptions(ChannelRef("slack", "C0BRAVO", B))] == [True]

    # Installed again: subscribing there resumes the channel and the held alert goes, with the new token.
    await worker.install(B)
    assert (await bot.command("subscribe NATO", channel="C0BRAVO", team=B)).startswith("Resumed")
    assert (await bot.delivery.deliver_due()).sent == 1
    assert (fake.messages[-1].channel, fake.messages[-1].token) == ("C0BRAVO", token_of(fake, B))


async def test_a_workspace_whose_token_slack_refuses_is_paused_alone(
    worker: Worker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake, bot = worker.bot.fake, worker.bot
    await worker.install(A)
    await worker.install(B)
    await bot.command("subscribe NATO", channel="C0ALPHA", team=A)
    await bot.command("subscribe NATO", channel="C0BRAVO", team=B)
    fake.revoked.add(token_of(fake, B))  # revoked on Slack's side; the event never came

    with caplog.at_level(logging.WARNING):
        report = await bot.news(article())
    assert (report.sent, report.held) == (1, 1)
    assert [m.channel for m in fake.messages] == ["C0ALPHA"]
    assert f"of slack:{B}: Slack refused its bot token (token_revoked; install the app again)" in caplog.text
    assert "refused the bot's token" not in caplog.text  # the platform is not held: A goes on
    assert (await bot.news(article(2, "NATO summit ends in Vilnius"))).sent == 1


async def test_a_revoked_bot_token_event_deletes_that_workspaces_installation(
    worker: Worker, tmp_path: Path
) -> None:
    bot = worker.bot
    await worker.install(A)
    await worker.install(B)
    await bot.command("subscribe NATO", channel="C0BRAVO", team=B)
    assert await post_event_http(bot.events_url, SECRET, tokens_revoked(bot=[bot_user(A)]), team=B) == 200
    assert await post_event_http(bot.events_url, SECRET, tokens_revoked(bot=[bot_user(B)]), team=B) == 200
    await until_installed(tmp_path, [A])
    await until_paused(bot, ChannelRef("slack", "C0BRAVO", B))


async def test_a_bot_token_in_the_environment_still_serves_its_own_workspace(
    tmp_path: Path, fake: FakeSlack
) -> None:
    fake.register_app(CLIENT_ID, CLIENT_SECRET)
    async for worker in _worker(tmp_path, fake, {**ENV, "SLACK_BOT_TOKEN": "xoxb-test"}):
        await worker.install(B)
        await worker.bot.command("subscribe NATO", channel="C0NEWS", team=TEAM)
        await worker.bot.command("subscribe NATO", channel="C0BRAVO", team=B)
        assert (await worker.bot.news(article())).sent == 2
        posted = {m.channel: m.token for m in fake.messages}
        assert posted == {"C0NEWS": "xoxb-test", "C0BRAVO": token_of(fake, B)}
        assert installed(tmp_path) == [B]

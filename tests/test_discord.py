"""Discord end to end: the whole bot (App) with the real discord.py client talking to a fake Discord
on 127.0.0.1 — slash commands in over the gateway, alerts out over REST."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from discord.http import Route

from bot.app import App
from bot.config import Config, load_config
from bot.core.errors import DeliveryError, NewsBotError
from bot.core.models import Alert, Article, ChannelRef
from handlers.discord.adapter import DiscordAdapter
from handlers.discord.commands import GENERIC_FAILURE, NewsGroup
from tests.conftest import write_config
from tests.discord_interactions import EPHEMERAL
from tests.events import event
from tests.fake_discord import (
    ADMIN_ID,
    CHANNEL_ID,
    EDITOR_ID,
    FORUM_CHANNEL_ID,
    GUILD_ID,
    MEMBER_ID,
    QUIET_CHANNEL_ID,
    ROLE_ID,
    TOKEN,
    TRUSTED_ROLE_ID,
    FakeDiscord,
    Scope,
)
from tests.reply_support import discord_shown

TOKEN_ENV = "NEWSBOT_TEST_DISCORD_TOKEN"
HERE = ChannelRef("discord", CHANNEL_ID, GUILD_ID)


@pytest.fixture(name="fake")
async def discord_server() -> AsyncIterator[FakeDiscord]:
    """The fake Discord, as ``fake``; the other Discord test modules import it."""
    server = FakeDiscord()
    await server.start()
    yield server
    await server.close()


def discord_config(tmp_path: Path, fake: FakeDiscord, admin_role: str = "") -> Config:
    """A config with Discord on ``fake`` (its token in TOKEN_ENV), no feeds, no subscriptions."""
    extra = (
        "  discord:\n    enabled: true\n"
        f"    token_env: {TOKEN_ENV}\n    api_base: {fake.api_base}\n    dev_guild_ids: ['{GUILD_ID}']\n"
    )
    extra += f"    admin_role: '{admin_role}'\n" if admin_role else ""
    return load_config(write_config(tmp_path, extra, feeds="  []\n", subs="  []\n"))


async def _app(tmp_path: Path, fake: FakeDiscord, admin_role: str = "") -> AsyncIterator[App]:
    application = await App.build(discord_config(tmp_path, fake, admin_role))
    await application.start()
    yield application
    await application.close()


@pytest.fixture
async def app(tmp_path: Path, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[App]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    async for application in _app(tmp_path, fake):
        yield application


@pytest.fixture
async def trusting_app(
    tmp_path: Path, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[App]:
    """The bot set to trust TRUSTED_ROLE_ID (``platforms.discord.admin_role``)."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    async for application in _app(tmp_path, fake, TRUSTED_ROLE_ID):
        yield application


def adapter_of(app: App) -> DiscordAdapter:
    (adapter,) = app.adapters
    assert isinstance(adapter, DiscordAdapter)
    return adapter


def text_of(callback: dict[str, Any]) -> str:
    """What the user reads of the bot's answer: its content or its embed (tests/reply_support.py)."""
    return discord_shown(callback["data"])


def is_ephemeral(callback: dict[str, Any]) -> bool:
    return bool((callback["data"].get("flags") or 0) & EPHEMERAL)


def article(n: int, title: str, *, source: str = "Meridian Wire") -> Article:
    return Article(
        id=f"art-{n}",
        title=title,
        text=f"{title}. {event(n)}",
        url=f"https://news.example/{n}",
        source=source,
        published=datetime(2026, 11, 24, 8, n, tzinfo=UTC),
    )


async def arrive(app: App, *articles: Article) -> None:
    await app.intake(list(articles))
    await app.delivery.deliver_due()


async def test_subscribe_then_article_posts_the_embed_in_that_channel(app: App, fake: FakeDiscord) -> None:
    assert [c["name"] for c in fake.synced[GUILD_ID]] == ["news"]  # dev guild sync, not global
    assert "global" not in fake.synced

    reply = await fake.command("subscribe", {"query": "Ukraine", "mention": ROLE_ID})
    assert text_of(reply).startswith("Subscribed. Watching for: ukraine")
    assert not is_ephemeral(reply)  # the channel sees what it subscribed to

    await arrive(app, article(1, "Ukraine asks allies for air defence"), article(2, "Markets rally in Asia"))

    (posted,) = fake.channel_messages(CHANNEL_ID)
    embed = posted.body["embeds"][0]
    assert embed["title"] == "Ukraine asks allies for air defence"
    assert embed["url"] == "https://news.example/1"
    assert embed["footer"]["text"] == "Meridian Wire"
    assert posted.body["content"] == f"<@&{ROLE_ID}>"
    assert posted.body["allowed_mentions"] == {"parse": [], "roles": [ROLE_ID]}
    assert posted.body["enforce_nonce"] is True and posted.body["nonce"]


async def test_unsubscribe_with_autocomplete_stops_alerts(app: App, fake: FakeDiscord) -> None:
    await fake.command("subscribe", {"query": "Ukraine"})
    await fake.command("subscribe", {"query": "NATO"})

    choices = await fake.command("unsubscribe", {"subscription": "ukr"}, autocomplete="subscription")
    assert choices["type"] == 8
    assert choices["data"]["choices"] == [{"name": "1. ukraine", "value": "1"}]

    reply = await fake.command("unsubscribe", {"subscription": "1"})
    assert "Unsubscribed from: ukraine" in text_of(reply)
    listed = await fake.command("list")
    assert is_ephemeral(listed) and "ukraine" not in text_of(listed) and "nato" in text_of(listed).lower()

    await arrive(app, article(1, "Ukraine asks allies for air defence"))
    assert fake.channel_messages(CHANNEL_ID) == []


async def test_feeds_add_is_refused_for_a_member_without_manage_server(app: App, fake: FakeDiscord) -> None:
    refused = await fake.command("feeds add", {"url": "http://127.0.0.1:9/rss"}, user=MEMBER_ID)
    assert is_ephemeral(refused)
    assert text_of(refused) == "Only server admins can add and remove this channel's feeds; ask one of them."
    assert await app.store.list_feeds() == []

    listed = await fake.command("feeds list", user=MEMBER_ID)  # reading is for everyone
    assert "no feeds" in text_of(listed)

    added = await fake.command("feeds add", {"url": "http://127.0.0.1:9/rss"}, user=ADMIN_ID)
    assert "Watching http://127.0.0.1:9/rss for this channel" in text_of(added)
    assert [f.url for f in await app.store.list_feeds()] == ["http://127.0.0.1:9/rss"]


async def test_errors_are_specific_ephemeral_and_never_a_traceback(
    app: App, fake: FakeDiscord, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = await fake.command("subscribe", {"query": "(Ukraine OR"})
    assert is_ephemeral(bad)
    assert text_of(bad).startswith("I couldn't read that query")

    cannot_post = await fake.command("subscribe", {"query": "Ukraine"}, channel=QUIET_CHANNEL_ID)
    assert is_ephemeral(cannot_post)
    assert "can't post alerts in this channel" in text_of(cannot_post)
    assert await app.store.list_subscriptions() == []

    group = adapter_of(app).tree.get_command("news")
    assert isinstance(group, NewsGroup)

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(group.service, "preview", broken)
    with caplog.at_level(logging.ERROR):
        failed = await fake.command("preview", {"query": "Ukraine"})
    assert is_ephemeral(failed) and text_of(failed) == GENERIC_FAILURE
    assert "database on fire" not in text_of(failed)
    assert any(r.exc_info and "database on fire" in str(r.exc_info[1]) for r in caplog.records)


async def test_a_429_is_honoured_and_the_alert_still_arrives(app: App, fake: FakeDiscord) -> None:
    await fake.command("subscribe", {"query": "Ukraine"})
    fake.rate_limit("POST", f"/channels/{CHANNEL_ID}/messages", retry_after=0.3)

    await arrive(app, article(1, "Ukraine asks allies for air defence"))

    first, second = fake.calls("POST", f"/channels/{CHANNEL_ID}/messages")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 0.3
    assert len(fake.channel_messages(CHANNEL_ID)) == 1


def alert_to(channel: str, n: int = 1, *, thread: bool = False) -> Alert:
    return Alert(
        id=f"alert-{channel}-{n}",
        channel=ChannelRef("discord", channel, GUILD_ID),
        story_id=f"s{n}",
        title="Ukraine asks allies for air defence",
        url=f"https://news.example/{n}",
        source="Meridian Wire",
        summary="Officials said talks would continue.",
        terms=("Ukraine",),
        queries=("ukraine",),
        thread=thread,
    )


@pytest.mark.parametrize(
    ("retry_after", "scope"),
    [(20.0, "user"), (40.0, "user"), (1336.57, "shared"), (20.0, "global"), (40.0, "global")],
)
async def test_a_long_429_comes_back_at_once_with_its_retry_after(
    app: App, fake: FakeDiscord, retry_after: float, scope: Scope
) -> None:
    """Longer than discord.py waits inside a send: the send returns at once (no 20 or 40 s sleep, no
    "unreachable"), and Discord's next answer is not held up, not even after a global limit."""
    notifier = adapter_of(app).notifier
    fake.rate_limit("POST", f"/channels/{CHANNEL_ID}/messages", retry_after, scope=scope)

    with pytest.raises(DeliveryError) as raised:
        await notifier.send(alert_to(CHANNEL_ID))

    assert raised.value.retryable and not raised.value.auth
    assert raised.value.retry_after == retry_after
    assert "unreachable" not in str(raised.value)
    assert [r.status for r in fake.calls("POST", f"/channels/{CHANNEL_ID}/messages")] == [429]
    await notifier.send(alert_to(FORUM_CHANNEL_ID))  # another channel goes on
    assert len(fake.threads) == 1


async def test_a_cloudflare_429_waits_for_its_retry_after_header(app: App, fake: FakeDiscord) -> None:
    fake.rate_limit("POST", f"/channels/{CHANNEL_ID}/messages", 60, scope="cloudflare")
    with pytest.raises(DeliveryError) as raised:
        await adapter_of(app).notifier.send(alert_to(CHANNEL_ID))
    assert raised.value.retryable and raised.value.retry_after == 60


async def test_a_rate_limited_alert_is_retried_after_retry_after_while_other_channels_go_on(
    app: App, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fake.command("subscribe", {"query": "Ukraine"})
    await fake.command("subscribe", {"query": "NATO"}, channel=FORUM_CHANNEL_ID)
    fake.rate_limit("POST", f"/channels/{CHANNEL_ID}/messages", retry_after=20)

    await arrive(app, article(1, "Ukraine asks allies for air defence"), article(2, "NATO ministers meet"))
    assert fake.channel_messages(CHANNEL_ID) == []
    assert [t["name"] for t in fake.threads] == ["NATO ministers meet"]

    now = app.delivery.clock()
    monkeypatch.setattr(app.delivery, "clock", lambda: now + 15)
    assert (await app.delivery.deliver_due()).sent == 0  # Discord said 20 s
    monkeypatch.setattr(app.delivery, "clock", lambda: now + 21)
    assert (await app.delivery.deliver_due()).sent == 1
    (posted,) = fake.channel_messages(CHANNEL_ID)
    assert posted.body["embeds"][0]["title"] == "Ukraine asks allies for air defence"


async def test_gateway_drop_is_survived_with_resume_and_nothing_lost(app: App, fake: FakeDiscord) -> None:
    await fake.command("subscribe", {"query": "Ukraine"})
    await fake.drop_gateway()

    # A command typed during the outage reaches the bot when it resumes; alerts go out over REST meanwhile.
    pending = asyncio.create_task(fake.command("subscribe", {"query": "NATO"}))
    await arrive(app, article(1, "Ukraine asks allies for air defence"))
    reply = await pending
    await asyncio.wait_for(fake.connected.wait(), 10)

    assert text_of(reply).startswith("Subscribed. Watching for: NATO")
    assert (fake.identifies, fake.resumes) == (1, 1)
    await arrive(app, article(2, "NATO ministers meet in Brussels"))
    titles = [m.body["embeds"][0]["title"] for m in fake.channel_messages(CHANNEL_ID)]
    assert titles == ["Ukraine asks allies for air defence", "NATO ministers meet in Brussels"]


async def test_a_retried_send_does_not_double_post(app: App, fake: FakeDiscord) -> None:
    notifier = adapter_of(app).notifier
    alert = Alert(
        id="alert-1",
        channel=HERE,
        story_id="s1",
        title="Ukraine asks allies for air defence",
        url="https://news.example/1",
        source="Meridian Wire",
        summary="Officials said talks would continue.",
        terms=("Ukraine",),
        queries=("ukraine",),
    )
    first = await notifier.send(alert)
    again = await notifier.send(alert, retry=True)  # the first "timed out" after reaching Discord
    assert again == first
    assert len(fake.channel_messages(CHANNEL_ID)) == 1

    await notifier.edit(first, dataclasses.replace(alert, also=("Northbound Post", "Harbour Times")))
    (posted,) = fake.channel_messages(CHANNEL_ID)
    fields = posted.current["embeds"][0]["fields"]
    assert {"name": "Also reported by", "value": "Northbound Post, Harbour Times", "inline": False} in fields


async def test_an_alert_whose_answer_was_lost_is_posted_once_in_a_channel_and_in_a_forum(
    app: App, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discord posts, the answer never arrives, the outbox retries: still one message and one post."""
    await fake.command("subscribe", {"query": "Ukraine"})
    await fake.command("subscribe", {"query": "NATO"}, channel=FORUM_CHANNEL_ID)
    fake.lose_answer("POST", f"/channels/{CHANNEL_ID}/messages")
    fake.lose_answer("POST", f"/channels/{FORUM_CHANNEL_ID}/threads")

    nato = "NATO ministers meet in Brussels over air defence"
    await arrive(app, article(1, "Ukraine asks allies for air defence"), article(2, nato))
    assert len(fake.channel_messages(CHANNEL_ID)) == 1 and len(fake.threads) == 1  # Discord has them
    now = app.delivery.clock()
    monkeypatch.setattr(app.delivery, "clock", lambda: now + 600)
    assert (await app.delivery.deliver_due()).sent == 2  # the retries

    assert len(fake.channel_messages(CHANNEL_ID)) == 1
    (post,) = fake.threads
    assert post["parent"] == FORUM_CHANNEL_ID and len(fake.channel_messages(post["id"])) == 1
    # and the outbox knows where they are: a story gaining sources edits them
    await arrive(app, dataclasses.replace(article(3, nato), source="Northbound Post"))
    (starter,) = fake.channel_messages(post["id"])
    assert starter.edits


async def test_a_retried_thread_alert_posts_once_and_keeps_its_thread(
    app: App, fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    """Posted with its thread, then the bot died before the outbox recorded it: the retry finds both."""
    notifier = adapter_of(app).notifier
    alert = alert_to(CHANNEL_ID, thread=True)
    await notifier.send(alert)
    with caplog.at_level(logging.WARNING):
        ref = await notifier.send(alert, retry=True)
    (posted,) = fake.channel_messages(CHANNEL_ID)
    assert ref.message_id == posted.id
    assert [t["from_message"] for t in fake.threads] == [posted.id]
    assert "thread could not be opened" not in caplog.text


async def test_a_retried_forum_post_is_not_mistaken_for_another_with_the_same_name(
    app: App, fake: FakeDiscord
) -> None:
    notifier = adapter_of(app).notifier
    first = alert_to(FORUM_CHANNEL_ID, 1)
    other = dataclasses.replace(alert_to(FORUM_CHANNEL_ID, 2), summary="A different story, same headline.")
    await notifier.send(first)
    await notifier.send(other, retry=True)  # its first attempt never reached Discord
    assert await notifier.send(first, retry=True) == await notifier.send(first, retry=True)
    assert len(fake.threads) == 2


async def test_the_fake_honours_enforce_nonce_as_discord_documents_it(app: App, fake: FakeDiscord) -> None:
    """Create Message returns the first message for a repeated nonce only with enforce_nonce; Start
    Thread in Forum documents no nonce check, so the fake makes a second post."""
    http = adapter_of(app).client.http
    messages = Route("POST", "/channels/{channel_id}/messages", channel_id=int(CHANNEL_ID))
    body = {"content": "hello", "nonce": "n-1"}
    first = await http.request(messages, json={**body, "enforce_nonce": True})
    again = await http.request(messages, json={**body, "enforce_nonce": True})
    loose = await http.request(messages, json=body)
    assert again["id"] == first["id"] != loose["id"]
    assert len(fake.channel_messages(CHANNEL_ID)) == 2

    posts = Route("POST", "/channels/{channel_id}/threads", channel_id=int(FORUM_CHANNEL_ID))
    post = {"name": "hello", "message": {**body, "enforce_nonce": True}}
    assert (await http.request(posts, json=post))["id"] != (await http.request(posts, json=post))["id"]


async def test_losing_a_channel_pauses_its_subscriptions_and_logs_once(
    app: App, fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    await fake.command("subscribe", {"query": "Ukraine"})
    fake.forbidden_channels.add(CHANNEL_ID)

    with caplog.at_level(logging.WARNING):
        await arrive(app, article(1, "Ukraine asks allies for air defence"))
        await arrive(app, article(2, "Ukraine grain deal extended"))

    (subscription,) = await app.store.list_subscriptions(HERE)
    assert subscription.paused  # kept, not deleted
    assert len(fake.calls("POST", f"/channels/{CHANNEL_ID}/messages")) == 1  # no more tries once paused
    lost = [r for r in caplog.records if "lost access" in r.getMessage()]
    assert len(lost) == 1
    assert TOKEN not in caplog.text


async def test_a_refused_token_is_an_auth_error_and_a_refused_channel_is_not(
    app: App, fake: FakeDiscord
) -> None:
    notifier = adapter_of(app).notifier
    with pytest.raises(DeliveryError) as refused_channel:
        await notifier.send(alert_to(QUIET_CHANNEL_ID))  # 403 Missing Permissions: that channel only
    assert not refused_channel.value.retryable and not refused_channel.value.auth

    fake.revoke_token()
    for channel in (CHANNEL_ID, FORUM_CHANNEL_ID):
        with pytest.raises(DeliveryError) as refused_token:
            await notifier.send(alert_to(channel))
        assert refused_token.value.auth and refused_token.value.retryable
        assert "401" in str(refused_token.value)
    assert fake.messages == [] and fake.threads == []


async def test_a_token_the_gateway_refuses_is_an_auth_error(app: App, fake: FakeDiscord) -> None:
    """Reset in the developer portal: the gateway refuses it on reconnecting (4004), discord.py closes
    the client, and every send says so instead of "not connected". /healthz shows Discord disconnected,
    but the bot stays healthy: a restart would not mend the token."""
    adapter = adapter_of(app)
    for _ in range(250):  # READY follows the connection
        if await adapter.is_connected():
            break
        await asyncio.sleep(0.02)
    assert (await app.health.check(time.time())).body["platforms"] == {"discord": "connected"}
    fake.revoke_token()
    await fake.drop_gateway()
    for _ in range(250):  # discord.py closes the client, then the adapter learns why (close 4004)
        if adapter.client.is_closed() and adapter.notifier.token_refused:
            break
        await asyncio.sleep(0.02)
    assert adapter.client.is_closed()
    health = await app.health.check(time.time())
    assert health.healthy and health.body["platforms"] == {"discord": "disconnected"}

    with pytest.raises(DeliveryError) as raised:
        await adapter.notifier.send(alert_to(CHANNEL_ID))
    assert raised.value.auth and raised.value.retryable


async def test_a_story_gaining_sources_edits_the_original_message(app: App, fake: FakeDiscord) -> None:
    await fake.command("subscribe", {"query": "Ukraine"})
    first = article(1, "Ukraine asks allies for more air defence")
    await arrive(app, first)
    same_story = dataclasses.replace(
        article(2, first.title, source="Northbound Post"), url="https://other.example/story"
    )
    await arrive(app, same_story)

    (posted,) = fake.channel_messages(CHANNEL_ID)  # no second message
    assert len(fake.calls("PATCH", f"/channels/{CHANNEL_ID}/messages/{posted.id}")) == 1
    fields = posted.current["embeds"][0]["fields"]
    assert {"name": "Also reported by", "value": "Northbound Post", "inline": False} in fields


async def test_mute_holds_alerts_for_the_channel(app: App, fake: FakeDiscord) -> None:
    await fake.command("subscribe", {"query": "Ukraine"})
    muted = await fake.command("mute", {"duration": "2h"})
    assert muted["data"]["content"].startswith("Muted until")
    await arrive(app, article(1, "Ukraine asks allies for air defence"))
    assert fake.channel_messages(CHANNEL_ID) == []

    digest = await fake.command("digest", {"schedule": "daily"})
    assert "one digest every day" in text_of(digest)


async def test_removal_from_a_server_pauses_its_subscriptions(app: App, fake: FakeDiscord) -> None:
    await fake.command("subscribe", {"query": "Ukraine"})
    await fake.dispatch("GUILD_DELETE", {"id": GUILD_ID})
    for _ in range(100):
        if all(s.paused for s in await app.store.list_subscriptions(HERE)):
            break
        await asyncio.sleep(0.02)
    (subscription,) = await app.store.list_subscriptions(HERE)
    assert subscription.paused
    await arrive(app, article(1, "Ukraine asks allies for air defence"))
    assert fake.calls("POST", f"/channels/{CHANNEL_ID}/messages") == []


async def test_a_wrong_token_is_a_clear_startup_error(
    tmp_path: Path, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")
    extra = f"  discord:\n    enabled: true\n    token_env: {TOKEN_ENV}\n    api_base: {fake.api_base}\n"
    application = await App.build(load_config(write_config(tmp_path, extra, feeds="  []\n", subs="  []\n")))
    try:
        with pytest.raises(NewsBotError, match=f"refused the bot token in \\${TOKEN_ENV}"):
            await application.start()
    finally:
        await application.close()
    assert "not-the-token" not in caplog.text
    assert fake.identifies == 0


async def test_thread_option_opens_a_thread_per_alert_and_a_forum_gets_posts(
    app: App, fake: FakeDiscord
) -> None:
    reply = await fake.command("subscribe", {"query": "Ukraine", "thread": True})
    assert "(alerts go into threads)" in text_of(reply)
    await fake.command("subscribe", {"query": "NATO"}, channel=FORUM_CHANNEL_ID)
    nato = "NATO ministers meet in Brussels over air defence"
    await arrive(app, article(1, "Ukraine asks allies for air defence"), article(2, nato))

    (posted,) = fake.channel_messages(CHANNEL_ID)
    [thread, forum_post] = sorted(fake.threads, key=lambda t: t["parent"])
    assert thread == {
        "parent": CHANNEL_ID,
        "id": posted.id,
        "name": "Ukraine asks allies for air defence",
        "from_message": posted.id,
    }
    assert forum_post["parent"] == FORUM_CHANNEL_ID and forum_post["name"] == nato
    (starter,) = fake.channel_messages(forum_post["id"])
    assert starter.body["embeds"][0]["title"] == nato
    assert starter.body["enforce_nonce"] is True and starter.body["nonce"]

    # A second outlet: the forum post's message is edited inside its thread.
    await arrive(app, dataclasses.replace(article(3, nato), source="Northbound Post"))
    assert starter.edits and starter.edits[-1]["embeds"][0]["fields"][-1]["name"] == "Also reported by"


async def test_channel_wide_commands_are_for_server_admins(app: App, fake: FakeDiscord) -> None:
    for path, options, action in [
        ("mute", {"duration": "30d"}, "mute this channel"),
        ("digest", {"schedule": "daily"}, "change this channel's digest"),
        ("timezone", {"zone": "Europe/Kyiv"}, "change this channel's time zone"),
    ]:
        refused = await fake.command(path, options, user=MEMBER_ID)
        assert is_ephemeral(refused)
        assert text_of(refused) == f"Only server admins can {action}; ask one of them."
    assert (await app.store.channel_settings(HERE)).muted_until == 0
    pinging = await fake.command("subscribe", {"query": "Ukraine", "mention": ROLE_ID}, user=MEMBER_ID)
    assert text_of(pinging).startswith("Only server admins can subscribe with a role mention, which pings")
    assert await app.store.list_subscriptions(HERE) == []

    plain = await fake.command("subscribe", {"query": "Ukraine"}, user=MEMBER_ID)  # no ping: anyone
    assert text_of(plain).startswith("Subscribed.")
    assert text_of(await fake.command("mute", {"duration": "2h"})).startswith("Muted until ")
    assert text_of(await fake.command("timezone", user=MEMBER_ID)).startswith(
        "This channel's time zone is UTC."
    )


async def test_the_trusted_role_may_what_server_admins_may(trusting_app: App, fake: FakeDiscord) -> None:
    refused = await fake.command("mute", {"duration": "2h"}, user=MEMBER_ID)
    assert text_of(refused) == (
        "Only server admins or members of the trusted role can mute this channel; ask one of them."
    )
    muted = await fake.command("mute", {"duration": "2h"}, user=EDITOR_ID)
    assert text_of(muted).startswith("Muted until ") and not is_ephemeral(muted)
    pinging = await fake.command("subscribe", {"query": "Ukraine", "mention": ROLE_ID}, user=EDITOR_ID)
    assert text_of(pinging).startswith("Subscribed.")
    [subscription] = await trusting_app.store.list_subscriptions(HERE)
    assert subscription.mention == ROLE_ID


async def test_pause_and_resume_one_subscription(app: App, fake: FakeDiscord) -> None:
    await fake.command("subscribe", {"query": "Ukraine"}, user=MEMBER_ID)
    await fake.command("subscribe", {"query": "NATO"}, user=MEMBER_ID)
    choices = await fake.command("pause", {"subscription": "nat"}, autocomplete="subscription")
    assert choices["data"]["choices"] == [{"name": "2. NATO", "value": "2"}]
    paused = await fake.command("pause", {"subscription": "1"}, user=MEMBER_ID)
    assert text_of(paused) == "Paused subscription 1: ukraine\nIt matches nothing until /news resume 1."
    assert not is_ephemeral(paused)
    assert "1. ukraine (paused)" in text_of(await fake.command("list"))

    await arrive(app, article(1, "Ukraine asks allies for air defence"), article(2, "NATO ministers meet"))
    assert [m.body["embeds"][0]["title"] for m in fake.channel_messages(CHANNEL_ID)] == [
        "NATO ministers meet"
    ]

    resumed = await fake.command("resume", {"subscription": "1"}, user=MEMBER_ID)
    assert text_of(resumed) == "Resumed subscription 1: ukraine"
    await arrive(app, article(3, "Ukraine grain corridor reopens"))
    assert len(fake.channel_messages(CHANNEL_ID)) == 2


async def test_timezone_is_set_with_autocomplete_and_digests_follow_it(app: App, fake: FakeDiscord) -> None:
    choices = await fake.command("timezone", {"zone": "kolk"}, autocomplete="zone")
    assert choices["data"]["choices"] == [{"name": "Asia/Kolkata", "value": "Asia/Kolkata"}]
    reply = await fake.command("timezone", {"zone": "Asia/Kolkata"})
    assert text_of(reply).startswith("This channel's time zone is now Asia/Kolkata:")
    digest = await fake.command("digest", {"schedule": "hourly"})
    assert text_of(digest) == "This channel now gets one digest at the top of every hour (Asia/Kolkata time)."
    assert (await app.store.channel_settings(HERE)).timezone == "Asia/Kolkata"
    status = text_of(await fake.command("status"))
    assert "the next one at " in status and status.endswith("Time zone: Asia/Kolkata")


async def test_another_outlets_report_in_its_own_words_edits_the_one_alert(
    app: App, fake: FakeDiscord
) -> None:
    """Joined by the story detector (other headline, other link, other words), not by a shared key."""
    from tests.test_stories import ARTICLES

    await fake.command("subscribe", {"query": "Izmir"})
    await arrive(app, ARTICLES["izmir-reuters"])
    await arrive(app, ARTICLES["izmir-ap"])
    (posted,) = fake.channel_messages(CHANNEL_ID)
    fields = posted.current["embeds"][0]["fields"]
    assert {"name": "Also reported by", "value": "Harbour Gazette", "inline": False} in fields

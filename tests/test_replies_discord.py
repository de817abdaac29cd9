"""/news replies on Discord end to end, through the real discord.py client and the fake Discord: a feed
item's hostile title comes out escaped in /news preview and /news why (the interaction response), a
digest links each story, and the buttons of /news list and /news feeds list round-trip as component
interactions (type 3) into the same commands as typing them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.core.models import Article
from handlers.discord.buttons import message_options
from handlers.replies import Button, Item, Section, reply
from tests.fake_discord import ADMIN_ID, CHANNEL_ID, EPHEMERAL, MEMBER_ID, TOKEN, FakeDiscord
from tests.reply_support import discord_shown
from tests.test_discord import (
    TOKEN_ENV,
    _app,
    discord_server,  # noqa: F401 (the fixture fake)
)

EVIL = (
    "Ukraine @everyone update: convoy *reaches* Kharkiv <@930000000000000002> <@&940000000000000001> "
    "[see photos](https://evil.example/phish) ||spoiler|| # heading"
)
EVIL_URL = "https://harbour.example/convoy?id=1&lang=en"


@pytest.fixture
async def app(tmp_path: Path, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[App]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    async for application in _app(tmp_path, fake):
        yield application


def article(n: int, title: str, url: str = "") -> Article:
    return Article(
        id=f"art-{n}",
        title=title,
        text=f"{title}. Report number {n} from the desk.",
        url=url or f"https://news.example/{n}",
        source="Harbour Gazette",
        published=datetime(2026, 11, 24, 8, n, tzinfo=UTC),
    )


def button_ids(answer: dict[str, Any]) -> list[str]:
    rows = answer["data"].get("components") or []
    return [c["custom_id"] for row in rows for c in row["components"]]


def description(answer: dict[str, Any]) -> str:
    [embed] = answer["data"]["embeds"]
    return str(embed.get("description", ""))


def assert_nothing_live(answer: dict[str, Any]) -> None:
    data = answer["data"]
    assert data["allowed_mentions"] == {"parse": []}
    raw = json.dumps(data, ensure_ascii=False)
    for live in ("@everyone", "<@930000000000000002>", "<@&940000000000000001>", "[see photos](https://evil"):
        assert live not in raw, live


async def test_preview_and_why_of_a_hostile_feed_item_come_out_escaped(app: App, fake: FakeDiscord) -> None:
    await fake.command("subscribe", {"query": "convoy"})
    await app.intake([article(1, EVIL, EVIL_URL)])
    await app.delivery.deliver_due()

    preview = await fake.command("preview", {"query": "convoy"})
    assert preview["data"]["flags"] & EPHEMERAL
    assert_nothing_live(preview)
    item = description(preview).splitlines()[2]
    assert item == (
        "- [Ukraine @\u200beveryone update: convoy \\*reaches\\* Kharkiv <\u200b@930000000000000002> "
        "<\u200b@&940000000000000001> \\[see photos\\](https://evil.example/phish) \\|\\|spoiler\\|\\| "
        f"# heading]({EVIL_URL}) — Harbour Gazette (matched: convoy)"
    )

    why = await fake.command("why", {"url": EVIL_URL})
    assert_nothing_live(why)
    assert description(why).splitlines()[0].endswith(f"# heading]({EVIL_URL}) — Harbour Gazette.")
    assert "- matches `convoy` (on convoy)" in description(why)


async def test_a_digest_links_every_story(app: App, fake: FakeDiscord) -> None:
    await fake.command("subscribe", {"query": "Ukraine"})
    await fake.command("mute", {"duration": "2h"})
    await app.intake(
        [article(1, "Ukraine asks allies for air defence"), article(2, "Ukraine grain @here deal")]
    )
    await app.delivery.deliver_due()
    assert fake.channel_messages(CHANNEL_ID) == []
    await fake.command("mute", {"duration": "off"})
    await app.delivery.deliver_due()
    [digest] = fake.channel_messages(CHANNEL_ID)
    embed = digest.body["embeds"][0]
    assert embed["title"] == "2 new articles"
    assert embed["description"].splitlines() == [
        "- [Ukraine asks allies for air defence](https://news.example/1) — Harbour Gazette",
        "- [Ukraine grain @\u200bhere deal](https://news.example/2) — Harbour Gazette",
    ]
    assert digest.body["allowed_mentions"] == {"parse": [], "roles": []}


async def test_list_is_an_embed_and_its_button_unsubscribes(app: App, fake: FakeDiscord) -> None:
    await fake.command("subscribe", {"query": "Ukraine"})
    await fake.command("subscribe", {"query": "NATO"})
    listed = await fake.command("list")
    [embed] = listed["data"]["embeds"]
    assert embed["title"] == "Subscriptions in this channel"
    assert embed["description"] == "1. `ukraine`\n2. `NATO`"
    first, second = button_ids(listed)
    labels = [c["label"] for row in listed["data"]["components"] for c in row["components"]]
    assert labels == ["Unsubscribe 1", "Unsubscribe 2"] and first.startswith("news:unsubscribe:")

    answer = await fake.press(listed, first, user=MEMBER_ID)
    assert discord_shown(answer["data"]) == "Unsubscribed from: ukraine"
    assert not (answer["data"].get("flags") or 0) & EPHEMERAL  # the channel sees it, as when typed
    assert [s.query for s in await app.store.list_subscriptions()] == ["NATO"]

    again = await fake.press(listed, first)
    assert discord_shown(again["data"]).startswith("That subscription is no longer in this channel")
    assert again["data"]["flags"] & EPHEMERAL
    assert discord_shown((await fake.press(listed, second))["data"]) == "Unsubscribed from: NATO"
    assert await app.store.list_subscriptions() == []


async def test_a_feed_remove_button_is_for_admins_as_the_command_is(app: App, fake: FakeDiscord) -> None:
    await fake.command("feeds add", {"url": "http://127.0.0.1:9/rss"}, user=ADMIN_ID)
    assert button_ids(await fake.command("feeds list", user=MEMBER_ID)) == []
    listed = await fake.command("feeds list", user=ADMIN_ID)
    assert description(listed) == "1. http://127.0.0.1:9/rss"
    [remove] = button_ids(listed)

    refused = await fake.press(listed, remove, user=MEMBER_ID)
    assert discord_shown(refused["data"]) == (
        "Only server admins can add and remove this channel's feeds; ask one of them."
    )
    assert [f.url for f in await app.store.list_feeds()] == ["http://127.0.0.1:9/rss"]
    done = await fake.press(listed, remove, user=ADMIN_ID)
    assert discord_shown(done["data"]) == "This channel no longer watches http://127.0.0.1:9/rss"


async def test_the_buttons_view_is_left_to_discord_py_unkept() -> None:
    """A view discord.py keeps is dropped when it times out (an ephemeral one after 15 minutes), and
    dropping one that holds a dynamic item unregisters that item for every message: the list's view is
    sent stopped, so none is kept and its buttons work for as long as the bot runs."""
    item = Item(("ukraine",), Button("Unsubscribe", "unsubscribe", "7"))
    options = message_options(reply(Section(heading="Subscriptions", items=(item,), numbered=True)))
    view = options["view"]
    assert view.is_finished()
    [row] = view.to_components()
    assert [(b["custom_id"], b["label"]) for b in row["components"]] == [
        ("news:unsubscribe:7", "Unsubscribe 1")
    ]

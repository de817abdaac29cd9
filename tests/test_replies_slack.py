"""/news replies on Slack end to end, through the unmodified slack-bolt app and the fake Slack, in Socket
Mode and in HTTP mode: a feed item's hostile title comes out escaped in /news preview and /news why (the
reply posted to the response_url), a digest links each story, and the buttons of /news list and
/news feeds list round-trip as block_actions into the same commands as typing them."""

from __future__ import annotations

import json
from typing import Any

from bot.core.models import Article, ChannelRef
from tests.fake_slack import TEAM
from tests.test_slack import (
    CHANNEL,
    SECRET,
    Bot,
    article,
    slack_bot,  # noqa: F401 (the fixture bot)
    slack_server,  # noqa: F401 (the fixture fake)
)

EVIL = (
    "Ukraine <!channel> update: convoy *reaches* Kharkiv <@U_USER> <https://evil.example/phish|see photos> "
    "<#C0GENERAL> <!subteam^S0ALL> @here"
)
EVIL_URL = "https://harbour.example/convoy?id=1&lang=en"
ESCAPED = (
    "Ukraine &lt;!channel&gt; update: convoy ∗reaches∗ Kharkiv &lt;@UˍUSER&gt; "
    "&lt;https://evil.example/phish|see photos&gt; &lt;#C0GENERAL&gt; &lt;!subteam^S0ALL&gt; @\u200bhere"
)
"""EVIL as mrkdwn: entities for every angle bracket, look-alikes for markup, a zero-width space after @."""


async def reply_to(bot: Bot, text: str, *, user: str = "UUSER") -> dict[str, Any]:
    """Run ``/news <text>``; the whole reply posted to its response_url."""
    count = len(bot.fake.responses) + 1
    await bot.command(text, user=user)
    return bot.fake.responses[count - 1]


async def click(bot: Bot, button: dict[str, Any], *, user: str = "UUSER") -> dict[str, Any]:
    """Click ``button`` (a Block Kit button of a reply) as ``user``; the reply to the click."""
    count = len(bot.fake.responses) + 1
    if bot.events_url:
        status, _ = await bot.fake.post_click_http(bot.events_url, SECRET, button, user=user)
        assert status == 200
    else:
        await bot.fake.wait_ack(await bot.fake.click(button, user=user))
    return await bot.fake.wait_response(count)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b["accessory"] for b in message.get("blocks", []) if "accessory" in b]


def assert_nothing_live(message: dict[str, Any]) -> None:
    """No mention, channel link, user-group ping or masked link from the feed's title anywhere."""
    raw = json.dumps(message, ensure_ascii=False)
    for live in (
        "<!channel>",
        "<@U_USER>",
        "<https://evil.example",
        "<#C0GENERAL>",
        "<!subteam^S0ALL>",
        "@here",
    ):
        assert live not in raw, live


async def test_preview_and_why_of_a_hostile_feed_item_come_out_escaped(bot: Bot) -> None:
    await bot.command("subscribe convoy")
    hostile = Article(
        id="evil", title=EVIL, text="Convoy news.", url=EVIL_URL, source="Harbour <!here> Gazette"
    )
    await bot.news(hostile)

    preview = await reply_to(bot, "preview convoy")
    assert preview["response_type"] == "ephemeral"
    assert_nothing_live(preview)
    [section] = preview["blocks"]
    assert section["text"]["verbatim"] is True
    item = section["text"]["text"].splitlines()[2]
    link = "<https://harbour.example/convoy?id=1&amp;lang=en|" + ESCAPED + ">"
    assert item.startswith(f"• {link} — Harbour &lt;!here&gt; Gazette (matched: convoy")

    why = await reply_to(bot, f"why {EVIL_URL}")
    assert_nothing_live(why)
    text = why["blocks"][0]["text"]["text"]
    assert text.splitlines()[0].endswith(f": {link} — Harbour &lt;!here&gt; Gazette.")
    assert "• matches `convoy` (on convoy)" in text


async def test_a_digest_links_every_story(bot: Bot) -> None:
    await bot.command("subscribe NATO")
    await bot.command("mute 2h", user="UADMIN")
    await bot.news(article(1), article(2, "NATO ministers agree on air policing <!channel>"))
    assert bot.fake.messages == []
    assert "2 alert(s) held come now as one digest" in await bot.command("mute off", user="UADMIN")
    await bot.delivery.deliver_due()
    [digest] = bot.fake.messages
    assert digest.blocks[0]["text"]["text"] == "2 new articles"
    assert digest.blocks[1]["text"]["text"].splitlines() == [
        "• <https://meridian-wire.example/nato-1|NATO summit opens in Vilnius> — Meridian Wire",
        "• <https://meridian-wire.example/nato-2|NATO ministers agree on air policing &lt;!channel&gt;> "
        "— Meridian Wire",
    ]


async def test_list_is_block_kit_and_its_button_unsubscribes(bot: Bot) -> None:
    await bot.command("subscribe NATO")
    await bot.command("subscribe Kyiv hourly")
    listed = await reply_to(bot, "list")
    assert [b["type"] for b in listed["blocks"]] == ["header", "section", "section"]
    assert [b["text"]["text"] for b in listed["blocks"][1:]] == ["1. `NATO`", "2. `kyiv`"]
    first, second = buttons(listed)
    assert first["text"]["text"] == "Unsubscribe" and first["action_id"].startswith("news:unsubscribe:")

    answer = await click(bot, first)
    assert answer["text"] == "Unsubscribed from: NATO"
    assert (answer["response_type"], answer["replace_original"]) == ("ephemeral", False)
    assert [s.query for s in await bot.store.list_subscriptions()] == ["kyiv"]
    await bot.news(article())
    assert bot.fake.messages == []  # NATO no longer matches here

    again = await click(bot, first)  # the list it was clicked in is older than the click
    assert again["text"].startswith("That subscription is no longer in this channel")
    assert [s.query for s in await bot.store.list_subscriptions()] == ["kyiv"]
    assert (await click(bot, second))["text"] == "Unsubscribed from: kyiv"  # number 1 by then, still kyiv


async def test_a_feed_remove_button_is_for_admins_as_the_command_is(bot: Bot) -> None:
    await bot.command("feeds add https://example.com/rss", user="UADMIN")
    assert buttons(await reply_to(bot, "feeds list", user="UUSER")) == []  # nothing they could do
    listed = await reply_to(bot, "feeds list", user="UADMIN")
    assert listed["blocks"][1]["text"]["text"] == "1. <https://example.com/rss|https://example.com/rss>"
    [remove] = buttons(listed)
    assert remove["text"]["text"] == "Remove" and remove["action_id"].startswith("news:feeds-remove:")

    refused = await click(bot, remove, user="UUSER")  # a member who got hold of the button
    assert refused["text"] == (
        "Only workspace admins or members of the admin user group can add and remove this channel's feeds; "
        "ask one of them."
    )
    here = ChannelRef("slack", CHANNEL, TEAM)
    assert await bot.store.channel_feeds(here) == ["https://example.com/rss"]
    done = await click(bot, remove, user="UADMIN")
    assert done["text"] == "This channel no longer watches https://example.com/rss"
    assert await bot.store.channel_feeds(here) == []


async def test_an_alerts_open_article_click_is_acknowledged(bot: Bot) -> None:
    """Slack opens the link itself but sends the click to the app too, and warns the user when the app
    does not acknowledge it."""
    await bot.command("subscribe NATO")
    assert (await bot.news(article())).sent == 1
    [posted] = bot.fake.messages
    [button] = [e for b in posted.blocks if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == "open_article"
    if bot.events_url:
        status, _ = await bot.fake.post_click_http(bot.events_url, SECRET, button)
        assert status == 200
    else:
        assert await bot.fake.wait_ack(await bot.fake.click(button)) is not None


async def test_help_on_slack_shows_slacks_own_options(bot: Bot) -> None:
    """The usage comes from the platform (a user group, the thread word), not the terminal's or Discord's."""
    answer = json.dumps(await reply_to(bot, "help"))
    assert "[@group] [hourly|daily] [thread]" in answer and "mention:&lt;role&gt;" not in answer

"""/news replies in each platform's form (handlers/replies.py and the reply renderers beside the alert
renderers): Block Kit on Slack, an embed or plain content on Discord, plain lines on the terminal;
outside text escaped in each; help as a list; digests whose stories are links. Properties over hostile
text are in test_replies_properties.py, the round trips through the fakes in test_replies_slack.py and
test_replies_discord.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.core.models import Article, ChannelRef, Headline, Subscription
from bot.store import AlertStatus, SeenArticle
from handlers.console import render_console, render_console_reply
from handlers.discord.commands import DISCORD_USAGE
from handlers.discord.render import render_discord
from handlers.discord.replies import render_discord_reply
from handlers.explain import Hit, Verdict, preview_reply, why_reply
from handlers.help import HelpUsage, help_reply
from handlers.replies import Button, Item, Link, Outside, Reply, Section, reply
from handlers.slack.commands import SLACK_USAGE
from handlers.slack.render import render_slack
from handlers.slack.replies import render_slack_reply
from tests.render_support import alert
from tests.reply_support import discord_shown, slack_shown

EVIL_TITLE = (
    "Ukraine <!channel> update: convoy *reaches* Kharkiv <@U_USER> <https://evil.example/phish|see photos> "
    "@everyone <@&123> [map](https://evil.example/map) \x1b]0;pwned\x07"
)
"""What a Slack emulator saw posted as a /news preview reply, plus Discord's forms and a terminal's."""


def seen(title: str = EVIL_TITLE, url: str = "https://harbour.example/convoy?a=1&b=2") -> SeenArticle:
    article = Article(id="a1", title=title, text="", url=url, source="Harbour Gazette <!here>")
    return SeenArticle(article, "s1", datetime(2026, 11, 24, 8, tzinfo=UTC).timestamp(), False)


def test_plain_text_of_a_laid_out_reply_is_what_the_terminal_prints() -> None:
    answer = reply(
        Section(
            heading="Subscriptions in this channel",
            items=(Item((Outside("ukraine", code=True),)), Item((Outside("NATO", code=True), " (paused)"))),
            numbered=True,
        )
    )
    assert answer.text == "Subscriptions in this channel\n1. ukraine\n2. NATO (paused)"
    assert render_console_reply(answer) == answer.text
    assert render_console_reply(Reply("No feed '\x1b]0;x\x07' here\x9b2J")) == "No feed ']0;x' here2J"


def test_preview_of_a_hostile_title_is_escaped_on_slack() -> None:
    message = render_slack_reply(preview_reply("kharkiv", [Hit(seen(), ())], 3))
    [section] = message["blocks"]
    text = section["text"]["text"]
    assert section["text"]["verbatim"] is True
    item = text.splitlines()[2]
    assert item.startswith("• <https://harbour.example/convoy?a=1&amp;b=2|Ukraine &lt;!channel&gt; update")
    assert "∗reaches∗" in item and "&lt;@UˍUSER&gt;" in item and "&lt;https://evil.example/phish|see" in item
    assert "— Harbour Gazette &lt;!here&gt;" in item and "\x1b" not in text and "\x07" not in text
    assert re.findall(r"<[^<>]*>", text) == [
        "<https://harbour.example/convoy?a=1&amp;b=2|Ukraine &lt;!channel&gt; update: convoy ∗reaches∗ "
        "Kharkiv &lt;@UˍUSER&gt; &lt;https://evil.example/phish|see photos&gt; @\u200beveryone "
        "&lt;@&amp;123&gt; [map](https://evil.example/map) ]0;pwned>"
    ]  # one link, ours
    assert "<!" not in message["text"] and "<@" not in message["text"]


def test_preview_of_a_hostile_title_is_escaped_on_discord() -> None:
    message = render_discord_reply(preview_reply("kharkiv", [Hit(seen(), ())], 3))
    assert message["content"] == "" and message["allowed_mentions"] == {"parse": [], "roles": []}
    [embed] = message["embeds"]
    item = embed.get("description", "").splitlines()[2]
    assert item.startswith(r"- [Ukraine <!channel> update: convoy \*reaches\* Kharkiv <" + "\u200b@U\\_USER>")
    assert "@\u200beveryone <\u200b@&123> \\[map\\](https://evil.example/map)" in item
    assert item.endswith("](https://harbour.example/convoy?a=1&b=2) — Harbour Gazette <!here> (matched: )")
    assert discord_shown(message).count("https://evil.example/map") == 1  # as text, not a link


def test_why_marks_queries_titles_and_errors_as_outside_text() -> None:
    subscription = Subscription(1, ChannelRef("slack", "C1"), "*NATO* OR <!here>", "*NATO* OR <!here>")
    status = AlertStatus("failed", 3, "channel_not_found <@U1>", None)
    answer = why_reply(
        "https://harbour.example/convoy",
        seen("Convoy *reaches* Kharkiv"),
        [Verdict(subscription, ())],
        status,
    )
    lines = answer.text.splitlines()
    assert lines[0] == "Seen 24 Nov 2026 08:00 UTC: Convoy *reaches* Kharkiv — Harbour Gazette <!here>."
    assert lines[1:] == [
        "- matches *NATO* OR <!here> (on its site or source)",
        "The alert could not be posted here: channel_not_found <@U1>",
    ]
    slack = render_slack_reply(answer)["blocks"][0]["text"]["text"]
    assert "• matches `*NATO* OR &lt;!here&gt;` (on its site or source)" in slack
    assert slack.endswith("The alert could not be posted here: channelˍnotˍfound &lt;@U1&gt;")
    discord = render_discord_reply(answer)["embeds"][0].get("description", "")
    assert "- matches `*NATO* OR <!here>` (on its site or source)" in discord
    assert discord.endswith(r"The alert could not be posted here: channel\_not\_found <" + "\u200b@U1>")


def test_a_list_is_block_kit_on_slack_with_a_button_per_row() -> None:
    answer = reply(
        Section(
            heading="Subscriptions in this channel",
            items=(
                Item((Outside("ukraine", code=True),), Button("Unsubscribe", "unsubscribe", "7")),
                Item(
                    (Outside("NATO <!here>", code=True), " (paused)"),
                    Button("Unsubscribe", "unsubscribe", "9"),
                ),
            ),
            numbered=True,
        )
    )
    header, first, second = render_slack_reply(answer)["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Subscriptions in this channel"},
    }
    assert first == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "1. `ukraine`", "verbatim": True},
        "accessory": {
            "type": "button",
            "text": {"type": "plain_text", "text": "Unsubscribe"},
            "action_id": "news:unsubscribe:7",
            "value": "7",
        },
    }
    assert second["text"]["text"] == "2. `NATO &lt;!here&gt;` (paused)"


def test_a_list_is_an_embed_on_discord_with_a_numbered_button_per_row() -> None:
    items = tuple(
        Item((Outside(f"query {n}", code=True),), Button("Unsubscribe", "unsubscribe", str(100 + n)))
        for n in range(1, 31)
    )
    message = render_discord_reply(
        reply(Section(heading="Subscriptions in this channel", items=items, numbered=True))
    )
    [embed] = message["embeds"]
    assert embed.get("title") == "Subscriptions in this channel"
    assert embed.get("description", "").splitlines()[:2] == ["1. `query 1`", "2. `query 2`"]
    buttons = message.get("buttons", [])
    assert len(buttons) == 25  # what one message holds; the rest are typed
    assert buttons[0] == {"label": "Unsubscribe 1", "custom_id": "news:unsubscribe:101"}


def test_a_short_answer_is_plain_content_on_discord_and_a_section_on_slack() -> None:
    answer = reply(Section(lines=(("Unsubscribed from: ", Outside("*NATO*", code=True)),)), ephemeral=False)
    assert render_discord_reply(answer)["content"] == "Unsubscribed from: `*NATO*`"
    assert render_discord_reply(answer)["embeds"] == []
    assert render_slack_reply(answer)["blocks"] == [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "Unsubscribed from: `*NATO*`", "verbatim": True},
        }
    ]
    assert render_slack_reply(answer)["text"] == "Unsubscribed from: ∗NATO∗"


def test_an_error_repeating_what_was_typed_is_escaped_everywhere() -> None:
    error = Reply("No subscription here matches '<!channel> **x** @everyone'; /news list shows them.")
    assert render_slack_reply(error)["blocks"][0]["text"]["text"] == (
        "No subscription here matches '&lt;!channel&gt; ∗∗x∗∗ @\u200beveryone'; /news list shows them."
    )
    assert render_discord_reply(error)["content"] == (
        "No subscription here matches '<!channel> \\*\\*x\\*\\* @\u200beveryone'; /news list shows them."
    )


def test_a_link_the_platform_would_refuse_is_its_label_alone() -> None:
    answer = reply(Section(lines=((Link("javascript:alert(1)", "click <here>"),),)))
    assert render_slack_reply(answer)["blocks"][0]["text"]["text"] == "click &lt;here&gt;"
    assert render_discord_reply(answer)["content"] == "click <here>"
    answer = reply(Section(lines=((Link("https://x.example/a(b)|c"),),)))
    assert (
        render_slack_reply(answer)["blocks"][0]["text"]["text"]
        == "<https://x.example/a%28b%29%7Cc|https://x.example/a(b)|c>"
    )
    assert render_discord_reply(answer)["content"] == "https://x.example/a%28b%29%7Cc"


USAGE = {"slack": SLACK_USAGE, "discord": DISCORD_USAGE, "console": HelpUsage()}


@pytest.mark.parametrize("platform", ["slack", "discord", "console"])
def test_help_is_a_list_and_tells_near_source_and_the_thread_option(platform: str) -> None:
    answer = help_reply(USAGE[platform])
    text = answer.text
    assert "NEAR/10" in text and "source:Reuters" in text and "site:example.com" in text
    assert ("thread" in text.split("/news list")[0]) == (platform != "console")  # no threads in a terminal
    assert "  " not in text  # not laid out in columns for a monospace font
    if platform == "slack":
        message = render_slack_reply(answer)
        assert message["blocks"][0]["type"] == "header"
        first = message["blocks"][1]["text"]["text"].splitlines()[0]
        assert first.startswith("• `/news subscribe &lt;query&gt; [@group] [hourly|daily] [thread]` — alert")
        assert message["blocks"][2]["text"]["text"].startswith("*Queries*\n• `Ukraine grain` — every word")
        assert "NEAR/10 Brussels" in slack_shown(message)
    elif platform == "discord":
        [embed] = render_discord_reply(answer)["embeds"]
        lines = embed.get("description", "").splitlines()
        assert lines[0].startswith(
            "- `/news subscribe query:<query> [mention:<role>] [mode:hourly|daily] [thread:True]`"
        )
        assert (
            "**Queries**" in lines
            and "- `Zelensky NEAR/10 Brussels` — the two within 10 words of each other (at most NEAR/50)"
            in lines
        )
    else:
        assert text.splitlines()[1] == (
            "- /news subscribe <query> [hourly|daily] — alert this channel about articles matching the "
            "query; hourly or daily: a digest instead of each alert"
        )


# --- digests: every story a link ------------------------------------------------------------------------

DIGEST = alert(
    kind="digest",
    title="2 new articles",
    source="digest",
    url="",
    summary="• NATO *summit* — Meridian Wire: https://meridian-wire.example/a_b\n• Kyiv — <!here>: x",
    published=None,
    headlines=(
        Headline("NATO *summit* opens <@U1>", "https://meridian-wire.example/a_b?x=1&y=2", "Meridian Wire"),
        Headline("Kyiv [talks](https://evil.example)", "javascript:alert(1)", "<!here> Post"),
    ),
)


def test_a_slack_digest_links_each_story() -> None:
    blocks = render_slack(DIGEST)["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", "context"]
    assert blocks[1]["text"]["text"].splitlines() == [
        "• <https://meridian-wire.example/a_b?x=1&amp;y=2|NATO ∗summit∗ opens &lt;@U1&gt;> — Meridian Wire",
        "• Kyiv [talks](https://evil.example) — &lt;!here&gt; Post",  # no link Slack would take
    ]
    assert "digest" not in str(blocks[2])


def test_a_discord_digest_links_each_story() -> None:
    embed = render_discord(DIGEST)["embed"]
    assert embed.get("description", "").splitlines() == [
        r"- [NATO \*summit\* opens <"
        + "\u200b@U1>](https://meridian-wire.example/a_b?x=1&y=2) — Meridian Wire",
        r"- Kyiv \[talks\](https://evil.example) — <!here> Post",
    ]
    assert "footer" not in embed


def test_a_console_digest_lists_each_story_with_its_link() -> None:
    text = render_console(DIGEST)
    assert (
        "  • NATO *summit* opens <@U1> — Meridian Wire\n    https://meridian-wire.example/a_b?x=1&y=2\n"
        in text
    )


def test_a_console_alert_prints_no_control_sequence_from_any_field() -> None:
    evil = "\x1b]0;retitled\x07\x1b[2J\x9b31m\u202e"
    text = render_console(
        alert(
            title=evil, source="Feed " + evil, url="https://x.example/" + evil, terms=(evil,), queries=(evil,)
        )
    )
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text), repr(text)

"""Rendering alerts for Discord: the embed, role mentions, markdown escaping, colours and limits, and
properties over arbitrary (hostile) article text."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.models import Alert
from handlers.discord.render import (
    DESCRIPTION_LIMIT,
    NOTICE_COLOUR,
    escape_markdown,
    render_discord,
    role_id,
)
from handlers.text import ELLIPSIS, ZWSP, paragraphs
from tests.render_support import alert, alerts, article_text, hostile, strings


def test_discord_embed_has_title_link_summary_source_time_and_why() -> None:
    message = render_discord(alert(image_url="https://meridian-wire.example/nato.jpg"))
    embed = message["embed"]
    assert embed["title"] == "NATO ministers expand Baltic air policing"
    assert embed.get("url") == "https://meridian-wire.example/nato"
    assert embed.get("description") == "**NATO** defence ministers agreed on Friday to expand the mission."
    assert embed.get("footer") == {"text": "Meridian Wire"}
    assert embed.get("timestamp") == "2026-11-20T17:05:00+00:00"
    assert embed.get("thumbnail") == {"url": "https://meridian-wire.example/nato.jpg"}
    assert embed.get("fields") == [
        {"name": "Matched", "value": "**NATO**", "inline": True},
        {"name": "Subscription", "value": "NATO", "inline": True},
    ]
    assert message["content"] == ""
    assert message["allowed_mentions"] == {"parse": [], "roles": []}


def test_discord_pings_only_the_role_the_subscriber_chose() -> None:
    message = render_discord(alert(mention="987654321098765432", summary="@everyone look <@&111>"))
    assert message["content"] == "<@&987654321098765432>"
    assert message["allowed_mentions"] == {"parse": [], "roles": ["987654321098765432"]}
    assert "<@&111>" not in message["embed"].get("description", "")


@pytest.mark.parametrize("mention", ["", "@everyone", "<@123>", "S0123ABC", "12 34", "0", "<@&12>x", "١٢٣"])
def test_discord_mentions_nobody_for_anything_but_a_role_id(mention: str) -> None:
    message = render_discord(alert(mention=mention))
    assert message["content"] == ""
    assert message["allowed_mentions"]["roles"] == []


def test_role_id_accepts_the_bare_id_or_the_mention_form() -> None:
    assert role_id("123") == role_id("<@&123>") == role_id(" 123 ") == "123"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@everyone and @here", f"@{ZWSP}everyone and @{ZWSP}here"),
        ("<@123> <@!123> <@&123> <#123>", f"<{ZWSP}@123> <{ZWSP}@!123> <{ZWSP}@&123> <{ZWSP}#123>"),
        (
            "</news:123> <t:1700000000:R> <a:cat:1>",
            f"<{ZWSP}/news:123> <{ZWSP}t:1700000000:R> <{ZWSP}a:cat:1>",
        ),
        ("**bold** _it_ ~~s~~ `c` ||spoiler||", r"\*\*bold\*\* \_it\_ \~\~s\~\~ \`c\` \|\|spoiler\|\|"),
        ("[click](https://evil.example)", r"\[click\](https://evil.example)"),
        ("# Heading\n> quote\n- item\n1. first", "\\# Heading\n\\> quote\n\\- item\n1\\. first"),
        ("C:\\path", "C:\\\\path"),
        ("a > b, #1 - 2", "a > b, #1 - 2"),
        ("see https://x.example/a_b_c?q=1", "see https://x.example/a_b_c?q=1"),
    ],
)
def test_discord_escaping(text: str, expected: str) -> None:
    assert escape_markdown(text) == expected


def test_discord_bold_term_inside_escaped_text() -> None:
    description = render_discord(alert(summary="*NATO*'s _plan_", terms=("NATO",)))["embed"]
    assert description.get("description") == r"\***NATO**\*'s \_plan\_"


def test_discord_colour_follows_the_subscription() -> None:
    first = render_discord(alert(queries=("NATO",)))["embed"].get("color")
    assert first == render_discord(alert(queries=("nato",), title="other"))["embed"].get("color")
    colours = {render_discord(alert(queries=(q,)))["embed"].get("color") for q in ["a", "b", "c", "d", "e"]}
    assert len(colours) > 1
    assert render_discord(alert(), colour=0x123456)["embed"].get("color") == 0x123456
    with pytest.raises(ValueError):
        render_discord(alert(), colour=0x1000000)


def test_discord_notice_is_a_plain_warning() -> None:
    notice = alert(
        kind="notice",
        title="Feed Meridian Wire has failed for 6 h: HTTP 404",
        summary="The feed https://meridian-wire.example/rss has failed for 6 h: HTTP 404.",
        terms=(),
        queries=(),
        mention="123",
    )
    message = render_discord(notice)
    assert message["embed"]["title"].startswith("⚠ Feed Meridian Wire")
    assert message["embed"].get("color") == NOTICE_COLOUR
    assert "fields" not in message["embed"]
    assert message["content"] == ""


def test_discord_leaves_out_links_it_would_reject() -> None:
    embed = render_discord(alert(url="javascript:alert(1)", image_url="https://x.example/" + "a" * 3000))[
        "embed"
    ]
    assert "url" not in embed and "thumbnail" not in embed


def test_discord_long_summary_is_cut_at_a_word_within_every_limit() -> None:
    words = "Ukraine's air defence intercepted drones over Kyiv overnight & officials said"
    message = render_discord(alert(summary=(words + " ") * 200, title="T " * 400, terms=("Ukraine",)))
    embed = message["embed"]
    description = embed.get("description", "")
    assert len(description) <= DESCRIPTION_LIMIT and description.endswith(ELLIPSIS)
    assert description[-2] != " " and len(embed["title"]) <= 256
    assert embed_total(embed) <= 6000


# --- properties over arbitrary article text ---------------------------------------------------------

DISCORD_MENTION = re.compile(
    r"@(?:everyone|here)|<@[!&]?\d+>|<#\d+>|</[^\s<>]+:\d+>|<t:-?\d+(?::\w)?>|<id:\w+>|<a?:\w+:\d+>",
    re.IGNORECASE,
)


def embed_total(embed: Any) -> int:
    fields = embed.get("fields", [])
    total = (
        len(embed["title"]) + len(embed.get("description", "")) + len(embed.get("footer", {}).get("text", ""))
    )
    return total + sum(len(f["name"]) + len(f["value"]) for f in fields)


def discord_displayed(markdown: str) -> str:
    """What Discord shows for our markdown: backslash escapes resolved, bold markers gone."""
    return re.sub(r"\\([^0-9A-Za-z\s])|\*\*", lambda m: m.group(1) or "", markdown)


@settings(max_examples=150, deadline=None)
@given(alerts)
def test_discord_render_respects_limits_and_pings_only_the_chosen_role(a: Alert) -> None:
    message = render_discord(a)
    embed = message["embed"]
    assert 1 <= len(embed["title"]) <= 256
    assert len(embed.get("description", "")) <= 4096
    assert len(embed.get("footer", {"text": ""})["text"]) <= 2048
    assert len(embed.get("fields", [])) <= 25
    assert all(len(f["name"]) <= 256 and 1 <= len(f["value"]) <= 1024 for f in embed.get("fields", []))
    assert embed_total(embed) <= 6000
    assert len(message["content"]) <= 2000
    for text in strings(embed):
        assert not DISCORD_MENTION.search(text), text
        assert not DISCORD_MENTION.search(discord_displayed(text)), text
    role = role_id(a.mention) if a.kind == "article" else ""
    assert message["content"] == (f"<@&{role}>" if role else "")
    assert message["allowed_mentions"] == {"parse": [], "roles": [role] if role else []}
    assert not role or role in a.mention


@settings(max_examples=150, deadline=None)
@given(article_text, st.lists(hostile, max_size=4))
def test_discord_description_shows_the_article_text_and_nothing_else(summary: str, terms: list[str]) -> None:
    description = render_discord(alert(summary=summary, terms=tuple(terms)))["embed"].get("description", "")
    shown = discord_displayed(description).replace(ZWSP, "")
    source = paragraphs(summary).replace(ZWSP, "")
    if shown.endswith(ELLIPSIS) and shown != source:
        assert source.startswith(shown[:-1])
    else:
        assert shown == source

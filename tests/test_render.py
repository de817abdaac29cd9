"""Rendering alerts for Discord, Slack and the terminal: golden renders of the seed article, the
platforms' limits and escaping, and properties over arbitrary (hostile) article text.

Set REGENERATE_GOLDEN=1 to rewrite tests/golden/ from the current renderers; review the diff by eye."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ingest.clean import clean_article
from bot.models import Alert, ChannelRef
from bot.summarise import ExtractiveSummariser
from handlers.console import render_console
from handlers.discord.render import (
    DESCRIPTION_LIMIT,
    NOTICE_COLOUR,
    escape_markdown,
    render_discord,
    role_id,
)
from handlers.slack.render import escape_mrkdwn, render_slack, usergroup_id
from handlers.text import ELLIPSIS, ZWSP, fit, join_fitting, paragraphs, term_spans, truncate
from tests.conftest import SEED

GOLDEN = Path(__file__).parent / "golden"
SEED_TITLE = "Russia threatened with war as US declares Ukraine could be invaded at ‘any point’"
SEED_URL = "https://london-defender.example/news/world/russia-ukraine-any-point"


def alert(**overrides: Any) -> Alert:
    fields: dict[str, Any] = {
        "id": "a1",
        "channel": ChannelRef("discord", "c1"),
        "story_id": "s1",
        "title": "NATO ministers expand Baltic air policing",
        "url": "https://meridian-wire.example/nato",
        "source": "Meridian Wire",
        "summary": "NATO defence ministers agreed on Friday to expand the mission.",
        "terms": ("NATO",),
        "queries": ("NATO",),
        "published": datetime(2026, 11, 20, 17, 5, tzinfo=UTC),
    }
    fields.update(overrides)
    return Alert(**fields)


@pytest.fixture(scope="module")
def seed_alert() -> Alert:
    body = clean_article(SEED_TITLE, SEED.read_text(encoding="utf-8"))
    summary = ExtractiveSummariser().summarise_text(SEED_TITLE, body, ["Ukraine", "NATO"]).text
    return alert(
        title=SEED_TITLE,
        url=SEED_URL,
        source="London Defender",
        published=datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
        summary=summary,
        terms=("Ukraine", "NATO"),
        queries=("ukraine", "NATO"),
    )


def check_golden(name: str, rendered: str) -> None:
    path = GOLDEN / name
    if os.environ.get("REGENERATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8"), f"{name} changed; REGENERATE_GOLDEN=1 to accept"


def as_json(message: object) -> str:
    return json.dumps(message, indent=2, ensure_ascii=False) + "\n"


# --- golden renders of the seed article --------------------------------------------------------------


def test_seed_renders_for_discord_as_reviewed(seed_alert: Alert) -> None:
    check_golden("seed.discord.json", as_json(render_discord(seed_alert)))


def test_seed_renders_for_slack_as_reviewed(seed_alert: Alert) -> None:
    check_golden("seed.slack.json", as_json(render_slack(seed_alert)))


def test_seed_renders_for_the_console_as_reviewed(seed_alert: Alert) -> None:
    check_golden("seed.console.txt", render_console(seed_alert))


def test_every_platform_bolds_the_same_words_of_the_seed(seed_alert: Alert) -> None:
    description = render_discord(seed_alert)["embed"].get("description", "")
    section = render_slack(seed_alert)["blocks"][1]["text"]["text"]
    assert re.findall(r"\*\*(.+?)\*\*", description) == ["Ukraine", "Ukraine"]
    assert re.findall(r"\*(.+?)\*", section) == ["Ukraine", "Ukraine"]
    assert "Ukrainian" in description and "**Ukrainian" not in description  # whole words only


# --- shared text helpers --------------------------------------------------------------------------------


def test_truncate_leaves_text_that_fits_alone() -> None:
    assert truncate("short text", 10) == "short text"


def test_truncate_cuts_at_a_word_boundary_with_an_ellipsis() -> None:
    assert truncate("the quick brown fox jumps", 16) == "the quick brown…"
    assert truncate("the quick brown fox jumps", 18) == "the quick brown…"


def test_truncate_drops_punctuation_left_dangling_before_the_ellipsis() -> None:
    assert truncate("Kyiv, Kharkiv, and Odesa were hit", 16) == "Kyiv, Kharkiv…"


def test_truncate_cuts_inside_a_word_too_long_to_keep_whole() -> None:
    assert truncate("x" * 50, 10) == "x" * 9 + ELLIPSIS
    assert truncate("a " + "b" * 50, 10) == "a " + "b" * 7 + ELLIPSIS


@pytest.mark.parametrize(("limit", "expected"), [(-3, ""), (0, ""), (1, ELLIPSIS), (2, "a…")])
def test_truncate_with_tiny_limits(limit: int, expected: str) -> None:
    assert truncate("abc def", limit) == expected


def test_truncate_keeps_an_emoji_with_its_modifier_and_a_letter_with_its_accent() -> None:
    assert truncate("👍🏽👍🏽👍🏽", 4) == "👍🏽" + ELLIPSIS
    assert truncate("e\u0301" * 5, 4) == "e\u0301" + ELLIPSIS


def test_fit_never_cuts_an_escape_in_half() -> None:
    rendered = fit("a & b & c & d & e", 16, escape_mrkdwn)
    assert rendered == "a &amp; b &amp;…"
    assert len(rendered) <= 16


def test_join_fitting_keeps_whole_items_then_an_ellipsis() -> None:
    assert join_fitting(["Kyiv", "Kharkiv", "Odesa"], ", ", 100) == "Kyiv, Kharkiv, Odesa"
    assert join_fitting(["Kyiv", "Kharkiv", "Odesa"], ", ", 16) == "Kyiv, Kharkiv, …"


def test_term_spans_are_whole_words_any_case_longest_first_without_overlap() -> None:
    text = "Air defence over ukraine; Ukrainian air units; AIR DEFENCE again"
    spans = term_spans(text, ["air", "Air defence", "Ukraine"])
    assert [text[s:e] for s, e in spans] == ["Air defence", "ukraine", "air", "AIR DEFENCE"]


def test_term_spans_stay_out_of_avoided_ranges() -> None:
    text = "Ukraine https://x.example/ukraine"
    assert term_spans(text, ["Ukraine"], avoid=[(8, len(text))]) == [(0, 7)]


def test_paragraphs_drop_controls_and_bidi_overrides() -> None:
    assert paragraphs("a\x1b[2J\u202eb\r\n\n\n\nc\td") == "a[2Jb\n\nc d"


# --- Discord ----------------------------------------------------------------------------------------------


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


# --- Slack ------------------------------------------------------------------------------------------------


def test_slack_blocks_have_header_summary_context_and_button() -> None:
    message = render_slack(alert())
    header, section, context, actions = message["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "NATO ministers expand Baltic air policing", "emoji": True},
    }
    assert section["text"]["text"] == "*NATO* defence ministers agreed on Friday to expand the mission."
    assert [e["text"] for e in context["elements"]] == [
        "Meridian Wire · <!date^1795194300^{date_short_pretty} {time}|20 Nov 2026 17:05 UTC>",
        "matched: *NATO*   (subscription: NATO)",
    ]
    button = actions["elements"][0]
    assert (button["text"]["text"], button["url"]) == ("Open article", "https://meridian-wire.example/nato")
    assert message["text"] == "NATO ministers expand Baltic air policing · Meridian Wire"
    assert message["unfurl_links"] is False


def test_slack_mentions_only_the_chosen_user_group() -> None:
    message = render_slack(alert(mention="S0123ABC", summary="<!channel> <!subteam^S666> @here"))
    assert message["text"].startswith("<!subteam^S0123ABC> ")
    section = message["blocks"][1]["text"]["text"]
    assert section == f"<!subteam^S0123ABC> &lt;!channel&gt; &lt;!subteam^S666&gt; @{ZWSP}here"


@pytest.mark.parametrize("mention", ["", "123456", "<!channel>", "S01 23", "s0123abc", "<!subteam^S1|x>y"])
def test_slack_mentions_nobody_for_anything_but_a_user_group(mention: str) -> None:
    message = render_slack(alert(mention=mention))
    assert "<!subteam" not in json.dumps(message)


def test_usergroup_id_accepts_the_bare_id_or_the_mention_form() -> None:
    assert usergroup_id("S0123ABC") == usergroup_id("<!subteam^S0123ABC|@desk>") == "S0123ABC"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "<!channel> <@U123> <#C1> <http://evil|x>",
            "&lt;!channel&gt; &lt;@U123&gt; &lt;#C1&gt; &lt;http://evil|x&gt;",
        ),
        ("AT&T &amp; co", "AT&amp;T &amp;amp; co"),
        ("@channel @Here @everyone", f"@{ZWSP}channel @{ZWSP}Here @{ZWSP}everyone"),
        ("*bold* _it_ ~s~ `c`", "∗bold∗ ˍitˍ ∼s∼ ˋcˋ"),
        ("> quoted\nnot > quoted", "\u00ad&gt; quoted\nnot &gt; quoted"),
        ("see https://x.example/a_b?q=1&r=2", "see https://x.example/a_b?q=1&amp;r=2"),
    ],
)
def test_slack_escaping(text: str, expected: str) -> None:
    assert escape_mrkdwn(text) == expected


def test_slack_header_is_plain_text_without_mentions() -> None:
    header = render_slack(alert(title="<!here> @channel & co"))["blocks"][0]["text"]["text"]
    assert header == f"<{ZWSP}!here> @{ZWSP}channel & co"


def test_slack_without_a_link_has_no_button_and_notice_has_no_why() -> None:
    blocks = render_slack(alert(url="", kind="notice", terms=(), queries=(), title="Feed X paused"))["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", "context"]
    assert blocks[0]["text"]["text"] == "⚠ Feed X paused"
    assert [e["text"] for e in blocks[2]["elements"]] == [
        "Meridian Wire · <!date^1795194300^{date_short_pretty} {time}|20 Nov 2026 17:05 UTC>"
    ]


def test_slack_long_texts_are_cut_at_a_word_within_limits() -> None:
    message = render_slack(alert(title="Ukraine " * 40, summary="Ukraine & NATO " * 400, terms=("Ukraine",)))
    header, section = message["blocks"][0]["text"]["text"], message["blocks"][1]["text"]["text"]
    assert len(header) <= 150 and header.endswith("Ukraine…")
    assert len(section) <= 3000 and section.endswith(ELLIPSIS) and "&amp…" not in section


# --- properties over arbitrary article text ---------------------------------------------------------

FRAGMENTS = [
    "@everyone", "@here", "@channel", "@", "everyone", "here", "<", ">", ":", "!", "#", "&",
    "<@123456789012345678>", "<@!1>", "<@&42>", "<#99>", "</news:123>", "<t:1700000000:R>", "<id:customize>",
    "<a:cat:123>", "<!channel>", "<!here>", "<!everyone>", "<@U123ABC>", "<!subteam^S999>", "<#C42|general>",
    "<http://evil.example|click>", "[x](http://evil.example)", "**", "__", "*", "_", "~~", "~", "`", "```",
    "||", "> ", ">>> ", "# ", "-# ", "- ", "1. ", "\\", "&amp;", "&lt;", "\n", "\r", "\t", " ", "\u200b",
    "\u200d", "\u202e", "\u2066", "\x1b[31m", "👍🏽", "👨‍👩‍👧", "🇺🇦", "e\u0301", "שלום עולם", "مرحبا بالعالم",
    "https://example.com/a_b?x=1&y=2", "Ukraine", "NATO", "Kyiv", "＊", "＿",
]  # fmt: skip
hostile = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=24).map("".join)
many = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), min_size=4, max_size=24).map(
    "".join
)
huge = st.builds(lambda text, times: text * times, many, st.integers(min_value=10, max_value=400))
article_text = st.one_of(hostile, huge)
alerts = st.builds(
    alert,
    title=article_text,
    summary=article_text,
    source=article_text,
    terms=st.lists(hostile, max_size=6).map(tuple),
    queries=st.lists(hostile, max_size=4).map(tuple),
    url=st.one_of(st.just("https://example.com/story?id=1&x=<y>"), st.just(""), hostile),
    image_url=st.one_of(st.just("https://example.com/i.jpg"), st.just(""), hostile),
    mention=st.one_of(st.just(""), st.just("112233445566778899"), st.just("S0123ABC"), hostile),
    kind=st.sampled_from(["article", "notice"]),
    published=st.one_of(
        st.none(), st.datetimes(datetime(1970, 1, 2), datetime(2100, 1, 1), timezones=st.just(UTC))
    ),
)

DISCORD_MENTION = re.compile(
    r"@(?:everyone|here)|<@[!&]?\d+>|<#\d+>|</[^\s<>]+:\d+>|<t:-?\d+(?::\w)?>|<id:\w+>|<a?:\w+:\d+>",
    re.IGNORECASE,
)
SLACK_BROADCAST = re.compile(r"@(?:channel|here|everyone)", re.IGNORECASE)
SLACK_OWN_TOKEN = re.compile(r"<!date\^-?\d+\^\{date_short_pretty\} \{time\}\|[^<>]*>|<!subteam\^S[A-Z0-9]+>")


def strings(value: object) -> Iterator[str]:
    """Every text a reader sees in a rendered message (link targets are not shown as text)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "url":
                yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


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


@settings(max_examples=150, deadline=None)
@given(alerts)
def test_slack_render_respects_limits_and_mentions_only_the_chosen_group(a: Alert) -> None:
    message = render_slack(a)
    blocks = message["blocks"]
    assert 1 <= len(blocks) <= 50 and 1 <= len(message["text"]) <= 4000
    group = usergroup_id(a.mention) if a.kind == "article" else ""
    for block in blocks:
        if block["type"] == "header":
            assert 1 <= len(block["text"]["text"]) <= 150
        elif block["type"] == "section":
            assert 1 <= len(block["text"]["text"]) <= 3000
        elif block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
            assert all(1 <= len(e["text"]) <= 3000 for e in block["elements"])
        elif block["type"] == "actions":
            (button,) = block["elements"]
            assert len(button["text"]["text"]) <= 75 and button["url"] == a.url.strip()
            assert len(button["url"]) <= 3000
    mrkdwn = [message["text"]] + [
        obj["text"]
        for block in blocks
        for obj in ([block["text"]] if "text" in block else block.get("elements", []))
        if obj.get("type") == "mrkdwn"
    ]
    for text in mrkdwn:
        for own in SLACK_OWN_TOKEN.findall(text):
            assert own.startswith("<!date^") or own == f"<!subteam^{group}>"
        assert not re.search(r"[<>]", SLACK_OWN_TOKEN.sub("", text)), text
    for text in strings(blocks):
        assert not SLACK_BROADCAST.search(text), text
        assert not re.search(r"<[@#]|<!(?!date\^|subteam\^)", text), text
    assert message["text"].startswith(f"<!subteam^{group}> ") if group else "<!subteam" not in message["text"]


@settings(max_examples=100, deadline=None)
@given(article_text)
def test_slack_summary_has_no_formatting_but_ours(summary: str) -> None:
    blocks = render_slack(alert(summary=summary, terms=()))["blocks"]
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    for section in sections:
        outside_links = re.sub(r"https?://\S+", "", section)
        assert not re.search(r"[*_~`]", outside_links), section

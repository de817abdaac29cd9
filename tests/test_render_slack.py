"""Rendering alerts for Slack: the blocks, user-group mentions, mrkdwn escaping and limits, and
properties over arbitrary (hostile) article text."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings

from bot.core.models import Alert
from handlers.slack.render import escape_mrkdwn, render_slack, usergroup_id
from handlers.text import ELLIPSIS, ZWSP
from tests.render_support import alert, alerts, article_text, strings


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

SLACK_BROADCAST = re.compile(r"@(?:channel|here|everyone)", re.IGNORECASE)
SLACK_OWN_TOKEN = re.compile(r"<!date\^-?\d+\^\{date_short_pretty\} \{time\}\|[^<>]*>|<!subteam\^S[A-Z0-9]+>")


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

"""Properties of /news replies and console output over hostile outside text (feed titles, outlets,
links, queries, errors): on Slack, Discord and the terminal no mention, no masked link, no formatting
and no terminal control sequence can come from it, whatever it holds, and every platform limit holds.
Checked on replies of any shape (hypothesis), on digests, on alerts printed to the terminal, and on
the replies the command service really builds from a store holding hostile articles."""

from __future__ import annotations

import random
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.models import Alert, Article, ChannelRef, Headline
from bot.ingest.safety import UrlPolicy
from bot.matching import default_aliases
from bot.processing.pipeline import Pipeline
from bot.processing.subscriptions import SubscriptionBook
from bot.store import SqliteStore
from bot.summarise.extractive import ExtractiveSummariser
from handlers.commands import CommandService, Invocation
from handlers.console import render_console, render_console_reply
from handlers.discord.render import render_discord
from handlers.discord.replies import render_discord_reply
from handlers.replies import Reply
from handlers.slack.render import render_slack
from handlers.slack.replies import render_slack_reply
from handlers.text import link_target
from tests.render_support import FRAGMENTS, alert, alerts, hostile, strings
from tests.reply_support import (
    DISCORD_LIVE,
    SLACK_LIVE,
    TERMINAL_UNSAFE,
    URLS,
    discord_unescaped_markup,
    discord_unmarked,
    link_targets,
    replies,
    slack_mrkdwn,
    slack_unmarked,
    urls,
)

_BARE_URL = re.compile(r"https?://[^\s\\*~`|\[\]<>]+")
_OUR_SGR = re.compile("\x1b\\[(?:0|1|2|36)m")


def check_slack(message: dict[str, Any], targets: set[str]) -> None:
    blocks = message["blocks"]
    assert len(blocks) <= 50 and 1 <= len(message["text"]) <= 4000
    for block in blocks:
        if block["type"] == "header":
            assert 1 <= len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert 1 <= len(block["text"]["text"]) <= 3000 and block["text"]["verbatim"] is True
            if button := block.get("accessory"):
                assert len(button["text"]["text"]) <= 75 and len(button["action_id"]) <= 255
    for text in strings(blocks):
        assert not SLACK_LIVE.search(text), text
    for text in slack_mrkdwn(message):
        assert not SLACK_LIVE.search(text), text
        left = slack_unmarked(text, targets)
        assert not re.search(r"[<>]", left), text  # no link or mention but ours
        assert not re.search(r"[*_~`]", _BARE_URL.sub(" ", left)), text  # no formatting but ours


def check_discord(message: dict[str, Any], targets: set[str]) -> None:
    assert message["allowed_mentions"] == {"parse": [], "roles": []}
    assert len(message["content"]) <= 2000
    texts = [message["content"]]
    for embed in message["embeds"]:
        assert len(embed.get("title", "")) <= 256 and len(embed.get("description", "")) <= 4096
        assert embed.get("title", "x") and (embed.get("description") or embed.get("title"))
        texts += [embed.get("title", ""), embed.get("description", "")]
    buttons = message.get("buttons", [])
    assert len(buttons) <= 25
    assert all(len(b["label"]) <= 80 and len(b["custom_id"]) <= 100 for b in buttons)
    for text in texts:
        displayed = re.sub(r"\\([^0-9A-Za-z\s])", r"\1", text)
        assert not DISCORD_LIVE.search(text) and not DISCORD_LIVE.search(displayed), text
        left = _BARE_URL.sub(" ", discord_unmarked(text, targets))
        assert discord_unescaped_markup(left) == [], text  # no formatting and no masked link but ours


def check_terminal(text: str) -> None:
    assert not TERMINAL_UNSAFE.search(_OUR_SGR.sub("", text)), repr(text)


def check_everywhere(answer: Reply) -> None:
    targets = link_targets(answer)
    check_slack(dict(render_slack_reply(answer)), targets)
    check_discord(dict(render_discord_reply(answer)), targets)
    check_terminal(render_console_reply(answer))


@settings(max_examples=300, deadline=None)
@given(replies)
def test_no_reply_carries_live_markup_from_outside_text_on_any_platform(answer: Reply) -> None:
    check_everywhere(answer)


headlines = st.lists(st.builds(Headline, hostile, urls, hostile), min_size=1, max_size=30).map(tuple)
digests = st.builds(alert, kind=st.just("digest"), headlines=headlines, title=hostile, mention=hostile)


@settings(max_examples=150, deadline=None)
@given(digests)
def test_a_digest_links_only_its_stories_and_mentions_no_one_else(digest: Alert) -> None:
    targets = {link_target(h.url, 3000) for h in digest.headlines} - {""}
    slack = render_slack(digest)
    for block in slack["blocks"]:
        if block["type"] == "section":
            text = block["text"]["text"]
            assert len(text) <= 3000
            text = re.sub(r"^<!subteam\^S[A-Z0-9]+>$", "", text, flags=re.MULTILINE)
            assert not re.search(r"[<>]", slack_unmarked(text, targets)), text
            assert not SLACK_LIVE.search(text), text
    discord = render_discord(digest)
    description = discord["embed"].get("description", "")
    assert len(description) <= 4096
    assert discord_unescaped_markup(_BARE_URL.sub(" ", discord_unmarked(description, targets))) == []
    assert not DISCORD_LIVE.search(description)
    check_terminal(render_console(digest))


@settings(max_examples=150, deadline=None)
@given(alerts, st.booleans())
def test_the_console_prints_no_control_sequence_from_any_field_of_an_alert(a: Alert, color: bool) -> None:
    hostile_url = a.url + "\x1b]0;retitled\x07"
    check_terminal(render_console(a, color=color))
    check_terminal(render_console(alert(url=hostile_url, source=a.title, queries=a.terms), color=color))


# --- the replies the command service builds ----------------------------------------------------------------

HERE = Invocation(ChannelRef("slack", "C1", "T1"), user="U1", is_admin=True)


def hostile_texts(seed: int, count: int) -> list[str]:
    """Strings made of hostile fragments (mentions, links, markdown, controls), seeded."""
    rng = random.Random(seed)
    return [
        "Kharkiv " + "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 12))) for _ in range(count)
    ]


async def test_every_command_reply_over_hostile_articles_is_safe_everywhere(store: SqliteStore) -> None:
    service = CommandService(store, SubscriptionBook(default_aliases()), url_check=UrlPolicy().check_url)
    texts = hostile_texts(17, 40)
    articles = [
        Article(
            id=f"a{n}",
            title=text,
            text=f"Kharkiv report {n}. " + texts[-n - 1],
            url=(URLS[n % len(URLS)] or f"https://n.example/{n}") + f"#{n}",
            source=texts[(n * 7) % len(texts)],
        )
        for n, text in enumerate(texts)
    ]
    await service.run_text(HERE, "subscribe Kharkiv")
    await service.run_text(HERE, 'subscribe "<!channel> *bold*" OR @everyone OR _x_')
    await service.run_text(HERE, "feeds add https://feeds.example/a_b?x=1&y=<2>")
    await Pipeline(store, service.book, ExtractiveSummariser()).process(articles)
    answers = [
        await service.run_text(HERE, "preview Kharkiv"),
        await service.run_text(HERE, "list"),
        await service.run_text(HERE, "feeds list"),
        await service.run_text(HERE, "status"),
        await service.run_text(HERE, "help"),
        *[await service.run_text(HERE, f"why {a.url}") for a in articles[:12]],
    ]
    for answer in answers:
        check_everywhere(answer)
    assert any("Kharkiv" in a.text for a in answers[5:])

"""Helpers shared by the rendering tests: an alert builder, hypothesis strategies for arbitrary
(hostile) article text, and the texts a reader sees in a rendered message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from bot.core.models import Alert, ChannelRef


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


# --- arbitrary article text ----------------------------------------------------------------------

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

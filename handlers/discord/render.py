"""An alert as a Discord message: plain JSON in the shape of Discord's API (``content``, one embed,
``allowed_mentions``), so it is testable without discord.py and the adapter passes it on as is.

Safety: article text goes through :func:`escape_markdown` (mentions neutralised with a zero-width
space, markdown backslash-escaped), and ``allowed_mentions`` permits nothing but the role the
subscriber chose, so even a mention that slipped through could not ping anyone. Links are ours alone
(:func:`link`): ``[label](url)`` with the label escaped and the address through
:func:`handlers.text.link_target`; a digest lists its stories so.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import NotRequired, TypedDict

from bot.core.models import Alert, Headline
from handlers.text import (
    ZWSP,
    as_utc,
    fit,
    join_fitting,
    link_target,
    listed_stories,
    mark,
    paragraphs,
    single_line,
    term_spans,
    url_spans,
    web_url,
)

# https://discord.com/developers/docs/resources/message#embed-object-embed-limits
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
URL_LIMIT = 2048
TERM_LIMIT = 100
"""One matched term in the "Matched" field; longer ones are cut so the others still show."""
LINK_LIMIT = 1000
"""The longest address a link in text carries; a longer one leaves its label unlinked."""
LABEL_LIMIT = 300

# Readable on both the dark and the light theme; a subscription keeps its colour across alerts.
PALETTE = (0x3B82F6, 0x10B981, 0x8B5CF6, 0xEC4899, 0x14B8A6, 0xF97316, 0x6366F1, 0x84CC16, 0x06B6D4, 0xE11D48)
DEFAULT_COLOUR = 0x5865F2
NOTICE_COLOUR = 0xF0B232

_ROLE = re.compile(r"([0-9]{1,20})|<@&([0-9]{1,20})>")
# @everyone, @here; <@id>, <@!id>, <@&id>, <#id>, </command:id>, <t:…>, <a:emoji:id>, <id:…>.
_PING = re.compile(r"@(?=everyone|here)", re.IGNORECASE)
_ANGLE = re.compile(r"<(?=[@#/:]|[A-Za-z]+:)")
_INLINE = re.compile(r"[\\*_~`|\[\]]")
_LINE_START = re.compile(r"^([ \t]*)([#>+-])", re.MULTILINE)
_ORDERED = re.compile(r"^([ \t]*\d+)(\.)", re.MULTILINE)
_ADDRESS = re.compile(r"https?://\S*", re.IGNORECASE)


class EmbedFooter(TypedDict):
    text: str


class EmbedImage(TypedDict):
    url: str


class EmbedField(TypedDict):
    name: str
    value: str
    inline: bool


class Embed(TypedDict):
    title: str
    color: NotRequired[int]
    url: NotRequired[str]
    description: NotRequired[str]
    timestamp: NotRequired[str]
    footer: NotRequired[EmbedFooter]
    thumbnail: NotRequired[EmbedImage]
    fields: NotRequired[list[EmbedField]]


class AllowedMentions(TypedDict):
    parse: list[str]
    roles: list[str]


class DiscordMessage(TypedDict):
    """The body of Discord's "create message" call, minus the channel."""

    content: str
    embed: Embed
    allowed_mentions: AllowedMentions


def render_discord(alert: Alert, *, colour: int | None = None) -> DiscordMessage:
    """The alert as one embed: the headline linking to the article, the summary with the matched terms
    in bold, "Matched" and "Subscription" fields, the source in the footer beside the publication
    time (Discord shows ``timestamp`` in each reader's time zone), the article image as thumbnail.
    The content is the subscriber's chosen role mention, or empty. Every Discord limit holds."""
    if colour is not None and not 0 <= colour <= 0xFFFFFF:
        raise ValueError(f"colour must be a 24-bit RGB value, got {colour:#x}")
    notice = alert.kind == "notice"
    role = "" if notice else role_id(alert.mention)
    title = fit(
        ("⚠ " if notice else "") + (single_line(alert.title) or "(untitled)"), TITLE_LIMIT, escape_markdown
    )
    source = "" if alert.kind == "digest" else alert.source
    footer = fit(single_line(source), FOOTER_LIMIT, neutralise_mentions)
    fields = [] if notice else _fields(alert)
    used = len(title) + len(footer) + sum(len(f["name"]) + len(f["value"]) for f in fields)
    terms = () if notice else alert.terms
    room = min(DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT - used)
    if alert.kind == "digest" and alert.headlines:
        description = _digest(alert.headlines, room)
    else:
        description = fit(paragraphs(alert.summary), room, lambda text: markdown_with_terms(text, terms))
    embed: Embed = {"title": title}
    if url := web_url(alert.url, URL_LIMIT):
        embed["url"] = url
    if description:
        embed["description"] = description
    embed["color"] = NOTICE_COLOUR if notice else colour if colour is not None else subscription_colour(alert)
    if alert.published is not None:
        embed["timestamp"] = as_utc(alert.published).isoformat()
    if footer:
        embed["footer"] = {"text": footer}
    if not notice and (image := web_url(alert.image_url, URL_LIMIT)):
        embed["thumbnail"] = {"url": image}
    if fields:
        embed["fields"] = fields
    return {
        "content": f"<@&{role}>" if role else "",
        "embed": embed,
        "allowed_mentions": {"parse": [], "roles": [role] if role else []},
    }


def role_id(mention: str) -> str:
    """The role id in a subscription's ``mention`` ("123…" or "<@&123…>"), or "" if it is not one."""
    match = _ROLE.fullmatch(mention.strip())
    if match is None:
        return ""
    digits = match.group(1) or match.group(2)
    return digits if int(digits) > 0 else ""


def subscription_colour(alert: Alert) -> int:
    """A colour fixed by the alert's first subscription query, so a channel's subscriptions are told
    apart at a glance and keep their colour from one alert to the next."""
    if not alert.queries:
        return DEFAULT_COLOUR
    digest = hashlib.sha256(alert.queries[0].casefold().encode()).digest()
    return PALETTE[int.from_bytes(digest[:4], "big") % len(PALETTE)]


def neutralise_mentions(text: str) -> str:
    """``text`` with a zero-width space after the ``@`` of @everyone/@here and after the ``<`` of
    every ``<@…>``, ``<#…>``, ``</…>`` and ``<name:…>`` form, so Discord reads none of them."""
    return _ANGLE.sub("<" + ZWSP, _PING.sub("@" + ZWSP, text))


def escape_markdown(text: str) -> str:
    """``text`` as literal Discord markdown: mentions neutralised, then ``\\ * _ ~ ` | [ ]``
    backslash-escaped, and ``#``, ``>``, ``-``, ``+`` and "1." escaped at the start of a line.
    Bare links are left intact (Discord applies no markdown inside them)."""
    return markdown_with_terms(text, ())


def markdown_with_terms(text: str, terms: Sequence[str]) -> str:
    """:func:`escape_markdown`, with whole-word occurrences of ``terms`` in **bold**."""
    text = neutralise_mentions(text)
    links = url_spans(text)
    spans = term_spans(text, terms, avoid=links)
    return mark(text, spans, escape=_escape_plain, bold=lambda piece: f"**{piece}**", links=links)


def link(url: str, label: str) -> str:
    """``label`` (escaped; the address itself if empty) linking to ``url``: ``[label](url)``, or the
    bare address when the label is one (Discord shows a link whose text is an address as plain text).
    The label alone for an address Discord would refuse or one over :data:`LINK_LIMIT`."""
    label = single_line(label)
    target = link_target(url, LINK_LIMIT)
    if not target:
        return fit(label, LABEL_LIMIT, escape_markdown)
    if not label or _ADDRESS.fullmatch(label):
        return neutralise_mentions(target)
    return f"[{fit(label, LABEL_LIMIT, _escape_label)}]({target})"


def _escape_label(text: str) -> str:
    """A link's label: every markdown character escaped, inside an address too (a label is no link)."""
    return _escape_plain(neutralise_mentions(text))


def code(text: str) -> str:
    """``text`` as a code span (Discord formats nothing inside one); "" for no text."""
    return f"`{neutralise_mentions(text).replace('`', 'ˋ')}`" if text else ""


def _digest(headlines: Sequence[Headline], limit: int) -> str:
    """One line a story: its title linking to it, and its outlet."""
    lines = []
    named, more = listed_stories(headlines)
    for headline in named:
        source = fit(single_line(headline.source), LABEL_LIMIT, escape_markdown)
        title = single_line(headline.title) or "(untitled)"
        lines.append("- " + link(headline.url, title) + (f" — {source}" if source else ""))
    if more:
        lines.append(more)
    return join_fitting(lines, "\n", limit)


def _escape_plain(text: str) -> str:
    text = _INLINE.sub(lambda m: "\\" + m.group(0), text)
    text = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return _ORDERED.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def _fields(alert: Alert) -> list[EmbedField]:
    fields: list[EmbedField] = []
    terms = [fit(single_line(t), TERM_LIMIT, escape_markdown) for t in alert.terms]
    terms = [f"**{t}**" for t in terms if t]
    if terms:
        fields.append(
            {"name": "Matched", "value": join_fitting(terms, ", ", FIELD_VALUE_LIMIT), "inline": True}
        )
    queries = [fit(single_line(q), FIELD_VALUE_LIMIT, escape_markdown) for q in alert.queries]
    queries = [q for q in queries if q]
    if queries:
        name = "Subscription" if len(queries) == 1 else "Subscriptions"
        value = join_fitting(queries, " | ", FIELD_VALUE_LIMIT)
        fields.append({"name": name, "value": value, "inline": True})
    also = [fit(single_line(a), FIELD_VALUE_LIMIT, escape_markdown) for a in alert.also]
    if also := [a for a in also if a]:
        value = join_fitting(also, ", ", FIELD_VALUE_LIMIT)
        fields.append({"name": "Also reported by", "value": value, "inline": False})
    return fields

"""An alert as a Slack message: plain JSON in the shape of ``chat.postMessage`` (``text`` and Block Kit
``blocks``), so it is testable without slack-sdk and the adapter passes it on as is.

Escaping, chosen and why:

- ``&``, ``<``, ``>`` become ``&amp;``, ``&lt;``, ``&gt;`` in every mrkdwn string (Slack's own rule).
  That alone neutralises ``<!channel>``, ``<!here>``, ``<@U123>``, ``<#C123>``, ``<!subteam^…>`` and
  ``<http://…|label>`` links coming from an article.
- mrkdwn text objects are sent with ``verbatim: true``: Slack then turns no bare word into a mention
  or a channel link ("@channel", "@name", "#general"); our own ``<!date^…>`` and ``<!subteam^…>`` still
  work. Bare URLs in a summary are therefore not linked; the "Open article" button carries the link.
- "@channel", "@here" and "@everyone" also get a zero-width space after the ``@`` everywhere,
  plain_text included, in case a client parses them anyway.
- Slack mrkdwn has no backslash escape, and a zero-width space next to a marker *forces* formatting
  rather than preventing it. So article ``*``, ``_``, ``~`` and backticks become look-alike characters
  (∗ ˍ ∼ ˋ) and a ``>`` that would start a quote is preceded by a soft hyphen. Bare links keep their
  characters. The only ``*`` left in a section is ours, around a matched term.
- plain_text (header, button) is not parsed by Slack and is not entity-escaped (an escaped ``&amp;``
  would show as such); a ``<`` before ``@``, ``#`` or ``!`` gets a zero-width space there as well.
- Links are ours alone: ``<url|label>`` (:func:`link`) with the address through
  :func:`handlers.text.link_target` and the label escaped. A digest lists its stories so, each a link
  (Slack turns no bare URL into a link in a ``verbatim`` section).
- Code spans (:func:`code`) hold a query or a command: Slack formats nothing inside one, so only the
  entities, a backtick (as ˋ) and the broadcast words are changed there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypedDict

from bot.core.models import Alert, Headline
from handlers.text import (
    ZWSP,
    as_utc,
    fit,
    human_time,
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

# https://docs.slack.dev/reference/block-kit/blocks and chat.postMessage
HEADER_LIMIT = 150
SECTION_LIMIT = 3000
URL_LIMIT = 3000
TEXT_LIMIT = 4000
"""``text`` beyond 4,000 characters is not recommended by Slack; the fallback stays well inside it."""
SOURCE_LIMIT = 256
TERM_LIMIT = 100
TERMS_LIMIT = 1000
QUERIES_LIMIT = 1000
LINK_LIMIT = 1000
"""The longest address a link in a section carries; a longer one leaves its label unlinked."""
LABEL_LIMIT = 300

Block = dict[str, Any]

_SUBTEAM = re.compile(r"(S[A-Z0-9]{2,20})|<!subteam\^(S[A-Z0-9]{2,20})(?:\|[^<>|]*)?>")
_PING = re.compile(r"@(?=channel|here|everyone)", re.IGNORECASE)
_ANGLE = re.compile(r"<(?=[@#!])")
_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_LOOKALIKES = str.maketrans(
    {
        "*": "\u2217",
        "_": "\u02cd",
        "~": "\u223c",
        "`": "\u02cb",
        "＊": "\ufe61",
        "＿": "\u2e0f",
        "～": "\u301c",
        "｀": "\u02cb",
    }
)
_QUOTE = re.compile(r"^([ \t]*)(&gt;|＞)", re.MULTILINE)

OPEN_ARTICLE = "open_article"
"""The action_id of an alert's link button (the adapter acknowledges its clicks)."""


class SlackMessage(TypedDict):
    """The arguments of ``chat.postMessage`` apart from the channel."""

    text: str
    blocks: list[Block]
    unfurl_links: bool
    unfurl_media: bool


def render_slack(alert: Alert) -> SlackMessage:
    """The alert as Block Kit: a header with the headline; a section with the summary, matched terms in
    bold; a context line with the source, the publication time (in each reader's time zone) and the
    matched terms and subscription; an "Open article" button. ``text`` is the plain fallback that
    notifications show. The subscriber's user group, if well formed, is the only mention."""
    notice = alert.kind == "notice"
    group = "" if notice else usergroup_id(alert.mention)
    mention = f"<!subteam^{group}>" if group else ""
    title = single_line(alert.title) or "(untitled)"
    if notice:
        title = "⚠ " + title
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": fit(title, HEADER_LIMIT, plain), "emoji": True},
        }
    ]
    terms = () if notice else alert.terms
    room = SECTION_LIMIT - (len(mention) + 1 if mention else 0)
    if alert.kind == "digest" and alert.headlines:
        blocks.extend(_digest_sections(alert.headlines, mention))
    else:
        summary = fit(paragraphs(alert.summary), room, lambda text: mrkdwn_with_terms(text, terms))
        if section := " ".join(part for part in (mention, summary) if part):
            blocks.append({"type": "section", "text": _mrkdwn(section)})
    if context := _context(alert, notice):
        blocks.append({"type": "context", "elements": [_mrkdwn(text) for text in context]})
    if not notice and (url := web_url(alert.url, URL_LIMIT)):
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open article", "emoji": True},
            "url": url,
            "action_id": OPEN_ARTICLE,
        }
        blocks.append({"type": "actions", "elements": [button]})
    source = single_line(alert.source)
    fallback = " · ".join(part for part in (title, source) if part)
    text = fit(fallback, TEXT_LIMIT - (len(mention) + 1 if mention else 0), escape_mrkdwn)
    return {
        "text": f"{mention} {text}" if mention else text,
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def usergroup_id(mention: str) -> str:
    """The user group id in a subscription's ``mention`` ("S0123ABC" or "<!subteam^S0123ABC>"), or ""
    if it is not one."""
    match = _SUBTEAM.fullmatch(mention.strip())
    return (match.group(1) or match.group(2)) if match else ""


def plain(text: str) -> str:
    """``text`` for a plain_text object: no character Slack or a client could read as a mention."""
    return _ANGLE.sub("<" + ZWSP, _PING.sub("@" + ZWSP, text))


def escape_mrkdwn(text: str) -> str:
    """``text`` as literal mrkdwn (see the module docstring for the rules)."""
    return mrkdwn_with_terms(text, ())


def mrkdwn_with_terms(text: str, terms: Sequence[str]) -> str:
    """:func:`escape_mrkdwn`, with whole-word occurrences of ``terms`` in *bold*."""
    text = _PING.sub("@" + ZWSP, text)
    links = url_spans(text)
    spans = term_spans(text, terms, avoid=links)
    return mark(
        text,
        spans,
        escape=_escape_text,
        bold=lambda piece: f"*{piece}*",
        links=links,
        escape_link=lambda link: link.translate(_ENTITIES),
    )


def slack_date(when_epoch: int, fallback: str) -> str:
    """Slack's date token: shown in each reader's time zone as "Today 08:00", "Nov 24th 08:00", …"""
    return f"<!date^{when_epoch}^{{date_short_pretty}} {{time}}|{escape_mrkdwn(fallback)}>"


def link(url: str, label: str) -> str:
    """A link to ``url`` showing ``label`` (escaped; the address itself if empty); the label alone,
    escaped, for an address Slack would refuse or one over :data:`LINK_LIMIT`."""
    target = link_target(url, LINK_LIMIT)
    if not target:
        return fit(single_line(label), LABEL_LIMIT, escape_mrkdwn)
    shown = fit(single_line(label), LABEL_LIMIT, _escape_label)
    target = target.translate(_ENTITIES)
    return f"<{target}|{shown}>" if shown else f"<{target}>"


def _escape_label(text: str) -> str:
    """A link's label: :func:`escape_mrkdwn`, an address in it too (a label is no link)."""
    return _escape_text(_PING.sub("@" + ZWSP, text))


def code(text: str) -> str:
    """``text`` as a code span; "" for no text."""
    if not text:
        return ""
    inner = _PING.sub("@" + ZWSP, text).translate(_ENTITIES).replace("`", "\u02cb")
    return f"`{inner}`"


def pack(lines: Sequence[str], limit: int = SECTION_LIMIT) -> list[str]:
    """``lines`` joined by newlines into as few texts of at most ``limit`` characters as they fit in;
    a line longer than ``limit`` is left out (the caller's lines are cut to fit before)."""
    texts: list[str] = []
    current = ""
    for line in lines:
        if len(line) > limit:
            continue
        if current and len(current) + 1 + len(line) <= limit:
            current += "\n" + line
        else:
            if current:
                texts.append(current)
            current = line
    if current:
        texts.append(current)
    return [text for text in texts if text.strip()]


def _digest_sections(headlines: Sequence[Headline], mention: str) -> list[Block]:
    """One line a story: its title linking to it, and its outlet; the user group first."""
    lines = [mention] if mention else []
    named, more = listed_stories(headlines)
    for headline in named:
        source = fit(single_line(headline.source), SOURCE_LIMIT, escape_mrkdwn)
        title = single_line(headline.title) or "(untitled)"
        lines.append("• " + link(headline.url, title) + (f" — {source}" if source else ""))
    if more:
        lines.append(more)
    return [{"type": "section", "text": _mrkdwn(text)} for text in pack(lines)]


def _escape_text(text: str) -> str:
    text = text.translate(_LOOKALIKES).translate(_ENTITIES)
    return _QUOTE.sub(lambda m: m.group(1) + "\u00ad" + m.group(2), text)


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _context(alert: Alert, notice: bool) -> list[str]:
    where = []
    if alert.kind != "digest" and (source := single_line(alert.source)):
        where.append(fit(source, SOURCE_LIMIT, escape_mrkdwn))
    if alert.published is not None:
        published = as_utc(alert.published)
        where.append(slack_date(int(published.timestamp()), human_time(published)))
    elements = [" · ".join(where)] if where else []
    if notice:
        return elements
    terms = [fit(single_line(t), TERM_LIMIT, escape_mrkdwn) for t in alert.terms]
    matched = join_fitting([f"*{t}*" for t in terms if t], ", ", TERMS_LIMIT)
    queries = [fit(single_line(q), QUERIES_LIMIT, escape_mrkdwn) for q in alert.queries]
    subscription = join_fitting([q for q in queries if q], " | ", QUERIES_LIMIT)
    why = []
    if matched:
        why.append(f"matched: {matched}")
    if subscription:
        why.append(f"(subscription: {subscription})")
    if why:
        elements.append("   ".join(why))
    also = [fit(single_line(a), SOURCE_LIMIT, escape_mrkdwn) for a in alert.also]
    if also := [a for a in also if a]:
        elements.append("also reported by " + join_fitting(also, ", ", TERMS_LIMIT))
    return [element for element in elements if element]

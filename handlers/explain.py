"""Replies that explain the bot's decisions to a channel: what a query would match, why an article did
or did not alert. Pure: the command service gathers the facts and these functions word them, every
title, outlet, query and error in them marked as outside text (:mod:`handlers.replies`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.models import Span, Subscription, unique_terms
from bot.core.zones import local_time
from bot.store import AlertStatus, SeenArticle
from bot.stories import StoryDecision
from handlers.replies import Item, Line, Link, Outside, Piece, Reply, Section, reply

PREVIEW_ITEMS = 5


@dataclass(frozen=True, slots=True)
class Hit:
    seen: SeenArticle
    spans: tuple[Span, ...]


def preview_reply(canonical: str, hits: Sequence[Hit], looked_at: int) -> Reply:
    understood: Line = ("Query understood as: ", Outside(canonical, code=True))
    if not looked_at:
        return reply(Section(lines=(understood, ("I have not seen any articles yet to try it on.",))))
    head = f"{len(hits)} of the last {looked_at} articles match"
    if not hits:
        return reply(Section(lines=(understood, (head + ".",))))
    items = tuple(
        Item((*_label(h.seen), " (matched: ", Outside(", ".join(unique_terms(h.spans))), ")"))
        for h in hits[:PREVIEW_ITEMS]
    )
    more: tuple[Line, ...] = (
        ((f"…and {len(hits) - PREVIEW_ITEMS} more",),) if len(hits) > PREVIEW_ITEMS else ()
    )
    return reply(Section(lines=(understood, (head + ":",)), items=items, footer=more))


def would_have_matched(count: int, looked_at: int) -> str:
    if not looked_at:
        return ""
    return f"It would have matched {count} of the last {looked_at} articles."


@dataclass(frozen=True, slots=True)
class Verdict:
    subscription: Subscription
    spans: tuple[Span, ...] | None
    """None: the subscription's query does not match the article."""


def why_reply(
    url: str,
    seen: SeenArticle | None,
    verdicts: Sequence[Verdict],
    status: AlertStatus | None,
    zone: str = "UTC",
) -> Reply:
    """``zone``: the channel's time zone, that the times are given in."""
    if seen is None:
        return reply(
            Section(lines=(("I have not seen ", Outside(url), " in any feed I watch (or pushed to me)."),))
        )
    lines: list[Line] = [("Seen ", local_time(seen.seen_at, zone, year=True), ": ", *_label(seen), ".")]
    if story := story_line(StoryDecision.from_json(seen.story_why)):
        lines.append(story)
    if not verdicts:
        lines.append(("This channel has no subscriptions, so nothing here could match it.",))
    items = []
    for verdict in verdicts:
        query = Outside(verdict.subscription.query, code=True)
        if verdict.spans is None:
            items.append(Item(("does not match: ", query)))
        elif verdict.subscription.paused:
            items.append(Item(("matches ", query, ", but that subscription is paused")))
        else:
            terms = ", ".join(unique_terms(verdict.spans))
            items.append(
                Item(("matches ", query, " (on ", Outside(terms) if terms else "its site or source", ")"))
            )
    footer: Line = ()
    matched = any(v.spans is not None for v in verdicts)
    if seen.quiet and matched:
        footer = (
            "It was recorded as history, not news (it was already in its feed when the feed was added, "
            "or older than the age limit), so it was not alerted.",
        )
    elif status is not None:
        footer = _status(status, zone)
    elif matched:
        footer = ("No alert was made for it here: the subscription was added after the article arrived.",)
    return reply(Section(lines=tuple(lines), items=tuple(items), footer=(footer,) if footer else ()))


def story_line(decision: StoryDecision | None) -> Line:
    """Which story the article joined and on what evidence; empty for one recorded before stories."""
    if decision is None:
        return ()
    closest: Line = ("“", Outside(decision.closest_title), "”") + (
        (" — ", Outside(decision.closest_source)) if decision.closest_source else ()
    )
    on: Line = (" on ", Outside(", ".join(decision.evidence))) if decision.evidence else ()
    score = f"similarity {decision.score:.2f}"
    if decision.reason == "link or headline":
        return ("Story: the same link or headline as an article seen before it, so the same story.",)
    if decision.reason == "near-copy":
        return ("Story: a copy of ", *closest, f" ({score}), so the same story.")
    if decision.reason == "joined":
        return ("Story: joined ", *closest, f" ({score}", *on, "); its outlet is added to that alert.")
    if decision.reason == "development":
        new = Outside(", ".join(decision.new_facts))
        return (
            "Story: a new development of ", *closest, f" ({score}", *on, "; new in the headline: ", new,
            "), so it got an alert of its own.",
        )  # fmt: skip
    if decision.closest_title:
        return (
            "Story: a story of its own. The closest article was ", *closest, f" ({score}", *on,
            "): not close enough, or no names in common.",
        )  # fmt: skip
    return ("Story: a story of its own; nothing like it was seen in the window before it.",)


def _status(status: AlertStatus, zone: str) -> Line:
    if status.status == "sent":
        when = f" {local_time(status.sent_at, zone, year=True)}" if status.sent_at else ""
        return (f"The alert was posted here{when}.",)
    if status.status == "failed":
        return ("The alert could not be posted here: ", Outside(status.last_error))
    if status.attempts:
        return (
            f"The alert is waiting to be posted (attempt {status.attempts} failed: ",
            Outside(status.last_error),
            ").",
        )
    return ("The alert is queued and will be posted shortly.",)


def _label(seen: SeenArticle) -> Line:
    """The article's title, a link to it, and its outlet."""
    article = seen.article
    title: Piece = Link(article.url, article.title) if article.url else Outside(article.title or article.id)
    return (title, " — ", Outside(article.source)) if article.source else (title,)

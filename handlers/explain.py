"""Texts that explain the bot's decisions to a channel: what a query would match, why an article did
or did not alert. Pure: the command service gathers the facts and these functions word them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.models import Span, Subscription, unique_terms
from bot.store import AlertStatus, SeenArticle
from bot.stories import StoryDecision

PREVIEW_ITEMS = 5


@dataclass(frozen=True, slots=True)
class Hit:
    seen: SeenArticle
    spans: tuple[Span, ...]


def preview_text(canonical: str, hits: Sequence[Hit], looked_at: int) -> str:
    if not looked_at:
        return f"Query understood as: {canonical}\nI have not seen any articles yet to try it on."
    head = f"Query understood as: {canonical}\n{len(hits)} of the last {looked_at} articles match"
    if not hits:
        return head + "."
    lines = [
        f"- {_label(h.seen)} (matched: {', '.join(unique_terms(h.spans))})" for h in hits[:PREVIEW_ITEMS]
    ]
    more = f"\n…and {len(hits) - PREVIEW_ITEMS} more" if len(hits) > PREVIEW_ITEMS else ""
    return head + ":\n" + "\n".join(lines) + more


def would_have_matched(count: int, looked_at: int) -> str:
    if not looked_at:
        return ""
    return f"It would have matched {count} of the last {looked_at} articles."


@dataclass(frozen=True, slots=True)
class Verdict:
    subscription: Subscription
    spans: tuple[Span, ...] | None
    """None: the subscription's query does not match the article."""


def why_text(
    url: str, seen: SeenArticle | None, verdicts: Sequence[Verdict], status: AlertStatus | None
) -> str:
    if seen is None:
        return f"I have not seen {url} in any feed I watch (or pushed to me)."
    lines = [f"Seen {_when(seen.seen_at)}: {_label(seen)}."]
    if story := story_text(StoryDecision.from_json(seen.story_why)):
        lines.append(story)
    if not verdicts:
        lines.append("This channel has no subscriptions, so nothing here could match it.")
    for verdict in verdicts:
        query = verdict.subscription.query
        if verdict.spans is None:
            lines.append(f"- does not match: {query}")
        elif verdict.subscription.paused:
            lines.append(f"- matches {query}, but that subscription is paused")
        else:
            terms = ", ".join(unique_terms(verdict.spans)) or "its site or source"
            lines.append(f"- matches {query} (on {terms})")
    matched = any(v.spans is not None for v in verdicts)
    if seen.quiet and matched:
        lines.append(
            "It was recorded as history, not news (it was already in its feed when the feed was added, "
            "or older than the age limit), so it was not alerted."
        )
    elif status is not None:
        lines.append(_status(status))
    elif matched:
        lines.append("No alert was made for it here: the subscription was added after the article arrived.")
    return "\n".join(lines)


def story_text(decision: StoryDecision | None) -> str:
    """Which story the article joined and on what evidence; empty for one recorded before stories."""
    if decision is None:
        return ""
    closest = f"“{decision.closest_title}”" + (
        f" — {decision.closest_source}" if decision.closest_source else ""
    )
    on = f" on {', '.join(decision.evidence)}" if decision.evidence else ""
    if decision.reason == "link or headline":
        return "Story: the same link or headline as an article seen before it, so the same story."
    if decision.reason == "near-copy":
        return f"Story: a copy of {closest} (similarity {decision.score:.2f}), so the same story."
    if decision.reason == "joined":
        score = f"similarity {decision.score:.2f}{on}"
        return f"Story: joined {closest} ({score}); its outlet is added to that alert."
    if decision.reason == "development":
        new = ", ".join(decision.new_facts)
        return (
            f"Story: a new development of {closest} (similarity {decision.score:.2f}{on}; new in the "
            f"headline: {new}), so it got an alert of its own."
        )
    if decision.closest_title:
        return (
            f"Story: a story of its own. The closest article was {closest} (similarity {decision.score:.2f}"
            f"{on}): not close enough, or no names in common."
        )
    return "Story: a story of its own; nothing like it was seen in the window before it."


def _status(status: AlertStatus) -> str:
    if status.status == "sent":
        when = f" {_when(status.sent_at)}" if status.sent_at else ""
        return f"The alert was posted here{when}."
    if status.status == "failed":
        return f"The alert could not be posted here: {status.last_error}"
    if status.attempts:
        return f"The alert is waiting to be posted (attempt {status.attempts} failed: {status.last_error})."
    return "The alert is queued and will be posted shortly."


def _label(seen: SeenArticle) -> str:
    article = seen.article
    title = article.title or article.url or article.id
    return f"{title} — {article.source}" if article.source else title


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%d %b %Y %H:%M UTC")

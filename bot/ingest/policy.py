"""Pure decisions of the poller: which items may alert, when to fetch next, when to tell channels a
feed is failing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.models import Article

HEALTHY, NOTIFIED, PAUSED = 0, 1, 2


def quiet_ids(
    articles: Sequence[Article], *, first_fetch: bool, backfill: int, max_age: float, now: float
) -> set[str]:
    """Ids of items to record as seen without alerting.

    On a feed's first fetch its current items are history, not news: all but the newest ``backfill``
    stay quiet, so adding a feed never floods a channel. Items published more than ``max_age`` seconds
    ago (when ``max_age`` > 0) stay quiet too.
    """
    quiet: set[str] = set()
    if first_fetch:
        newest = sorted(articles, key=lambda a: a.published.timestamp() if a.published else now, reverse=True)
        quiet.update(a.id for a in newest[max(0, backfill) :])
    if max_age > 0:
        quiet.update(
            a.id for a in articles if a.published is not None and now - a.published.timestamp() > max_age
        )
    return quiet


def next_interval(
    default: float, *, max_age: float | None, ttl_minutes: int | None, floor: float, ceiling: float
) -> float:
    """The publisher's hint (Cache-Control max-age or RSS <ttl>), bounded by config; else ``default``."""
    hints = [h for h in (max_age, ttl_minutes * 60.0 if ttl_minutes else None) if h]
    if not hints:
        return default
    return min(ceiling, max(floor, max(hints)))


@dataclass(frozen=True, slots=True)
class HealthStep:
    stage: int
    message: str = ""


def health_step(
    stage: int, failing_for: float, error: str, *, notify_after: float, pause_after: float
) -> HealthStep:
    """What a failing feed's channels are told now: nothing, a first notice, or a second notice and a
    pause. Each is sent once; the stage only moves forward until the feed recovers."""
    if stage < PAUSED and failing_for >= pause_after:
        return HealthStep(
            PAUSED, f"has failed for {_span(failing_for)} ({error}) and is now paused; re-add it to resume"
        )
    if stage < NOTIFIED and failing_for >= notify_after:
        return HealthStep(NOTIFIED, f"has failed for {_span(failing_for)}: {error}")
    return HealthStep(stage)


def _span(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.0f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{max(1, round(seconds / 60))} min"


def cache_max_age(header: str | None) -> float | None:
    """``max-age`` seconds from a Cache-Control header; None when absent or no-cache/no-store."""
    if not header:
        return None
    directives = [d.strip().lower() for d in header.split(",")]
    if any(d in ("no-cache", "no-store") for d in directives):
        return None
    for d in directives:
        name, _, value = d.partition("=")
        if name.strip() == "max-age" and value.strip().isdigit():
            return float(value.strip())
    return None

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.models import Article
from bot.ingest.policy import HEALTHY, NOTIFIED, PAUSED, cache_max_age, health_step, next_interval, quiet_ids

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
HOUR, DAY = 3600.0, 86400.0


def items(*ages_in_hours: float | None) -> list[Article]:
    return [
        Article(id=f"i{n}", title="t", text="", published=None if age is None else NOW - timedelta(hours=age))
        for n, age in enumerate(ages_in_hours)
    ]


def test_a_new_feed_alerts_only_its_newest_backfill_items() -> None:
    feed = items(5, 1, 3, 2)
    assert quiet_ids(feed, first_fetch=True, backfill=0, max_age=0, now=NOW.timestamp()) == {
        "i0",
        "i1",
        "i2",
        "i3",
    }
    assert quiet_ids(feed, first_fetch=True, backfill=2, max_age=0, now=NOW.timestamp()) == {"i0", "i2"}
    assert quiet_ids(feed, first_fetch=False, backfill=0, max_age=0, now=NOW.timestamp()) == set()


def test_items_older_than_max_age_stay_quiet_and_undated_items_are_kept() -> None:
    feed = items(1, 30, None)
    assert quiet_ids(feed, first_fetch=False, backfill=0, max_age=DAY, now=NOW.timestamp()) == {"i1"}
    assert quiet_ids(feed, first_fetch=False, backfill=0, max_age=0, now=NOW.timestamp()) == set()


def test_publisher_hints_are_obeyed_within_bounds() -> None:
    bounds = {"floor": 300.0, "ceiling": 6 * HOUR}
    assert next_interval(900, max_age=None, ttl_minutes=None, **bounds) == 900
    assert next_interval(900, max_age=1800, ttl_minutes=None, **bounds) == 1800
    assert next_interval(900, max_age=None, ttl_minutes=60, **bounds) == HOUR
    assert next_interval(900, max_age=10, ttl_minutes=None, **bounds) == 300  # too eager: floor
    assert next_interval(900, max_age=None, ttl_minutes=10_000, **bounds) == 6 * HOUR  # too lazy: ceiling


def test_cache_control_max_age() -> None:
    assert cache_max_age("public, max-age=600") == 600
    assert cache_max_age("no-cache, max-age=600") is None
    assert cache_max_age("private") is None and cache_max_age(None) is None


def test_failing_feed_gets_one_notice_then_one_pause_notice() -> None:
    rules = {"notify_after": 6 * HOUR, "pause_after": 3 * DAY}
    assert health_step(HEALTHY, 5 * HOUR, "HTTP 404", **rules).stage == HEALTHY
    first = health_step(HEALTHY, 6 * HOUR, "HTTP 404", **rules)
    assert (first.stage, first.message) == (NOTIFIED, "has failed for 6 h: HTTP 404")
    assert health_step(NOTIFIED, 2 * DAY, "HTTP 404", **rules) == type(first)(NOTIFIED)  # no repeat
    second = health_step(NOTIFIED, 3 * DAY, "HTTP 404", **rules)
    assert second.stage == PAUSED and "is now paused" in second.message and "3 d" in second.message
    assert health_step(PAUSED, 9 * DAY, "HTTP 404", **rules).message == ""

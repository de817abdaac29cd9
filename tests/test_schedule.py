from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.models import ChannelRef
from bot.delivery.flood import Budget, budget, within_budget
from bot.delivery.schedule import digest_alert, next_digest_time, plan
from bot.store import ChannelSettings, OutboxItem
from tests.store_support import alert

A = ChannelRef("test", "A")
T = datetime(2026, 11, 24, 10, 17, tzinfo=UTC).timestamp()


def item(story: str, *, mode: str = "instant", created: float = T, kind: str = "article") -> OutboxItem:
    return OutboxItem(dataclasses.replace(alert(story, A), mode=mode, kind=kind), 0, created)


def test_digest_slots() -> None:
    assert datetime.fromtimestamp(next_digest_time("hourly", T), UTC).strftime("%H:%M") == "11:00"
    daily = datetime.fromtimestamp(next_digest_time("daily", T), UTC)
    assert (daily.day, daily.hour) == (25, 8)
    early = datetime(2026, 11, 24, 7, 0, tzinfo=UTC).timestamp()
    assert datetime.fromtimestamp(next_digest_time("daily", early), UTC).day == 24


def test_instant_alerts_go_now_and_hourly_ones_wait_for_their_slot() -> None:
    decided = plan([item("now"), item("later", mode="hourly")], {}, T + 60)
    assert [i.alert.story_id for i in decided.send] == ["now"]
    assert [(i.alert.story_id, until) for i, until in decided.defer] == [
        ("later", next_digest_time("hourly", T))
    ]


def test_digest_items_come_out_together_at_their_slot() -> None:
    slot = next_digest_time("hourly", T)
    decided = plan(
        [item("a", mode="hourly"), item("b", mode="daily")], {A.key: ChannelSettings(digest="hourly")}, slot
    )
    assert decided.send == [] and [len(g) for g in decided.digests] == [2]


def test_mute_holds_articles_but_not_notices_and_release_comes_as_one_digest() -> None:
    muted = {A.key: ChannelSettings(muted_until=T + 3600)}
    decided = plan([item("a"), item("b"), item("n", kind="notice")], muted, T + 5)
    assert [i.alert.story_id for i in decided.send] == ["n"]
    assert {until for _, until in decided.defer} == {T + 3600}
    released = plan([item("a"), item("b")], muted, T + 3601)
    assert [[i.alert.story_id for i in g] for g in released.digests] == [["a", "b"]]
    single = plan([item("a")], muted, T + 3601)
    assert single.send == [] and [[i.alert.story_id for i in g] for g in single.digests] == [["a"]]


def test_digest_message_lists_every_alert() -> None:
    message = digest_alert([item("a"), item("b")])
    assert message.kind == "digest" and message.title == "2 new articles"
    assert message.summary.splitlines() == [
        "• Title of a — X: https://x.example/a",
        "• Title of b — X: https://x.example/b",
    ]


def test_flood_control_keeps_order_and_folds_only_what_exceeds_the_budget() -> None:
    ready = plan([item(f"s{i}") for i in range(5)], {}, T)
    assert within_budget(ready, {A.key: Budget(remaining=10, next_free_at=T)}) == ready
    cut = within_budget(ready, {A.key: Budget(remaining=3, next_free_at=T)})
    assert [i.alert.story_id for i in cut.send] == ["s0", "s1"]
    assert [[i.alert.story_id for i in g] for g in cut.folded] == [["s2", "s3", "s4"]]
    spent = within_budget(ready, {A.key: Budget(remaining=0, next_free_at=T + 42)})
    assert spent.send == [] and {until for _, until in spent.defer} == {T + 42} and len(spent.defer) == 5
    notices = plan([item("n", kind="notice")], {}, T)
    assert within_budget(notices, {A.key: Budget(remaining=0, next_free_at=T + 42)}).send == notices.send


def test_a_budget_counts_the_messages_of_the_last_window() -> None:
    assert budget([T - 120, T - 30, T - 10], rate=2, window=60, now=T) == Budget(0, T - 30 + 60)
    assert budget([T - 30], rate=2, window=60, now=T) == Budget(1, T)
    assert budget([], rate=10, window=60, now=T) == Budget(10, T)


def local(when: float, zone: str) -> str:
    return datetime.fromtimestamp(when, ZoneInfo(zone)).strftime("%d %H:%M %Z")


@pytest.mark.parametrize(
    ("zone", "after", "hourly", "daily"),
    [
        # T is 24 Nov 10:17 UTC: 12:17 in Kyiv, 15:47 in Kolkata, 16:02 in Kathmandu, 05:17 in New York
        ("UTC", T, "24 11:00 UTC", "25 08:00 UTC"),
        ("Europe/Kyiv", T, "24 13:00 EET", "25 08:00 EET"),
        ("Asia/Kolkata", T, "24 16:00 IST", "25 08:00 IST"),
        ("Asia/Kathmandu", T, "24 17:00 +0545", "25 08:00 +0545"),
        ("America/New_York", T, "24 06:00 EST", "24 08:00 EST"),
        ("Not/A_Zone", T, "24 11:00 UTC", "25 08:00 UTC"),  # a name the database lost: UTC, never an error
    ],
)
def test_digests_keep_the_channels_clock(zone: str, after: float, hourly: str, daily: str) -> None:
    shown = zone if zone != "Not/A_Zone" else "UTC"
    assert local(next_digest_time("hourly", after, zone), shown) == hourly
    assert local(next_digest_time("daily", after, zone), shown) == daily


def test_an_hourly_digest_in_a_half_hour_zone_comes_at_half_past_the_utc_hour() -> None:
    slot = next_digest_time("hourly", T, "Asia/Kolkata")
    assert datetime.fromtimestamp(slot, UTC).strftime("%H:%M") == "10:30"
    at_the_slot = next_digest_time("hourly", slot, "Asia/Kolkata")  # strictly after
    assert at_the_slot - slot == 3600


def test_digests_follow_daylight_saving_changes() -> None:
    # New York springs forward on 8 March 2026 (02:00 EST -> 03:00 EDT) and falls back on 1 November.
    before = datetime(2026, 3, 7, 9, 0, tzinfo=ZoneInfo("America/New_York")).timestamp()
    first = next_digest_time("daily", before, "America/New_York")
    second = next_digest_time("daily", first, "America/New_York")
    assert (local(first, "America/New_York"), local(second, "America/New_York")) == (
        "08 08:00 EDT",
        "09 08:00 EDT",
    )
    assert second - first == 86400 and first - before == 22 * 3600  # 09:00 to 08:00, an hour lost
    night = datetime(2026, 3, 8, 1, 30, tzinfo=ZoneInfo("America/New_York")).timestamp()
    assert local(next_digest_time("hourly", night, "America/New_York"), "America/New_York") == "08 03:00 EDT"
    fall = datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo("America/New_York")).timestamp()  # the first 01:30
    slots = [fall]
    for _ in range(2):
        slots.append(next_digest_time("hourly", slots[-1], "America/New_York"))
    assert [local(s, "America/New_York") for s in slots[1:]] == ["01 01:00 EST", "01 02:00 EST"]


def test_the_plan_holds_a_digest_until_the_channels_local_slot() -> None:
    kolkata = {A.key: ChannelSettings(digest="hourly", timezone="Asia/Kolkata")}
    decided = plan([item("a")], kolkata, T + 60)
    [(_, until)] = decided.defer
    assert datetime.fromtimestamp(until, UTC).strftime("%H:%M") == "10:30"
    due = plan([item("a")], kolkata, until)
    assert [[i.alert.story_id for i in g] for g in due.digests] == [["a"]]

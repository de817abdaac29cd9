"""The small shared rules every stage uses: Retry-After, backoff, durations."""

from __future__ import annotations

import pytest

from bot.core.backoff import Backoff
from bot.core.durations import parse_duration
from bot.core.http import parse_retry_after

NOW = 1792567620.0  # Wed, 21 Oct 2026 07:27:00 GMT


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),  # Discord and some proxies send fractions
        ("0", 0.0),
        ("Wed, 21 Oct 2026 07:28:00 GMT", 60.0),
        ("Wed, 21 Oct 2026 07:00:00 GMT", 0.0),  # already past: go now, never a negative wait
        ("soon", None),
        ("-5", None),
        ("nan", None),
        ("inf", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


def test_backoff_doubles_from_its_base_up_to_its_cap_with_jitter_around_it() -> None:
    backoff = Backoff(base=60, cap=3600)
    assert [backoff.delay(n, rand=lambda: 0.5) for n in (1, 2, 3, 10)] == [60, 120, 240, 3600]
    assert backoff.delay(1, rand=lambda: 0.0) == 48.0
    assert backoff.delay(1, rand=lambda: 1.0) == pytest.approx(72.0)
    assert Backoff(base=2, cap=60, jitter=0).delay(0) == 2  # "no failure yet" waits the base
    assert backoff.delay(100_000, rand=lambda: 0.5) == 3600  # never overflows


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("90s", 90.0),
        ("500ms", 0.5),
        ("15m", 900.0),
        ("15 min", 900.0),
        ("6h", 21600.0),
        ("1.5H", 5400.0),
        ("7d", 604800.0),
    ],
)
def test_durations_are_read_the_same_everywhere(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "-5m", "5 weeks", "m", ""])
def test_a_bad_duration_names_itself_and_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a duration: .*\(write e\.g\. 90s, 15m, 6h or 7d\)"):
        parse_duration(text)

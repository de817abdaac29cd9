"""Rows the store reads become subscriptions equal to those the dataclass makes, whatever its fields."""

from __future__ import annotations

import dataclasses

import pytest

from bot.core.models import ChannelRef, Subscription
from bot.store.rows import subscriptions_from_rows

ROWS = [
    (1, "slack", "C1", "T1", "ukraine", "Ukraine", "U1", "@here", "instant", 0, 1, 0),
    (2, "slack", "C1", "T1", '"kyiv based"', '"Kyiv based"', "U2", "", "daily", 1, 0, 1),
    (3, "discord", "99", "", "nato OR otan", "NATO OR OTAN", "", "", "hourly", 0, 0, 0),
]


def test_subscriptions_from_rows_are_the_dataclass_s_own() -> None:
    found = subscriptions_from_rows(ROWS)
    expected = [
        Subscription(
            id=row[0],
            channel=ChannelRef(row[1], row[2], row[3]),
            query=row[4],
            raw_query=row[5],
            created_by=row[6],
            mention=row[7],
            mode=row[8],  # type: ignore[arg-type]
            paused=bool(row[9]),
            thread=bool(row[10]),
            user_paused=bool(row[11]),
        )
        for row in ROWS
    ]
    assert found == expected
    for made, wanted in zip(found, expected, strict=True):
        # every field set (a field added to Subscription and missed here would raise), and still frozen
        assert dataclasses.asdict(made) == dataclasses.asdict(wanted)
        assert hash(made) == hash(wanted) and made.live == wanted.live
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.query = "other"  # type: ignore[misc]
    assert found[0].channel is found[1].channel  # one ChannelRef a channel

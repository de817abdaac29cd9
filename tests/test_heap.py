"""The collector settings the bot applies once its subscriptions are loaded."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.matching import SubscriptionIndex, heap, parse_query


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restore_gc")
def test_settle_freezes_the_index_and_raises_the_young_threshold() -> None:
    index = SubscriptionIndex()
    for n in range(200):
        query = parse_query(f"word{n} OR other{n}")
        index.add(str(n), query)
    frozen_before = gc.get_freeze_count()
    heap.settle()
    assert gc.get_freeze_count() > frozen_before + 200  # the index's entries are out of the collector's way
    assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
    heap.settle()  # again: harmless
    assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD

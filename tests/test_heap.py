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


def test_the_collector_is_paused_while_a_load_runs_and_back_as_it_was_after() -> None:
    assert gc.isenabled()
    with heap.Paused():
        assert not gc.isenabled()
        with heap.Paused():  # nested: the outer one turns it back on
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), heap.Paused():
        raise ValueError("a load that fails")
    assert gc.isenabled()
    gc.disable()
    try:
        with heap.Paused():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()

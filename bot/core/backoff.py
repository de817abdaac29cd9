"""Exponential backoff: the one formula behind every retry (a failing feed, an alert a platform could
not take, a WebSub hub that did not verify, the run loop after a store error)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

_MAX_DOUBLINGS = 64
"""Past this the cap has long been reached; it keeps ``2.0 ** n`` from overflowing."""


@dataclass(frozen=True, slots=True)
class Backoff:
    base: float
    """The wait after the first failure."""
    cap: float
    jitter: float = 0.2
    """Each wait is scaled by a random factor in [1 - jitter, 1 + jitter), so that many failing
    things (feeds on one host, alerts to one platform) spread out instead of retrying together."""

    def delay(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        """The wait after ``failures`` failures in a row (1 for the first): ``base``, doubling each time,
        at most ``cap``, then jittered."""
        doublings = min(_MAX_DOUBLINGS, max(0, failures - 1))
        wait = min(self.cap, self.base * 2.0**doublings)
        return wait * (1.0 - self.jitter + 2.0 * self.jitter * rand())

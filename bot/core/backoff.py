"""Exponential backoff: the one formula behind every retry (a failing feed, an alert a platform could
not take, a WebSub hub that did not verify, the run loop after a store error)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NoReturn

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


async def repeat(
    step: Callable[[], Awaitable[object]],
    every: float,
    *,
    retried: tuple[type[Exception], ...],
    backoff: Backoff,
    what: str,
    log: logging.Logger,
    ceiling: float = float("inf"),
) -> NoReturn:
    """A background loop, until cancelled: ``step`` every ``every`` seconds; one of the ``retried``
    exceptions is logged (``what`` failed) and retried with ``backoff``, never waiting longer than
    ``ceiling``. Any other exception ends the loop: a bug, not an outage."""
    failures = 0
    while True:
        try:
            await step()
            failures = 0
            delay = every
        except retried as exc:
            failures += 1
            delay = min(ceiling, backoff.delay(failures))
            log.warning("%s failed (%s); again in %.0fs", what, exc, delay)
        await asyncio.sleep(delay)

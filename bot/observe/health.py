"""What ``GET /healthz`` answers: whether the store answers, how long ago the run loop last completed a
poll cycle and last posted an alert, and whether each chat platform is connected.

Unhealthy (503, which the container's HEALTHCHECK turns into a restart) only for what a restart may
cure: a store that does not answer, or a loop that has stopped completing cycles. A platform that is
disconnected is shown but keeps the bot healthy: discord.py and Socket Mode reconnect by themselves, and
a refused token is not mended by a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from bot.core.errors import StoreError
from bot.store.base import Store

PING_TIMEOUT = 3.0
"""Well within ``newsbot health``'s 5 s: a store stuck longer than this counts as unreachable."""
CYCLE_INTERVALS = 3
CYCLE_GRACE = 60.0


def cycle_limit(poll_interval: float) -> float:
    """How long the loop may go without completing a poll cycle before the bot is unhealthy. The loop
    completes one at least every 30 s when idle; a cycle fetching many slow feeds can take minutes. Three
    polling intervals (at least a minute each) and a minute's grace: a feed due every interval has then
    missed three fetches, while one slow cycle never flaps the health check."""
    return CYCLE_INTERVALS * max(poll_interval, 60.0) + CYCLE_GRACE


class Connection(Protocol):
    """A platform adapter as the health check sees it (:class:`bot.platforms.PlatformAdapter`)."""

    name: str

    async def is_connected(self) -> bool: ...


class Health(NamedTuple):
    healthy: bool
    body: dict[str, object]
    """The JSON answer: ``status`` (``ok`` or ``unhealthy``) and ``reasons``, then the details."""


class HealthCheck:
    """The run loop records here when it completes a cycle and when it posts alerts; :meth:`check`
    answers ``/healthz``."""

    def __init__(
        self, store: Store, platforms: Sequence[Connection], cycle_limit: float, started_at: float
    ) -> None:
        self.store = store
        self.platforms = platforms
        self.cycle_limit = cycle_limit
        self.started_at = started_at
        self.last_cycle_at: float | None = None
        self.last_delivery_at: float | None = None

    def cycle_completed(self, at: float, sent: int) -> None:
        self.last_cycle_at = at
        if sent:
            self.last_delivery_at = at

    async def check(self, now: float) -> Health:
        reasons = []
        try:
            await asyncio.wait_for(self.store.ping(), PING_TIMEOUT)
            store = "ok"
        except StoreError as exc:
            store = f"unreachable: {exc}"
        except TimeoutError:
            store = f"unreachable: no answer within {PING_TIMEOUT:g}s"
        if store != "ok":
            reasons.append(f"store {store}")
        since = self.last_cycle_at if self.last_cycle_at is not None else self.started_at
        if now - since > self.cycle_limit:
            what = (
                "the last poll cycle completed"
                if self.last_cycle_at is not None
                else "started, no cycle since"
            )
            reasons.append(f"{what} {now - since:.0f}s ago (limit {self.cycle_limit:.0f}s)")
        platforms = {platform.name: await platform.is_connected() for platform in self.platforms}
        body: dict[str, object] = {
            "status": "unhealthy" if reasons else "ok",
            "reasons": reasons,
            "store": store,
            "last_cycle_age": _age(now, self.last_cycle_at),
            "cycle_limit": self.cycle_limit,
            "last_delivery_age": _age(now, self.last_delivery_at),
            "platforms": {name: "connected" if up else "disconnected" for name, up in platforms.items()},
        }
        return Health(not reasons, body)


def _age(now: float, at: float | None) -> float | None:
    return None if at is None else round(max(0.0, now - at), 3)

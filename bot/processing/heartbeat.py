"""A worker's heartbeat: while it runs, every feed and channel it holds is renewed a third of a lease
ahead, so work that outlasts one lease (a batch of slow feeds, a channel's long backlog) stays its own,
and when it dies the heartbeat stops and its claims run out for the other workers to take."""

from __future__ import annotations

import logging
import time

from bot.core.backoff import Backoff, repeat
from bot.core.errors import StoreError
from bot.store.base import Store

log = logging.getLogger(__name__)

RETRY = Backoff(base=1.0, cap=30.0, jitter=0.0)


class Heartbeat:
    def __init__(self, store: Store, owner: str, lease: float) -> None:
        self.store = store
        self.owner = owner
        self.lease = lease

    async def beat(self) -> int:
        return await self.store.renew(self.owner, time.time() + self.lease)

    async def run(self) -> None:
        """:meth:`beat` every third of a lease until cancelled; a :class:`StoreError` is logged and
        retried sooner, with backoff (a beat missed for a whole lease lets the claims go)."""
        await repeat(
            self.beat,
            self.lease / 3,
            retried=(StoreError,),
            backoff=RETRY,
            what="renewing this worker's claims",
            log=log,
            ceiling=self.lease / 3,
        )

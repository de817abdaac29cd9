"""Keeping a worker's subscription index in step with the store, whoever changed it: a command answered
by another worker, or by this one. The store logs every change (:mod:`bot.store.work`); the follower
reads the log and re-reads what changed."""

from __future__ import annotations

import logging
import time

from bot.core.backoff import Backoff, repeat
from bot.core.errors import StoreError
from bot.processing.subscriptions import SubscriptionBook
from bot.store.base import Store

log = logging.getLogger(__name__)

EVERY = 0.5
"""Seconds between two looks: a subscription added on one worker matches on all within a second."""
KEPT = 86400.0
"""The change log is pruned of entries older than this (a worker that starts reads every subscription)."""
PRUNE_EVERY = 3600.0
RETRY = Backoff(base=2.0, cap=60.0, jitter=0.0)


class SubscriptionFollower:
    def __init__(self, store: Store, book: SubscriptionBook) -> None:
        self.store = store
        self.book = book
        self._cursor: int | None = None
        self._pruned = 0.0

    async def start(self) -> None:
        """Mark the current position of the log: call it before the index is built from the store."""
        self._cursor = (await self.store.subscription_changes(None, time.time())).cursor

    async def follow(self) -> int:
        """Index what changed since the last look; returns how many subscriptions were added or removed."""
        changes = await self.store.subscription_changes(self._cursor, time.time())
        self._cursor = changes.cursor
        if not changes.ids:
            return 0
        moved = self.book.follow(changes.ids, await self.store.subscriptions_by_id(changes.ids))
        if moved:
            log.info("subscriptions changed: %d added or removed; %d now", moved, len(self.book))
        return moved

    async def run(self) -> None:
        """:meth:`follow` every :data:`EVERY` seconds until cancelled, pruning the log once an hour. A
        :class:`StoreError` is logged and retried with backoff."""
        await repeat(
            self._step,
            EVERY,
            retried=(StoreError,),
            backoff=RETRY,
            what="following subscription changes",
            log=log,
        )

    async def _step(self) -> None:
        await self.follow()
        if time.time() - self._pruned > PRUNE_EVERY:
            self._pruned = time.time()
            await self.store.prune_subscription_changes(self._pruned - KEPT)

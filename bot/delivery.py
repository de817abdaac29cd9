"""The outbox worker: takes due alerts, hands each to its platform's notifier, records the result.

An alert leaves the outbox only when its notifier confirms the send, so a crash or a restart never
loses one; the outbox row keyed by (channel, story) means it is never queued twice.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.errors import DeliveryError
from bot.notify import Notifier, NotifierRegistry
from bot.store.base import OutboxItem, Store

log = logging.getLogger(__name__)


MIN_RETRY_DELAY = 1.0
"""A failed send is never retried within the same pass."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    base: float = 5.0
    cap: float = 3600.0

    def delay(
        self, attempts: int, retry_after: float | None, rand: Callable[[], float] = random.random
    ) -> float:
        backoff = min(self.cap, self.base * 2.0 ** max(0, attempts - 1)) * (0.8 + 0.4 * rand())
        return max(backoff, retry_after or 0.0, MIN_RETRY_DELAY)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


class DeliveryWorker:
    def __init__(
        self,
        store: Store,
        notifiers: NotifierRegistry,
        policy: RetryPolicy,
        *,
        batch: int = 50,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.notifiers = notifiers
        self.policy = policy
        self.batch = batch
        self.clock = clock
        self.wakeup = asyncio.Event()

    async def deliver_due(self) -> DeliveryReport:
        """Deliver every alert that is due now, in queue order per channel. After a failed send its
        channel's later alerts wait for the retry, so they never overtake it."""
        sent = retrying = failed = 0
        platforms = list(self.notifiers)
        while items := await self.store.due_alerts(self.clock(), self.batch, platforms):
            blocked: set[str] = set()
            for item in items:
                channel = item.alert.channel.key
                notifier = self.notifiers.get(item.alert.channel.platform)
                if channel in blocked or notifier is None:
                    continue
                outcome = await self._deliver(item, notifier)
                if outcome == "sent":
                    sent += 1
                elif outcome == "retry":
                    retrying += 1
                    blocked.add(channel)
                else:
                    failed += 1
        return DeliveryReport(sent=sent, retrying=retrying, failed=failed)

    async def _deliver(self, item: OutboxItem, notifier: Notifier) -> str:
        alert = item.alert
        try:
            ref = await notifier.send(alert, retry=item.attempts > 0)
        except DeliveryError as exc:
            return await self._retry_or_fail(item, exc)
        await self.store.mark_delivered(alert.id, ref, self.clock())
        return "sent"

    async def _retry_or_fail(self, item: OutboxItem, exc: DeliveryError) -> str:
        attempts = item.attempts + 1
        where = item.alert.channel.key
        if not exc.retryable or attempts >= self.policy.max_attempts:
            log.error(
                "alert %s to %s failed for good after %d attempts: %s", item.alert.id, where, attempts, exc
            )
            await self.store.mark_failed(item.alert.id, str(exc))
            return "failed"
        delay = self.policy.delay(attempts, exc.retry_after)
        log.warning(
            "alert %s to %s failed (%s); retry %d in %.0fs", item.alert.id, where, exc, attempts, delay
        )
        await self.store.mark_retry(item.alert.id, str(exc), self.clock() + delay)
        return "retry"

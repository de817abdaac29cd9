"""The outbox worker: takes due alerts, hands each to its platform's notifier, records the result.

An alert leaves the outbox only when its notifier confirms the send, so a crash or a restart never
loses one; the outbox row keyed by (channel, story) means it is never queued twice.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.backoff import Backoff
from bot.core.errors import DeliveryError
from bot.core.models import Alert
from bot.delivery.flood import budget, within_budget
from bot.delivery.notify import NotifierRegistry
from bot.delivery.schedule import Plan, digest_alert, plan
from bot.store import ChannelSettings, OutboxItem, Store
from bot.store.work import LEASE

log = logging.getLogger(__name__)


FLOOD_WINDOW = 60.0
CLAIM_CHANNELS = 200
"""Channels claimed at a time, beside those held already."""
TOKEN_RETRY = Backoff(base=60.0, cap=900.0)
"""How often a platform that refused the token is tried again."""
DIGEST_MAX = 1000
"""At most this many alerts in one digest message; more go in the next."""
MIN_RETRY_DELAY = 1.0
"""A failed send is never retried within the same pass."""
UNEXPECTED_ATTEMPTS = 5
"""An alert whose send raises something unexpected (a bug, a garbled answer) is tried this often, then
set aside as failed: it would otherwise hold its channel's later alerts back for give_up_after."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    give_up_after: float = 86400.0
    """How long an alert keeps being retried, counted from when it was queued: a platform outage of
    hours loses nothing; only an alert whose next try would fall past this is given up."""
    base: float = 5.0
    cap: float = 3600.0

    def delay(
        self, attempts: int, retry_after: float | None, rand: Callable[[], float] = random.random
    ) -> float:
        backoff = Backoff(self.base, self.cap).delay(attempts, rand)
        return max(backoff, retry_after or 0.0, MIN_RETRY_DELAY)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    held: int = 0
    """Held for a mute or a digest."""
    edited: int = 0


class SendMetrics(Protocol):
    """Told what each send came to (:class:`bot.observe.metrics.Metrics`)."""

    def alerts_sent(self, platform: str, waited: Sequence[float]) -> None:
        """``waited``: each alert's seconds from queued to sent."""

    def alerts_unsent(self, platform: str, outcome: str, count: int) -> None:
        """``outcome``: ``retry`` or ``failed``."""


class DeliveryWorker:
    def __init__(
        self,
        store: Store,
        notifiers: NotifierRegistry,
        policy: RetryPolicy,
        *,
        batch: int = 50,
        channel_rate: int = 0,
        paced: Collection[str] = (),
        clock: Callable[[], float] = time.time,
        owner: str = "delivery",
        lease: float = LEASE,
        metrics: SendMetrics | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.owner = owner
        """Who claims the channels it sends to (:class:`bot.store.work.WorkStore`): one worker of several."""
        self.lease = lease
        self.channel_rate = channel_rate
        """Messages a channel may get a minute (0: no limit): see :mod:`bot.delivery.flood`."""
        self.paced = frozenset(paced)
        """The platforms whose channels flood control applies to."""
        self.notifiers = notifiers
        self.policy = policy
        self.batch = batch
        self.clock = clock
        self._refused: dict[str, tuple[int, float]] = {}
        """Platforms that refused the bot's token: how many times in a row, and when to try again."""

    def _sendable(self, platforms: Collection[str]) -> list[str]:
        now = self.clock()
        return [p for p in platforms if self._refused.get(p, (0, 0.0))[1] <= now]

    async def next_due(self) -> float | None:
        """When there is next something to send: an alert falling due, or a refused token to try again."""
        times = [await self.store.next_attempt_at(list(self.notifiers), self.owner, self.clock())]
        times += [until for _, until in self._refused.values()]
        return min((t for t in times if t is not None), default=None)

    async def deliver_due(self) -> DeliveryReport:
        """Deliver every alert that is due now, in queue order per channel: held while the channel is
        muted or waits for its digest, gathered into one message when several are ready at once.
        After a failed send its channel's later alerts wait for the retry, so they never overtake it.
        Then edit posted alerts whose story gained sources."""
        counts: Counter[str] = Counter()
        platforms = list(self.notifiers)
        settings: dict[str, ChannelSettings] = {}
        try:
            await self._deliver_claimed(platforms, settings, counts)
        finally:
            await self.store.release_channels(self.owner)
        counts["edited"] += await self._edit_due(self._sendable(platforms))
        return DeliveryReport(
            sent=counts["sent"],
            retrying=counts["retry"],
            failed=counts["failed"],
            held=counts["held"],
            edited=counts["edited"],
        )

    async def _claimed_due(self, platforms: list[str]) -> list[OutboxItem]:
        """Due alerts of the channels this worker holds, claiming more first (and renewing its own)."""
        now, sendable = self.clock(), self._sendable(platforms)
        channels = await self.store.claim_channels(
            self.owner, now, now + self.lease, sendable, CLAIM_CHANNELS
        )
        return await self.store.due_alerts(now, self.batch, sendable, channels)

    async def _deliver_claimed(
        self, platforms: list[str], settings: dict[str, ChannelSettings], counts: Counter[str]
    ) -> None:
        while items := await self._claimed_due(platforms):
            for channel in {i.alert.channel for i in items}:
                if channel.key not in settings:
                    settings[channel.key] = await self.store.channel_settings(channel)
            decided = plan(items, settings, self.clock())
            paced = {i.alert.channel.key for i in items if i.alert.channel.platform in self.paced}
            if self.channel_rate and paced:
                decided = await self._within_budget(decided, paced)
            for item, until in decided.defer:
                await self.store.defer(item.alert.id, until)
                counts["held"] += 1
            blocked: set[str] = set()
            for group in decided.digests:
                whole = await self._complete(group, settings)
                counts.update(await self._deliver_group(whole, blocked))
            for item in decided.send:
                counts.update(await self._deliver_group([item], blocked))
            for group in decided.folded:
                counts.update(await self._deliver_group(group, blocked))

    async def _within_budget(self, decided: Plan, channel_keys: set[str]) -> Plan:
        now = self.clock()
        sends = await self.store.recent_sends(channel_keys, now - FLOOD_WINDOW)
        budgets = {
            key: budget(sends.get(key, []), self.channel_rate, FLOOD_WINDOW, now) for key in channel_keys
        }
        return within_budget(decided, budgets)

    async def _complete(
        self, group: list[OutboxItem], settings: Mapping[str, ChannelSettings]
    ) -> list[OutboxItem]:
        """A channel's digest with everything of that channel that is ready to go with it, not only what
        fitted in this batch: a mute that held 200 alerts ends in one message, not in batch-sized ones."""
        channel = group[0].alert.channel
        ready = await self.store.due_in_channel(channel, self.clock(), DIGEST_MAX)
        gathered = [g for g in plan(ready, settings, self.clock()).digests if g[0].alert.channel == channel]
        return gathered[0] if gathered and len(gathered[0]) >= len(group) else group

    async def _deliver_group(self, group: list[OutboxItem], blocked: set[str]) -> Counter[str]:
        """Send one alert, or several as one digest message; every item shares the outcome."""
        channel = group[0].alert.channel
        notifier = self.notifiers.get(channel.platform)
        if (
            channel.key in blocked
            or notifier is None
            or channel.platform not in self._sendable([channel.platform])
        ):
            return Counter()
        alert = group[0].alert if len(group) == 1 else digest_alert(group)
        # Counted before the request goes out: if the process dies after the platform took the message
        # and before it is recorded, the next try is a retry, and the notifier looks for the first post.
        await self.store.begin_attempt([item.alert.id for item in group])
        try:
            ref = await notifier.send(alert, retry=any(i.attempts > 0 for i in group))
        except Exception as raised:
            exc = raised if isinstance(raised, DeliveryError) else self._unexpected(alert, group, raised)
            if exc.auth:
                return await self._token_refused(channel.platform, group, exc)
            if exc.gone:  # the notifier paused the channel's subscriptions and logged it
                await self.store.hold_for_channel([item.alert.id for item in group], str(exc))
                blocked.add(channel.key)
                return Counter(held=len(group))
            outcomes = Counter([await self._retry_or_fail(item, exc) for item in group])
            if self.metrics is not None:
                for outcome, count in outcomes.items():
                    self.metrics.alerts_unsent(channel.platform, outcome, count)
            if outcomes["retry"]:
                blocked.add(channel.key)
            return outcomes
        if self._refused.pop(channel.platform, None) is not None:
            log.warning("%s accepts the bot's token again; sending the alerts it held", channel.platform)
        for item in group:
            await self.store.mark_delivered(item.alert.id, ref, self.clock())
        if self.metrics is not None:
            self.metrics.alerts_sent(channel.platform, [self.clock() - item.created_at for item in group])
        return Counter(sent=len(group))

    async def _token_refused(
        self, platform: str, group: list[OutboxItem], exc: DeliveryError
    ) -> Counter[str]:
        """Nothing can go to ``platform`` until its token works again: its alerts stay queued (no retry
        spent, never given up), one error is logged, and the platform is tried again after a growing
        wait."""
        refusals, _ = self._refused.get(platform, (0, 0.0))
        wait = TOKEN_RETRY.delay(refusals + 1)
        self._refused[platform] = (refusals + 1, self.clock() + wait)
        if refusals == 0:
            log.error(
                "%s refused the bot's token (%s): holding every alert for it, trying again every few "
                "minutes; fix the token and they go out",
                platform,
                exc,
            )
        for item in group:
            await self.store.mark_retry(item.alert.id, str(exc), self.clock())
        return Counter(held=len(group))

    @staticmethod
    def _unexpected(alert: Alert, group: list[OutboxItem], exc: Exception) -> DeliveryError:
        """A notifier bug: logged with its traceback the first time, then retried like an outage, so
        that one bad alert never stops the others (nor, by crashing the bot, all of them)."""
        if all(item.attempts == 0 for item in group):
            log.error("sending alert %s raised %s", alert.id, type(exc).__name__, exc_info=exc)
        return DeliveryError(f"unexpected {type(exc).__name__}: {exc}", retryable=True, unexpected=True)

    async def _edit_due(self, platforms: list[str]) -> int:
        edited = 0
        for item, ref in await self.store.edits_due(platforms, self.batch):
            notifier = self.notifiers.get(ref.platform)
            if notifier is None:
                continue
            try:
                await notifier.edit(ref, item.alert)
            except DeliveryError as exc:
                if exc.retryable:
                    log.warning("editing alert %s failed (%s); will retry", item.alert.id, exc)
                    continue
                log.error("alert %s can no longer be edited: %s", item.alert.id, exc)
            except Exception:
                log.exception("editing alert %s raised; the edit is dropped", item.alert.id)
            else:
                edited += 1
            await self.store.mark_edited(item.alert)
        return edited

    async def _retry_or_fail(self, item: OutboxItem, exc: DeliveryError) -> str:
        attempts = item.attempts + 1
        where = item.alert.channel.key
        delay = self.policy.delay(attempts, exc.retry_after)
        if (
            not exc.retryable
            or (exc.unexpected and attempts >= UNEXPECTED_ATTEMPTS)
            or self.clock() + delay - item.created_at > self.policy.give_up_after
        ):
            log.error(
                "alert %s to %s failed for good after %d attempts: %s", item.alert.id, where, attempts, exc
            )
            await self.store.mark_failed(item.alert.id, str(exc))
            return "failed"
        log.warning(
            "alert %s to %s failed (%s); retry %d in %.0fs", item.alert.id, where, exc, attempts, delay
        )
        await self.store.mark_retry(item.alert.id, str(exc), self.clock() + delay)
        return "retry"

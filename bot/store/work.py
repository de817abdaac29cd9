"""Work that several workers share through one database: claims on feeds and on channels' alerts,
named leases (a Discord shard), and the log of subscription changes every worker follows.

A claim or lease is held by an ``owner`` (one worker: :attr:`bot.app.App.worker`) until a time;
it is renewed by claiming again, released when the work is done or the worker stops, and simply expires
when the worker dies, so another takes the work over. One process alone holds every claim it asks for."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from bot.core.models import FeedState, Subscription

LEASE = 120.0
"""How long a claim lasts unrenewed (``store.lease``): a worker that dies leaves its work after this."""


@dataclass(frozen=True, slots=True)
class SubscriptionChanges:
    """What changed since a worker last looked (:meth:`WorkStore.subscription_changes`)."""

    cursor: int
    """Pass it back next time."""
    ids: frozenset[int]
    """Subscriptions added, removed, paused or resumed: read each again (gone means removed)."""


class WorkStore(Protocol):
    """Every method raises :class:`bot.core.errors.StoreError` on a storage failure and nothing else."""

    async def claim_feeds(self, owner: str, now: float, limit: int, until: float) -> list[FeedState]:
        """Up to ``limit`` unpaused feeds due at ``now`` that no other owner holds, oldest due first,
        held by ``owner`` until ``until``. :meth:`bot.store.feeds.FeedStore.save_feed_state` releases
        a feed (and sets when it is next due), so each is fetched once per interval by one worker."""
        ...

    async def make_feeds_due(self, now: float) -> int:
        """Every unpaused feed due at ``now`` (``run --once`` polls them all); returns how many."""
        ...

    async def next_feed_due(self, owner: str, now: float) -> float | None:
        """When a feed ``owner`` could claim is next due: a feed another owner holds counts from the end
        of its claim, so an idle worker does not spin on work that is taken."""
        ...

    async def claim_channels(
        self, owner: str, now: float, until: float, platforms: Collection[str], limit: int
    ) -> list[str]:
        """Claim, until ``until``, up to ``limit`` channels (keys) with alerts due for ``platforms``
        that no other owner holds, and renew the ones ``owner`` holds; returns every channel key
        ``owner`` holds now. Only the holder sends a channel's alerts, so they stay in order."""
        ...

    async def release_channels(self, owner: str) -> None:
        """Give up ``owner``'s channels (after a delivery pass), so that the next pass of any worker
        may take them: a channel is not tied to one worker."""
        ...

    async def take_lease(self, name: str, owner: str, now: float, until: float) -> bool:
        """Take the lease ``name`` (free, expired, or ``owner``'s already) until ``until``; False when
        another owner holds it."""
        ...

    async def renew(self, owner: str, until: float) -> int:
        """Extend the feeds and channels ``owner`` still holds to ``until`` (a worker's heartbeat, so that
        work longer than a lease is not taken from it); returns how many. Named leases are renewed by
        whoever took them (:meth:`take_lease` again), which knows whether it still wants them."""
        ...

    async def release(self, owner: str) -> None:
        """Give up every claim and lease ``owner`` holds (a worker stopping)."""
        ...

    async def subscription_changes(self, cursor: int | None, now: float) -> SubscriptionChanges:
        """Subscriptions changed after ``cursor`` (None: none, and the current position). Changes of
        the last few seconds are reported again, since transactions of two workers may commit out of
        the order of their sequence numbers: re-reading a subscription is harmless."""
        ...

    async def subscriptions_by_id(self, ids: Collection[int]) -> dict[int, Subscription]:
        """The subscriptions still stored among ``ids``."""
        ...

    async def prune_subscription_changes(self, before: float) -> int:
        """Forget changes logged before ``before`` (a worker that starts reads every subscription)."""
        ...

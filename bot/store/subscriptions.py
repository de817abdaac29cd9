"""The channels' subscriptions: a query each, with how its alerts are sent, and whether it is paused."""

from __future__ import annotations

from typing import Protocol

from bot.core.models import ChannelRef, Mode, Subscription


class SubscriptionStore(Protocol):
    """Subscriptions, and pausing a channel's subscriptions when the bot can no longer post there. Every
    method raises :class:`bot.core.errors.StoreError` on a storage failure and nothing else."""

    async def add_subscription(
        self,
        channel: ChannelRef,
        query: str,
        raw_query: str,
        *,
        created_by: str = "",
        mention: str = "",
        mode: Mode = "instant",
        thread: bool = False,
    ) -> tuple[Subscription, bool]:
        """Add a subscription; returns it and whether it is new (False: the channel already had it)."""
        ...

    async def remove_subscription(self, subscription_id: int) -> bool: ...

    async def set_subscription_paused(self, subscription_id: int, paused: bool) -> bool:
        """Pause one subscription (``/news pause``) or resume it; False when there is no such
        subscription. Independent of :meth:`pause_channel`, which pauses a channel the bot lost."""
        ...

    async def list_subscriptions(self, channel: ChannelRef | None = None) -> list[Subscription]:
        """Subscriptions of one channel (all channels when None), oldest first."""
        ...

    async def subscription_keys(self) -> list[tuple[int, str]]:
        """Every subscription's id and canonical query, lowest id first: all the bot reads at start
        (:meth:`bot.processing.subscriptions.SubscriptionBook.load`); a subscription is read whole
        (``subscriptions_by_id``) when it first matches."""
        ...

    async def pause_channel(self, channel: ChannelRef) -> int:
        """Pause every subscription of a channel the bot can no longer post in; returns how many."""
        ...

    async def resume_channel(self, channel: ChannelRef) -> int: ...

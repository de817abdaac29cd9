"""The channels' subscriptions: a query each, with how its alerts are sent, and whether it is paused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from bot.core.models import ChannelRef, Mode, Subscription


class SubscriptionRow(Protocol):
    """One stored subscription as read, not yet a :class:`Subscription`: the values of
    :data:`bot.store.rows.SUBSCRIPTION_COLUMNS` by position (a plain tuple in SQLite, an ``asyncpg.Record``
    in PostgreSQL; :func:`bot.store.rows.subscription_from_stored` makes one a subscription)."""

    def __getitem__(self, index: int, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


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

    async def subscription_rows(self) -> list[SubscriptionRow]:
        """Every subscription as read, oldest (lowest id) first, not made into subscriptions: the bot
        loads its book from them at start (:meth:`bot.processing.subscriptions.SubscriptionBook.load`)
        and makes a subscription only when one is needed. Raises :class:`bot.core.errors.StoreError`
        like the others."""
        ...

    async def pause_channel(self, channel: ChannelRef) -> int:
        """Pause every subscription of a channel the bot can no longer post in; returns how many."""
        ...

    async def resume_channel(self, channel: ChannelRef) -> int: ...

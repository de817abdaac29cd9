"""A channel's delivery settings: its mute, its digest schedule and its time zone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.core.models import ChannelRef, DigestSchedule


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    muted_until: float = 0.0
    digest: DigestSchedule = "off"
    """off, hourly or daily: every alert of the channel waits for the next digest."""
    timezone: str = "UTC"
    """An IANA zone name (``Europe/Kyiv``): digests keep this clock, and times are shown in it."""


class ChannelStore(Protocol):
    """Per-channel settings the delivery worker honours (pausing a channel's subscriptions is
    :meth:`bot.store.subscriptions.SubscriptionStore.pause_channel`). Every method raises
    :class:`bot.core.errors.StoreError` on a storage failure and nothing else."""

    async def channel_settings(self, channel: ChannelRef) -> ChannelSettings: ...

    async def set_mute(self, channel: ChannelRef, until: float) -> None: ...

    async def end_mute(self, channel: ChannelRef, now: float) -> int:
        """End the channel's mute at ``now`` and make what it held due at once, in one transaction, so
        the held alerts go out together as one digest; returns how many were held. Alerts waiting for a
        retry keep their time."""
        ...

    async def set_digest(self, channel: ChannelRef, schedule: DigestSchedule) -> None: ...

    async def set_timezone(self, channel: ChannelRef, name: str) -> None:
        """Set the channel's time zone to ``name``, a zone name the caller has checked."""
        ...

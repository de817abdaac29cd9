"""The feeds the bot polls: their settings, their fetch state and the channels that added them."""

from __future__ import annotations

from typing import Protocol

from bot.core.models import ChannelRef, FeedState


class FeedStore(Protocol):
    """Feeds, their fetch state (:class:`bot.core.models.FeedState`) and the channels that added each.
    Every method raises :class:`bot.core.errors.StoreError` on a storage failure and nothing else."""

    async def upsert_feed(
        self,
        url: str,
        name: str = "",
        interval: float | None = None,
        *,
        backfill: int = 0,
        max_age: float | None = None,
    ) -> FeedState:
        """Add a feed, or update the settings of a known one (its fetch state is kept)."""
        ...

    async def list_feeds(self) -> list[FeedState]: ...

    async def save_feed_state(self, state: FeedState) -> None: ...

    async def move_feed(self, old_url: str, new_url: str) -> None:
        """A permanent redirect: the feed, its channels and its articles (their GUID ids are scoped to the
        feed's URL) continue under the new URL."""
        ...

    async def remove_feed(self, url: str) -> bool: ...

    async def add_feed_channel(self, url: str, channel: ChannelRef, added_by: str = "") -> None: ...

    async def remove_feed_channel(self, url: str, channel: ChannelRef) -> bool: ...

    async def feed_channels(self, url: str) -> list[ChannelRef]: ...

    async def channel_feeds(self, channel: ChannelRef) -> list[str]:
        """The URLs of the feeds a channel added, oldest first."""
        ...

"""The seam between the core and the chat platforms: a Notifier per platform, in a registry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from bot.core.models import Alert, MessageRef


class Notifier(Protocol):
    platform: str

    async def send(self, alert: Alert, *, retry: bool = False) -> MessageRef:
        """Post an alert. ``retry``: an earlier attempt may have reached the platform (a timeout after
        sending), so a notifier that can tell (a nonce, message metadata) must not post it twice.
        Raises :class:`bot.core.errors.DeliveryError` (``retryable``, ``retry_after``)."""
        ...

    async def edit(self, ref: MessageRef, alert: Alert) -> None:
        """Replace a posted alert (a story gained sources). Raises :class:`bot.core.errors.DeliveryError`."""
        ...


class NotifierRegistry:
    """Notifiers keyed by platform name; the delivery worker looks alerts' platforms up here."""

    def __init__(self) -> None:
        self._notifiers: dict[str, Notifier] = {}

    def register(self, notifier: Notifier) -> None:
        if notifier.platform in self._notifiers:
            raise ValueError(f"a notifier for {notifier.platform!r} is already registered")
        self._notifiers[notifier.platform] = notifier

    def get(self, platform: str) -> Notifier | None:
        return self._notifiers.get(platform)

    def __contains__(self, platform: object) -> bool:
        return platform in self._notifiers

    def __iter__(self) -> Iterator[str]:
        return iter(self._notifiers)

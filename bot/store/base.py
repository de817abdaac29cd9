"""The :class:`Store` protocol: the domain protocols composed, plus :meth:`Store.close`."""

from __future__ import annotations

from typing import Protocol

from bot.store.articles import ArticleStore
from bot.store.channels import ChannelStore
from bot.store.feeds import FeedStore
from bot.store.installations import InstallationStore
from bot.store.outbox import OutboxStore
from bot.store.subscriptions import SubscriptionStore
from bot.store.work import WorkStore


class Store(
    FeedStore,
    SubscriptionStore,
    ArticleStore,
    OutboxStore,
    ChannelStore,
    InstallationStore,
    WorkStore,
    Protocol,
):
    """Everything the bot persists. Every method raises :class:`bot.core.errors.StoreError` on a storage
    failure and nothing else."""

    async def ping(self) -> None:
        """Return when the store answers a trivial query (``/healthz``); raise :class:`StoreError` when
        it cannot (the database is closed, gone or unreachable)."""
        ...

    async def close(self) -> None: ...

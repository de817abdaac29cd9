"""Storage behind one Protocol per domain (``feeds``, ``subscriptions``, ``articles``, ``outbox``,
``channels``, ``installations``), composed into :class:`Store` (``base``). Each backend is a sub-package
implementing them: SQLite (``sqlite/``) is the embedded default, PostgreSQL (``postgres/``) the one several
workers share; :func:`open_store` picks by location. Work the workers share is :mod:`bot.store.work`."""

from bot.store.articles import ArticleStore, Processed, SeenArticle, StoryRow
from bot.store.base import Store
from bot.store.channels import ChannelSettings, ChannelStore
from bot.store.feeds import FeedStore
from bot.store.installations import InstallationStore, InstalledTeam, SavedInstallation
from bot.store.location import open_store
from bot.store.outbox import AlertStatus, ChannelOutbox, OutboxDepth, OutboxItem, OutboxStore
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from bot.store.subscriptions import SubscriptionStore

__all__ = [
    "AlertStatus",
    "ArticleStore",
    "ChannelOutbox",
    "ChannelSettings",
    "ChannelStore",
    "FeedStore",
    "InstallationStore",
    "InstalledTeam",
    "OutboxDepth",
    "OutboxItem",
    "OutboxStore",
    "PostgresStore",
    "Processed",
    "SavedInstallation",
    "SeenArticle",
    "SqliteStore",
    "Store",
    "StoryRow",
    "SubscriptionStore",
    "open_store",
]

"""Storage behind one Protocol. SQLite is the embedded default."""

from bot.store.base import FeedState, OutboxItem, Processed, Store
from bot.store.sqlite import SqliteStore

__all__ = ["FeedState", "OutboxItem", "Processed", "SqliteStore", "Store"]

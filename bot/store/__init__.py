"""Storage behind one Protocol. SQLite is the embedded default."""

from bot.store.base import AlertStatus, OutboxItem, Processed, SeenArticle, Store
from bot.store.sqlite import SqliteStore

__all__ = ["AlertStatus", "OutboxItem", "Processed", "SeenArticle", "SqliteStore", "Store"]

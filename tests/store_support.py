"""Reads of the SQLite store that only tests need, run on the store's own connection: the bot never
asks them, so they are not part of the :class:`bot.store.Store` protocol."""

from __future__ import annotations

from bot.core.models import MessageRef
from bot.store import SqliteStore


async def sent_ref(store: SqliteStore, alert_id: str) -> MessageRef | None:
    """The message a sent alert was posted as; None when it was not sent (yet)."""
    async with store._db.execute(
        "SELECT platform, message_channel, message_id FROM outbox WHERE id=? AND status='sent'",
        (alert_id,),
    ) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    return MessageRef(row["platform"], row["message_channel"], row["message_id"])

"""What tests (and the delivery bench) need around the store: alerts built the way the pipeline builds
them, and reads the bot itself never asks, run through the store's own (locked) connection, so they are
not part of the :class:`bot.store.Store` protocol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from bot.core.models import Alert, ChannelRef, MessageRef
from bot.processing.alerts import alert_id
from bot.store import SqliteStore
from bot.store.base import Store
from bot.store.postgres import PostgresStore

CHAN = ChannelRef("console", "console")


def alert(story: str, channel: ChannelRef = CHAN, *, summary: str = "Summary.") -> Alert:
    """An alert about ``story`` for ``channel``, with the id the pipeline would give it."""
    return Alert(
        id=alert_id(channel, story),
        channel=channel,
        story_id=story,
        title=f"Title of {story}",
        url="https://x.example/" + story,
        source="X",
        summary=summary,
        terms=("Ukraine",),
        queries=("ukraine",),
        published=datetime(2026, 11, 24, 8, tzinfo=UTC),
    )


async def sent_ref(store: Store, alert_id: str) -> MessageRef | None:
    """The message a sent alert was posted as; None when it was not sent (yet)."""
    sql = "SELECT platform, message_channel, message_id FROM outbox WHERE id=? AND status='sent'"
    if isinstance(store, PostgresStore):
        rows: Sequence[Mapping[str, str]] = await store._rows(sql.replace("?", "$1"), alert_id)
    else:
        assert isinstance(store, SqliteStore)
        rows = await store._rows(sql, (alert_id,))
    if not rows:
        return None
    return MessageRef(rows[0]["platform"], rows[0]["message_channel"], rows[0]["message_id"])

"""Stored rows to the store's values, for both backends: a ``sqlite3.Row`` and an ``asyncpg.Record`` are
both read by column name, and both stores keep the same columns (booleans as 0/1 in SQLite)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final, Protocol

from bot.core.models import Article, ChannelRef, FeedState, Subscription
from bot.store.articles import SeenArticle
from bot.store.codec import alert_from_json
from bot.store.installations import SavedInstallation
from bot.store.outbox import OutboxItem


class Row(Protocol):
    def __getitem__(self, key: str, /) -> Any: ...


def feed_from_row(row: Row) -> FeedState:
    return FeedState(
        url=row["url"],
        name=row["name"],
        interval=row["interval"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        body_hash=row["body_hash"],
        next_fetch_at=row["next_fetch_at"],
        failures=row["failures"],
        last_error=row["last_error"],
        last_success_at=row["last_success_at"],
        backfill=row["backfill"],
        max_age=row["max_age"],
        failing_since=row["failing_since"],
        health_stage=row["health_stage"],
        paused=bool(row["paused"]),
    )


def subscription_from_row(row: Row) -> Subscription:
    return Subscription(
        id=int(row["id"]),
        channel=ChannelRef(
            platform=row["platform"], channel_id=row["channel"], workspace_id=row["workspace"]
        ),
        query=row["query"],
        raw_query=row["raw_query"],
        created_by=row["created_by"],
        mention=row["mention"],
        mode=row["mode"],
        paused=bool(row["paused"]),
        thread=bool(row["thread"]),
        user_paused=bool(row["user_paused"]),
    )


SUBSCRIPTION_COLUMNS: Final = (
    "id, platform, channel, workspace, query, raw_query, created_by, mention, mode, paused, thread,"
    " user_paused"
)
"""The columns :func:`subscriptions_from_rows` reads, in its order (``SELECT`` them by name)."""


def subscriptions_from_rows(rows: Iterable[Any]) -> list[Subscription]:
    """Subscriptions from rows of :data:`SUBSCRIPTION_COLUMNS` read by position (a plain tuple, a
    ``sqlite3.Row`` or an ``asyncpg.Record``): the values :func:`subscription_from_row` makes, cheaper for
    many rows. Subscriptions of one channel share its :class:`ChannelRef`."""
    channels: dict[tuple[str, str, str], ChannelRef] = {}
    found: list[Subscription] = []
    for sid, platform, channel, workspace, query, raw, by, mention, mode, paused, thread, user in rows:
        ref = channels.get((platform, channel, workspace))
        if ref is None:
            ref = channels[platform, channel, workspace] = ChannelRef(platform, channel, workspace)
        found.append(
            Subscription(int(sid), ref, query, raw, by, mention, mode, bool(paused), bool(thread), bool(user))
        )
    return found


def seen_from_row(row: Row) -> SeenArticle:
    published = row["published"]
    article = Article(
        id=row["id"],
        title=row["title"],
        text=row["text"],
        url=row["url"],
        source=row["source"],
        feed_url=row["feed_url"],
        published=datetime.fromisoformat(published) if published else None,
    )
    return SeenArticle(
        article, row["story_id"] or row["id"], row["seen_at"], bool(row["quiet"]), row["story_why"]
    )


def item_from_row(row: Row) -> OutboxItem:
    """An outbox row read with its ``payload``, ``attempts`` and ``created_at``."""
    return OutboxItem(alert_from_json(row["payload"]), int(row["attempts"]), row["created_at"])


def installation_from_row(row: Row) -> SavedInstallation:
    return SavedInstallation(
        row["enterprise_id"], row["team_id"], row["user_id"], row["data"], row["installed_at"]
    )

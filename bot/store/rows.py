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


_FIELDS: Final = (
    "id", "channel", "query", "raw_query", "created_by", "mention", "mode", "paused", "thread", "user_paused"
)  # fmt: skip
(
    _SET_ID, _SET_CHANNEL, _SET_QUERY, _SET_RAW, _SET_BY,
    _SET_MENTION, _SET_MODE, _SET_PAUSED, _SET_THREAD, _SET_USER,
) = (getattr(Subscription, name).__set__ for name in _FIELDS)  # fmt: skip
"""The slots' setters of :class:`Subscription`, in the order of its fields."""


def _subscription(
    sid: int, ref: ChannelRef, query: str, raw: str, by: str, mention: str, mode: str, paused: bool,
    thread: bool, user: bool,
) -> Subscription:  # fmt: skip
    """``Subscription(...)`` without the frozen dataclass's ``__init__``, which sets each field through
    ``object.__setattr__``: its slots are set directly, for half the cost when the bot starts with every
    subscription (100k: 0.09 s instead of 0.16 s). ``tests/test_store_rows.py`` checks that every field
    is set, and to the same values."""
    subscription: Subscription = object.__new__(Subscription)
    _SET_ID(subscription, sid)
    _SET_CHANNEL(subscription, ref)
    _SET_QUERY(subscription, query)
    _SET_RAW(subscription, raw)
    _SET_BY(subscription, by)
    _SET_MENTION(subscription, mention)
    _SET_MODE(subscription, mode)
    _SET_PAUSED(subscription, paused)
    _SET_THREAD(subscription, thread)
    _SET_USER(subscription, user)
    return subscription


def subscriptions_from_rows(rows: Iterable[Any]) -> list[Subscription]:
    """Subscriptions from rows of :data:`SUBSCRIPTION_COLUMNS` read by position (a plain tuple, a
    ``sqlite3.Row`` or an ``asyncpg.Record``): the values :func:`subscription_from_row` makes, at a fraction
    of its cost when the bot starts with every subscription. Subscriptions of one channel share its
    :class:`ChannelRef`."""
    channels: dict[tuple[str, str, str], ChannelRef] = {}
    found: list[Subscription] = []
    add = found.append
    for sid, platform, channel, workspace, query, raw, by, mention, mode, paused, thread, user in rows:
        ref = channels.get((platform, channel, workspace))
        if ref is None:
            ref = channels[platform, channel, workspace] = ChannelRef(platform, channel, workspace)
        add(
            _subscription(
                int(sid), ref, query, raw, by, mention, mode, bool(paused), bool(thread), bool(user)
            )
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

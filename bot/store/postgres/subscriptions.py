"""Subscriptions in PostgreSQL (:class:`bot.store.subscriptions.SubscriptionStore`)."""

from __future__ import annotations

import time

from bot.core.errors import StoreError
from bot.core.models import ChannelRef, Mode, Subscription
from bot.store.postgres.base import PostgresBase
from bot.store.rows import SUBSCRIPTION_COLUMNS, subscription_from_row, subscriptions_from_rows


class PostgresSubscriptions(PostgresBase):
    """:class:`bot.store.subscriptions.SubscriptionStore` on the ``subscriptions`` table (whose trigger
    logs every change for the other workers)."""

    async def add_subscription(
        self,
        channel: ChannelRef,
        query: str,
        raw_query: str,
        *,
        created_by: str = "",
        mention: str = "",
        mode: Mode = "instant",
        thread: bool = False,
    ) -> tuple[Subscription, bool]:
        where = (channel.platform, channel.workspace_id, channel.channel_id, query)
        async with self._transaction("adding a subscription") as db:
            added = await db.fetchrow(
                "INSERT INTO subscriptions (platform, workspace, channel, query, raw_query, created_by,"
                " mention, mode, created_at, thread) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                " ON CONFLICT DO NOTHING RETURNING *",
                *where,
                raw_query,
                created_by,
                mention,
                mode,
                time.time(),
                thread,
            )
            if added is not None:
                return subscription_from_row(added), True
            row = await db.fetchrow(
                "SELECT * FROM subscriptions WHERE platform=$1 AND workspace=$2 AND channel=$3 AND query=$4",
                *where,
            )
        if row is None:  # removed between the two statements
            raise StoreError(f"subscription {query!r} was removed while it was being added")
        return subscription_from_row(row), False

    async def remove_subscription(self, subscription_id: int) -> bool:
        return await self._write("DELETE FROM subscriptions WHERE id=$1", subscription_id) > 0

    async def set_subscription_paused(self, subscription_id: int, paused: bool) -> bool:
        sql = "UPDATE subscriptions SET user_paused=$1 WHERE id=$2"
        return await self._write(sql, paused, subscription_id) > 0

    async def list_subscriptions(self, channel: ChannelRef | None = None) -> list[Subscription]:
        sql = f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions"
        if channel is None:
            rows = await self._rows(f"{sql} ORDER BY id")
        else:
            rows = await self._rows(
                f"{sql} WHERE platform=$1 AND workspace=$2 AND channel=$3 ORDER BY id",
                channel.platform,
                channel.workspace_id,
                channel.channel_id,
            )
        return subscriptions_from_rows(rows)

    async def subscription_keys(self) -> list[tuple[int, str]]:
        rows = await self._rows("SELECT id, query FROM subscriptions ORDER BY id")
        return [(int(sid), query) for sid, query in rows]

    async def pause_channel(self, channel: ChannelRef) -> int:
        return await self._set_paused(channel, True)

    async def resume_channel(self, channel: ChannelRef) -> int:
        return await self._set_paused(channel, False)

    async def _set_paused(self, channel: ChannelRef, paused: bool) -> int:
        return await self._write(
            "UPDATE subscriptions SET paused=$1 WHERE platform=$2 AND workspace=$3 AND channel=$4"
            " AND paused<>$1",
            paused,
            channel.platform,
            channel.workspace_id,
            channel.channel_id,
        )

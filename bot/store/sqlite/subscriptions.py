"""Subscriptions in SQLite (:class:`bot.store.subscriptions.SubscriptionStore`)."""

from __future__ import annotations

import time

from bot.core.models import ChannelRef, Mode, Subscription
from bot.store.rows import SUBSCRIPTION_COLUMNS, subscription_from_row, subscriptions_from_rows
from bot.store.sqlite.base import SqliteBase


class SqliteSubscriptions(SqliteBase):
    """:class:`bot.store.subscriptions.SubscriptionStore` on the ``subscriptions`` table."""

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
        added = await self._write(
            "INSERT OR IGNORE INTO subscriptions"
            " (platform, workspace, channel, query, raw_query, created_by, mention, mode, created_at, thread)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                channel.platform,
                channel.workspace_id,
                channel.channel_id,
                query,
                raw_query,
                created_by,
                mention,
                mode,
                time.time(),
                int(thread),
            ),
        )
        rows = await self._rows(
            "SELECT * FROM subscriptions WHERE platform=? AND workspace=? AND channel=? AND query=?",
            (channel.platform, channel.workspace_id, channel.channel_id, query),
        )
        return subscription_from_row(rows[0]), added > 0

    async def remove_subscription(self, subscription_id: int) -> bool:
        return await self._write("DELETE FROM subscriptions WHERE id=?", (subscription_id,)) > 0

    async def set_subscription_paused(self, subscription_id: int, paused: bool) -> bool:
        sql = "UPDATE subscriptions SET user_paused=? WHERE id=?"
        return await self._write(sql, (int(paused), subscription_id)) > 0

    async def list_subscriptions(self, channel: ChannelRef | None = None) -> list[Subscription]:
        sql = f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions"
        if channel is None:
            rows = await self._tuples(f"{sql} ORDER BY id")
        else:
            rows = await self._tuples(
                f"{sql} WHERE platform=? AND workspace=? AND channel=? ORDER BY id",
                (channel.platform, channel.workspace_id, channel.channel_id),
            )
        return subscriptions_from_rows(rows)

    async def subscription_keys(self) -> list[tuple[int, str]]:
        return await self._tuples("SELECT id, query FROM subscriptions ORDER BY id")

    async def pause_channel(self, channel: ChannelRef) -> int:
        return await self._set_paused(channel, True)

    async def resume_channel(self, channel: ChannelRef) -> int:
        return await self._set_paused(channel, False)

    async def _set_paused(self, channel: ChannelRef, paused: bool) -> int:
        return await self._write(
            "UPDATE subscriptions SET paused=? WHERE platform=? AND workspace=? AND channel=? AND paused<>?",
            (int(paused), channel.platform, channel.workspace_id, channel.channel_id, int(paused)),
        )

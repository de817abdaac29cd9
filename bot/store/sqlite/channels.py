"""Channel settings in SQLite (:class:`bot.store.channels.ChannelStore`)."""

from __future__ import annotations

from bot.core.models import ChannelRef, DigestSchedule
from bot.store.channels import ChannelSettings
from bot.store.sqlite.base import SqliteBase


class SqliteChannels(SqliteBase):
    """:class:`bot.store.channels.ChannelStore` on the ``channel_settings`` table."""

    async def channel_settings(self, channel: ChannelRef) -> ChannelSettings:
        rows = await self._rows(
            "SELECT muted_until, digest, timezone FROM channel_settings"
            " WHERE platform=? AND workspace=? AND channel=?",
            (channel.platform, channel.workspace_id, channel.channel_id),
        )
        if not rows:
            return ChannelSettings()
        return ChannelSettings(rows[0]["muted_until"], rows[0]["digest"], rows[0]["timezone"])

    async def set_mute(self, channel: ChannelRef, until: float) -> None:
        await self._write(
            "INSERT INTO channel_settings (platform, workspace, channel, muted_until) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO UPDATE SET muted_until=excluded.muted_until",
            (channel.platform, channel.workspace_id, channel.channel_id, until),
        )

    async def end_mute(self, channel: ChannelRef, now: float) -> int:
        async with self._transaction("ending the mute") as db:
            await db.execute(
                "UPDATE channel_settings SET muted_until=? WHERE platform=? AND workspace=? AND channel=?",
                (now, channel.platform, channel.workspace_id, channel.channel_id),
            )
            async with db.execute(
                "UPDATE outbox SET next_attempt_at=? WHERE channel_key=? AND status='pending'"
                " AND attempts=0 AND next_attempt_at > ?",
                (now, channel.key, now),
            ) as cur:
                return cur.rowcount

    async def set_digest(self, channel: ChannelRef, schedule: DigestSchedule) -> None:
        await self._write(
            "INSERT INTO channel_settings (platform, workspace, channel, digest) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO UPDATE SET digest=excluded.digest",
            (channel.platform, channel.workspace_id, channel.channel_id, schedule),
        )

    async def set_timezone(self, channel: ChannelRef, name: str) -> None:
        await self._write(
            "INSERT INTO channel_settings (platform, workspace, channel, timezone) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO UPDATE SET timezone=excluded.timezone",
            (channel.platform, channel.workspace_id, channel.channel_id, name),
        )

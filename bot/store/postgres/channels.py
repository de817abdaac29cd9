"""Channel settings in PostgreSQL (:class:`bot.store.channels.ChannelStore`)."""

from __future__ import annotations

from bot.core.models import ChannelRef, DigestSchedule
from bot.store.channels import ChannelSettings
from bot.store.postgres.base import PostgresBase, changed_rows


class PostgresChannels(PostgresBase):
    """:class:`bot.store.channels.ChannelStore` on the ``channel_settings`` table."""

    async def channel_settings(self, channel: ChannelRef) -> ChannelSettings:
        rows = await self._rows(
            "SELECT muted_until, digest, timezone FROM channel_settings"
            " WHERE platform=$1 AND workspace=$2 AND channel=$3",
            channel.platform,
            channel.workspace_id,
            channel.channel_id,
        )
        if not rows:
            return ChannelSettings()
        return ChannelSettings(rows[0]["muted_until"], rows[0]["digest"], rows[0]["timezone"])

    async def set_mute(self, channel: ChannelRef, until: float) -> None:
        await self._set(channel, "muted_until", until)

    async def end_mute(self, channel: ChannelRef, now: float) -> int:
        async with self._transaction("ending the mute") as db:
            await db.execute(
                "UPDATE channel_settings SET muted_until=$1"
                " WHERE platform=$2 AND workspace=$3 AND channel=$4",
                now,
                channel.platform,
                channel.workspace_id,
                channel.channel_id,
            )
            status = await db.execute(
                "UPDATE outbox SET next_attempt_at=$1 WHERE channel_key=$2 AND status='pending'"
                " AND attempts=0 AND next_attempt_at > $1",
                now,
                channel.key,
            )
        return changed_rows(status)

    async def set_digest(self, channel: ChannelRef, schedule: DigestSchedule) -> None:
        await self._set(channel, "digest", schedule)

    async def set_timezone(self, channel: ChannelRef, name: str) -> None:
        await self._set(channel, "timezone", name)

    async def _set(self, channel: ChannelRef, column: str, value: object) -> None:
        """One setting; ``column`` is one of this class's own names, never input."""
        await self._write(
            f"INSERT INTO channel_settings (platform, workspace, channel, {column}) VALUES ($1, $2, $3, $4)"
            f" ON CONFLICT (platform, workspace, channel) DO UPDATE SET {column}=excluded.{column}",
            channel.platform,
            channel.workspace_id,
            channel.channel_id,
            value,
        )

"""Slack installations in PostgreSQL (:class:`bot.store.installations.InstallationStore`)."""

from __future__ import annotations

from bot.store.installations import InstalledTeam, SavedInstallation
from bot.store.postgres.base import PostgresBase
from bot.store.rows import installation_from_row


class PostgresInstallations(PostgresBase):
    """:class:`bot.store.installations.InstallationStore` on the ``slack_installations`` table."""

    async def save_installation(self, installation: SavedInstallation) -> None:
        await self._write(
            "INSERT INTO slack_installations (enterprise_id, team_id, user_id, data, installed_at)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (enterprise_id, team_id, user_id) DO UPDATE"
            " SET data=excluded.data, installed_at=excluded.installed_at",
            installation.enterprise_id,
            installation.team_id,
            installation.user_id,
            installation.data,
            installation.installed_at,
        )

    async def find_installation(
        self, enterprise_id: str | None, team_id: str, *, user_id: str | None = None
    ) -> SavedInstallation | None:
        rows = await self._rows(
            f"SELECT * FROM slack_installations WHERE {MATCHING} ORDER BY installed_at DESC LIMIT 1",
            team_id,
            enterprise_id,
            user_id,
        )
        return installation_from_row(rows[0]) if rows else None

    async def delete_installations(
        self, enterprise_id: str | None, team_id: str, *, user_id: str | None = None
    ) -> int:
        return await self._write(
            f"DELETE FROM slack_installations WHERE {MATCHING}", team_id, enterprise_id, user_id
        )

    async def installed_teams(self) -> list[InstalledTeam]:
        rows = await self._rows(
            "SELECT enterprise_id, team_id, max(installed_at) AS latest FROM slack_installations"
            " GROUP BY enterprise_id, team_id ORDER BY latest, enterprise_id, team_id"
        )
        return [InstalledTeam(r["enterprise_id"], r["team_id"], r["latest"]) for r in rows]


MATCHING = "team_id=$1 AND ($2::text IS NULL OR enterprise_id=$2) AND ($3::text IS NULL OR user_id=$3)"
"""A team's installations; of one enterprise and one installing user when those are given."""

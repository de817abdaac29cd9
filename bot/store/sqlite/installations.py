"""Slack installations in SQLite (:class:`bot.store.installations.InstallationStore`)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.installations import InstalledTeam, SavedInstallation
from bot.store.rows import installation_from_row
from bot.store.sqlite.base import SqliteBase


class SqliteInstallations(SqliteBase):
    """:class:`bot.store.installations.InstallationStore` on the ``slack_installations`` table."""

    async def save_installation(self, installation: SavedInstallation) -> None:
        await self._write(
            "INSERT INTO slack_installations (enterprise_id, team_id, user_id, data, installed_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE"
            " SET data=excluded.data, installed_at=excluded.installed_at",
            (
                installation.enterprise_id,
                installation.team_id,
                installation.user_id,
                installation.data,
                installation.installed_at,
            ),
        )

    async def find_installation(
        self, enterprise_id: str | None, team_id: str, *, user_id: str | None = None
    ) -> SavedInstallation | None:
        where, params = _matching(enterprise_id, team_id, user_id)
        rows = await self._rows(
            f"SELECT * FROM slack_installations WHERE {where} ORDER BY installed_at DESC LIMIT 1", params
        )
        return installation_from_row(rows[0]) if rows else None

    async def delete_installations(
        self, enterprise_id: str | None, team_id: str, *, user_id: str | None = None
    ) -> int:
        where, params = _matching(enterprise_id, team_id, user_id)
        return await self._write(f"DELETE FROM slack_installations WHERE {where}", params)

    async def installed_teams(self) -> list[InstalledTeam]:
        rows = await self._rows(
            "SELECT enterprise_id, team_id, MAX(installed_at) AS latest FROM slack_installations"
            " GROUP BY enterprise_id, team_id ORDER BY latest, enterprise_id, team_id"
        )
        return [InstalledTeam(r["enterprise_id"], r["team_id"], r["latest"]) for r in rows]


def _matching(enterprise_id: str | None, team_id: str, user_id: str | None) -> tuple[str, Sequence[str]]:
    clauses, params = ["team_id=?"], [team_id]
    if enterprise_id is not None:
        clauses.append("enterprise_id=?")
        params.append(enterprise_id)
    if user_id is not None:
        clauses.append("user_id=?")
        params.append(user_id)
    return " AND ".join(clauses), params

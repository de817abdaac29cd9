"""A chat app's installations, one per workspace that installed it (Slack's OAuth flow): what the
platform handed over at install time, kept as the platform's own JSON, so one deployment serves every
workspace and every worker sharing the database finds the same tokens.

The JSON holds secrets (bot and user tokens): a store keeps it as given and never logs it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SavedInstallation:
    """One installation. ``""`` stands for an id the platform did not give (no enterprise; an
    enterprise-wide install has no team)."""

    enterprise_id: str
    team_id: str
    user_id: str
    """Who installed it (their user token, if any, is in ``data``)."""
    data: str
    """The platform's installation as JSON text; opaque to the store. Secret."""
    installed_at: float
    """Seconds since the epoch."""

    def __repr__(self) -> str:  # never the tokens, wherever the record ends up printed
        return (
            f"SavedInstallation(enterprise_id={self.enterprise_id!r}, team_id={self.team_id!r}, "
            f"user_id={self.user_id!r}, installed_at={self.installed_at!r})"
        )


@dataclass(frozen=True, slots=True)
class InstalledTeam:
    enterprise_id: str
    team_id: str
    installed_at: float
    """When the team's latest installation was saved."""


class InstallationStore(Protocol):
    """Installations keyed by (enterprise, team, installing user). Every method raises
    :class:`bot.core.errors.StoreError` on a storage failure and nothing else."""

    async def save_installation(self, installation: SavedInstallation) -> None:
        """Save it, replacing the one of the same (enterprise, team, user): a re-install updates."""
        ...

    async def find_installation(
        self, enterprise_id: str | None, team_id: str, *, user_id: str | None = None
    ) -> SavedInstallation | None:
        """The latest installation of the team (``user_id`` None), or the one ``user_id`` made; None
        when there is none. ``enterprise_id`` None matches any enterprise (a channel knows its team
        only)."""
        ...

    async def delete_installations(
        self, enterprise_id: str | None, team_id: str, *, user_id: str | None = None
    ) -> int:
        """Delete every installation of the team (the app was uninstalled), or only those ``user_id``
        made (their token was revoked); returns how many. ``enterprise_id`` None matches any."""
        ...

    async def installed_teams(self) -> list[InstalledTeam]:
        """Every team with an installation, the most recently installed last."""
        ...

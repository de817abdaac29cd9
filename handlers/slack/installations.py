"""slack_sdk's installation store on the bot's database: bolt saves each workspace's installation here
at the end of the OAuth flow and finds it again to authorise every request by its team, in whichever
worker of a fleet the request reaches, since they all share the database.

Installations are kept as slack_sdk's own JSON (``Installation.__dict__``, as its file store keeps them)
through :class:`bot.store.installations.InstallationStore`. The bot token a workspace was installed with
is also what the notifier posts its alerts with (:meth:`DatabaseInstallations.bot_token`, cached
briefly). A bot token given in the environment (single-workspace mode, kept alongside OAuth) serves its
own workspace: :attr:`DatabaseInstallations.fallback`.

Tokens are secrets: nothing here logs an installation, only its team."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt.error import BoltError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

from bot.core.errors import StoreError
from bot.store.installations import InstallationStore, SavedInstallation

log = logging.getLogger(__name__)

TOKEN_TTL = 60.0
"""Seconds a workspace's bot token is reused from memory before the database is asked again: a
re-install reaches every worker within this."""


class DatabaseInstallations(AsyncInstallationStore):
    def __init__(
        self, store: InstallationStore, *, ttl: float = TOKEN_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.fallback: Installation | None = None
        """The installation of the environment's bot token, for its own workspace (auth.test at start)."""
        self._ttl = ttl
        self._clock = clock
        self._tokens: dict[str, tuple[str, float]] = {}

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        """Raises :class:`BoltError` (bolt then shows the installer its failure page) when the database
        cannot keep it."""
        team = "" if installation.is_enterprise_install else installation.team_id or ""
        saved = SavedInstallation(
            enterprise_id=installation.enterprise_id or "",
            team_id=team,
            user_id=installation.user_id or "",
            data=json.dumps(installation.__dict__),
            installed_at=float(installation.installed_at),
        )
        try:
            await self.store.save_installation(saved)
        except StoreError as exc:
            log.error("slack: could not save the installation of %s: %s", team or saved.enterprise_id, exc)
            raise BoltError(f"the installation could not be saved: {exc}") from exc
        self.forget(team)
        log.info(
            "slack: installed in %s (%s)%s",
            team or saved.enterprise_id,
            installation.team_name or installation.enterprise_name or "?",
            f" of enterprise {saved.enterprise_id}" if saved.enterprise_id and team else "",
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        team = "" if is_enterprise_install else team_id or ""
        if self.fallback is not None and team and team == self.fallback.team_id and user_id is None:
            return self.fallback
        try:
            found = await self.store.find_installation(enterprise_id or "", team, user_id=user_id)
        except StoreError as exc:
            log.warning("slack: could not read the installation of %s: %s", team or enterprise_id, exc)
            return None
        return _installation(found) if found is not None else None

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        installation = await self.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        return installation.to_bot() if installation is not None and installation.bot_token else None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Raises :class:`StoreError`."""
        team = team_id or ""
        deleted = await self.store.delete_installations(enterprise_id or "", team, user_id=user_id)
        self.forget(team)
        if deleted:
            log.info("slack: deleted %d installation(s) of %s", deleted, team or enterprise_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    async def bot_token(self, team_id: str) -> str:
        """The bot token to post in ``team_id`` with, or "" when the app is not installed there.
        Raises :class:`StoreError`."""
        if self.fallback is not None and team_id == self.fallback.team_id:
            return self.fallback.bot_token or ""
        cached = self._tokens.get(team_id)
        if cached is not None and cached[1] > self._clock():
            return cached[0]
        found = await self.store.find_installation(None, team_id)
        token = str(_fields(found).get("bot_token") or "") if found is not None else ""
        if token:  # an installation missing now is looked for again at the next send
            self._tokens[team_id] = (token, self._clock() + self._ttl)
        return token

    def forget(self, team_id: str) -> None:
        """Drop the team's token from memory: the next send reads the database again."""
        self._tokens.pop(team_id, None)


def _fields(saved: SavedInstallation) -> dict[str, Any]:
    data = json.loads(saved.data)
    return data if isinstance(data, dict) else {}


def _installation(saved: SavedInstallation) -> Installation:
    return Installation(**_fields(saved))

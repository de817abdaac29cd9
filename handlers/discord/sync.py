"""Registering the /news commands with Discord (a sync), retried until Discord takes them.

A refused sync costs the commands, not the alerts: alerts go out over REST with the bot token whatever
the commands' state, so the adapter starts anyway and :meth:`CommandSync.retry` tries again with a
growing wait (:data:`SYNC_RETRY`). The reason is logged once, with Discord's status and message (a
Discord-compatible server that does not know a field of the payload says so here); the same reason
again is logged at debug level, a different one is logged again.

Retried: Discord's error answers (:class:`discord.HTTPException`, which includes the 400 of a payload
Discord refuses, 401/403 and 5xx), its rate limits (:class:`discord.RateLimited`, waited out as Discord
asks) and the network (:class:`aiohttp.ClientError`, :class:`OSError`, :class:`TimeoutError`).
Anything else is a bug of ours: logged with its traceback, and the sync is given up until a restart.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord
from discord import app_commands

from bot.core.backoff import Backoff

log = logging.getLogger(__name__)

SYNC_RETRY = Backoff(base=30.0, cap=1800.0)
"""The wait before each new try of a refused sync: 30 s, doubling, at most 30 minutes."""
RETRIED = (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, OSError, TimeoutError)


def failure_reason(exc: BaseException) -> str:
    """What Discord said, on one line: its HTTP status and error code and message (with the fields it
    refused, for a payload it would not take)."""
    if isinstance(exc, discord.HTTPException):
        status = f"HTTP {exc.status} {exc.response.reason or ''}".rstrip()
        code = f", code {exc.code}" if exc.code else ""
        text = "; ".join(line.strip() for line in (exc.text or "").splitlines() if line.strip())
        return f"{status}{code}: {text}" if text else status + code
    if isinstance(exc, discord.RateLimited):
        return f"rate limited for {exc.retry_after:.0f}s"
    return f"{type(exc).__name__}: {exc}"


class CommandSync:
    """Syncs the tree to each development guild (instant), or globally when there are none."""

    def __init__(self, tree: app_commands.CommandTree[discord.Client], guild_ids: tuple[str, ...]) -> None:
        self.tree = tree
        self.pending: list[str | None] = list(guild_ids) or [None]
        """What is still to sync: guild ids, or None for the global commands."""
        self.failures = 0
        self._logged = ""
        self._retry_after = 0.0

    @property
    def done(self) -> bool:
        return not self.pending

    async def attempt(self) -> bool:
        """Sync what is pending; True when all of it is synced. Raises only what is not retried."""
        while self.pending:
            target = self.pending[0]
            try:
                synced = await self._sync(target)
            except RETRIED as exc:
                self._failed(target, exc)
                return False
            self.pending.pop(0)
            where = "globally (they may take a while to appear)" if target is None else f"to guild {target}"
            after = f", after {self.failures} failed tries" if self.failures else ""
            log.info("discord: synced %d commands %s%s", synced, where, after)
        return True

    async def _sync(self, target: str | None) -> int:
        if target is None:
            return len(await self.tree.sync())
        guild = discord.Object(id=int(target))
        self.tree.copy_global_to(guild=guild)
        return len(await self.tree.sync(guild=guild))

    def _failed(self, target: str | None, exc: BaseException) -> None:
        self.failures += 1
        self._retry_after = exc.retry_after if isinstance(exc, discord.RateLimited) else 0.0
        reason = failure_reason(exc)
        where = "globally" if target is None else f"to guild {target}"
        if reason != self._logged:
            self._logged = reason
            log.warning(
                "discord: could not sync the /news commands %s: %s. Alerts go out as usual; "
                "the commands are tried again later",
                where,
                reason,
            )
        else:
            log.debug("discord: the /news commands still do not sync (try %d): %s", self.failures, reason)

    async def retry(self) -> None:
        """Try again after each growing wait until everything is synced (a background task)."""
        while self.pending:
            wait = max(SYNC_RETRY.delay(self.failures), self._retry_after)
            await asyncio.sleep(wait)
            try:
                await self.attempt()
            except Exception:
                log.exception("discord: syncing the /news commands failed; not trying again until a restart")
                return

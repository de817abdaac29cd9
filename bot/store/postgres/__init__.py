"""The PostgreSQL store, for several workers sharing one database: the same :class:`bot.store.base.Store`
as SQLite, on a pool of asyncpg connections. One mixin per domain over the pool of ``base``;
:class:`PostgresStore` composes them and opens, migrates and closes the database. Its migrations are its
own (``migrations/`` here), numbered like SQLite's, and applied under an advisory lock so that workers
starting together migrate once."""

from __future__ import annotations

import logging
from importlib import resources

import asyncpg

from bot.core.errors import StoreError, StoreOpenError
from bot.store.postgres.articles import PostgresArticles
from bot.store.postgres.base import DRIVER_ERRORS
from bot.store.postgres.channels import PostgresChannels
from bot.store.postgres.feeds import PostgresFeeds
from bot.store.postgres.installations import PostgresInstallations
from bot.store.postgres.outbox import PostgresOutbox
from bot.store.postgres.subscriptions import PostgresSubscriptions
from bot.store.postgres.work import PostgresWork

__all__ = ["PostgresStore", "migrations", "redact"]

log = logging.getLogger(__name__)

MIGRATION_LOCK = 0x6E657773626F74  # "newsbot": the advisory lock held while migrating
POOL_SIZE = 10


def migrations() -> list[tuple[int, str]]:
    """Numbered ``NNN_name.sql`` files shipped with the package, in order."""
    folder = resources.files("bot.store.postgres") / "migrations"
    found = [
        (int(entry.name[:3]), entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql") and entry.name[:3].isdigit()
    ]
    return sorted(found)


def redact(url: str) -> str:
    """The URL without its password, for logs and errors."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """What the pool runs on a connection given back, after rolling back any transaction left open.
    asyncpg's default is a reset query (advisory locks, cursors, LISTEN, settings): one more round trip
    for every statement run outside a transaction, which bench/store_drivers.py measured halving a
    one-row read. The store keeps no such session state (its one advisory lock is transaction-scoped)."""


class PostgresStore(
    PostgresFeeds,
    PostgresSubscriptions,
    PostgresArticles,
    PostgresOutbox,
    PostgresChannels,
    PostgresInstallations,
    PostgresWork,
):
    """The shared :class:`bot.store.base.Store`: each domain's tables in its mixin; opening, migrating and
    closing here."""

    @classmethod
    async def open(cls, url: str, *, pool_size: int = POOL_SIZE) -> PostgresStore:
        """Connect and migrate. Raises :class:`StoreOpenError` naming the server (never the password)."""
        try:
            pool = await asyncpg.create_pool(
                url, min_size=1, max_size=pool_size, command_timeout=60, reset=_nothing_to_reset
            )
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, ValueError) as exc:
            raise StoreOpenError(f"cannot connect to the database at {redact(url)}: {exc}") from exc
        store = cls(pool, url)
        try:
            await store._migrate()
        except BaseException:
            await pool.close()
            raise
        return store

    async def _migrate(self) -> None:
        known = migrations()
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
                await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                current = await conn.fetchval("SELECT max(version) FROM schema_version") or 0
                if current > known[-1][0]:
                    raise StoreOpenError(
                        f"the database at {redact(self.url)} has schema {current}, from a newer newsbot; "
                        f"this one knows up to {known[-1][0]}: upgrade newsbot"
                    )
                for number, sql in known:
                    if number <= current:
                        continue
                    log.info("applying database migration %03d", number)
                    await conn.execute(sql)
                    await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", number)
        except DRIVER_ERRORS as exc:
            raise StoreOpenError(f"migrating the database at {redact(self.url)} failed: {exc}") from exc

    async def schema_version(self) -> int:
        rows = await self._rows("SELECT max(version) AS v FROM schema_version")
        return int(rows[0]["v"] or 0)

    async def close(self) -> None:
        try:
            await self._pool.close()
        except DRIVER_ERRORS as exc:
            raise StoreError(f"closing the database failed: {exc}") from exc

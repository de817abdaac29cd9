"""The embedded store: one SQLite file in WAL mode, reached through aiosqlite's worker thread so the
event loop never waits on the disk. One mixin per domain (``feeds``, ``subscriptions``, ``articles``,
``outbox``, ``channels``) over the connection of ``base``; :class:`SqliteStore` composes them and opens,
migrates and closes the database. The migrations are in ``bot/store/migrations/``; the SQL functions of
:data:`SQL_FUNCTIONS` are there for them to call."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import aiosqlite

from bot.core.errors import StoreError, StoreOpenError
from bot.core.identity import canonical_url, feed_scoped_id, is_web_url, pushed_id
from bot.store.sqlite.articles import SqliteArticles
from bot.store.sqlite.channels import SqliteChannels
from bot.store.sqlite.feeds import SqliteFeeds
from bot.store.sqlite.outbox import SqliteOutbox
from bot.store.sqlite.subscriptions import SqliteSubscriptions
from bot.store.sqlite.work import SqliteWork

__all__ = ["SQL_FUNCTIONS", "SqliteStore", "migrations"]

log = logging.getLogger(__name__)


SQL_FUNCTIONS: dict[str, tuple[int, Callable[..., object]]] = {
    "newsbot_canonical_url": (1, canonical_url),
    "newsbot_is_web_url": (1, is_web_url),
    "newsbot_feed_scoped_id": (2, feed_scoped_id),
    "newsbot_pushed_id": (1, pushed_id),
}
"""Python functions a migration may call by name (name: number of arguments, function), registered on
every connection before migrating: a migration that turns stored values into what the code now makes
calls the code itself instead of a copy of it in SQL."""


def migrations() -> list[tuple[int, str]]:
    """Numbered ``NNN_name.sql`` files shipped with the package, in order."""
    folder = resources.files("bot.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class SqliteStore(SqliteFeeds, SqliteSubscriptions, SqliteArticles, SqliteOutbox, SqliteChannels, SqliteWork):
    """The embedded :class:`bot.store.base.Store`: each domain's tables in its mixin; opening,
    migrating and closing here."""

    @classmethod
    async def open(cls, path: str | Path) -> SqliteStore:
        """Open (creating it and its folder if needed) and migrate. ``":memory:"`` is allowed."""
        path = str(path)
        conn: aiosqlite.Connection | None = None
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = await aiosqlite.connect(path)
            conn.row_factory = sqlite3.Row
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
            for name, (arity, function) in SQL_FUNCTIONS.items():
                await conn.create_function(name, arity, function, deterministic=True)
            store = cls(conn, path)
            await store._migrate()
        except (sqlite3.Error, OSError, StoreOpenError) as exc:
            if conn is not None:  # its thread would keep the process from ever exiting
                with contextlib.suppress(sqlite3.Error):
                    await conn.close()
            if isinstance(exc, StoreOpenError):
                raise
            raise StoreOpenError(f"cannot open the database at {path}: {exc}") from exc
        return store

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        current = int(row[0]) if row else 0
        known = migrations()
        if current > known[-1][0]:
            raise StoreOpenError(
                f"the database at {self.path} has schema {current}, from a newer newsbot; this one knows "
                f"up to {known[-1][0]}: upgrade newsbot or point store.path at another file"
            )
        for number, sql in known:
            if number <= current:
                continue
            log.info("applying database migration %03d", number)
            await self._db.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")

    async def close(self) -> None:
        try:
            await self._db.close()
        except sqlite3.Error as exc:
            raise StoreError(f"closing the database failed: {exc}") from exc

"""What every part of the SQLite store shares: the connection, one lock around it, and reads, writes
and transactions that turn sqlite3 errors into :class:`StoreError`.

The bot's tasks (the run loop, a push, a chat command) share the one connection. Without the lock, one
task's write could land inside another's open transaction and be committed with half of it, or a
``BEGIN`` could meet a transaction another task has open ("cannot start a transaction within a
transaction", a 503 to a pusher). Every statement therefore runs under the lock, and a transaction holds
it from ``BEGIN`` to ``COMMIT``."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite

from bot.core.errors import StoreError


class SqliteBase:
    """The connection every domain mixin works on; :class:`bot.store.sqlite.SqliteStore` opens it."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._db = conn
        self.path = path
        self._lock = asyncio.Lock()

    async def ping(self) -> None:
        await self._rows("SELECT 1")

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            async with self._lock, self._db.execute(sql, params) as cur:
                return list(await cur.fetchall())
        except sqlite3.Error as exc:
            raise StoreError(f"database read failed: {exc}") from exc
        except ValueError as exc:  # aiosqlite's answer once the connection is closed
            raise StoreError(f"the database is not open: {exc}") from exc

    async def _tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Like :meth:`_rows`, as plain tuples (read by position: cheaper by the hundred thousand)."""
        try:
            async with self._lock, self._db.execute(sql, params) as cur:
                cur.row_factory = None
                return list(await cur.fetchall())  # type: ignore[arg-type]
        except sqlite3.Error as exc:
            raise StoreError(f"database read failed: {exc}") from exc
        except ValueError as exc:  # aiosqlite's answer once the connection is closed
            raise StoreError(f"the database is not open: {exc}") from exc

    async def _write(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._transaction("database write") as db, db.execute(sql, params) as cur:
            return cur.rowcount

    @asynccontextmanager
    async def _transaction(self, what: str) -> AsyncIterator[aiosqlite.Connection]:
        """The connection, for statements that commit together or not at all (nor half, if the task is
        cancelled). Raises :class:`StoreError` naming ``what``."""
        async with self._lock:
            try:
                await self._db.execute("BEGIN")
            except ValueError as exc:  # aiosqlite's answer once the connection is closed
                raise StoreError(f"{what} failed: the database is not open: {exc}") from exc
            except sqlite3.Error as exc:
                await self._db.rollback()
                raise StoreError(f"{what} failed: {exc}") from exc
            try:
                yield self._db
                await self._db.commit()
            except sqlite3.Error as exc:
                await self._db.rollback()
                raise StoreError(f"{what} failed: {exc}") from exc
            except BaseException:
                await self._db.rollback()
                raise

"""What every part of the SQLite store shares: the connection, and reads and writes that turn
sqlite3 errors into :class:`StoreError`."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite

from bot.core.errors import StoreError


class SqliteBase:
    """The connection every domain mixin works on; :class:`bot.store.sqlite.SqliteStore` opens it."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._db = conn
        self.path = path

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            async with self._db.execute(sql, params) as cur:
                return list(await cur.fetchall())
        except sqlite3.Error as exc:
            raise StoreError(f"database read failed: {exc}") from exc

    async def _write(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            async with self._db.execute(sql, params) as cur:
                count = cur.rowcount
            await self._db.commit()
            return count
        except sqlite3.Error as exc:
            raise StoreError(f"database write failed: {exc}") from exc

"""What every part of the PostgreSQL store shares: a pool of asyncpg connections, and reads, writes and
transactions that turn the driver's errors (and a lost server) into :class:`StoreError`.

Unlike SQLite's single connection, the pool lets the bot's tasks (the run loop, a push, a command) and
several workers on other machines run at once; what must not interleave runs in one transaction, and
what workers compete for is claimed with row locks (``FOR UPDATE SKIP LOCKED``) or ``ON CONFLICT``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg

from bot.core.errors import StoreError

if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.pool.PoolConnectionProxy[asyncpg.Record]
    """A connection borrowed from the pool."""

DRIVER_ERRORS: tuple[type[BaseException], ...] = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)
"""What the driver raises when a statement, the connection or the server fails."""


class PostgresBase:
    """The pool every domain mixin works on; :class:`bot.store.postgres.PostgresStore` opens it."""

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self.url = url

    async def ping(self) -> None:
        await self._rows("SELECT 1")

    async def _rows(self, sql: str, *params: Any) -> list[asyncpg.Record]:
        try:
            return list(await self._pool.fetch(sql, *params))
        except DRIVER_ERRORS as exc:
            raise StoreError(f"database read failed: {exc}") from exc

    async def _write(self, sql: str, *params: Any) -> int:
        """Runs one statement; returns how many rows it changed."""
        try:
            status = await self._pool.execute(sql, *params)
        except DRIVER_ERRORS as exc:
            raise StoreError(f"database write failed: {exc}") from exc
        return changed_rows(status)

    async def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        try:
            await self._pool.executemany(sql, rows)
        except DRIVER_ERRORS as exc:
            raise StoreError(f"database write failed: {exc}") from exc

    @asynccontextmanager
    async def _transaction(self, what: str) -> AsyncIterator[Connection]:
        """A connection in a transaction that commits when the block ends (rolled back on an error or a
        cancellation). Raises :class:`StoreError` naming ``what``."""
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                yield conn
        except DRIVER_ERRORS as exc:
            raise StoreError(f"{what} failed: {exc}") from exc


def changed_rows(status: str) -> int:
    """Rows changed, from a command tag such as ``UPDATE 3`` or ``INSERT 0 1``."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0

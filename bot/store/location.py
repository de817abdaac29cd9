"""Which store a location names: a ``postgresql://`` URL opens :class:`PostgresStore`, anything else is
a SQLite file. The schemes are a table, not a ladder: a backend registers its own."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Awaitable, Callable

from bot.store.base import Store
from bot.store.postgres import PostgresStore, redact
from bot.store.sqlite import SqliteStore

Opener = Callable[[str], Awaitable[Store]]

SCHEMES: dict[str, Opener] = {
    "postgresql": PostgresStore.open,
    "postgres": PostgresStore.open,
}


def scheme(location: str) -> str:
    """``postgresql`` for a URL of a registered scheme, ``sqlite`` for a path."""
    name, sep, _ = location.partition("://")
    return name if sep and name in SCHEMES else "sqlite"


async def open_store(location: str) -> Store:
    """Open and migrate the store at ``location``. Raises :class:`bot.core.errors.StoreOpenError`."""
    return await SCHEMES.get(scheme(location), SqliteStore.open)(location)


def describe(location: str) -> str:
    """The location for a log line: a URL without its password."""
    return redact(location) if scheme(location) != "sqlite" else location


def worker_name(location: str) -> str:
    """Who this process is when it claims work. One process owns a SQLite file, and the same name after a
    restart takes its own unfinished claims back at once; workers sharing PostgreSQL each have their own."""
    if scheme(location) == "sqlite":
        return "local"
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"

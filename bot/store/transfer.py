"""Moving a store: ``newsbot store copy`` (a SQLite installation into PostgreSQL) and ``newsbot store
backup`` (a consistent copy of either). Both leave the source untouched and can be run again: a copy
inserts only what the target lacks, so a second run after new activity brings the rest over."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from bot.core.errors import StoreError
from bot.store.location import scheme
from bot.store.postgres import PostgresStore, redact
from bot.store.sqlite import SqliteStore

COPIED: tuple[tuple[str, str], ...] = (
    ("feeds", ""),
    ("feed_channels", ""),
    ("subscriptions", ""),
    ("channel_settings", ""),
    ("articles", "rowid AS seq"),
    ("story_keys", ""),
    ("outbox", "rowid AS seq"),
    ("slack_installations", ""),
)
"""The tables a copy carries, in an order that keeps references whole, and the SQLite row order a table
keeps in PostgreSQL as ``seq`` (the outbox's queue order, the articles' order seen). Claims, leases and
the subscription change log belong to running workers and stay behind."""
SERIALS = (("subscriptions", "id"), ("articles", "seq"), ("outbox", "seq"))
BATCH = 1000


@dataclass(frozen=True, slots=True)
class CopyReport:
    table: str
    read: int
    added: int


async def copy_sqlite_to_postgres(sqlite_path: str, url: str) -> list[CopyReport]:
    """Copy every row of the SQLite store at ``sqlite_path`` that PostgreSQL at ``url`` lacks; returns
    what each table gave. Both are migrated first. Raises :class:`StoreError` (or its
    :class:`bot.core.errors.StoreOpenError`)."""
    if not await asyncio.to_thread(Path(sqlite_path).exists):  # opening would make an empty one
        raise StoreError(f"there is no SQLite store at {sqlite_path}")
    source = await SqliteStore.open(sqlite_path)  # brought to the current schema, as the code reads it
    await source.close()
    target = await PostgresStore.open(url)
    reports = []
    try:
        with sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True) as db:
            db.row_factory = sqlite3.Row
            for table, order in COPIED:
                reports.append(await _copy_table(db, target, table, order))
        for table, column in SERIALS:
            await target._write(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                f" greatest((SELECT max({column}) FROM {table}), 1))"
            )
    except sqlite3.Error as exc:
        raise StoreError(f"reading {sqlite_path} failed: {exc}") from exc
    finally:
        await target.close()
    return reports


async def _copy_table(db: sqlite3.Connection, target: PostgresStore, table: str, order: str) -> CopyReport:
    types = {
        r["column_name"]: r["data_type"]
        for r in await target._rows(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name=$1", table
        )
    }
    extra = f", {order}" if order else ""
    cursor = db.execute(f"SELECT *{extra} FROM {table}")
    columns = [c[0] for c in cursor.description if c[0] in types]
    flags = {c for c in columns if types[c] == "boolean"}
    marks = ", ".join(f"${i + 1}" for i in range(len(columns)))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING"
    before = await _count(target, table)
    read = 0
    while rows := cursor.fetchmany(BATCH):
        read += len(rows)
        await target._many(sql, [tuple(bool(r[c]) if c in flags else r[c] for c in columns) for r in rows])
    return CopyReport(table, read, await _count(target, table) - before)


async def _count(target: PostgresStore, table: str) -> int:
    return int((await target._rows(f"SELECT count(*) AS n FROM {table}"))[0]["n"])


def backup(location: str, out: Path) -> None:
    """A consistent copy of the store at ``location`` in ``out``: SQLite's online backup into a new
    file, or ``pg_dump``'s custom format for PostgreSQL (restore it with ``pg_restore``). Raises
    :class:`StoreError`."""
    if out.exists():
        raise StoreError(f"{out} exists already: give a new file")
    if scheme(location) == "sqlite":
        _sqlite_backup(location, out)
        return
    dump = shutil.which("pg_dump")
    if dump is None:
        raise StoreError(
            "pg_dump is not installed: install PostgreSQL's client programs to back up PostgreSQL"
        )
    url, env = _without_password(location)
    done = subprocess.run(
        [dump, "--format=custom", "--no-owner", f"--file={out}", url],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if done.returncode != 0:
        out.unlink(missing_ok=True)
        reason = done.stderr.strip().replace(location, redact(location))
        raise StoreError(f"pg_dump of {redact(location)} failed: {reason}")


def _without_password(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and the environment that gives pg_dump the password instead: a
    command line is visible to every user of the machine (``ps``), the environment is not."""
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password is None:
        return url, env
    env["PGPASSWORD"] = unquote(parts.password)
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc}")), env


def _sqlite_backup(path: str, out: Path) -> None:
    if not Path(path).exists():
        raise StoreError(f"there is no SQLite store at {path}")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as source, sqlite3.connect(out) as copy:
            source.backup(copy)
    except sqlite3.Error as exc:
        out.unlink(missing_ok=True)
        raise StoreError(f"backing up {path} failed: {exc}") from exc

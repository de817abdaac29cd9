"""``newsbot store``: migrate, back up, and move a SQLite installation into PostgreSQL, as an operator
runs them (real processes, the sample feeds, a throwaway PostgreSQL server)."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from bot.store import transfer
from tests.conftest import write_config
from tests.postgres import Cluster
from tests.test_cli import SEED_TITLE, bot


def postgres_config(tmp_path: Path, url: str) -> Path:
    """The demo config of :func:`write_config` with its store moved to ``url``."""
    config = write_config(tmp_path)
    text = config.read_text(encoding="utf-8")
    path_line = next(line for line in text.splitlines() if line.startswith("  path: "))
    moved = tmp_path / "postgres.yaml"
    moved.write_text(text.replace(path_line, f"  url: {url}"), encoding="utf-8")
    return moved


def alerts(output: str) -> list[str]:
    return [block for block in output.split("\n\n") if block.startswith("━━━")]


def test_a_sqlite_installation_moves_to_postgresql_and_alerts_nothing_twice(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    config = write_config(tmp_path)
    first = bot("run", "--once", "--config", str(config))
    assert first.returncode == 0, first.stderr
    assert any(SEED_TITLE in block for block in alerts(first.stdout))
    url = pg_cluster.database()
    sqlite_path = str(tmp_path / "data" / "bot.db")

    copied = bot("store", "copy", sqlite_path, url)
    assert copied.returncode == 0, copied.stderr
    lines = dict(line.split(": ", 1) for line in copied.stdout.splitlines() if ": " in line)
    assert lines["subscriptions"] == "2 read, 2 added"
    assert lines["articles"].startswith("25 read, 25 added")
    again = bot("store", "copy", sqlite_path, url)  # idempotent: run it again after more activity
    assert again.returncode == 0, again.stderr
    assert "articles: 25 read, 0 added" in again.stdout

    moved = postgres_config(tmp_path, url)
    run = bot("run", "--once", "--config", str(moved))
    assert run.returncode == 0, run.stderr
    assert alerts(run.stdout) == []  # every article was seen before the move
    assert "loaded 2 feeds and 2 subscriptions" in run.stderr


def test_backup_writes_a_consistent_copy_of_either_store(tmp_path: Path, pg_cluster: Cluster) -> None:
    config = write_config(tmp_path)
    assert bot("run", "--once", "--config", str(config)).returncode == 0
    out = tmp_path / "backup.db"
    done = bot("store", "backup", str(out), "--config", str(config))
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(out) as copy:
        assert copy.execute("SELECT count(*) FROM articles").fetchone()[0] == 25
    refused = bot("store", "backup", str(out), "--config", str(config))
    assert refused.returncode == 1 and "exists already" in refused.stderr

    moved = postgres_config(tmp_path, pg_cluster.database())
    migrated = bot("store", "migrate", "--config", str(moved))
    assert migrated.returncode == 0 and "schema up to date" in migrated.stdout
    assert "newsbot@127.0.0.1" in migrated.stdout
    dump = tmp_path / "backup.pgdump"
    done = bot("store", "backup", str(dump), "--config", str(moved))
    assert done.returncode == 0, done.stderr
    listing = subprocess.run(
        [str(pg_cluster.bin / "pg_restore"), "--list", str(dump)], capture_output=True, text=True, check=True
    )
    assert "TABLE public outbox" in listing.stdout


def test_copy_refuses_a_missing_sqlite_file_and_a_url_that_is_not_postgresql(tmp_path: Path) -> None:
    missing = bot("store", "copy", str(tmp_path / "nope.db"), "postgresql://x@127.0.0.1:1/db")
    assert missing.returncode == 1 and "there is no SQLite store" in missing.stderr
    assert not (tmp_path / "nope.db").exists()
    wrong = bot("store", "copy", str(tmp_path / "nope.db"), "mysql://x@h/db")
    assert wrong.returncode == 2 and "is not a postgresql:// URL" in wrong.stderr


def test_a_backup_gives_pg_dump_the_password_in_its_environment_not_on_its_command_line() -> None:
    """A command line is visible to every user of the machine (``ps``)."""
    url, env = transfer._without_password("postgresql://newsbot:s%40cret@db.internal:5432/newsbot")
    assert url == "postgresql://newsbot@db.internal:5432/newsbot" and env["PGPASSWORD"] == "s@cret"
    assert (
        transfer._without_password("postgresql://newsbot@db/newsbot")[0] == "postgresql://newsbot@db/newsbot"
    )

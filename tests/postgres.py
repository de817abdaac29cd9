"""A throwaway PostgreSQL cluster for the tests and the benches: ``initdb`` in a temporary folder, the
server on 127.0.0.1 at a free port, stopped and removed at the end. No Docker.

PostgreSQL's binaries are found on ``PATH`` or in Debian's ``/usr/lib/postgresql/N/bin``. Where there
are none, :func:`require` skips with one line, unless ``NEWSBOT_REQUIRE_POSTGRES=1`` (CI sets it), where a
missing PostgreSQL fails the run instead of quietly testing one backend."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

REQUIRE_VARIABLE = "NEWSBOT_REQUIRE_POSTGRES"
USER = "newsbot"


def binaries() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``, if PostgreSQL is installed."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").exists():
            return Path(folder)
    return None


def require() -> Path:
    """The binaries' folder; skips the test (or fails it, under ``NEWSBOT_REQUIRE_POSTGRES=1``)."""
    folder = binaries()
    if folder is None:
        reason = "PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin)"
        if os.environ.get(REQUIRE_VARIABLE) == "1":
            pytest.fail(f"{reason}, and {REQUIRE_VARIABLE}=1 makes that a failure", pytrace=False)
        pytest.skip(reason)
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """One running server. :meth:`database` makes a fresh, empty database and returns its URL."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="newsbot-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self._count = 0

    def start(self, options: str = "") -> Cluster:
        """``options``: more server options, appended to the defaults (``-c name=value ...``); a bench
        passes ``-c shared_preload_libraries=pg_stat_statements`` to count statements."""
        # initdb refuses to run as root; so does the server. Under root, both run as an unprivileged user.
        run_as = _unprivileged() if os.geteuid() == 0 else None
        if run_as is not None:
            shutil.chown(self.folder, run_as)
        self._run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
            ],
            run_as,
        )
        server = (
            f"-h 127.0.0.1 -p {self.port} -k {self.folder} -F -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off -c max_connections=300 -c shared_buffers=128MB"
        ) + (f" {options}" if options else "")
        self._run(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.folder / "log"),
                "-w",
                "-t",
                "60",
                "-o",
                server,
                "start",
            ],
            run_as,
        )
        self._run_as = run_as
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new empty database on this server, as a ``postgresql://`` URL."""
        self._count += 1
        name = f"t{self._count}"
        self._run(
            [str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name], None
        )
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                getattr(self, "_run_as", None),
            )
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    @staticmethod
    def _run(command: list[str], user: str | None) -> None:
        if user is not None:
            command = ["runuser", "-u", user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip() or done.stdout.strip()}")


def _unprivileged() -> str:
    for name in ("postgres", "nobody"):
        try:
            import pwd

            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")

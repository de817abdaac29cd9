from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.matching import build as matching_build
from bot.matching import default_aliases
from bot.processing.subscriptions import SubscriptionBook
from bot.store import SqliteStore
from bot.store.base import Store
from bot.store.postgres import PostgresStore
from handlers.commands import CommandService
from tests import postgres

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SEED = FIXTURES / "seed-article.txt"
"""A real article as a low-quality outlet sends it: captions, photo credits, link teasers."""
EXAMPLES = REPO / "examples"
SEED_ID = "seed-000-79f34e07c9bfe2d1"


def pytest_report_header() -> str:
    return f"matching: {matching_build.describe()}"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Python imports a compiled module before its source: testing an old build would test old code."""
    if stale := matching_build.stale():
        pytest.exit(f"compiled matching is older than {', '.join(stale)}: run `make build`", returncode=4)


@pytest.fixture
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = await SqliteStore.open(tmp_path / "bot.db")
    yield s
    await s.close()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[postgres.Cluster]:
    """One PostgreSQL server for the session, started on first use; each test takes a new database."""
    cluster = postgres.Cluster(postgres.require()).start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store lives, once per backend: a SQLite file, or a new database on the test cluster."""
    if request.param == "sqlite":
        return str(tmp_path / "bot.db")
    cluster: postgres.Cluster = request.getfixturevalue("pg_cluster")
    return cluster.database()


@pytest.fixture
def open_store(store_location: str) -> Callable[[], Awaitable[Store]]:
    """Opens the store at :func:`store_location` (again, for a restart)."""
    if store_location.startswith("postgresql://"):
        return lambda: PostgresStore.open(store_location)
    return lambda: SqliteStore.open(store_location)


@pytest.fixture
async def any_store(open_store: Callable[[], Awaitable[Store]]) -> AsyncIterator[Store]:
    """A fresh store of each backend: the tests using it run against both."""
    s = await open_store()
    yield s
    await s.close()


@pytest.fixture
def service(store: SqliteStore) -> CommandService:
    """The /news command service over a fresh store, as every platform shares it."""
    return CommandService(store, SubscriptionBook(default_aliases()))


def write_config(
    tmp_path: Path, extra: str = "", *, feeds: str | None = None, subs: str | None = None
) -> Path:
    """A runnable config in tmp_path: the bundled example feeds, Ukraine and NATO to the console."""
    if feeds is None:
        feeds = (
            f"  - url: {EXAMPLES / 'world-news.rss'}\n    name: Meridian Wire\n"
            "    backfill: 100\n    max_age: 0\n"
            f"  - url: {EXAMPLES / 'europe-desk.atom'}\n    name: Northbound Post\n"
            "    backfill: 100\n    max_age: 0\n"
        )
    if subs is None:
        subs = "  - query: Ukraine\n  - query: NATO\n"
    path = tmp_path / "config.yaml"
    path.write_text(
        f"store:\n  path: {tmp_path / 'data' / 'bot.db'}\nfeeds:\n{feeds}subscriptions:\n{subs}"
        "safety:\n  allow_hosts: ['127.0.0.1']\n"
        f"platforms:\n  console:\n    color: false\n{extra}",
        encoding="utf-8",
    )
    return path

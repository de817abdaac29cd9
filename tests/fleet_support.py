"""What the tests of several workers (Apps on one PostgreSQL database, in this process) share."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.app import App
from bot.config import load_config

Start = Callable[[str], Awaitable[App]]


@asynccontextmanager
async def fleet(config_for: Callable[[str], Path]) -> AsyncIterator[Start]:
    """Starts workers by name (``newsbot run``'s App on the config ``config_for(name)``); every one is
    closed at the end, pass or fail."""
    workers: list[App] = []

    async def start(name: str) -> App:
        app = await App.build(load_config(config_for(name)))
        workers.append(app)
        await app.start()
        return app

    try:
        yield start
    finally:
        for app in reversed(workers):
            await app.close()


async def until(predicate: Callable[[], object], within: float = 15.0) -> None:
    """Wait for ``predicate`` (a safety net, never a speed check)."""
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "it did not happen in time"
        await asyncio.sleep(0.02)

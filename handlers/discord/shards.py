"""Which worker holds which gateway shard: each shard has a named lease in the shared store
(``discord:shard:<id>``, :meth:`bot.store.work.WorkStore.take_lease`), and the worker that holds it holds
that shard's one gateway connection.

Every :attr:`ShardLeases.every` seconds (a third of the lease) a worker tries every shard's lease: a free
or expired one is taken and its connection opened, a held one is renewed. A renewal refused (another
worker took the lease after it ran out: this worker stalled) or not made before the lease ran out (the
store unreachable) closes that connection at once, so that two gateways never serve one shard. A worker
that dies leaves its shards to the others once their leases run out; one that stops releases them
(:meth:`bot.app.App.close`). One worker alone (SQLite, or the only one) takes every shard at its first
round."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.core.backoff import Backoff
from bot.core.errors import StoreError
from bot.store.work import WorkStore

log = logging.getLogger(__name__)

RETRY = Backoff(base=1.0, cap=30.0)
"""After a round the store failed: but never longer than :attr:`ShardLeases.every`, so that a held
shard whose lease could not be renewed is closed when the lease runs out."""


def lease_name(shard_id: int) -> str:
    return f"discord:shard:{shard_id}"


class Connection(Protocol):
    """A shard's gateway connection (:class:`handlers.discord.gateway.ShardGateway`)."""

    @property
    def finished(self) -> bool: ...

    def open(self) -> None: ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class _Held:
    connection: Connection
    until: float
    """When this worker's lease on the shard runs out unless renewed."""


class ShardLeases:
    def __init__(
        self,
        store: WorkStore,
        owner: str,
        lease: float,
        count: int,
        connect: Callable[[int], Connection],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.owner = owner
        self.lease = lease
        self.count = count
        self.every = lease / 3
        self._connect = connect
        self.clock = clock
        self._held: dict[int, _Held] = {}
        self.halted = False
        """Set when the token was refused: no shard is taken any more (every worker has that token)."""
        self._task: asyncio.Task[None] | None = None

    def held(self) -> dict[int, Connection]:
        """The shards this worker holds now, and their connections."""
        return {shard: held.connection for shard, held in self._held.items()}

    async def round(self) -> bool:
        """Take or renew every shard's lease, opening and closing connections to match; False when the
        store failed for some shard (those held stay open until their lease would run out)."""
        ok = True
        for shard in range(self.count):
            if self.halted:
                break
            now = self.clock()
            try:
                taken: bool | None = await self.store.take_lease(
                    lease_name(shard), self.owner, now, now + self.lease
                )
            except StoreError as exc:
                ok, taken = False, None
                log.warning("discord: could not renew the lease of shard %d (%s)", shard, exc)
            await self._settle(shard, taken, now)
        return ok

    async def _settle(self, shard: int, taken: bool | None, now: float) -> None:
        held = self._held.get(shard)
        if held is not None and held.connection.finished:
            await self._drop(shard, "its connection ended")
            held = None
        if taken:
            if held is None:
                connection = self._connect(shard)
                connection.open()
                self._held[shard] = _Held(connection, now + self.lease)
                log.info("discord: this worker (%s) holds shard %d of %d", self.owner, shard, self.count)
            else:
                held.until = now + self.lease
        elif held is not None and (taken is False or now >= held.until):
            why = "another worker holds its lease now" if taken is False else "its lease ran out unrenewed"
            await self._drop(shard, why)

    async def _drop(self, shard: int, why: str) -> None:
        held = self._held.pop(shard)
        log.warning("discord: closing the gateway of shard %d: %s", shard, why)
        await held.connection.close()

    async def run(self) -> None:
        """:meth:`round` every :attr:`every` seconds until cancelled or halted; a round the store failed
        (:class:`StoreError`, logged by the round) is tried again sooner, with backoff."""
        failures = 0
        while not self.halted:
            failures = 0 if await self.round() else failures + 1
            await asyncio.sleep(min(self.every, RETRY.delay(failures)) if failures else self.every)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="discord-shard-leases")

    async def stop(self) -> None:
        """Stop taking leases and close every connection (the leases are released by the app)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for shard in list(self._held):
            held = self._held.pop(shard)
            await held.connection.close()

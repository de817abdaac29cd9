"""One gateway connection: a discord.py client for one shard, which takes the /news commands, button
clicks and guild events of the servers on that shard. Alerts never go through it (the adapter's REST
client sends them), so a worker without a shard still sends alerts.

Each shard's connection is a plain :class:`discord.Client` with ``shard_id`` and ``shard_count``, not an
:class:`discord.AutoShardedClient`: the shards a worker holds change while it runs (a lease is taken
over, or lost), and an AutoShardedClient's ``shard_ids`` are fixed when it is made and connected all at
once. A client per shard opens and closes alone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

import discord

from bot.core.backoff import Backoff
from bot.core.models import ChannelRef
from handlers.discord.buttons import NewsButton
from handlers.discord.commands import NewsGroup, NewsTree

log = logging.getLogger(__name__)

GATEWAY_AUTH_FAILED = 4004
"""The gateway's close code for a token it refuses; discord.py closes the client on it."""
RECONNECT = Backoff(base=1.0, cap=60.0)
"""The pause before connecting again after discord.py gave up (it reconnects and resumes by itself)."""


class ShardHost(Protocol):
    """What a shard's client hands its commands and events to (the adapter)."""

    news: NewsGroup

    async def pause_guild(self, guild_id: str) -> None: ...

    async def lose_channel(self, channel: ChannelRef, reason: str) -> None: ...

    async def token_refused(self) -> None:
        """The gateway refused the token (4004): nothing can go out until a restart."""
        ...


class ShardClient(discord.Client):
    """Runs the /news commands and buttons; pauses the subscriptions of channels and guilds it loses."""

    def __init__(self, host: ShardHost, gateway: ShardGateway, **options: object) -> None:
        super().__init__(intents=discord.Intents.default(), **options)  # type: ignore[arg-type]
        self.host = host
        self.gateway = gateway

    async def on_connect(self) -> None:
        self.gateway.connected.set()

    async def news_button(self, interaction: discord.Interaction, action: str, key: str) -> None:
        """A reply's button (:class:`handlers.discord.buttons.NewsButton`) was clicked."""
        await self.host.news.press(interaction, action, key)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.host.pause_guild(str(guild.id))

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        ref = ChannelRef("discord", str(channel.id), str(channel.guild.id))
        await self.host.lose_channel(ref, "channel deleted")


class ShardGateway:
    """The connection of shard ``shard_id`` of ``shard_count``: :meth:`open` logs in and connects in the
    background, :attr:`connected` is set once the gateway has taken the session, :meth:`close` ends it."""

    def __init__(self, host: ShardHost, token: str, shard_id: int, shard_count: int) -> None:
        self.shard_id = shard_id
        self.host = host
        self._token = token
        self.connected = asyncio.Event()
        self.client = ShardClient(
            host, self, shard_id=shard_id, shard_count=shard_count, max_ratelimit_timeout=30.0
        )
        self.tree = NewsTree(self.client)
        self.tree.add_command(host.news)  # the one group: its commands are the same on every shard
        self.client.add_dynamic_items(NewsButton)
        self._task: asyncio.Task[None] | None = None

    def open(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"discord-shard-{self.shard_id}")

    @property
    def finished(self) -> bool:
        """The connection gave up for good (a refused token): nothing reconnects it."""
        return self._task is not None and self._task.done()

    async def wait_connected(self, within: float) -> bool:
        """Whether the gateway took the session within ``within`` seconds (False when it gave up)."""
        assert self._task is not None, "open() first"
        ready = asyncio.create_task(self.connected.wait())
        done, _ = await asyncio.wait({ready, self._task}, timeout=within, return_when="FIRST_COMPLETED")
        ready.cancel()
        return ready in done

    async def _run(self) -> None:
        """discord.py reconnects and resumes by itself; this loop only outlives what it gives up on (an
        event it could not parse, an unhandled close code, a login the network failed), with a growing
        pause. Any exception is retried, since a bug in parsing one event must not end the shard."""
        failures = 0
        while not self.client.is_closed():
            try:
                if self.client.user is None:
                    await self.client.login(self._token)
                await self.client.connect(reconnect=True)
            except (discord.LoginFailure, discord.PrivilegedIntentsRequired):
                log.error(
                    "discord: shard %d: the gateway refused this bot's login", self.shard_id, exc_info=True
                )
                await self.host.token_refused()
                return
            except Exception as exc:
                if isinstance(exc, discord.ConnectionClosed) and exc.code == GATEWAY_AUTH_FAILED:
                    # discord.py has closed this client: nothing goes out until a restart with a token
                    # Discord takes; the notifier says so (auth), and the outbox holds the alerts.
                    log.error("discord: shard %d: Discord refused the bot token (4004)", self.shard_id)
                    await self.host.token_refused()
                    return
                failures += 1
                delay = RECONNECT.delay(failures)
                log.exception(
                    "discord: shard %d: the gateway connection failed; reconnecting in %.0fs",
                    self.shard_id,
                    delay,
                )
                if not self.client.is_closed():
                    await asyncio.sleep(delay)
            else:
                failures = 0

    async def close(self) -> None:
        self.connected.clear()
        with contextlib.suppress(Exception):
            await self.client.close()
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

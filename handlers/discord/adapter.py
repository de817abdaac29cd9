"""Discord as a chat platform: /news slash commands over the gateway, alerts over REST.

Uses the unmodified discord.py client with default (non-privileged) intents. Each worker has one
client logged in for REST (:attr:`DiscordAdapter.client`: alerts and the command sync), whether or not it
holds a gateway shard, and one gateway connection per shard it holds (:mod:`handlers.discord.gateway`,
:mod:`handlers.discord.shards`): ``platforms.discord.shards`` shards, each held by one worker at a time
through a lease in the store, so a slash command is answered by the worker holding its server's shard.
One worker alone holds every shard.

Two process-wide settings of discord.py are pointed at the configured URLs while an adapter runs, and put
back when the last one in the process stops:

- ``discord.http.DiscordRoute.BASE``: the REST base (``platforms.discord.api_base``), for a REST proxy or
  the tests' fake Discord;
- ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``: ``platforms.discord.gateway_url`` if set,
  else the URL that ``GET /gateway/bot`` at the REST base names.

The token comes from the environment variable named by ``platforms.discord.token_env`` and is
never logged. Commands are synced to ``dev_guild_ids`` when set (instant, for development), else
globally; a sync Discord refuses does not stop the bot (alerts need no commands) and is tried again
later (:mod:`handlers.discord.sync`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
import discord
import yarl
from aiohttp import web
from discord.gateway import DiscordWebSocket
from discord.http import Route as DiscordRoute

from bot.core.errors import NewsBotError
from bot.core.models import ChannelRef
from bot.platforms import DiscordSettings, PlatformContext
from bot.processing.subscriptions import SubscriptionBook, pause_workspace
from bot.store.base import Store
from handlers.commands import CommandService
from handlers.discord.commands import NewsGroup, NewsTree
from handlers.discord.gateway import ShardGateway
from handlers.discord.notifier import RATE_LIMIT_WAIT, DiscordNotifier
from handlers.discord.shards import ShardLeases
from handlers.discord.sync import CommandSync

log = logging.getLogger(__name__)

READY_TIMEOUT = 30.0


class _Endpoints:
    """discord.py's REST base and gateway URL are class attributes: set while any adapter of the process
    runs (several workers in one test process share them), put back when the last one stops."""

    users = 0
    saved: tuple[str, yarl.URL] | None = None

    @classmethod
    def enter(cls, api_base: str) -> None:
        if cls.users == 0:
            cls.saved = (DiscordRoute.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        cls.users += 1
        DiscordRoute.BASE = api_base.rstrip("/")

    @classmethod
    def leave(cls) -> None:
        cls.users -= 1
        if cls.users == 0 and cls.saved is not None:
            DiscordRoute.BASE, DiscordWebSocket.DEFAULT_GATEWAY = cls.saved
            cls.saved = None


class DiscordAdapter:
    name = "discord"
    routes: tuple[web.AbstractRouteDef, ...] = ()

    def __init__(
        self,
        config: DiscordSettings,
        commands: CommandService,
        store: Store,
        book: SubscriptionBook,
        token: str,
        *,
        worker: str = "local",
        lease: float = 120.0,
    ) -> None:
        self.config = config
        self.store = store
        self._token = token
        self.client = discord.Client(intents=discord.Intents.default(), max_ratelimit_timeout=30.0)
        """Logged in, never connected: REST only (alerts, the command sync)."""
        self.tree = NewsTree(self.client)
        self.news = NewsGroup(commands, config.admin_role)
        self.tree.add_command(self.news)
        self.notifier = DiscordNotifier(self.client, store, book, find_channel=self._cached_channel)
        self.book = book
        self.sync = CommandSync(self.tree, config.dev_guild_ids)
        self.shards = ShardLeases(store, worker, lease, config.shards, self._gateway)
        self._sync_task: asyncio.Task[None] | None = None
        self._entered = False

    def _gateway(self, shard_id: int) -> ShardGateway:
        return ShardGateway(self, self._token, shard_id, self.config.shards)

    def _cached_channel(self, channel_id: int) -> object | None:
        """The channel as a held shard's gateway knows it (None: on no shard this worker holds)."""
        for connection in self.shards.held().values():
            if isinstance(connection, ShardGateway) and (found := connection.client.get_channel(channel_id)):
                return found
        return None

    async def start(self) -> None:
        _Endpoints.enter(self.config.api_base)
        self._entered = True
        try:
            await self.client.login(self._token)
            gateway = self.config.gateway_url or (await self.client.http.get_bot_gateway())[1]
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
        except discord.LoginFailure as exc:
            await self.stop()
            raise NewsBotError(
                f"Discord refused the bot token in ${self.config.token_env}; check it in the developer portal"
            ) from exc
        except (discord.DiscordException, aiohttp.ClientError, OSError) as exc:
            await self.stop()
            raise NewsBotError(f"cannot reach Discord at {self.config.api_base}: {exc}") from exc
        await self._first_sync()
        # From here on the client's REST requests are the notifier's sends: a rate limit longer than
        # RATE_LIMIT_WAIT is raised (the outbox retries that alert after it) instead of slept through
        # inside the send while every other channel waits. Starting up (above) waited up to 30 s, the
        # least discord.py's constructor takes; it reads the attribute for each new route bucket and at
        # each 429, so the start-up calls' buckets keep their 30 s.
        self.client.http.max_ratelimit_timeout = RATE_LIMIT_WAIT
        await self._first_shards()
        self.shards.start()
        if not self.sync.done:
            self._sync_task = asyncio.create_task(self.sync.retry(), name="discord-command-sync")

    async def _first_shards(self) -> None:
        """The shards free now are taken and connected before the bot starts; a worker that finds them
        all held starts without a gateway (it sends alerts, and takes a shard over when one is left)."""
        await self.shards.round()
        for shard, connection in self.shards.held().items():
            assert isinstance(connection, ShardGateway)
            if not await connection.wait_connected(READY_TIMEOUT):
                await self.stop()
                raise NewsBotError(f"could not connect to Discord's gateway (shard {shard}; see the log)")
        held = sorted(self.shards.held())
        log.info(
            "discord: logged in as %s; gateway shards held here: %s of %d",
            self.client.user,
            ", ".join(map(str, held)) or "none",
            self.config.shards,
        )

    async def _first_sync(self) -> None:
        """One try while starting; a refusal is logged by the sync and retried once connected."""
        try:
            await self.sync.attempt()
        except Exception:
            self.sync.pending.clear()
            log.exception("discord: syncing the /news commands failed; not trying again until a restart")

    async def pause_guild(self, guild_id: str) -> None:
        """The bot left or was removed from a guild: pause its channels' subscriptions (one log line)."""
        await pause_workspace(
            self.store, self.book, "discord", guild_id, "the bot was removed from the server"
        )

    async def is_connected(self) -> bool:
        """Its token is taken, and every shard gateway this worker holds has taken its session (a
        worker holding no shard sends alerts over REST alone, which is connected enough)."""
        if self.notifier.token_refused:
            return False
        return all(
            not isinstance(held, ShardGateway) or (held.client.is_ready() and not held.client.is_closed())
            for held in self.shards.held().values()
        )

    async def lose_channel(self, channel: ChannelRef, reason: str) -> None:
        await self.notifier.pause(channel, reason)

    async def token_refused(self) -> None:
        """A gateway was refused the token (4004): the REST client is closed too, so that every send
        says so (auth) and the outbox holds the alerts until a restart with a token Discord takes."""
        self.notifier.token_refused = True
        self.shards.halted = True
        # Shielded: this runs in the shard's task, which stopping cancels; a cancel reaching discord.py's
        # closing task would make every later close() of the client raise CancelledError.
        with contextlib.suppress(Exception):
            await asyncio.shield(self.client.close())

    async def stop(self) -> None:
        await self.shards.stop()
        with contextlib.suppress(Exception):
            await self.client.close()
        if self._sync_task is not None:
            self._sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync_task
            self._sync_task = None
        if self._entered:
            self._entered = False
            _Endpoints.leave()


def create_adapter(settings: DiscordSettings, context: PlatformContext) -> DiscordAdapter:
    token = context.env.get(settings.token_env, "")
    if not token:
        raise NewsBotError(f"environment variable {settings.token_env} (the Discord bot token) is not set")
    return DiscordAdapter(
        settings,
        CommandService.from_context(context),
        context.store,
        context.book,
        token,
        worker=context.worker,
        lease=context.lease,
    )

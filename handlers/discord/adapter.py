"""Discord as a chat platform: /news slash commands over the gateway, alerts over REST.

Uses the unmodified discord.py client with default (non-privileged) intents. Two process-wide
settings of discord.py are pointed at the configured URLs when the adapter starts, and put back
when it stops (so one Discord adapter per process):

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
from handlers.discord.buttons import NewsButton
from handlers.discord.commands import NewsGroup, NewsTree
from handlers.discord.notifier import RATE_LIMIT_WAIT, DiscordNotifier
from handlers.discord.sync import CommandSync

log = logging.getLogger(__name__)

READY_TIMEOUT = 30.0
GATEWAY_AUTH_FAILED = 4004
"""The gateway's close code for a token it refuses; discord.py closes the client on it."""


class _Client(discord.Client):
    """Pauses the subscriptions of channels and guilds the bot loses."""

    def __init__(self, adapter: DiscordAdapter, **options: object) -> None:
        super().__init__(intents=discord.Intents.default(), **options)  # type: ignore[arg-type]
        self.adapter = adapter

    async def on_connect(self) -> None:
        self.adapter.connected.set()

    async def news_button(self, interaction: discord.Interaction, action: str, key: str) -> None:
        """A reply's button (:class:`handlers.discord.buttons.NewsButton`) was clicked."""
        await self.adapter.news.press(interaction, action, key)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.adapter.pause_guild(str(guild.id))

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        ref = ChannelRef("discord", str(channel.id), str(channel.guild.id))
        await self.adapter.notifier.pause(ref, "channel deleted")


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
    ) -> None:
        self.config = config
        self.store = store
        self._token = token
        self.connected = asyncio.Event()
        self.client = _Client(self, max_ratelimit_timeout=30.0)
        self.tree = NewsTree(self.client)
        self.news = NewsGroup(commands, config.admin_role)
        self.tree.add_command(self.news)
        self.client.add_dynamic_items(NewsButton)
        self.notifier = DiscordNotifier(self.client, store, book)
        self.book = book
        self.sync = CommandSync(self.tree, config.dev_guild_ids)
        self._task: asyncio.Task[None] | None = None
        self._sync_task: asyncio.Task[None] | None = None
        self._saved: tuple[str, yarl.URL] | None = None

    async def start(self) -> None:
        self._saved = (DiscordRoute.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        DiscordRoute.BASE = self.config.api_base.rstrip("/")
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
        self._task = asyncio.create_task(self._connect(), name="discord-gateway")
        ready = asyncio.create_task(self.connected.wait())
        done, _ = await asyncio.wait(
            {ready, self._task}, timeout=READY_TIMEOUT, return_when="FIRST_COMPLETED"
        )
        if ready not in done:
            ready.cancel()
            await self.stop()
            raise NewsBotError("could not connect to Discord's gateway (see the log)")
        log.info("discord: connected as %s", self.client.user)
        if not self.sync.done:
            self._sync_task = asyncio.create_task(self.sync.retry(), name="discord-command-sync")

    async def _connect(self) -> None:
        """discord.py reconnects and resumes by itself; this loop only outlives what it gives up on
        (an event it could not parse, an unhandled close code), with a growing pause."""
        delay = 1.0
        while not self.client.is_closed():
            try:
                await self.client.connect(reconnect=True)
            except (discord.LoginFailure, discord.PrivilegedIntentsRequired):
                log.error("discord: the gateway refused this bot's login; not reconnecting", exc_info=True)
                return
            except Exception as exc:
                if isinstance(exc, discord.ConnectionClosed) and exc.code == GATEWAY_AUTH_FAILED:
                    # discord.py has closed the client: nothing goes out until a restart with a token
                    # Discord takes; the notifier says so (auth), and the outbox holds the alerts.
                    self.notifier.token_refused = True
                    log.error("discord: Discord refused the bot token in $%s (4004)", self.config.token_env)
                    return
                log.exception("discord: the gateway connection failed; reconnecting in %.0fs", delay)
            if self.client.is_closed():
                return
            await asyncio.sleep(delay)
            delay = min(60.0, delay * 2)

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
        """The gateway has said READY since the last (re)connection, and no refused token closed it."""
        client = self.client
        return client.is_ready() and not client.is_closed() and not self.notifier.token_refused

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.close()
        if self._sync_task is not None:
            self._sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync_task
            self._sync_task = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._saved is not None:
            DiscordRoute.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None


def create_adapter(settings: DiscordSettings, context: PlatformContext) -> DiscordAdapter:
    token = context.env.get(settings.token_env, "")
    if not token:
        raise NewsBotError(f"environment variable {settings.token_env} (the Discord bot token) is not set")
    return DiscordAdapter(settings, CommandService.from_context(context), context.store, context.book, token)

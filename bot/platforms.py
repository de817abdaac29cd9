"""Chat platforms as plug-ins. The core never imports a chat SDK: an adapter's module is imported by
name, only when its platform is enabled.

Each platform's settings are declared here, with the adapter that takes them, so that ``bot.config``
reads them from the file and an adapter never imports ``bot.config``: it is built from its own settings
and a :class:`PlatformContext` of plain values. The settings classes are the one list of platforms:
adding one is a settings class here (and in :data:`PlatformSettings`), its field in
``bot.config.PlatformsConfig``, and a module in ``handlers/``.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

from aiohttp import web
from pydantic import ConfigDict
from pydantic.dataclasses import dataclass as settings

from bot.delivery.notify import Notifier
from bot.ingest.discover import FoundFeed
from bot.processing.subscriptions import SubscriptionBook
from bot.store.base import Store

_STRICT = ConfigDict(extra="forbid", frozen=True)


class PlatformAdapter(Protocol):
    """One chat platform: takes /news commands from it and sends alerts to it."""

    name: str
    notifier: Notifier
    routes: Sequence[web.AbstractRouteDef]
    """Requests this platform serves on the bot's web server (Slack's HTTP mode); usually none."""

    async def start(self) -> None:
        """Connect and begin taking commands. Raises :class:`bot.core.errors.NewsBotError` when it can't."""
        ...

    async def stop(self) -> None: ...

    async def is_connected(self) -> bool:
        """Whether the platform can take commands and alerts now (``/healthz`` shows it): its gateway or
        socket is up. A platform that reconnects by itself may be briefly false."""
        ...


@dataclass(frozen=True, slots=True)
class PlatformContext:
    """What the composition root hands every adapter besides its own settings."""

    store: Store
    book: SubscriptionBook
    url_check: Callable[[str], None]
    """Raises :class:`bot.core.errors.FeedError` for a URL the bot must not fetch (``/news feeds add``)."""
    web_enabled: bool
    env: Mapping[str, str]
    """Where tokens are read from: the process environment, or a mapping in tests."""
    wake: Callable[[], None] = lambda: None
    """Wakes the bot's loop at once: a command made work (a feed added, a mute ended)."""
    find_feed: Callable[[str], Awaitable[FoundFeed]] | None = None
    """The feed to watch for a URL typed in ``/news feeds add`` (the URL itself, or the feed its page
    names): :meth:`bot.ingest.discover.FeedFinder.find`. None: the URL is taken as typed, unchecked."""


AdapterFactory = Callable[[Any, PlatformContext], PlatformAdapter]
"""``create_adapter(settings, context)``; raises :class:`bot.core.errors.NewsBotError` when the platform
cannot be set up (a token missing from the environment)."""


@settings(config=_STRICT)
class ConsoleSettings:
    adapter: ClassVar[str] = "handlers.console:create_adapter"
    paced: ClassVar[bool] = False
    """Flood control (``delivery.channel_rate``) is for chat channels, not the operator's terminal."""
    enabled: bool | Literal["auto"] = "auto"
    """auto: on when no chat platform is."""
    commands: bool = True
    color: bool | Literal["auto"] = "auto"

    def required_env(self) -> list[tuple[str, str]]:
        return []


@settings(config=_STRICT)
class DiscordSettings:
    adapter: ClassVar[str] = "handlers.discord.adapter:create_adapter"
    paced: ClassVar[bool] = True
    enabled: bool = False
    token_env: str = "DISCORD_TOKEN"
    api_base: str = "https://discord.com/api/v10"
    """REST base URL: a proxy, or the tests' fake Discord."""
    gateway_url: str = ""
    """Gateway websocket URL; empty: the one Discord's REST API names."""
    dev_guild_ids: tuple[str, ...] = ()
    """Sync the /news commands to these guilds only (instant, for development); empty: globally."""
    admin_role: str = ""
    """A role id whose members may, besides those with Manage Server, change what the whole channel gets:
    its feeds, mute, digest and time zone, and subscriptions that mention a role."""

    def required_env(self) -> list[tuple[str, str]]:
        """(setting, variable) for each environment variable the platform cannot start without."""
        return [("token_env", self.token_env)]


@settings(config=_STRICT)
class SlackSettings:
    adapter: ClassVar[str] = "handlers.slack.adapter:create_adapter"
    paced: ClassVar[bool] = True
    enabled: bool = False
    bot_token_env: str = "SLACK_BOT_TOKEN"
    app_token_env: str = "SLACK_APP_TOKEN"
    signing_secret_env: str = "SLACK_SIGNING_SECRET"
    api_base: str = "https://slack.com/api/"
    """Web API base URL: a proxy, GovSlack (https://slack-gov.com/api/), or the tests' fake Slack."""
    mode: Literal["socket", "http"] = "socket"
    """socket: Socket Mode with the app-level token; http: requests to the bot's web server, signed."""
    admin_group: str = ""
    """A user group id whose members may, besides workspace admins, change what the whole channel gets:
    its feeds, mute, digest and time zone, and subscriptions that mention a user group."""

    def required_env(self) -> list[tuple[str, str]]:
        if self.mode == "socket":
            return [("bot_token_env", self.bot_token_env), ("app_token_env", self.app_token_env)]
        return [("bot_token_env", self.bot_token_env), ("signing_secret_env", self.signing_secret_env)]


PlatformSettings = ConsoleSettings | DiscordSettings | SlackSettings


def load_factory(platform: PlatformSettings) -> AdapterFactory:
    module_name, _, attr = platform.adapter.partition(":")
    factory: AdapterFactory = getattr(importlib.import_module(module_name), attr)
    return factory

"""Chat platforms as plug-ins. The core never imports a chat SDK: an adapter's module is imported by
name, only when its platform is enabled in the config."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Protocol

from aiohttp import web

from bot.config import Config
from bot.delivery.notify import Notifier
from bot.processing.subscriptions import SubscriptionBook
from bot.store.base import Store


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


AdapterFactory = Callable[[Config, Store, SubscriptionBook], PlatformAdapter]

# platform name -> "module:factory". Adding a platform is one line here and one module in handlers/.
PLATFORM_ADAPTERS: dict[str, str] = {
    "console": "handlers.console:create_adapter",
    "discord": "handlers.discord.adapter:create_adapter",
    "slack": "handlers.slack.adapter:create_adapter",
}


def enabled_platforms(config: Config) -> list[str]:
    flags = {
        "console": config.console_enabled,
        "discord": config.platforms.discord.enabled,
        "slack": config.platforms.slack.enabled,
    }
    return [name for name in PLATFORM_ADAPTERS if flags.get(name, False)]


def load_factory(name: str) -> AdapterFactory:
    module_name, _, attr = PLATFORM_ADAPTERS[name].partition(":")
    factory: AdapterFactory = getattr(importlib.import_module(module_name), attr)
    return factory

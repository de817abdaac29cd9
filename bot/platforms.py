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
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

from aiohttp import web
from pydantic import ConfigDict, Field, field_validator, model_validator
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
    worker: str = "local"
    """This worker's name on the leases it takes (:attr:`bot.app.App.worker`)."""
    lease: float = 120.0
    """How long a lease lasts unrenewed (``store.lease``): a Discord shard's gateway is held by one worker."""


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
    shards: int = Field(default=1, ge=1)
    """Gateway shards: each is one gateway connection, held by whichever worker holds its lease. Discord
    requires more than one past 2,500 servers (``GET /gateway/bot`` says how many it recommends)."""

    def required_env(self) -> list[tuple[str, str]]:
        """(setting, variable) for each environment variable the platform cannot start without."""
        return [("token_env", self.token_env)]


SLACK_SCOPES = ("commands", "chat:write", "channels:history", "users:read", "usergroups:read")
"""The bot scopes the app asks for when installed: the slash command, posting, looking for an earlier
post after a crash, and the admin check (README, Slack)."""
_SCOPE = re.compile(r"^[a-z][a-z.]*(:[a-z][a-z.]*)+$")


@settings(config=_STRICT)
class SlackOAuthSettings:
    """``platforms.slack.oauth``: the app is installed in each workspace through Slack's OAuth flow, from
    the bot's own web server, and each workspace's bot token is kept in the bot's database."""

    client_id_env: str = "SLACK_CLIENT_ID"
    client_secret_env: str = "SLACK_CLIENT_SECRET"
    state_secret_env: str = ""
    """Signs the install link's ``state``, so that any worker can complete an install another began;
    empty: derived from the client secret, which every worker already has."""
    scopes: tuple[str, ...] = SLACK_SCOPES
    install_path: str = "/slack/install"
    """Where an admin starts an install (the "Add to Slack" link)."""
    redirect_path: str = "/slack/oauth_redirect"
    """Slack sends the admin back here; the app's Redirect URL is ``https://<your host>`` + this."""
    redirect_url: str = ""
    """The full Redirect URL to name to Slack, when the app has more than one registered."""
    authorize_url: str = "https://slack.com/oauth/v2/authorize"
    """Slack's consent page: GovSlack's (https://slack-gov.com/oauth/v2/authorize), or the tests' fake."""

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, scopes: tuple[str, ...]) -> tuple[str, ...]:
        wrong = [s for s in scopes if not _SCOPE.match(s) and s != "commands"]
        if wrong:
            raise ValueError(f"not a Slack scope: {', '.join(wrong)} (scopes look like chat:write)")
        missing = [s for s in ("commands", "chat:write") if s not in scopes]
        if missing:
            raise ValueError(f"the bot needs {' and '.join(missing)}: add it to the scopes")
        return scopes

    @field_validator("install_path", "redirect_path")
    @classmethod
    def _path(cls, path: str) -> str:
        if not path.startswith("/") or "?" in path or "#" in path:
            raise ValueError(f"a path on the bot's web server, such as /slack/install, not {path!r}")
        return path

    @field_validator("redirect_url", "authorize_url")
    @classmethod
    def _url(cls, url: str) -> str:
        if url and not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(f"an http(s) URL, not {url!r}")
        return url

    @model_validator(mode="after")
    def _distinct(self) -> SlackOAuthSettings:
        if self.install_path == self.redirect_path:
            raise ValueError("install_path and redirect_path must differ")
        if "/slack/events" in (self.install_path, self.redirect_path):
            raise ValueError("/slack/events is where Slack's requests arrive: choose another path")
        return self

    def required_env(self) -> list[tuple[str, str]]:
        needed = [
            ("oauth.client_id_env", self.client_id_env),
            ("oauth.client_secret_env", self.client_secret_env),
        ]
        return needed + ([("oauth.state_secret_env", self.state_secret_env)] if self.state_secret_env else [])


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
    oauth: SlackOAuthSettings | None = Field(default=None)
    """Set: one app for many workspaces, each installing it through ``oauth.install_path``; the bot token
    variable becomes optional (a token given serves its own workspace)."""

    def required_env(self) -> list[tuple[str, str]]:
        token = [] if self.oauth is not None else [("bot_token_env", self.bot_token_env)]
        oauth = self.oauth.required_env() if self.oauth is not None else []
        if self.mode == "socket":
            return [*token, ("app_token_env", self.app_token_env), *oauth]
        return [*token, ("signing_secret_env", self.signing_secret_env), *oauth]


PlatformSettings = ConsoleSettings | DiscordSettings | SlackSettings


def load_factory(platform: PlatformSettings) -> AdapterFactory:
    module_name, _, attr = platform.adapter.partition(":")
    factory: AdapterFactory = getattr(importlib.import_module(module_name), attr)
    return factory

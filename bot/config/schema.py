"""The config's schema: ``config.yaml``'s sections as frozen pydantic dataclasses, with the checks of a
single key (durations with units, allowed hosts, queries that parse, platform names)."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.dataclasses import dataclass

from bot.core.durations import parse_duration
from bot.core.errors import QueryError
from bot.ingest.safety import UrlPolicy
from bot.matching import AliasTable, parse_query
from bot.platforms import ConsoleSettings, DiscordSettings, PlatformSettings, SlackSettings
from bot.store.work import LEASE

_STRICT = ConfigDict(extra="forbid", frozen=True)
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _seconds(value: object) -> object:
    """``90``, ``"90s"``, ``"15m"``, ``"6h"``, ``"7d"`` -> seconds (:func:`parse_duration`). Anything else
    is left for the type check to reject with a message naming the key."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return parse_duration(value)
    return value


Duration = Annotated[float, Field(ge=0), BeforeValidator(_seconds)]


DEFAULT_STORE_PATH = "data/newsbot.db"


@dataclass(config=_STRICT)
class StoreConfig:
    path: str = ""
    """A SQLite file (the default, ``data/newsbot.db``): one process."""
    url: str = ""
    """``postgresql://user:password@host/db``: several workers share it. Exactly one of the two."""
    keep_text: Duration = 30 * 86400.0
    """Articles' text is blanked this long after they were seen (0: kept forever); what makes an item
    seen stays, so it never alerts twice. At least ``stories.window``, which rebuilds from it."""
    lease: Duration = Field(default=LEASE, gt=0)
    """How long a worker's claim on a feed, a channel's alerts or a Discord shard lasts unrenewed: a
    worker that dies leaves its work to the others after this."""

    @model_validator(mode="after")
    def _one_store(self) -> StoreConfig:
        if self.path and self.url:
            raise ValueError("give store.path (a SQLite file) or store.url (PostgreSQL), not both")
        if self.url and not self.url.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"store.url must start with postgresql:// (got {self.url.split('://')[0]}://…)")
        return self

    @property
    def location(self) -> str:
        """The URL, or the SQLite path (relative to the config file: :meth:`Config.store_location`)."""
        return self.url or self.path or DEFAULT_STORE_PATH


@dataclass(config=_STRICT)
class FeedConfig:
    url: str
    name: str = ""
    interval: Duration | None = None
    backfill: int = Field(default=0, ge=0)
    """When the feed is first fetched, alert on this many of its newest items (the rest are history)."""
    max_age: Duration | None = None
    """Items older than this never alert; default polling.max_age; 0 for no limit."""


@dataclass(config=_STRICT)
class PollingConfig:
    interval: Duration = 900.0
    min_interval: Duration = 300.0
    """Cache-Control max-age and RSS <ttl> are obeyed only within [min_interval, max_interval]."""
    max_interval: Duration = 6 * 3600.0
    max_age: Duration = 7 * 86400.0
    """Items published longer ago than this are recorded but never alerted."""
    timeout: Duration = 20.0
    max_body_bytes: int = Field(default=5_000_000, gt=0)
    concurrency: int = Field(default=20, gt=0)
    per_host: int = Field(default=2, gt=0)
    max_backoff: Duration = 6 * 3600.0
    user_agent: str = "newsbot/0.1 (+https://github.com/newsbot/newsbot)"


@dataclass(config=_STRICT)
class FeedHealthConfig:
    notify_after: Duration = 6 * 3600.0
    """A feed failing this long gets one notice to the channels that added it."""
    pause_after: Duration = 3 * 86400.0
    """Then a second notice, and the feed is paused (never silently)."""


@dataclass(config=_STRICT)
class ExtractionConfig:
    """Full text for items that carry only a teaser: the article page is fetched and extracted."""

    enabled: bool = True
    min_body_chars: int = Field(default=300, ge=0)
    timeout: Duration = 15.0


def _allowed_hosts(hosts: tuple[str, ...]) -> tuple[str, ...]:
    try:
        UrlPolicy(hosts)
    except ValueError as exc:
        raise ValueError(str(exc).removeprefix("allow_hosts: ")) from None
    return hosts


@dataclass(config=_STRICT)
class SafetyConfig:
    allow_hosts: Annotated[tuple[str, ...], AfterValidator(_allowed_hosts)] = ()
    """Hostnames, IP addresses or CIDR ranges exempt from the private/loopback/metadata address check
    that applies to every URL fetched (e.g. ``127.0.0.1`` in tests, an intranet feed host)."""


@dataclass(config=_STRICT)
class WebConfig:
    """The bot's own HTTP server: push intake (POST /articles), WebSub callbacks, /healthz."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str = ""
    """Where hubs can reach this server; WebSub subscriptions are made only when it is set."""
    webhook_secret_env: str = "NEWSBOT_WEBHOOK_SECRET"
    """Names the variable holding the secret that signs pushed articles; unset, push intake is off."""
    max_body_bytes: int = Field(default=1_000_000, gt=0)


def _parseable(query: str) -> str:
    try:
        parse_query(query, AliasTable.from_groups([]))
    except QueryError as exc:
        raise ValueError(str(exc)) from None
    return query


def _known_platform(name: str) -> str:
    known = [f.name for f in fields(PlatformsConfig)]
    if name not in known:
        raise ValueError(f"unknown platform (known: {', '.join(known)})")
    return name


@dataclass(config=_STRICT)
class SubscriptionConfig:
    """A subscription declared in the config file; added at start if the channel lacks it."""

    query: Annotated[str, AfterValidator(_parseable)]
    channel: str = "console"
    platform: Annotated[str, AfterValidator(_known_platform)] = "console"


@dataclass(config=_STRICT)
class MatchingConfig:
    aliases: tuple[tuple[str, ...], ...] = ()
    default_aliases: bool = True


@dataclass(config=_STRICT)
class StoriesConfig:
    """Same-story detection (docs/architecture.md, "Stories")."""

    window: Duration = Field(default=72 * 3600.0, gt=0)
    """How far back a new article is compared: articles older than this start a story of their own."""
    join: float = Field(default=0.45, gt=0, le=1)
    """The similarity (0-1) at which an article joins a story it shares names with; higher splits more."""


@dataclass(config=_STRICT)
class LlmConfig:
    """Optional abstractive summaries through an OpenAI-compatible chat-completions endpoint."""

    enabled: bool = False
    base_url: str = "https://api.openai.com/v1"
    model: str = "gpt-4o-mini"
    api_key_env: str = "OPENAI_API_KEY"
    timeout: Duration = 20.0
    max_input_chars: int = Field(default=12_000, ge=500)


@dataclass(config=_STRICT)
class SummaryConfig:
    max_sentences: int = Field(default=3, ge=1, le=10)
    max_chars: int = Field(default=600, ge=80, le=4000)
    llm: LlmConfig = Field(default_factory=LlmConfig)


@dataclass(config=_STRICT)
class DeliveryConfig:
    give_up_after: Duration = 86400.0
    """How long an alert is retried through a platform's trouble before it is kept as failed."""
    retry_base: Duration = 5.0
    retry_max: Duration = 3600.0
    batch: int = Field(default=50, ge=1)
    channel_rate: int = Field(default=10, ge=0)
    """Messages a channel may get a minute; more are folded into one digest, never dropped (0: no limit)."""

    @model_validator(mode="before")
    @classmethod
    def _replaced_keys(cls, values: Any) -> Any:
        if isinstance(values, dict) and "max_attempts" in values:
            raise ValueError(
                "max_attempts was replaced by give_up_after: how long to keep retrying an alert, e.g. 24h"
            )
        return values


@dataclass(config=_STRICT)
class PlatformsConfig:
    """One section a platform; its fields are the platforms the bot knows (see :mod:`bot.platforms`)."""

    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)

    def sections(self) -> list[tuple[str, PlatformSettings]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)]

    def enabled(self) -> list[str]:
        """The platforms to run: those set ``enabled: true``, and those set ``auto`` (the console) when
        no other is."""
        chosen = {name for name, section in self.sections() if section.enabled is True}
        return [
            name
            for name, section in self.sections()
            if name in chosen or (section.enabled == "auto" and not chosen)
        ]


@dataclass(config=_STRICT)
class LoggingConfig:
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "text"] = "auto"


@dataclass(config=_STRICT)
class Config:
    store: StoreConfig = Field(default_factory=StoreConfig)
    feeds: tuple[FeedConfig, ...] = ()
    polling: PollingConfig = Field(default_factory=PollingConfig)
    feed_health: FeedHealthConfig = Field(default_factory=FeedHealthConfig)
    extraction: ExtractionConfig = Field(default_factory=ExtractionConfig)
    safety: SafetyConfig = Field(default_factory=SafetyConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    subscriptions: tuple[SubscriptionConfig, ...] = ()
    matching: MatchingConfig = Field(default_factory=MatchingConfig)
    stories: StoriesConfig = Field(default_factory=StoriesConfig)
    summary: SummaryConfig = Field(default_factory=SummaryConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    platforms: PlatformsConfig = Field(default_factory=PlatformsConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    base_dir: str = "."
    """Directory of the config file; relative paths in it (store, file feeds) resolve against it."""

    def store_location(self) -> str:
        """Where :func:`bot.store.open_store` finds the store: a PostgreSQL URL, or the SQLite file's path."""
        return self.store.url or str(self.resolve(self.store.location))

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p

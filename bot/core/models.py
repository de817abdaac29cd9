"""The data that flows through the pipeline. Plain frozen dataclasses: no I/O, no behaviour beyond
derived views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, NamedTuple
from urllib.parse import urlsplit


class Span(NamedTuple):
    """A stretch of :attr:`Article.match_text` that made a query fire: ``match_text[start:end] == text``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Article:
    """An article after intake and cleaning. ``text`` is the cleaned body: no captions, credits,
    link teasers or branding. ``id`` is stable across fetches: the GUID within its feed, the canonical
    link, a content hash or the pushed id (:mod:`bot.core.identity`)."""

    id: str
    title: str
    text: str
    url: str = ""
    source: str = ""
    feed_url: str = ""
    published: datetime | None = None
    image_url: str = ""

    @property
    def match_text(self) -> str:
        """What matching sees and what span offsets refer to: the headline, a blank line, the body."""
        if self.title and self.text:
            return f"{self.title}\n\n{self.text}"
        return self.title or self.text

    @property
    def domain(self) -> str:
        host = urlsplit(self.url).hostname or ""
        return host.removeprefix("www.")


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """Where alerts go: a platform name from the notifier registry and that platform's ids."""

    platform: str
    channel_id: str
    workspace_id: str = ""

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.workspace_id}:{self.channel_id}"


Mode = Literal["instant", "hourly", "daily"]
MODES: Final[tuple[Mode, ...]] = ("instant", "hourly", "daily")
"""How a subscription's alerts go out, most urgent first: at once, or in an hourly or daily digest."""

DigestSchedule = Literal["off", "hourly", "daily"]
DIGEST_SCHEDULES: Final[tuple[DigestSchedule, ...]] = ("off", "hourly", "daily")
"""A whole channel's digest (``/news digest``): off, or every alert gathered hourly or daily."""

AlertKind = Literal["article", "notice", "digest"]


def mode_named(text: str) -> Mode | None:
    """The mode a person typed (``Daily`` is daily), or None."""
    folded = text.strip().lower()
    return next((mode for mode in MODES if mode == folded), None)


def digest_schedule_named(text: str) -> DigestSchedule | None:
    folded = text.strip().lower()
    return next((schedule for schedule in DIGEST_SCHEDULES if schedule == folded), None)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A channel's standing query. ``query`` is the canonical form; ``raw_query`` what was typed."""

    id: int
    channel: ChannelRef
    query: str
    raw_query: str
    created_by: str = ""
    mention: str = ""
    mode: Mode = "instant"
    paused: bool = False
    thread: bool = False
    """Post each alert in a thread of its own (a forum channel always does)."""
    user_paused: bool = False
    """Paused with ``/news pause``: it matches nothing until ``/news resume``. (``paused`` is the pause of
    a channel the bot lost access to, lifted when it is back.)"""

    @property
    def live(self) -> bool:
        """Whether it matches articles: paused neither by the channel's loss nor by a command."""
        return not (self.paused or self.user_paused)


@dataclass(frozen=True, slots=True)
class Match:
    """One subscription that fired on one article, with the spans that made it fire."""

    subscription: Subscription
    spans: tuple[Span, ...]

    @property
    def terms(self) -> tuple[str, ...]:
        return unique_terms(self.spans)


def unique_terms(spans: tuple[Span, ...] | list[Span]) -> tuple[str, ...]:
    """Matched words in order of first appearance, each once (case-insensitively)."""
    seen: dict[str, str] = {}
    for span in sorted(spans):
        seen.setdefault(span.text.casefold(), span.text)
    return tuple(seen.values())


@dataclass(frozen=True, slots=True)
class Summary:
    text: str
    sentences: tuple[str, ...] = ()
    method: str = "extractive"


@dataclass(frozen=True, slots=True)
class Headline:
    """One story of a digest: its title, its link and its outlet, for a line that opens it."""

    title: str
    url: str
    source: str


@dataclass(frozen=True, slots=True)
class Alert:
    """One message for one channel about one story. ``id`` is deterministic so the outbox can refuse a
    second alert for the same story in the same channel."""

    id: str
    channel: ChannelRef
    story_id: str
    title: str
    url: str
    source: str
    summary: str
    terms: tuple[str, ...]
    queries: tuple[str, ...]
    published: datetime | None = None
    image_url: str = ""
    mention: str = ""
    kind: AlertKind = "article"
    """"article" for a story; "notice" for a message about the bot itself (a feed failing);
    "digest" for several alerts sent as one message."""
    also: tuple[str, ...] = ()
    """Other outlets that reported the same story after the alert was made."""
    mode: Mode = "instant"
    """The most urgent mode of the subscriptions that fired."""
    thread: bool = False
    """A subscription that fired asked for the alert to open a thread."""
    headlines: tuple[Headline, ...] = ()
    """For a digest: the stories it stands for, in order (``summary`` lists them as plain text)."""


@dataclass(frozen=True, slots=True)
class MessageRef:
    """What a notifier returns for a sent message, enough to edit it later."""

    platform: str
    channel_id: str
    message_id: str


@dataclass(frozen=True, slots=True)
class FeedState:
    """A feed and what the poller remembers about it between fetches. Times are epoch seconds."""

    url: str
    name: str = ""
    interval: float | None = None
    etag: str = ""
    last_modified: str = ""
    body_hash: str = ""
    next_fetch_at: float = 0.0
    failures: int = 0
    last_error: str = ""
    last_success_at: float | None = None
    backfill: int = 0
    """On the first successful fetch, only this many of the newest items may alert (no flood)."""
    max_age: float | None = None
    """Items older than this many seconds never alert; None: the polling default; 0: no limit."""
    failing_since: float | None = None
    health_stage: int = 0
    """0 healthy or not yet reported, 1 failure notice sent, 2 paused after a second notice."""
    paused: bool = False

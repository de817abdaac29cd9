"""The articles the bot has seen and the story keys that join them into stories."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.models import Alert, Article


@dataclass(frozen=True, slots=True)
class Processed:
    """An article after story assignment, ready to be recorded as seen."""

    article: Article
    story_id: str
    story_keys: tuple[str, ...] = ()
    quiet: bool = False
    """Recorded as history (a new feed's backlog, past max age): never alerted."""
    feed_hash: str = ""
    """The content hash of the article as its feed had it, before full text was fetched: what a
    later fetch is compared with to tell an update."""
    story_entry: str = ""
    """The article in the story detector's window (:func:`bot.stories.encode`), to rebuild it at start."""
    story_why: str = ""
    """How its story was decided (:meth:`bot.stories.StoryDecision.to_json`), for /news why."""


@dataclass(frozen=True, slots=True)
class StoryRow:
    """An article's place in the story window, as recorded (:class:`bot.stories.StoredEntry`)."""

    article_id: str
    story_id: str
    at: float
    title: str
    source: str
    entry: str


@dataclass(frozen=True, slots=True)
class SeenArticle:
    """An article the bot has recorded, as /news preview and /news why look back at it."""

    article: Article
    story_id: str
    seen_at: float
    quiet: bool
    story_why: str = ""


class ArticleStore(Protocol):
    """Seen articles (new, changed, recent, by link) and story keys. :meth:`record_processed` also
    queues alerts in the outbox, in the same transaction that marks their articles seen. Every method
    raises :class:`bot.core.errors.StoreError` on a storage failure and nothing else."""

    async def unseen(self, articles: Sequence[Article]) -> list[Article]:
        """The articles whose id was never recorded, in input order. Records nothing."""
        ...

    async def changed(self, articles: Sequence[Article]) -> list[Article]:
        """Articles already seen whose title or body has changed since: updates, not new articles."""
        ...

    async def record_updates(self, articles: Sequence[Article]) -> None: ...

    async def linked_stories(self, keys: Sequence[str], since: float) -> dict[str, tuple[str, float]]:
        """Of ``keys``, those linked to a story at or after ``since``: key -> (story, when). One call for
        a whole batch's keys."""
        ...

    async def story_window(self, since: float) -> list[StoryRow]:
        """The story entries of the articles seen at or after ``since``, oldest first."""
        ...

    async def record_processed(
        self, processed: Sequence[Processed], alerts: Sequence[Alert], now: float
    ) -> int:
        """In one transaction: mark the articles seen, link their stories, queue the alerts (an alert id
        already in the outbox gains the new alert's source in ``also``, and its message is marked for
        an edit when it was already posted). Returns how many alerts were queued. A crash before this
        commits leaves the articles unseen, so they are processed again: nothing is lost."""
        ...

    async def recent_articles(self, limit: int) -> list[SeenArticle]:
        """The most recently seen articles, newest first."""
        ...

    async def find_article(self, canonical_url: str) -> SeenArticle | None:
        """The article seen under this canonical link, if any (the newest when several were)."""
        ...

    async def prune_text(self, before: float) -> int:
        """Blank the text and story-window entry of the articles seen before ``before``, and forget the
        story keys linked before it (``store.keep_text``; ``before`` is never inside the story window).
        The rows stay, ids, content hash, canonical link and story included, so an old item fetched
        again is still seen and never alerts twice. Returns how many articles lost their text."""
        ...

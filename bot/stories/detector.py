"""Story assignment for the pipeline and replay: fingerprint, candidates, decision, window. Holds the
window in memory; the store keeps each article's entry (:func:`encode`) so that a restart rebuilds the
same window (:meth:`StoryDetector.restore`)."""

from __future__ import annotations

import json
import sys
from array import array
from collections.abc import Iterable
from typing import Protocol

from bot.core.models import Article
from bot.stories.decide import JOIN, StoryDecision, decide
from bot.stories.fingerprint import fingerprint
from bot.stories.index import Entry, StoryIndex

WINDOW = 72 * 3600.0


class StoredEntry(Protocol):
    """An article's entry as the store keeps it (:class:`bot.store.articles.StoryRow`)."""

    @property
    def article_id(self) -> str: ...
    @property
    def story_id(self) -> str: ...
    @property
    def at(self) -> float: ...
    @property
    def title(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def entry(self) -> str:
        """:func:`encode`'s text; empty for an article recorded before stories were detected."""
        ...


class StoryDetector:
    def __init__(self, window: float = WINDOW, join: float = JOIN) -> None:
        self.index = StoryIndex(window)
        self.join = join

    def assign(self, article: Article, now: float, known: str | None = None) -> tuple[StoryDecision, Entry]:
        """The article's story, and its entry, now in the window. ``known``: the story an earlier article
        with the same link or headline is in, which the article joins whatever its words."""
        self.index.expire(now)
        fp = fingerprint(article.title, article.text)
        vector = self.index.vector(fp)
        published = article.published.timestamp() if article.published else now
        published = min(published, now)
        if known is not None:
            state = self.index.story(known)
            decision = StoryDecision(known, state.edition if state else known, 1.0, reason="link or headline")
        else:
            candidates = list(self.index.candidates(vector, now))
            stories = {e.story_id: s for e in candidates if (s := self.index.story(e.story_id)) is not None}
            decision = decide(
                article.id, vector, fp.names, fp.facts, published, candidates, stories, join=self.join
            )
        terms = tuple(map(sys.intern, vector))  # one string per word, however many articles hold it
        entry = Entry(
            article_id=article.id,
            story_id=decision.story_id,
            edition=decision.edition,
            at=now,
            published=published,
            terms=terms,
            weights=array("f", vector.values()),
            names=sum(1 << i for i, t in enumerate(terms) if t in fp.names),
            facts=tuple(sorted(fp.facts)),
            title=article.title,
            source=article.source,
        )
        self.index.add(entry)
        return decision, entry

    def restore(self, stored: Iterable[StoredEntry], now: float) -> int:
        """Rebuild the window from the store's entries, oldest first, or add those other workers recorded
        (an article the window holds already is left as it is); returns how many were taken."""
        taken = 0
        for row in stored:
            if row.article_id in self.index:
                continue
            entry = decode(row)
            if entry is not None and entry.at >= now - self.index.window:
                self.index.add(entry)
                taken += 1
        return taken


def encode(entry: Entry) -> str:
    return json.dumps(
        {
            "p": round(entry.published, 1),
            "t": list(entry.terms),
            "w": [round(w, 4) for w in entry.weights],
            "e": entry.edition,
            "n": entry.names,
            "f": list(entry.facts),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def decode(row: StoredEntry) -> Entry | None:
    """The entry, or None when there is none or it cannot be read (then the article is not in the
    window: a later article can no longer join its story by similarity, and nothing else is lost)."""
    if not row.entry:
        return None
    try:
        data = json.loads(row.entry)
        terms = tuple(sys.intern(str(t)) for t in data["t"])
        weights = array("f", (float(w) for w in data["w"]))
        if len(terms) != len(weights):
            return None
        return Entry(
            article_id=row.article_id,
            story_id=row.story_id,
            edition=str(data["e"]),
            at=row.at,
            published=float(data["p"]),
            terms=terms,
            weights=weights,
            names=int(data["n"]),
            facts=tuple(str(f) for f in data["f"]),
            title=row.title,
            source=row.source,
        )
    except (ValueError, KeyError, TypeError):
        return None

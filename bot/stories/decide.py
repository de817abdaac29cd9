"""Which story a new article belongs to: the decision, from the article's vector and the window's
candidates. Pure.

The rule (docs/architecture.md, "Stories"):

- **Similarity** is the square root of the cosine of the two articles' weighted words (see
  :mod:`bot.stories.index`): 1 for the same text, about 0.45 for two reports of one event in their own
  words, lower for two stories on one subject.
- **Joining** needs ``similarity >= join`` (0.45 by default) *and* names in common: at least
  :data:`NAME_SHARE` of the similarity must come from words that are names in both articles (people,
  places, organisations). Two earthquakes, two rehab stories or two rate decisions share their
  vocabulary, not their names, and stay apart. A near copy (``similarity >= NEAR_COPY``) joins
  whatever its names.
- **Headline numbers** tell events apart: two headlines that both carry numbers and share none of them
  ("M 4.3 quake near Anza", "M 5.1 quake near Ojai"; "Bulletin 7", "Bulletin 8") are two stories, however
  alike their text (templated feeds). A toll revised within hours ("kills 20", "kills 39") splits too:
  precision comes before recall, since a wrong merge hides news and a wrong split costs one alert.
- **A new development** of a joined story starts a story of its own (and so a new alert): when it comes
  :data:`DEVELOPMENT_AFTER` or more after the story began and its headline carries a name or a number
  that no earlier headline of the story had ("death toll rises to 39", "ceasefire agreed in Doha").
  Rewrites of the same facts hours later stay in the story.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace

from bot.stories.index import Entry, StoryState

JOIN = 0.45
NEAR_COPY = 0.8
NAME_SHARE = 0.15
DEVELOPMENT_AFTER = 6 * 3600.0
EVIDENCE_WORDS = 6


@dataclass(frozen=True, slots=True)
class StoryDecision:
    story_id: str
    score: float
    """Similarity with the closest article of the window (0 when there was none)."""
    joined: str = ""
    """The article it joined, if it joined one."""
    evidence: tuple[str, ...] = ()
    """The words that weighed most in the similarity, names first."""
    reason: str = "new"
    """"new" (nothing close), "joined", "near-copy", "development" (close, but a new development), or
    "link"/"headline" (the same link or headline as an earlier article)."""
    closest_title: str = ""
    closest_source: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> StoryDecision | None:
        """None for an article recorded before stories were decided, or a record that cannot be read."""
        try:
            data = json.loads(text)
            data["evidence"] = tuple(data["evidence"])
            return cls(**data)
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True, slots=True)
class Scored:
    entry: Entry
    score: float
    name_share: float
    shared: tuple[str, ...]


def score(vector: dict[str, float], names: frozenset[str], entry: Entry) -> Scored:
    dot = 0.0
    by_names = 0.0
    parts: list[tuple[float, str]] = []
    for term, weight in zip(entry.terms, entry.weights, strict=True):
        mine = vector.get(term)
        if mine is None:
            continue
        part = mine * weight
        dot += part
        named = term in names and term in entry.names
        if named:
            by_names += part
        parts.append((part * (2.0 if named else 1.0), term))
    parts.sort(reverse=True)
    share = by_names / dot if dot > 0 else 0.0
    return Scored(entry, math.sqrt(max(dot, 0.0)), share, tuple(t for _, t in parts[:EVIDENCE_WORDS]))


def decide(
    article_id: str,
    vector: dict[str, float],
    names: frozenset[str],
    facts: frozenset[str],
    published: float,
    candidates: Iterable[Entry],
    story_of: dict[str, StoryState],
    *,
    join: float = JOIN,
) -> StoryDecision:
    """The story of the closest candidate that passes the rule above, else a new story named after
    ``article_id``. ``story_of`` maps the candidates' story ids to what is known of those stories."""
    best: Scored | None = None
    closest: Scored | None = None
    numbers = _numbers(facts)
    for entry in candidates:
        if entry.article_id == article_id:
            continue
        theirs = _numbers(entry.facts)
        if numbers and theirs and not numbers & theirs:
            continue
        s = score(vector, names, entry)
        if closest is None or s.score > closest.score:
            closest = s
        if (s.score >= NEAR_COPY or (s.score >= join and s.name_share >= NAME_SHARE)) and (
            best is None or s.score > best.score
        ):
            best = s
    if best is None:
        shown = closest
        return StoryDecision(
            article_id,
            round(shown.score, 3) if shown else 0.0,
            evidence=shown.shared if shown else (),
            closest_title=shown.entry.title if shown else "",
            closest_source=shown.entry.source if shown else "",
        )
    joined = StoryDecision(
        best.entry.story_id,
        round(best.score, 3),
        joined=best.entry.article_id,
        evidence=best.shared,
        reason="near-copy" if best.score >= NEAR_COPY else "joined",
        closest_title=best.entry.title,
        closest_source=best.entry.source,
    )
    story = story_of.get(best.entry.story_id)
    if story is not None and published - story.began >= DEVELOPMENT_AFTER and facts - story.facts:
        return replace(joined, story_id=article_id, reason="development")
    return joined


def _numbers(facts: frozenset[str]) -> frozenset[str]:
    return frozenset(f for f in facts if f[0].isdigit())

"""Which story a new article belongs to, and which alert it goes under: the decision, from the article's
vector and the window's candidates. Pure.

The rule (docs/architecture.md, "Stories"):

- **Similarity** is the square root of the cosine of the two articles' weighted words (see
  :mod:`bot.stories.index`): 1 for the same text, about 0.5 to 0.7 for two reports of one event in
  their own words, lower for two stories on one subject.
- **Joining** needs ``similarity >= join`` (0.45 by default) *and* names in common: at least
  :data:`NAME_SHARE` of the similarity must come from words that are names in both articles (people,
  places, organisations). Two earthquakes, two rehab stories or two rate decisions share their
  vocabulary, not their names, and stay apart. A near copy (``similarity >= NEAR_COPY``) joins
  whatever its names.
- **Headline numbers** tell templated items apart: two articles whose words other than numbers are
  alike enough to be one template filled twice (``>= TEMPLATE``) and whose headlines both carry
  numbers and share none of them
  ("M 4.3 quake near Anza", "M 5.1 quake near Ojai"; "Bulletin 7", "Bulletin 8") are two stories.
  Below that, the articles are written differently and their numbers may differ for good reasons (a
  toll revised, "26 GW" in one, "23 GW" in another): the names decide.
- **A new development** stays in its story but gets an alert of its own (a new *edition*): when it
  comes :data:`DEVELOPMENT_AFTER` or more after the story's current edition began, and its headline
  carries a number no earlier headline of the story had, or a name that neither those headlines nor
  the story's closest articles named ("death toll rises to 39", "ceasefire agreed in Doha"). A rewrite
  of the same facts hours later goes under the current edition: it edits that alert.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

from bot.stories.index import Entry, StoryState

JOIN = 0.45
NEAR_COPY = 0.9
NAME_SHARE = 0.15
TEMPLATE = 0.9
DEVELOPMENT_AFTER = 6 * 3600.0
EVIDENCE_WORDS = 6


@dataclass(frozen=True, slots=True)
class StoryDecision:
    story_id: str
    edition: str
    """The key the article's alerts go under: the story's current edition, or its own id when it is a
    development (or a new story)."""
    score: float
    """Similarity with the closest article of the window (0 when there was none)."""
    joined: str = ""
    """The article it joined, if it joined one."""
    evidence: tuple[str, ...] = ()
    """The words that weighed most in the similarity, names first."""
    reason: str = "new"
    """"new" (nothing close enough), "joined", "near-copy", "development" (joined, with an alert of its
    own), or "link or headline" (the same link or headline as an earlier article)."""
    closest_title: str = ""
    closest_source: str = ""
    new_facts: tuple[str, ...] = ()
    """For a development: the headline's names and numbers the story had not carried."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> StoryDecision | None:
        """None for an article recorded before stories were decided, or a record that cannot be read."""
        try:
            data = json.loads(text)
            data["evidence"] = tuple(data["evidence"])
            data["new_facts"] = tuple(data.get("new_facts", ()))
            return cls(**data)
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True, slots=True)
class Scored:
    entry: Entry
    score: float
    name_share: float


def score(vector: Mapping[str, float], names: frozenset[str], entry: Entry) -> Scored:
    dot = by_names = 0.0
    mask = entry.names
    for i, term in enumerate(entry.terms):
        mine = vector.get(term)
        if mine is not None:
            part = mine * entry.weights[i]
            dot += part
            if mask >> i & 1 and term in names:
                by_names += part
    return Scored(entry, math.sqrt(max(dot, 0.0)), by_names / dot if dot > 0 else 0.0)


def evidence(vector: Mapping[str, float], names: frozenset[str], entry: Entry) -> tuple[str, ...]:
    """The shared words that weigh most in the similarity, a shared name counting double."""
    parts = []
    for i, term in enumerate(entry.terms):
        if term in vector:
            named = entry.names >> i & 1 and term in names
            parts.append((vector[term] * entry.weights[i] * (2.0 if named else 1.0), term))
    parts.sort(reverse=True)
    return tuple(t for _, t in parts[:EVIDENCE_WORDS])


def decide(
    article_id: str,
    vector: Mapping[str, float],
    names: frozenset[str],
    facts: frozenset[str],
    published: float,
    candidates: Sequence[Entry],
    stories: Mapping[str, StoryState],
    *,
    join: float = JOIN,
) -> StoryDecision:
    """The story of the closest candidate that passes the rule above, else a new story named after
    ``article_id``. ``stories`` maps the candidates' story ids to what is known of those stories."""
    best: Scored | None = None
    closest: Scored | None = None
    numbers = _numbers(facts)
    for entry in candidates:
        if entry.article_id == article_id:
            continue
        theirs = _numbers(entry.facts)
        if numbers and theirs and not numbers & theirs and _wording(vector, entry) >= TEMPLATE:
            continue
        s = score(vector, names, entry)
        if closest is None or s.score > closest.score:
            closest = s
        if (s.score >= NEAR_COPY or (s.score >= join and s.name_share >= NAME_SHARE)) and (
            best is None or s.score > best.score
        ):
            best = s
    if best is None:
        return StoryDecision(
            article_id,
            article_id,
            round(closest.score, 3) if closest else 0.0,
            evidence=evidence(vector, names, closest.entry) if closest else (),
            closest_title=closest.entry.title if closest else "",
            closest_source=closest.entry.source if closest else "",
        )
    story_id = best.entry.story_id
    state = stories.get(story_id)
    edition, reason = (state.edition if state else best.entry.edition), "joined"
    new_facts: tuple[str, ...] = ()
    if best.score >= NEAR_COPY:
        reason = "near-copy"
    elif state is not None and published - state.began >= DEVELOPMENT_AFTER:
        known = set(state.facts).union(*(e.name_set() for e in candidates if e.story_id == story_id))
        if new_facts := tuple(sorted(facts - known)):
            edition, reason = article_id, "development"
    return StoryDecision(
        story_id,
        edition,
        round(best.score, 3),
        joined=best.entry.article_id,
        evidence=evidence(vector, names, best.entry),
        reason=reason,
        closest_title=best.entry.title,
        closest_source=best.entry.source,
        new_facts=new_facts,
    )


def _wording(vector: Mapping[str, float], entry: Entry) -> float:
    """The similarity of the two articles' words other than numbers: a template filled twice scores
    about 1, however different the numbers it was filled with."""
    mine = {t: w for t, w in vector.items() if not t[0].isdigit()}
    theirs = {t: w for t, w in zip(entry.terms, entry.weights, strict=True) if not t[0].isdigit()}
    norms = math.sqrt(sum(w * w for w in mine.values()) * sum(w * w for w in theirs.values()))
    dot = sum(w * theirs.get(t, 0.0) for t, w in mine.items())
    return math.sqrt(max(dot, 0.0) / norms) if norms else 0.0


def _numbers(facts: Iterable[str]) -> frozenset[str]:
    return frozenset(f for f in facts if f[0].isdigit())

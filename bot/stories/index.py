"""The window of recent articles the story detector compares a new one with. In memory, rebuilt from the
store at start; no I/O here.

Each article is kept as its :data:`TERMS_KEPT` heaviest words (log count times inverse document
frequency over the articles seen, at the time it came: see :data:`DF_MEMORY`) normalised to length 1,
which is what cosine similarity needs and bounds its memory. Candidates come from an inverted index
over each article's :data:`TERMS_INDEXED` heaviest words: an article of the same story shares some of
its rarest words (names, places, figures). A new article walks the postings of its
:data:`TERMS_WALKED` heaviest words that the index knows; a word in more than :data:`POSTINGS_WALKED`
articles of the window says too little to be walked at all.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from bot.stories.fingerprint import Fingerprint

TERMS_KEPT = 64
TERMS_INDEXED = 24
TERMS_WALKED = 16
POSTINGS_WALKED = 500
DF_MEMORY = 200_000
"""How many articles the word statistics (document frequencies) remember, about: more than the window
holds on a quiet bot, so that a window of a few dozen articles still knows which words are common."""
CANDIDATES = 12


@dataclass(slots=True)
class Entry:
    """One article in the window."""

    article_id: str
    story_id: str
    edition: str
    """The alert key the article was alerted under: its story's, or a development's (bot/stories/decide)."""
    at: float
    """When it came (the store's seen_at): the window drops it ``window`` seconds later."""
    published: float
    """Its own date (``at`` when it has none): what the development rule compares."""
    terms: tuple[str, ...]
    weights: array[float]
    names: int
    """Which of ``terms`` are names, as bits (bit i: ``terms[i]``): an int costs less than a set."""
    facts: tuple[str, ...]
    title: str
    source: str

    def name_set(self) -> frozenset[str]:
        return frozenset(t for i, t in enumerate(self.terms) if self.names >> i & 1)


@dataclass(slots=True)
class StoryState:
    """What the window knows of a story: when its current edition began, its key, and the headline facts
    its articles carried."""

    edition: str
    began: float
    facts: set[str] = field(default_factory=set)
    size: int = 0


class StoryIndex:
    def __init__(self, window: float) -> None:
        self.window = window
        self._entries: dict[int, Entry] = {}
        self._slots: dict[str, int] = {}
        """article id -> its slot: an article added again replaces itself."""
        self._postings: dict[str, list[int]] = {}
        self._df: Counter[str] = Counter()
        self._docs = 0.0
        """Articles counted in ``_df``: every article since start (or since the window was rebuilt),
        halved whenever it passes :data:`DF_MEMORY`, with the counts."""
        self._stories: dict[str, StoryState] = {}
        self._next = 0
        self._stale = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._slots

    def idf(self, term: str) -> float:
        return math.log((self._docs + 2) / (self._df.get(term, 0) + 1)) + 1.0

    def vector(self, fp: Fingerprint) -> dict[str, float]:
        """The article's weighted words as the window weighs them now, normalised, heaviest kept."""
        weights = {t: (1.0 + math.log(c)) * self.idf(t) for t, c in fp.counts.items()}
        kept = sorted(weights, key=lambda t: (-weights[t], t))[:TERMS_KEPT]
        norm = math.sqrt(sum(weights[t] ** 2 for t in kept)) or 1.0
        return {t: weights[t] / norm for t in kept}

    def candidates(self, vector: dict[str, float], now: float) -> Iterator[Entry]:
        """Up to :data:`CANDIDATES` entries in the window sharing the most of the vector's rarest words,
        most shared first."""
        oldest = now - self.window
        live = self._entries
        shared: Counter[int] = Counter()
        walked = 0
        for term in sorted(vector, key=lambda t: -vector[t]):
            slots = self._postings.get(term)
            if not slots or len(slots) > POSTINGS_WALKED:
                continue  # a word new to the window weighs most and finds nothing; a common one says little
            # Postings still name dropped articles until the next compaction: they must not take the
            # places of live ones among the candidates.
            shared.update(slot for slot in slots if slot in live)
            walked += 1
            if walked == TERMS_WALKED:
                break
        taken = 0
        for slot, _ in shared.most_common():
            entry = live[slot]
            if entry.at >= oldest:
                yield entry
                taken += 1
                if taken == CANDIDATES:
                    return

    def story(self, story_id: str) -> StoryState | None:
        return self._stories.get(story_id)

    def add(self, entry: Entry) -> None:
        """Put an article in the window (in place of an earlier version of it)."""
        if entry.article_id in self._slots:
            self._drop(self._slots.pop(entry.article_id))
        slot = self._next
        self._next += 1
        self._entries[slot] = entry
        self._slots[entry.article_id] = slot
        self._df.update(entry.terms)
        self._docs += 1
        if self._docs > DF_MEMORY:
            self._forget()
        by_weight = sorted(range(len(entry.terms)), key=lambda i: -entry.weights[i])
        for i in by_weight[:TERMS_INDEXED]:
            self._postings.setdefault(entry.terms[i], []).append(slot)
        state = self._stories.get(entry.story_id)
        if state is None:
            state = self._stories[entry.story_id] = StoryState(entry.edition, entry.published)
        elif entry.edition != state.edition:  # a development: the story's alerts go under its key now
            state.edition, state.began = entry.edition, entry.published
        state.facts.update(entry.facts)
        state.size += 1

    def expire(self, now: float) -> int:
        """Drop what came before the window; returns how many went."""
        oldest = now - self.window
        gone = []
        for slot, entry in self._entries.items():  # in the order they came: the oldest first
            if entry.at >= oldest:
                break
            gone.append(slot)
        for slot in gone:
            self._slots.pop(self._entries[slot].article_id, None)
            self._drop(slot)
        if self._stale > max(1000, len(self._entries)):
            self._compact()
        return len(gone)

    def entries(self) -> Iterable[Entry]:
        return self._entries.values()

    def _drop(self, slot: int) -> None:
        entry = self._entries.pop(slot)
        self._stale += TERMS_INDEXED
        state = self._stories.get(entry.story_id)
        if state is not None:
            state.size -= 1
            if state.size <= 0:
                del self._stories[entry.story_id]

    def _forget(self) -> None:
        """Halve the document frequencies: recent articles weigh as much as all before them."""
        self._df = Counter({t: c // 2 for t, c in self._df.items() if c > 1})
        self._docs /= 2

    def _compact(self) -> None:
        """Postings still name dropped slots (dropping walks no postings); rewrite them once enough did."""
        live = self._entries
        self._postings = {
            t: kept for t, slots in self._postings.items() if (kept := [s for s in slots if s in live])
        }
        self._stale = 0

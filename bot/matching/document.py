"""An article tokenised once for matching: every query and the index look at the same token tables.

Tokenising builds the token tables; what only some queries need (adjacent pairs, spans, sorted words
for prefixes) is built on first use and kept.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from functools import partial
from typing import Final
from urllib.parse import urlsplit

from bot.core.models import Article, Span
from bot.matching.text import (
    C_SPAN,
    C_SPANS,
    NORMS,
    Norm,
    is_shouting,
    normalise,
    possessive_trim,
    token_tables,
    words,
)

_new_span: Final[Callable[[tuple[int, int, str]], Span]] = partial(tuple.__new__, Span)
"""Builds a Span without NamedTuple's Python-level ``__new__`` (spans are made by the thousand)."""

LINE_GAP = 1000
"""Token positions jump by this much at each line break, so that phrases and ``NEAR`` never span lines
(headline and body are on different lines)."""

SITE = "\x01site:"
SOURCE = "\x01source:"
"""Prefixes of the synthetic anchor keys that let the index find ``site:`` and ``source:`` terms."""


def sorted_spans(found: Sequence[Span]) -> tuple[Span, ...]:
    """Sorted and de-duplicated. A tuple already is: tuples only come from :meth:`Document.spans_at`
    (given sorted, distinct tokens, as every caller does), :meth:`Document.key_hits` and
    :meth:`Document.base_hits`, or hold one span (a two-word phrase's, in the index); whatever joins two
    sequences of spans makes a list."""
    if type(found) is tuple:
        return found
    return tuple(sorted(set(found)))


def domain_of(url: str) -> str:
    host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    return host.removeprefix("www.")


_ASCII_LOWER: Final = re.compile("[a-z]").search

_OUTLETS: dict[tuple[str, str], tuple[tuple[str, ...], frozenset[str]]] = {}
"""(domain, source name) -> what :func:`_outlet_keys` makes of them: a feed's articles share both."""


def _outlet_keys(domain: str, source: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The keys of a source name, and the anchor keys that ``site:`` and ``source:`` terms are filed
    under for this domain and source name."""
    found = _OUTLETS.get((domain, source))
    if found is None:
        source_keys = tuple(n.key for n in words(source))
        anchors: set[str] = {SOURCE + k for k in source_keys}
        if domain:
            labels = domain.split(".")
            anchors.update(SITE + ".".join(labels[i:]) for i in range(len(labels)))
            anchors.update(SITE + label for label in labels)
        found = (source_keys, frozenset(anchors))
        if len(_OUTLETS) >= 10_000:
            _OUTLETS.clear()
        _OUTLETS[domain, source] = found
    return found


class Document:
    """Title + body as :attr:`bot.core.models.Article.match_text` joins them, plus source name and domain.

    Token ``i`` is ``surfaces[i] == text[starts[i]:ends[i]]``; ``norms[i]`` are its normal forms (see
    :mod:`bot.matching.text`) and ``keys[i]`` its key; ``by_key`` maps a key to token indices;
    ``outlet_keys`` are the anchor keys of its domain and source name (which no token key can equal:
    they start with a control character), shared by every article of the outlet; and
    ``base_norms`` a folded word to the normal forms of one of its tokens; ``positions`` count words,
    jumping at line breaks; tokens before ``n_title`` are the headline; ``unknown_case`` holds the tokens
    on lines set entirely in capitals, whose case says nothing.
    """

    __slots__ = (
        "_base_cache",
        "_base_norms",
        "_ends",
        "_key_cache",
        "_norms",
        "_positions",
        "_sorted_bases",
        "by_key",
        "domain",
        "keys",
        "n_title",
        "outlet_keys",
        "source",
        "source_keys",
        "starts",
        "surfaces",
        "text",
        "title",
        "unknown_case",
        "url",
    )

    def __init__(self, title: str, body: str, source: str = "", url: str = "") -> None:
        self.title = title
        self.source = source
        self.url = url
        self.text = text = f"{title}\n\n{body}" if title and body else title or body
        self.domain = domain = domain_of(url) if url else ""

        # The normal forms beyond the key, and where tokens end, are found when first used.
        starts, surfaces, keys, by_key = token_tables(text)
        self.starts, self.surfaces = starts, surfaces
        self.keys = keys
        self.by_key = by_key
        self.n_title = bisect_left(starts, len(title)) if title else 0
        self.unknown_case = self._shouting_tokens()

        self.source_keys, self.outlet_keys = _outlet_keys(domain, source)
        self._norms: list[Norm] | None = None
        self._ends: list[int] | None = None
        self._positions: list[int] | None = None
        self._base_norms: dict[str, Norm] | None = None
        self._sorted_bases: list[str] | None = None
        self._key_cache: dict[str, tuple[Span, ...]] = {}
        self._base_cache: dict[str, tuple[Span, ...]] = {}

    @classmethod
    def from_article(cls, article: Article) -> Document:
        return cls(article.title, article.text, article.source, article.url)

    @property
    def ends(self) -> list[int]:
        """Where each token ends (the spans compute it from ``starts`` and ``surfaces`` themselves)."""
        if self._ends is None:
            self._ends = [
                start + len(surface) for start, surface in zip(self.starts, self.surfaces, strict=True)
            ]
        return self._ends

    @property
    def norms(self) -> list[Norm]:
        """The normal forms of each token (only case-sensitive terms and prefixes need more than keys)."""
        if self._norms is None:
            cached = NORMS.get
            self._norms = [cached(s) or normalise(s) for s in self.surfaces]
        return self._norms

    def _shouting_tokens(self) -> frozenset[int]:
        unknown: list[int] = []
        starts = self.starts
        line_start = 0
        for line in self.text.split("\n"):
            line_end = line_start + len(line)
            # A lower-case ASCII letter, found within a few characters, says no (is_shouting copies the line).
            if _ASCII_LOWER(line) is None and is_shouting(line):
                unknown.extend(range(bisect_left(starts, line_start), bisect_left(starts, line_end)))
            line_start = line_end + 1
        return frozenset(unknown)

    @property
    def positions(self) -> list[int]:
        """Word positions: the token index plus :data:`LINE_GAP` per line break before it."""
        if self._positions is None:
            newlines = [m.start() for m in re.finditer("\n", self.text)]
            if newlines:
                lines = map(partial(bisect_right, newlines), self.starts)
                self._positions = [i + LINE_GAP * line for i, line in enumerate(lines)]
            else:
                self._positions = list(range(len(self.starts)))
        return self._positions

    @property
    def base_norms(self) -> dict[str, Norm]:
        """Distinct folded words (before plural stripping) -> the normal form of one of their tokens."""
        if self._base_norms is None:
            cached = NORMS.get
            self._base_norms = found = {}
            for surface in dict.fromkeys(self.surfaces):  # each distinct surface once, in order
                norm = cached(surface) or normalise(surface)
                found[norm.base] = norm
        return self._base_norms

    def base_tokens(self, base: str) -> Sequence[int]:
        """Token indices of this folded word, in order."""
        norm = self.base_norms.get(base)
        if norm is None:
            return ()
        # A folded word has one key, so its tokens are among the key's: most often all of them.
        hits = self.by_key[norm.key]
        if len(hits) > 1:
            norms = self.norms
            for i in hits:
                if norms[i].base != base:
                    return [i for i in hits if norms[i].base == base]
        return hits

    def spans_at(self, indices: Sequence[int]) -> Sequence[Span]:
        """The spans of these tokens, sorted and distinct (a possessive ``'s`` left out: "NATO's"
        highlights "NATO"). ``indices`` must be sorted and distinct."""
        if C_SPANS is not None:
            return C_SPANS(Span, self.text, self.starts, self.surfaces, indices)
        starts, surfaces = self.starts, self.surfaces
        spans = []
        previous = -1
        for i in indices:
            if i <= previous:
                raise ValueError("token indices must be sorted and distinct")
            previous = i
            surface = surfaces[i]
            if possessive_trim(surface):
                spans.append(self.span(i, i))
            else:
                spans.append(_new_span((starts[i], starts[i] + len(surface), surface)))
        return tuple(spans)

    def sorted_bases(self) -> list[str]:
        """The distinct folded words, sorted (for prefix lookups)."""
        if self._sorted_bases is None:
            self._sorted_bases = sorted(self.base_norms)
        return self._sorted_bases

    def prefix_hits(self, prefix: str) -> list[int]:
        """Token indices whose folded word starts with ``prefix``."""
        bases = self.sorted_bases()
        i = bisect_left(bases, prefix)
        found: list[int] = []
        while i < len(bases) and bases[i].startswith(prefix):
            found.extend(self.base_tokens(bases[i]))
            i += 1
        return found

    def span(self, first: int, last: int) -> Span:
        """The span from token ``first`` to token ``last`` (inclusive)."""
        if C_SPAN is not None:
            return C_SPAN(Span, self.text, self.starts, self.surfaces, first, last)
        if not 0 <= first <= last < len(self.starts):
            raise IndexError(f"no tokens {first} to {last} in {len(self.starts)}")
        last_surface = self.surfaces[last]
        start = self.starts[first]
        end = self.starts[last] + len(last_surface) - possessive_trim(last_surface)
        return _new_span((start, end, self.text[start:end]))

    def key_hits(self, key: str) -> tuple[Span, ...]:
        """Spans of every token with this key, in order."""
        hits = self._key_cache.get(key)
        if hits is None:
            tokens = self.by_key.get(key)
            hits = self._key_cache[key] = () if tokens is None else tuple(self.spans_at(tokens))
        return hits

    def base_hits(self, base: str) -> tuple[Span, ...]:
        """Spans of every token with this folded word, in order."""
        hits = self._base_cache.get(base)
        if hits is None:
            tokens = self.base_tokens(base)
            if tokens and tokens is self.by_key[self.norms[tokens[0]].key]:  # the same tokens as a key's
                hits = self.key_hits(self.norms[tokens[0]].key)
            else:
                hits = tuple(self.spans_at(tokens))
            self._base_cache[base] = hits
        return hits

    def has_key(self, key: str) -> bool:
        """Whether a token has this key, or it is one of the outlet's anchor keys."""
        return key in self.by_key or key in self.outlet_keys

    def site_matches(self, site: str) -> bool:
        domain = self.domain
        if not domain:
            return False
        if domain == site or domain.endswith("." + site):
            return True
        return "." not in site and site in domain.split(".")

    def source_matches(self, keys: tuple[str, ...]) -> bool:
        have = self.source_keys
        n = len(keys)
        return any(have[i : i + n] == keys for i in range(len(have) - n + 1))

    def __repr__(self) -> str:
        return f"Document(title={self.title[:40]!r}, tokens={len(self.starts)}, source={self.source!r})"

"""An article tokenised once for matching: every query and the index look at the same token tables.

Tokenising builds the token tables; what only some queries need (adjacent pairs, spans, sorted words
for prefixes) is built on first use and kept.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from functools import partial
from urllib.parse import urlsplit

from bot.matching.text import NORMS, TOKEN_RE, Norm, is_shouting, normalise, words
from bot.models import Article, Span

_new_span: Callable[[tuple[int, int, str]], Span] = partial(tuple.__new__, Span)
"""Builds a Span without NamedTuple's Python-level ``__new__`` (spans are made by the thousand)."""

LINE_GAP = 1000
"""Token positions jump by this much at each line break, so that phrases and ``NEAR`` never span lines
(headline and body are on different lines)."""

SITE = "\x01site:"
SOURCE = "\x01source:"
"""Prefixes of the synthetic anchor keys that let the index find ``site:`` and ``source:`` terms."""


pair_key: Callable[[str, str], str] = "{} {}".format
"""The key of two adjacent words (keys never contain spaces); a C function, called per word pair."""


def domain_of(url: str) -> str:
    host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    return host.removeprefix("www.")


class Document:
    """Title + body as :attr:`bot.models.Article.match_text` joins them, plus source name and domain.

    Token ``i`` is ``text[starts[i]:ends[i]]``; ``norms[i]`` are its
    normal forms (see :mod:`bot.matching.text`) and ``keys[i]`` its key; ``by_key`` maps a key, and
    ``by_base`` a folded word, to token indices; ``positions`` count words, jumping at line breaks;
    tokens before ``n_title`` are the headline; ``unknown_case`` holds the tokens on lines set entirely
    in capitals, whose case says nothing.
    """

    __slots__ = (
        "_base_cache",
        "_by_base",
        "_hit_cache",
        "_hit_ids",
        "_key_spans",
        "_pairs",
        "_positions",
        "_sorted_bases",
        "anchor_keys",
        "by_key",
        "domain",
        "ends",
        "keys",
        "n_title",
        "norms",
        "source",
        "source_keys",
        "starts",
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
        self.domain = domain_of(url) if url else ""
        self.source_keys = tuple(n.key for n in words(source))

        found = list(TOKEN_RE.finditer(text))
        self.starts = [m.start() for m in found]
        self.ends = [m.end() for m in found]
        cached = NORMS.get
        self.norms: list[Norm] = [cached(s) or normalise(s) for s in [m.group() for m in found]]
        self.keys = keys = [n.key for n in self.norms]
        by_key: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            hits = by_key.get(key)
            if hits is None:
                by_key[key] = [i]
            else:
                hits.append(i)
        self.by_key = by_key
        self.n_title = bisect_left(self.starts, len(title)) if title else 0
        self.unknown_case = self._shouting_tokens()

        anchor_keys = set(by_key)
        anchor_keys.update(self._site_keys())
        anchor_keys.update(SOURCE + k for k in self.source_keys)
        self.anchor_keys = anchor_keys  # a set, not a frozenset: dict_keys & set iterates the smaller side
        self._positions: list[int] | None = None
        self._by_base: dict[str, list[int]] | None = None
        self._sorted_bases: list[str] | None = None
        self._pairs: set[str] | None = None
        self._hit_cache: dict[str, list[Span]] = {}
        self._base_cache: dict[str, list[Span]] = {}
        self._hit_ids: dict[int, str] = {}
        self._key_spans: dict[str, tuple[Span, ...]] = {}

    @classmethod
    def from_article(cls, article: Article) -> Document:
        return cls(article.title, article.text, article.source, article.url)

    def _shouting_tokens(self) -> frozenset[int]:
        unknown: list[int] = []
        line_start = 0
        for line in self.text.split("\n"):
            line_end = line_start + len(line)
            if is_shouting(line):
                unknown.extend(
                    range(bisect_left(self.starts, line_start), bisect_left(self.starts, line_end))
                )
            line_start = line_end + 1
        return frozenset(unknown)

    def _site_keys(self) -> list[str]:
        if not self.domain:
            return []
        labels = self.domain.split(".")
        keys = {SITE + ".".join(labels[i:]) for i in range(len(labels))}
        keys.update(SITE + label for label in labels)
        return sorted(keys)

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
    def by_base(self) -> dict[str, list[int]]:
        """Folded word (before plural stripping) -> token indices."""
        if self._by_base is None:
            # A folded word has one key, so each key's tokens hold whole groups of folded words; most
            # often just one, whose token list is then shared with by_key.
            by_base: dict[str, list[int]] = {}
            norms = self.norms
            for hits in self.by_key.values():
                base = norms[hits[0]].base
                if len(hits) > 1:
                    for i in hits:
                        if norms[i].base != base:
                            break
                    else:
                        by_base[base] = hits
                        continue
                    for i in hits:
                        by_base.setdefault(norms[i].base, []).append(i)
                else:
                    by_base[base] = hits
            self._by_base = by_base
        return self._by_base

    def spans_at(self, indices: Iterable[int]) -> list[Span]:
        """The spans of these tokens (a possessive ``'s`` left out: "NATO's" highlights "NATO")."""
        starts, ends, norms, text = self.starts, self.ends, self.norms, self.text
        out = []
        for i in indices:
            start, end = starts[i], ends[i] - norms[i].trim
            out.append(_new_span((start, end, text[start:end])))
        return out

    def sorted_bases(self) -> list[str]:
        """The distinct folded words, sorted (for prefix lookups)."""
        if self._sorted_bases is None:
            self._sorted_bases = sorted(self.by_base)
        return self._sorted_bases

    def prefix_hits(self, prefix: str) -> list[int]:
        """Token indices whose folded word starts with ``prefix``."""
        bases, by_base = self.sorted_bases(), self.by_base
        i = bisect_left(bases, prefix)
        found: list[int] = []
        while i < len(bases) and bases[i].startswith(prefix):
            found.extend(by_base[bases[i]])
            i += 1
        return found

    def pair_keys(self) -> set[str]:
        """Every pair of adjacent word keys, as :func:`pair_key` spells it. Pairs across a line break
        are included: this only finds candidates, and phrase verification checks lines."""
        if self._pairs is None:
            keys = self.keys
            self._pairs = set(map(pair_key, keys, keys[1:]))
        return self._pairs

    def span(self, first: int, last: int) -> Span:
        """The span from token ``first`` to token ``last`` (inclusive)."""
        start, end = self.starts[first], self.ends[last] - self.norms[last].trim
        return _new_span((start, end, self.text[start:end]))

    def key_hits(self, key: str) -> list[Span]:
        """Spans of every token with this key, in order (a list owned by the document: do not change)."""
        hits = self._hit_cache.get(key)
        if hits is None:
            hits = self.spans_at(self.by_key.get(key, ()))
            self._hit_cache[key] = hits
            self._hit_ids[id(hits)] = key
        return hits

    def base_hits(self, base: str) -> list[Span]:
        """Spans of every token with this folded word (a list owned by the document: do not change)."""
        hits = self._base_cache.get(base)
        if hits is None:
            hits = self._base_cache[base] = self.spans_at(self.by_base.get(base, ()))
        return hits

    def key_spans(self, key: str) -> tuple[Span, ...]:
        """:meth:`key_hits` as a tuple."""
        spans = self._key_spans.get(key)
        if spans is None:
            spans = self._key_spans[key] = tuple(self.key_hits(key))
        return spans

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

    def spans(self, found: list[Span]) -> tuple[Span, ...]:
        """Sorted and de-duplicated."""
        key = self._hit_ids.get(id(found))
        if key is not None:  # one word's cached hits (kept alive by the cache, so the id is theirs)
            return self.key_spans(key)
        return tuple(sorted(set(found)))

    def __repr__(self) -> str:
        return f"Document(title={self.title[:40]!r}, tokens={len(self.starts)}, source={self.source!r})"

"""An article tokenised once for matching: every query and the index look at the same token tables."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from functools import partial
from urllib.parse import urlsplit

from bot.matching.text import TOKEN_RE, is_shouting, normalise, words
from bot.models import Article, Span

_new_span: Callable[[tuple[int, int, str]], Span] = partial(tuple.__new__, Span)
"""Builds a Span without NamedTuple's Python-level ``__new__`` (spans are made by the thousand)."""

_APOSTROPHES = frozenset("'’‘ʼ′")

LINE_GAP = 1000
"""Token positions jump by this much at each line break, so that phrases and ``NEAR`` never span lines
(headline and body are on different lines)."""

SITE = "\x01site:"
SOURCE = "\x01source:"
"""Prefixes of the synthetic anchor keys that let the index find ``site:`` and ``source:`` terms."""


def domain_of(url: str) -> str:
    host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    return host.removeprefix("www.")


class Document:
    """Title + body as :attr:`bot.models.Article.match_text` joins them, plus source name and domain.

    Token ``i`` spans ``text[starts[i]:ends[i]]``; ``keys``/``bases``/``caseds`` are its normal forms
    (see :mod:`bot.matching.text`); ``positions`` count words with a gap at line breaks; tokens before
    ``n_title`` are the headline; ``unknown_case`` holds tokens on all-capitals lines.
    """

    __slots__ = (
        "_hit_cache",
        "_hit_ids",
        "_key_spans",
        "_span_cache",
        "anchor_keys",
        "by_base",
        "by_key",
        "cased_bases",
        "caseds",
        "domain",
        "ends",
        "keys",
        "n_title",
        "positions",
        "sorted_bases",
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
        self.text = f"{title}\n\n{body}" if title and body else title or body
        self.domain = domain_of(url) if url else ""
        self.source_keys = tuple(n.key for n in words(source))
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.keys: list[str] = []
        self.cased_bases: list[str] = []
        self.caseds: list[str] = []
        self.positions: list[int] = []
        self.unknown_case: frozenset[int] = frozenset()
        self.by_key: dict[str, list[int]] = {}
        self.by_base: dict[str, list[int]] = {}
        self._tokenise()
        self.n_title = 0
        if title:
            limit = len(title)
            self.n_title = bisect_left(self.starts, limit)
        self.sorted_bases = sorted(self.by_base)
        anchor_keys = set(self.by_key)
        anchor_keys.update(self._site_keys())
        anchor_keys.update(SOURCE + k for k in self.source_keys)
        self.anchor_keys = anchor_keys  # a set, not a frozenset: dict_keys & set iterates the smaller side
        self._hit_cache: dict[str, list[tuple[int, int]]] = {}
        self._span_cache: dict[tuple[int, int], Span] = {}
        self._key_spans: dict[str, tuple[Span, ...]] = {}
        self._hit_ids: dict[int, str] = {}

    @classmethod
    def from_article(cls, article: Article) -> Document:
        return cls(article.title, article.text, article.source, article.url)

    def _tokenise(self) -> None:
        text = self.text
        starts, ends, keys = self.starts, self.ends, self.keys
        cased_bases, caseds, positions = self.cased_bases, self.caseds, self.positions
        by_key, by_base = self.by_key, self.by_base
        unknown: list[int] = []
        offset = 0
        line_start = 0
        for line in text.split("\n"):
            shouting = is_shouting(line)
            for m in TOKEN_RE.finditer(line):
                i = len(starts)
                surface = m.group()
                norm = normalise(surface)
                starts.append(line_start + m.start())
                # A possessive stays out of the span: "NATO's" highlights "NATO".
                possessive = surface[-2:-1] in _APOSTROPHES and surface[-1:] in "sS" and len(surface) > 2
                ends.append(line_start + m.end() - (2 if possessive else 0))
                keys.append(norm.key)
                cased_bases.append(norm.cased_base)
                caseds.append(norm.cased)
                positions.append(i + offset)
                if shouting:
                    unknown.append(i)
                hits = by_key.get(norm.key)
                if hits is None:
                    by_key[norm.key] = [i]
                else:
                    hits.append(i)
                hits = by_base.get(norm.base)
                if hits is None:
                    by_base[norm.base] = [i]
                else:
                    hits.append(i)
            line_start += len(line) + 1
            offset += LINE_GAP
        self.unknown_case = frozenset(unknown)

    def _site_keys(self) -> list[str]:
        if not self.domain:
            return []
        labels = self.domain.split(".")
        keys = {SITE + ".".join(labels[i:]) for i in range(len(labels))}
        keys.update(SITE + label for label in labels)
        return sorted(keys)

    def prefix_hits(self, prefix: str) -> list[int]:
        """Token indices whose folded base starts with ``prefix``."""
        bases = self.sorted_bases
        i = bisect_left(bases, prefix)
        found: list[int] = []
        while i < len(bases) and bases[i].startswith(prefix):
            found.extend(self.by_base[bases[i]])
            i += 1
        return found

    def key_hits(self, key: str) -> list[tuple[int, int]]:
        """Character ranges of every token with this key (cached per document)."""
        hits = self._hit_cache.get(key)
        if hits is None:
            starts, ends = self.starts, self.ends
            hits = [(starts[i], ends[i]) for i in self.by_key.get(key, ())]
            self._hit_cache[key] = hits
            self._hit_ids[id(hits)] = key
        return hits

    def key_spans(self, key: str) -> tuple[Span, ...]:
        """Spans of every token with this key (cached per document)."""
        spans = self._key_spans.get(key)
        if spans is None:
            text, cache = self.text, self._span_cache
            found = []
            for r in self.key_hits(key):  # already sorted and distinct
                span = cache.get(r)
                if span is None:
                    span = cache[r] = _new_span((r[0], r[1], text[r[0] : r[1]]))
                found.append(span)
            spans = self._key_spans[key] = tuple(found)
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

    def spans(self, ranges: list[tuple[int, int]]) -> tuple[Span, ...]:
        """Sorted, de-duplicated :class:`Span` objects for character ranges."""
        key = self._hit_ids.get(id(ranges))
        if key is not None:  # one word's cached hits (kept alive by the cache, so the id is theirs)
            return self.key_spans(key)
        cache = self._span_cache
        text = self.text
        out = []
        for r in sorted(set(ranges)):
            span = cache.get(r)
            if span is None:
                span = cache[r] = _new_span((r[0], r[1], text[r[0] : r[1]]))
            out.append(span)
        return tuple(out)

    def __repr__(self) -> str:
        return f"Document(title={self.title[:40]!r}, tokens={len(self.starts)}, source={self.source!r})"

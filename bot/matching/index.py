"""The subscription index: a presearcher in the manner of Lucene's Monitor.

Each query is split into its top-level ``OR`` branches, and each branch is filed under its most
selective required anchor (see :mod:`bot.matching.selectivity`): a word key, a pair of adjacent words
(for phrases), two words that must both occur (for AND), a site/source key, or a prefix. For an article,
the index intersects the article's distinct keys (and, when phrases are filed, its distinct adjacent
pairs) with the filed ones, one hash lookup each, and walks each distinct word once through the prefix
table (by its first
three letters, then only the prefix lengths registered under them). Only the branches found that way are
verified with the brute-force evaluator; a branch that is a plain word needs no verification at all.
Identical queries added under several keys are stored and verified once. Adding and removing are
incremental: no rebuild.
"""

from __future__ import annotations

from typing import TypeVar

from bot.matching.aliases import AliasTable
from bot.matching.document import Document, pair_key
from bot.matching.evaluate import EVALUATORS, Ranges
from bot.matching.query import Node, Or, Query, Word
from bot.matching.selectivity import anchors
from bot.models import Span


class _Entry:
    """One distinct query and the keys subscribed to it. ``entry`` and ``node`` make it usable where a
    :class:`_Branch` is (a query with a single branch is its own branch)."""

    __slots__ = ("branches", "entry", "keys", "node", "query")

    def __init__(self, query: Query) -> None:
        self.query = query
        self.keys: list[str] = []
        self.entry = self
        self.node: Node = query.root
        root = query.root
        self.branches = tuple(_Branch(self, c) for c in root.children) if isinstance(root, Or) else None

    def items(self) -> tuple[_Item, ...]:
        return (self,) if self.branches is None else self.branches


class _Branch:
    """One top-level OR branch of a query with several."""

    __slots__ = ("entry", "node")

    def __init__(self, entry: _Entry, node: Node) -> None:
        self.entry = entry
        self.node = node


_Item = _Entry | _Branch
"""What postings hold: a whole single-branch query, or one branch of a multi-branch query."""
_T = TypeVar("_T")


class SubscriptionIndex:
    """Queries under string keys; :meth:`match` finds every key whose query matches a document.

    With ``aliases``, every added query is re-expanded with that table, so the whole index agrees on
    aliases whatever table each query was parsed with.
    """

    __slots__ = (
        "_aliases",
        "_both",
        "_by_key",
        "_entries",
        "_heads",
        "_pairs",
        "_plain",
        "_plain_branches",
        "_postings",
        "_prefixes",
    )

    def __init__(self, aliases: AliasTable | None = None) -> None:
        self._aliases = aliases
        self._by_key: dict[str, _Entry] = {}
        self._entries: dict[Query, _Entry] = {}
        self._plain: dict[str, list[_Entry]] = {}
        self._plain_branches: dict[str, list[_Branch]] = {}
        """Queries and OR branches that are plain words (case-blind, no alias, no field): a hit on the
        key is a match, nothing to verify."""
        self._postings: dict[str, list[_Item]] = {}
        """Everything else anchored on one key; verified on a hit."""
        self._pairs: dict[str, list[_Item]] = {}
        """Phrases anchored on their most selective pair of adjacent words (see ``pair_key``)."""
        self._both: dict[str, dict[str, list[_Item]]] = {}
        """ANDs anchored on their two rarest required words, the rarer outside: ``_both[a][b]``."""
        self._prefixes: dict[str, list[_Item]] = {}
        self._heads: dict[str, dict[int, int]] = {}
        """First three characters of the registered prefixes -> their lengths (with counts)."""

    def add(self, key: str, query: Query) -> None:
        """Index ``query`` under ``key``, replacing what ``key`` had."""
        if self._aliases is not None:
            query = query.with_aliases(self._aliases)
        old = self._by_key.get(key)
        if old is not None:
            if old.query == query:
                return
            self.remove(key)
        entry = self._entries.get(query)
        if entry is None:
            entry = self._entries[query] = _Entry(query)
            for item in entry.items():
                self._file(item, add=True)
        entry.keys.append(key)
        self._by_key[key] = entry

    def remove(self, key: str) -> None:
        """Forget ``key``; unknown keys are ignored."""
        entry = self._by_key.pop(key, None)
        if entry is None:
            return
        entry.keys.remove(key)
        if not entry.keys:
            del self._entries[entry.query]
            for item in entry.items():
                self._file(item, add=False)

    def get(self, key: str) -> Query | None:
        entry = self._by_key.get(key)
        return None if entry is None else entry.query

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def match(self, doc: Document) -> dict[str, tuple[Span, ...]]:
        """Every key whose query matches ``doc``, with the spans that made it fire."""
        out: dict[str, tuple[Span, ...]] = {}
        anchor_keys = doc.anchor_keys
        plain = self._plain
        for token_key in plain.keys() & anchor_keys:
            spans = doc.key_spans(token_key)
            for entry in plain[token_key]:
                for key in entry.keys:
                    out[key] = spans
        plain_hits: dict[_Entry, list[str]] = {}  # OR queries: which plain-word branches hit
        plain_branches = self._plain_branches
        for token_key in plain_branches.keys() & anchor_keys:
            for branch in plain_branches[token_key]:
                hit = plain_hits.get(branch.entry)
                if hit is None:
                    plain_hits[branch.entry] = [token_key]
                else:
                    hit.append(token_key)
        verified: dict[_Entry, Ranges] = {}
        evaluators = EVALUATORS
        for item in self._candidates(doc):
            entry, node = item.entry, item.node
            ranges = evaluators[type(node)](node, doc)
            if ranges is not None:
                before = verified.get(entry)
                verified[entry] = ranges if before is None else before + ranges
        for entry, token_keys in plain_hits.items():
            ranges = verified.pop(entry, None)
            if ranges is None and len(token_keys) == 1:
                spans = doc.key_spans(token_keys[0])
            else:
                merged = list(ranges or ())
                for token_key in token_keys:
                    merged.extend(doc.key_hits(token_key))
                spans = doc.spans(merged)
            for key in entry.keys:
                out[key] = spans
        for entry, ranges in verified.items():
            spans = doc.spans(ranges)
            for key in entry.keys:
                out[key] = spans
        return out

    def _candidates(self, doc: Document) -> set[_Item]:
        """Items filed under an anchor the document has."""
        candidates: set[_Item] = set()
        anchor_keys = doc.anchor_keys
        postings = self._postings
        for key in postings.keys() & anchor_keys:
            candidates.update(postings[key])
        both = self._both
        for key in both.keys() & anchor_keys:
            also = both[key]
            for other in also.keys() & anchor_keys:
                candidates.update(also[other])
        pairs = self._pairs
        if pairs:
            for pair in pairs.keys() & doc.pair_keys():
                candidates.update(pairs[pair])
        heads = self._heads
        if heads:
            prefixes = self._prefixes
            for base in doc.by_base():
                lengths = heads.get(base[:3])
                if lengths is not None:
                    for length in lengths:
                        if length <= len(base):
                            items = prefixes.get(base[:length])
                            if items is not None:
                                candidates.update(items)
        return candidates

    def _file(self, item: _Item, *, add: bool) -> None:
        """File (or unfile) an item under its anchors; the anchors are recomputed on removal."""
        node = item.node
        if isinstance(node, Word) and node.cased is None and not node.aliases and not node.title:
            if isinstance(item, _Entry):
                _post(self._plain, node.key, item, add)
            else:
                _post(self._plain_branches, node.key, item, add)
            return
        found = anchors(node)
        assert found is not None, "parse_query refuses queries that only exclude"
        for key in found.keys:
            _post(self._postings, key, item, add)
        for first, second in found.pairs:
            _post(self._pairs, pair_key(first, second), item, add)
        for first, second in found.both:
            _post_pair(self._both, first, second, item, add)
        for prefix in found.prefixes:
            _post(self._prefixes, prefix, item, add)
            lengths = self._heads.setdefault(prefix[:3], {})
            count = lengths.get(len(prefix), 0) + (1 if add else -1)
            if count:
                lengths[len(prefix)] = count
            else:
                del lengths[len(prefix)]
                if not lengths:
                    del self._heads[prefix[:3]]


def _post(table: dict[str, list[_T]], key: str, item: _T, add: bool) -> None:
    if add:
        items = table.get(key)
        if items is None:
            table[key] = [item]
        else:
            items.append(item)
        return
    items = table[key]
    items.remove(item)
    if not items:
        del table[key]


def _post_pair(
    table: dict[str, dict[str, list[_Item]]], anchor: str, other: str, item: _Item, add: bool
) -> None:
    inner = table.setdefault(anchor, {})
    _post(inner, other, item, add)
    if not inner:
        del table[anchor]

"""The subscription index: a presearcher in the manner of Lucene's Monitor.

Each query is split into its top-level ``OR`` branches, and each branch is filed under its most
selective required anchor (see :mod:`bot.matching.selectivity`): a word key, two words that must both
occur (for AND), a pair of adjacent words (for phrases), a site/source key, or a prefix. For an article,
the index intersects the article's distinct keys (and, when phrases are filed, its distinct adjacent
pairs) with the filed ones, one hash lookup each, and walks the article's distinct words once through
the prefix table (by their first three letters, then only the prefix lengths filed under those). Only
the branches found that way are verified with the brute-force evaluator; a branch that is a plain word
needs no verification at all. Identical queries added under several keys are stored and verified once.
Adding and removing are incremental: no rebuild.
"""

from __future__ import annotations

from typing import TypeVar

from bot.matching.aliases import AliasTable
from bot.matching.document import Document, pair_key
from bot.matching.evaluate import EVALUATORS, Ranges
from bot.matching.query import Node, Or, Prefix, Query, Word
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
_T = TypeVar("_T")


class _Slot:
    """Everything filed under one key: plain-word queries and OR branches (a hit is a match), items to
    verify, and ANDs waiting for a second key (``both[other]``)."""

    __slots__ = ("both", "branches", "plain", "verify")

    def __init__(self) -> None:
        self.plain: list[_Entry] | None = None
        self.branches: list[_Branch] | None = None
        self.verify: list[_Item] | None = None
        self.both: dict[str, list[_Item]] | None = None

    def empty(self) -> bool:
        return not (self.plain or self.branches or self.verify or self.both)


class SubscriptionIndex:
    """Queries under string keys; :meth:`match` finds every key whose query matches a document.

    With ``aliases``, every added query is re-expanded with that table, so the whole index agrees on
    aliases whatever table each query was parsed with.
    """

    __slots__ = ("_aliases", "_by_key", "_entries", "_heads", "_pairs", "_prefixes", "_slots")

    def __init__(self, aliases: AliasTable | None = None) -> None:
        self._aliases = aliases
        self._by_key: dict[str, _Entry] = {}
        self._entries: dict[Query, _Entry] = {}
        self._slots: dict[str, _Slot] = {}
        self._pairs: dict[str, list[_Item]] = {}
        """Phrases by their most selective pair of adjacent words (see ``pair_key``)."""
        self._prefixes: dict[str, _Slot] = {}
        self._heads: dict[str, dict[int, int]] = {}
        """First three characters of the filed prefixes -> their lengths (with counts)."""

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
        found: dict[_Entry, Ranges] = {}  # spans so far of queries found through branches or prefixes
        candidates: set[_Item] = set()
        anchor_keys = doc.anchor_keys
        slots = self._slots
        key_spans, key_hits, found_get = doc.key_spans, doc.key_hits, found.get
        for token_key in slots.keys() & anchor_keys:
            slot = slots[token_key]
            if slot.plain:
                spans = key_spans(token_key)
                for entry in slot.plain:
                    for key in entry.keys:
                        out[key] = spans
            if slot.branches:
                hits = key_hits(token_key)
                for branch in slot.branches:
                    before = found_get(branch.entry)
                    found[branch.entry] = hits if before is None else before + hits
            if slot.verify:
                candidates.update(slot.verify)
            if slot.both:
                both = slot.both
                for other in both.keys() & anchor_keys:
                    candidates.update(both[other])
        pairs = self._pairs
        if pairs:
            for pair in pairs.keys() & doc.pair_keys():
                candidates.update(pairs[pair])
        if self._heads:
            self._walk_prefixes(doc, found, candidates)

        evaluators, to_spans = EVALUATORS, doc.spans
        for item in candidates:
            node = item.node
            verified = evaluators[type(node)](node, doc)
            if verified is not None:
                entry = item.entry
                if entry is item:  # a whole query: nothing else can add to its spans
                    spans = to_spans(verified)
                    for key in entry.keys:
                        out[key] = spans
                    continue
                before = found_get(entry)
                found[entry] = verified if before is None else before + verified
        for entry, hits in found.items():
            spans = to_spans(hits)
            for key in entry.keys:
                out[key] = spans
        return out

    def _walk_prefixes(self, doc: Document, found: dict[_Entry, Ranges], candidates: set[_Item]) -> None:
        """Each distinct word once through the prefix table: plain prefixes are matches right away."""
        heads, prefixes, by_base = self._heads, self._prefixes, doc.by_base
        for base in by_base:
            lengths = heads.get(base[:3])
            if lengths is None:
                continue
            for length in lengths:
                if length > len(base):
                    continue
                slot = prefixes.get(base[:length])
                if slot is None:
                    continue
                if slot.plain or slot.branches:
                    hits = doc.base_hits(base)
                    for item in (*(slot.plain or ()), *(slot.branches or ())):
                        before = found.get(item.entry)
                        found[item.entry] = hits if before is None else before + hits
                if slot.verify:
                    candidates.update(slot.verify)

    def _slot(self, key: str) -> _Slot:
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot()
        return slot

    def _file(self, item: _Item, *, add: bool) -> None:
        """File (or unfile) an item under its anchors; the anchors are recomputed on removal."""
        node = item.node
        if isinstance(node, Word) and node.cased is None and not node.aliases and not node.title:
            slot = self._slot(node.key)
            if isinstance(item, _Entry):
                slot.plain = _change(slot.plain, item, add)
            else:
                slot.branches = _change(slot.branches, item, add)
            self._drop_if_empty(node.key, slot)
            return
        if isinstance(node, Prefix) and node.cased is None and not node.title:
            slot = self._prefixes.setdefault(node.prefix, _Slot())
            if isinstance(item, _Entry):
                slot.plain = _change(slot.plain, item, add)
            else:
                slot.branches = _change(slot.branches, item, add)
            if slot.empty():
                del self._prefixes[node.prefix]
            self._count_prefix(node.prefix, add)
            return
        found = anchors(node)
        assert found is not None, "parse_query refuses queries that only exclude"
        for key in found.keys:
            slot = self._slot(key)
            slot.verify = _change(slot.verify, item, add)
            self._drop_if_empty(key, slot)
        for first, second in found.both:
            slot = self._slot(first)
            both = slot.both if slot.both is not None else {}
            _post(both, second, item, add)
            slot.both = both or None
            self._drop_if_empty(first, slot)
        for first, second in found.pairs:
            _post(self._pairs, pair_key(first, second), item, add)
        for prefix in found.prefixes:
            slot = self._prefixes.setdefault(prefix, _Slot())
            slot.verify = _change(slot.verify, item, add)
            if slot.empty():
                del self._prefixes[prefix]
            self._count_prefix(prefix, add)

    def _count_prefix(self, prefix: str, add: bool) -> None:
        """Keep ``_heads`` in step: how many filed prefixes of each length start with these 3 letters."""
        lengths = self._heads.setdefault(prefix[:3], {})
        count = lengths.get(len(prefix), 0) + (1 if add else -1)
        if count:
            lengths[len(prefix)] = count
        else:
            del lengths[len(prefix)]
            if not lengths:
                del self._heads[prefix[:3]]

    def _drop_if_empty(self, key: str, slot: _Slot) -> None:
        if slot.empty():
            del self._slots[key]


def _change(items: list[_T] | None, item: _T, add: bool) -> list[_T] | None:
    if add:
        if items is None:
            return [item]
        items.append(item)
        return items
    assert items is not None
    items.remove(item)
    return items or None


def _post(table: dict[str, list[_T]], key: str, item: _T, add: bool) -> None:
    items = _change(table.get(key), item, add)
    if items is None:
        del table[key]
    else:
        table[key] = items

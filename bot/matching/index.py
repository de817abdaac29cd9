"""The subscription index: a presearcher in the manner of Lucene's Monitor.

Each query is split into its top-level ``OR`` branches, and each branch is filed under its most
selective required anchor (see :mod:`bot.matching.selectivity`): a word key, two words that must both
occur (for AND), a pair of adjacent words (for phrases, under the first word with the second as a
sub-key), a site/source key, or a prefix (what a key holds: :mod:`bot.matching.slots`). For an article,
the index looks each of the article's distinct keys up once, and walks its distinct words once through
the prefix table (by their first five letters, then only the prefix lengths filed under those).

Some shapes are decided from the key tables alone, with no evaluation: a plain word or prefix (a hit is a
match), an AND of plain words with excluded words (``ukraine -football``: the other words present, none
of the excluded ones), and a two-word phrase of plain words (the second word right after the first, on
the same line). Everything else found that way is verified with the brute-force evaluator. Identical
queries added under several keys are stored and verified once. Adding and removing are incremental: no
rebuild.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterable
from itertools import chain, compress
from operator import itemgetter

from bot.core.errors import QueryError
from bot.core.models import Span
from bot.matching.aliases import AliasTable, default_aliases
from bot.matching.document import Document, sorted_spans
from bot.matching.evaluate import EVALUATORS, Ranges
from bot.matching.parser import parse_query
from bot.matching.query import Node, Or, Query, Term
from bot.matching.selectivity import anchors
from bot.matching.shapes import (
    is_bigram,
    is_plain,
    is_plain_prefix,
    keyset_of,
    parse_simple,
    reparse,
    simple_phrase_keys,
    simple_word_key,
    stored_compactly,
)
from bot.matching.slots import Entry, Item, Slot, Verified, Words, change, hashed_table, post_in, with_word

_HEAD = 5
"""Prefixes at least this long are found through their first ``_HEAD`` letters (few words share them);
shorter ones by trying each of their lengths on every word."""
_HEAD_OF: Callable[[str], str] = itemgetter(slice(0, _HEAD))


class SubscriptionIndex:
    """Queries under string keys; :meth:`match` finds every key whose query matches a document.

    With ``aliases``, every added query is re-expanded with that table, so the whole index agrees on
    aliases whatever table each query was parsed with.

    Most queries are stored compactly: one whose match is decided from the key tables alone (a plain
    word or prefix, a keyset, a two-word phrase of plain words, an ``OR`` of those) and that has no
    aliases is filed as its subscription key, and remembered only by its canonical text (the key itself
    when they are equal), from which :meth:`get` and :meth:`remove` parse it again. Other queries are
    kept as an :class:`Entry` with their tree, shared by the keys that have the same query.
    """

    __slots__ = ("_aliases", "_by_key", "_entries", "_heads", "_prefixes", "_short", "_table")

    def __init__(self, aliases: AliasTable | None = None) -> None:
        self._aliases = aliases
        self._by_key: dict[str, Entry | str] = {}
        """Key -> its entry, or the canonical text of its compact query."""
        self._entries: dict[Query, Entry] = {}
        self._table: dict[str, Words | Slot] = hashed_table()
        """Word key -> what is filed under it: a :class:`Slot`, or, when all it has are queries that are
        that one plain word (the commonest query: a hit is a match, with the word's spans), just their
        subscription key or keys. One table, so that each of an article's keys is looked up once; its
        keys are interned (:func:`sys.intern`), as an article's are, so that a key found compares by
        identity, without reading the string."""
        self._prefixes: dict[str, Slot] = {}
        self._heads: dict[str, dict[int, int]] = {}
        """First ``_HEAD`` letters of the filed prefixes that long -> their lengths (with counts)."""
        self._short: dict[int, int] = {}
        """Lengths of the filed prefixes shorter than ``_HEAD`` (with counts)."""

    def add(self, key: str, query: Query) -> None:
        """Index ``query`` under ``key``, replacing what ``key`` had."""
        if self._aliases is not None:
            query = query.with_aliases(self._aliases)
        compact = stored_compactly(query)
        old = self._by_key.get(key)
        if old is not None:
            if (compact and old == query.canonical) if isinstance(old, str) else old.query == query:
                return
            self.remove(key)
        if compact:
            self._by_key[key] = key if key == query.canonical else query.canonical
            self._file_compact(key, query.root, add=True)
            return
        entry = self._entries.get(query)
        if entry is None:
            entry = self._entries[query] = Entry(query)
            entry.keys = (key,)
            for item in entry.items():
                self._file(item, item.node, add=True)
        else:
            entry.keys = (*entry.keys, key)
        self._by_key[key] = entry

    def add_many(self, queries: Iterable[tuple[str, str]]) -> list[tuple[str, QueryError]]:
        """Index many ``(key, query text)`` pairs at once (loading stored subscriptions), as :meth:`add`
        would each parsed one, but faster: canonical texts of the common shapes skip the general parser
        (:func:`bot.matching.shapes.parse_simple`) and are filed with no query object made, and the
        garbage collector, which would walk the growing index again and again, waits until the end.
        Returns the keys whose text does not parse, with the error; they are not indexed."""
        aliases = self._aliases if self._aliases is not None else default_aliases()
        failed: list[tuple[str, QueryError]] = []
        terms: dict[str, Term] = {}  # parse_simple's words, prefixes and phrases: many queries share them
        collecting = gc.isenabled()
        gc.disable()
        try:
            for key, text in queries:
                word = simple_word_key(text, aliases) if " " not in text else None
                if word is not None:  # the commonest query, filed without a tree
                    if self._take(key, text):
                        self._post_word(word, key, add=True)
                    continue
                pair = simple_phrase_keys(text)
                if pair is not None:  # the next commonest, a two-word phrase: no tree either
                    if self._take(key, text):
                        self._post_bigram(pair[0], pair[1], key, add=True)
                    continue
                node = parse_simple(text, aliases, terms)
                if node is None:
                    try:
                        query = parse_query(text, aliases)
                    except QueryError as exc:
                        failed.append((key, exc))
                        continue
                    self.add(key, query)
                    continue
                if self._take(key, text):  # parse_simple answers only for a canonical text
                    self._file_compact(key, node, add=True)
        finally:
            if collecting:
                gc.enable()
        return failed

    def _take(self, key: str, canonical: str) -> bool:
        """Record ``key`` as the compact query ``canonical``, for the caller to file: False when ``key``
        already is that query (nothing to do), else what ``key`` had before is removed first."""
        old = self._by_key.get(key)
        if old is not None:
            if old == canonical:
                return False
            self.remove(key)
        self._by_key[key] = canonical
        return True

    def remove(self, key: str) -> None:
        """Forget ``key``; unknown keys are ignored."""
        found = self._by_key.pop(key, None)
        if found is None:
            return
        if isinstance(found, str):
            self._file_compact(key, reparse(found).root, add=False)
            return
        entry = found
        entry.keys = tuple(k for k in entry.keys if k != key)
        if entry.keys:
            return
        del self._entries[entry.query]
        for item in entry.items():
            self._file(item, item.node, add=False)

    def compact(self) -> None:
        """Copy every slot and what it holds into fresh objects, slot after slot, so that what one
        lookup touches sits together in memory (after adding many subscriptions one by one)."""
        table = hashed_table()
        for key, found in self._table.items():
            table[key] = found.copy() if isinstance(found, Slot) else found
        self._table = table
        self._prefixes = {key: slot.copy() for key, slot in self._prefixes.items()}

    def get(self, key: str) -> Query | None:
        found = self._by_key.get(key)
        if found is None:
            return None
        return reparse(found) if isinstance(found, str) else found.query

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def match(self, doc: Document) -> dict[str, tuple[Span, ...]]:
        """Every key whose query matches ``doc``, with the spans that made it fire."""
        out: dict[str, tuple[Span, ...]] = {}
        candidates: set[Verified] = set()
        table = self._table
        by_key, keys, starts, text = doc.by_key, doc.keys, doc.starts, doc.text
        last = len(keys) - 1
        hits: Ranges
        for token_key in chain(by_key, doc.outlet_keys):  # every token key once, then the outlet's
            found = table.get(token_key)
            if found is None:
                continue
            if not isinstance(found, Slot):
                spans = doc.key_hits(token_key)
                if isinstance(found, str):
                    out[found] = spans
                else:
                    for key in found:
                        out[key] = spans
                continue
            slot = found
            if slot.words is not None:
                spans = doc.key_hits(token_key)
                if isinstance(slot.words, str):
                    out[slot.words] = spans
                else:
                    for key in slot.words:
                        out[key] = spans
            if slot.branches:
                hits = doc.key_hits(token_key)
                for item in slot.branches:
                    _merge(out, item, hits)
            if slot.keysets:
                for item, others, excluded in slot.keysets:
                    for other in others:
                        if not doc.has_key(other):
                            break
                    else:
                        for other in excluded:
                            if doc.has_key(other):
                                break
                        else:
                            hits = doc.key_hits(token_key)
                            if others:
                                hits = [*hits, *(span for k in others for span in doc.key_hits(k))]
                            _merge(out, item, hits)
            if slot.verify:
                candidates.update(slot.verify)
            if slot.both:
                for other, items in slot.both.items():
                    if doc.has_key(other):
                        candidates.update(items)
            if slot.after or slot.bigrams:
                after, bigrams = slot.after, slot.bigrams
                # The word after each occurrence: a two-word phrase of plain words matches right there
                # (unless a line break comes between); longer phrases are candidates.
                for i in by_key[token_key]:
                    if i == last:
                        break
                    following = keys[i + 1]
                    if after is not None:
                        waiting = after.get(following)
                        if waiting:
                            candidates.update(waiting)
                    if bigrams is not None:
                        phrases = bigrams.get(following)
                        if phrases and text.find("\n", starts[i], starts[i + 1]) < 0:
                            hits = (doc.span(i, i + 1),)  # one span: sorted and unique as it is
                            for item in phrases:
                                _merge(out, item, hits)
        if self._heads or self._short:
            self._walk_prefixes(doc, out, candidates)

        evaluators = EVALUATORS
        for item in candidates:
            node = item.node
            verified = evaluators[type(node)](node, doc)
            if verified is not None:
                _merge(out, item, verified)
        return out

    def _walk_prefixes(
        self, doc: Document, out: dict[str, tuple[Span, ...]], candidates: set[Verified]
    ) -> None:
        """Each distinct word once through the prefix table: plain prefixes are matches right away."""
        heads, short, prefixes = self._heads, self._short, self._prefixes
        words: Iterable[str] = doc.base_norms
        if not short:  # only words whose first letters head a filed prefix (a filter run in C)
            wanted = heads.keys() & set(map(_HEAD_OF, words))
            if not wanted:
                return
            words = compress(words, map(wanted.__contains__, map(_HEAD_OF, words)))
        hit: list[tuple[str, Slot]] = []
        for base in words:
            lengths = heads.get(base[:_HEAD])
            if lengths is not None:
                for n in lengths:
                    if n <= len(base) and (slot := prefixes.get(base[:n])) is not None:
                        hit.append((base, slot))
            if short:
                for n in short:
                    if n <= len(base) and (slot := prefixes.get(base[:n])) is not None:
                        hit.append((base, slot))
        for base, slot in hit:
            if slot.keys:
                hits = doc.base_hits(base)
                for key in slot.keys:
                    _merge(out, key, hits)
            if slot.branches:
                hits = doc.base_hits(base)
                for item in slot.branches:
                    _merge(out, item, hits)
            if slot.verify:
                candidates.update(slot.verify)

    def _slot(self, key: str) -> Slot:
        found = self._table.get(key)
        if isinstance(found, Slot):
            return found
        slot = self._table[sys.intern(key)] = Slot(found)
        return slot

    def _file_compact(self, key: str, root: Node, add: bool) -> None:
        """File (or unfile) the compact query ``root`` under its anchors, with ``key`` as its item."""
        if isinstance(root, Or):
            for child in root.children:
                self._file(key, child, add, whole=False)
        else:
            self._file(key, root, add)

    def _file(self, item: Item, node: Node, add: bool, whole: bool = True) -> None:
        """File (or unfile) an item under its anchors; the anchors are recomputed on removal. ``whole``:
        ``node`` is all of a compact query (a plain word's spans are then the query's)."""
        if is_plain(node):
            if whole and isinstance(item, str):
                self._post_word(node.key, item, add)
                return
            slot = self._slot(node.key)
            slot.branches = change(slot.branches, item, add)
            self._drop_if_empty(node.key, slot, add)
            return
        if is_plain_prefix(node):
            slot = self._prefix_slot(node.prefix)
            if isinstance(item, str):
                slot.keys = change(slot.keys, item, add)
            else:
                slot.branches = change(slot.branches, item, add)
            self._count_prefix(node.prefix, slot, add)
            return
        found_keyset = keyset_of(node)
        if found_keyset is not None:
            first, others, excluded = found_keyset
            slot = self._slot(first)
            slot.keysets = change(slot.keysets, (item, others, excluded), add)
            self._drop_if_empty(first, slot, add)
            return
        if is_bigram(node):
            self._post_bigram(node.words[0].key, node.words[1].key, item, add)  # as anchors() pairs them
            return
        assert not isinstance(item, str), "only queries decided from the key tables are stored compactly"
        found = anchors(node)
        assert found is not None, "parse_query refuses queries that only exclude"
        for key in found.keys:
            slot = self._slot(key)
            slot.verify = change(slot.verify, item, add)
            self._drop_if_empty(key, slot, add)
        for first, second in found.both:
            slot = self._slot(first)
            slot.both = post_in(slot.both, second, item, add)
            self._drop_if_empty(first, slot, add)
        for first, second in found.pairs:
            slot = self._slot(first)
            slot.after = post_in(slot.after, second, item, add)
            self._drop_if_empty(first, slot, add)
        for prefix in found.prefixes:
            slot = self._prefix_slot(prefix)
            slot.verify = change(slot.verify, item, add)
            self._count_prefix(prefix, slot, add)

    def _post_word(self, word: str, key: str, add: bool) -> None:
        """File (or unfile) ``key`` as a query of the one plain word whose key is ``word``."""
        table = self._table
        found = table.get(word)
        if isinstance(found, Slot):
            found.words = with_word(found.words, key, add)
            self._drop_if_empty(word, found, add)
        elif found is not None or add:
            words = with_word(found, key, add)
            if words is None:
                del table[word]
            else:
                table[sys.intern(word) if found is None else word] = words

    def _post_bigram(self, first: str, second: str, item: Item, add: bool) -> None:
        """File (or unfile) ``item`` as a two-word phrase of plain words: under ``first``, ``second``."""
        slot = self._slot(first)
        slot.bigrams = post_in(slot.bigrams, second, item, add)
        self._drop_if_empty(first, slot, add)

    def _prefix_slot(self, prefix: str) -> Slot:
        slot = self._prefixes.get(prefix)
        if slot is None:
            slot = self._prefixes[prefix] = Slot()
        return slot

    def _count_prefix(self, prefix: str, slot: Slot, add: bool) -> None:
        """After a prefix query came or went: drop the prefix's slot once empty, and keep the length
        counts in step (``_short``, or ``_heads`` under the prefix's first letters)."""
        if not add and slot.empty():
            del self._prefixes[prefix]
        head = prefix[:_HEAD]
        lengths = self._short if len(prefix) < _HEAD else self._heads.setdefault(head, {})
        count = lengths.get(len(prefix), 0) + (1 if add else -1)
        if count:
            lengths[len(prefix)] = count
        else:
            del lengths[len(prefix)]
            if not lengths and len(prefix) >= _HEAD:
                del self._heads[head]

    def _drop_if_empty(self, key: str, slot: Slot, add: bool) -> None:
        """After a removal: a slot with nothing left but plain-word queries gives way to their keys."""
        if not add and slot.empty():
            if slot.words is None:
                del self._table[key]
            else:
                self._table[key] = slot.words


def _merge(out: dict[str, tuple[Span, ...]], item: Item, hits: Ranges) -> None:
    """Record that ``item``'s query matched with ``hits``, adding them to the spans of an earlier match
    (another branch, another word with the prefix, another place of the phrase). Every key of an entry
    is written together, so the first one says whether the query matched before."""
    if isinstance(item, str):
        before = out.get(item)
        out[item] = sorted_spans(hits) if before is None else sorted_spans([*before, *hits])
        return
    keys = item.entry.keys
    before = out.get(keys[0])
    spans = sorted_spans(hits) if before is None else sorted_spans([*before, *hits])
    for key in keys:
        out[key] = spans

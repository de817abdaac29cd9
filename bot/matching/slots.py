"""What the subscription index files under one key (see :mod:`bot.matching.index`).

A :class:`Slot` holds the items filed under a word key or a prefix. An item is what a hit is credited
to: a subscription key (a ``str``) for a query stored compactly (one whose match is decided from the key
tables alone: no tree is kept for it), else an :class:`Entry`, one distinct query with the subscription
keys that share it, or a :class:`Branch`, one top-level ``OR`` branch of an entry.
"""

from __future__ import annotations

import sys
from typing import TypeVar, cast

from bot.matching.query import Node, Or, Query

_T = TypeVar("_T")


class Entry:
    """One distinct query and the keys subscribed to it. ``entry`` and ``node`` make it usable where a
    :class:`Branch` is (a query with a single branch is its own branch)."""

    __slots__ = ("branches", "entry", "keys", "node", "query")

    def __init__(self, query: Query) -> None:
        self.query = query
        self.keys: tuple[str, ...] = ()
        self.entry = self
        self.node: Node = query.root
        root = query.root
        self.branches = tuple(Branch(self, c) for c in root.children) if isinstance(root, Or) else None

    def items(self) -> tuple[Verified, ...]:
        return (self,) if self.branches is None else self.branches


class Branch:
    """One top-level OR branch of a query with several."""

    __slots__ = ("entry", "node")

    def __init__(self, entry: Entry, node: Node) -> None:
        self.entry = entry
        self.node = node


Verified = Entry | Branch
"""An item that keeps its query's tree (it may need evaluating)."""

Item = Entry | Branch | str
"""What a hit is credited to; a ``str`` is the key of a compactly stored query."""

Keyset = tuple[Item, tuple[str, ...], tuple[str, ...]]
"""An item that is plain words only, some excluded: (item, the other required keys, excluded keys)."""


Words = str | list[str]
"""The subscription keys of the queries that are one plain word: one key, or a list of several."""


def hashed_table() -> dict[str, Words | Slot]:
    """An empty dict that keeps each key's hash beside the key. CPython leaves the hashes out of a dict
    whose keys are all str and, on a lookup, reads the string of each key it probes to compare hashes: a
    miss in a large table (most of an article's words) then waits on memory once or twice. A key of
    another type, added and removed, switches the dict to the layout that keeps the hashes, for good (its
    copies by ``dict()`` too; a comprehension makes a new str-only dict): about 13 % less lookup time at
    10k keywords, 7 % at 100k, for 14 bytes more a key. Only a matter of speed: any dict works."""
    table: dict[object, object] = {0: 0}
    del table[0]
    return cast("dict[str, Words | Slot]", table)


class Slot:
    """Everything filed under one key. ``words``: the subscription keys of the queries that are this one
    plain word (under a word key that has more than those, see ``SubscriptionIndex._table``). ``keys``
    (prefix slots): the subscription keys of compact queries that a hit matches. ``branches``: other
    items a hit matches (spans merged). ``keysets``: a match when their other keys are present and none
    of their excluded keys. ``verify``: items to evaluate. ``both[other]``: ANDs waiting for a second key
    anywhere. ``bigrams[other]``: two-word phrases that match when the next word has the key ``other``;
    ``after[other]``: longer phrases to evaluate then."""

    __slots__ = ("after", "bigrams", "both", "branches", "keys", "keysets", "verify", "words")

    def __init__(self, words: Words | None = None) -> None:
        self.words = words
        self.keys: list[str] | None = None
        self.branches: list[Item] | None = None
        self.keysets: list[Keyset] | None = None
        self.verify: list[Verified] | None = None
        self.both: dict[str, list[Verified]] | None = None
        self.after: dict[str, list[Verified]] | None = None
        self.bigrams: dict[str, list[Item]] | None = None

    def empty(self) -> bool:
        """Nothing filed but ``words`` (if any)."""
        parts = (self.keys, self.branches, self.keysets, self.verify, self.both, self.after, self.bigrams)
        return not any(parts)

    def copy(self) -> Slot:
        """A deep copy of the containers (not of the entries they hold), allocated together."""
        new = Slot(list(self.words) if isinstance(self.words, list) else self.words)
        new.keys = None if self.keys is None else list(self.keys)
        new.branches = None if self.branches is None else list(self.branches)
        new.keysets = None if self.keysets is None else [(i, (*o,), (*e,)) for i, o, e in self.keysets]
        new.verify = None if self.verify is None else list(self.verify)
        new.both = None if self.both is None else {k: list(v) for k, v in self.both.items()}
        new.after = None if self.after is None else {k: list(v) for k, v in self.after.items()}
        new.bigrams = None if self.bigrams is None else {k: list(v) for k, v in self.bigrams.items()}
        return new


def change(items: list[_T] | None, item: _T, add: bool) -> list[_T] | None:
    """``items`` with ``item`` added (or removed); None once empty."""
    if add:
        if items is None:
            return [item]
        items.append(item)
        return items
    assert items is not None
    items.remove(item)
    return items or None


def post_in(table: dict[str, list[_T]] | None, key: str, item: _T, add: bool) -> dict[str, list[_T]] | None:
    """``table`` with ``item`` added to (or removed from) the list under ``key``; None once empty."""
    table = {} if table is None else table
    before = table.get(key)
    items = change(before, item, add)
    if items is None:
        del table[key]
    elif before is None:
        table[sys.intern(key)] = items  # as the index's keys are (see SubscriptionIndex._table)
    return table or None


def with_word(words: Words | None, key: str, add: bool) -> Words | None:
    """The subscription keys of one plain word's queries, with ``key`` added (or removed)."""
    if add:
        if words is None:
            return key
        if isinstance(words, str):
            return [words, key]
        words.append(key)
        return words
    if isinstance(words, str) or words is None:
        return None
    words.remove(key)
    return words[0] if len(words) == 1 else words

"""Brute-force evaluation of one query against one document, with the spans that made it fire.

The index uses the same functions to verify its candidates, so index and brute force cannot disagree on
what a query means; they can only disagree on which queries get looked at (the property tests check that).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot.core.models import Span
from bot.matching.document import Document, sorted_spans
from bot.matching.query import And, Near, Node, Not, Or, Phrase, Prefix, Query, Site, Source, Word

Ranges = Sequence[Span]
"""The spans a node matched (a list: unsorted, maybe repeated; a tuple: sorted and unique, see
:meth:`Document.spans`); None from an evaluator means "no match"."""


def evaluate(query: Query, doc: Document) -> tuple[Span, ...] | None:
    """None when ``query`` does not match ``doc``, else the spans that made it fire (sorted; empty when
    only ``site:``/``source:`` terms matched)."""
    ranges = eval_node(query.root, doc)
    return None if ranges is None else sorted_spans(ranges)


def eval_node(node: Node, doc: Document) -> Ranges | None:
    return EVALUATORS[type(node)](node, doc)


def word_tokens(node: Word, doc: Document) -> Sequence[int]:
    """Indices of tokens matching a word (its aliases included), honouring case and ``title:``."""
    found: Sequence[int] = doc.by_key.get(node.key, ())
    if node.cased is not None:
        cased, norms, unknown = node.cased, doc.norms, doc.unknown_case
        found = [i for i in found if norms[i].cased in cased and i not in unknown]
    for alias in node.aliases:
        more = doc.by_key.get(alias)
        if more:
            found = sorted([*found, *more])
    if node.title:
        found = [i for i in found if i < doc.n_title]
    return found


def _word(node: Word, doc: Document) -> Ranges | None:
    if node.cased is None and not node.aliases and not node.title:
        hits = doc.key_hits(node.key)
        return hits if hits else None
    found = word_tokens(node, doc)
    if not found:
        return None
    return doc.spans_at(found)


def _token_is(word: Word, doc: Document, i: int) -> bool:
    if doc.keys[i] != word.key:
        return False
    return word.cased is None or (doc.norms[i].cased in word.cased and i not in doc.unknown_case)


def phrase_runs(node: Phrase, doc: Document) -> list[tuple[int, int]]:
    """(first, last) token indices of each occurrence of the phrase on one line."""
    by_key = doc.by_key
    words = node.words
    for word in words:
        if word.key not in by_key:
            return []
    keys, starts, text, n = doc.keys, doc.starts, doc.text, len(doc.keys)
    width = len(words) - 1
    cased = any(w.cased is not None for w in words)
    runs = []
    for i in by_key[words[0].key]:
        last = i + width
        if last >= n or (width and text.find("\n", starts[i], starts[last]) >= 0):
            continue
        for k in range(1, width + 1):
            if keys[i + k] != words[k].key:
                break
        else:
            if not cased or all(_token_is(w, doc, i + k) for k, w in enumerate(words)):
                runs.append((i, last))
    if node.title:
        runs = [r for r in runs if r[1] < doc.n_title]
    return runs


def _phrase(node: Phrase, doc: Document) -> Ranges | None:
    runs = phrase_runs(node, doc)
    if not runs:
        return None
    return [doc.span(a, b) for a, b in runs]


def prefix_tokens(node: Prefix, doc: Document) -> list[int]:
    found = doc.prefix_hits(node.prefix)
    if node.cased is not None:
        cased, norms, unknown = node.cased, doc.norms, doc.unknown_case
        found = [i for i in found if norms[i].cased_base.startswith(cased) and i not in unknown]
    if node.title:
        found = [i for i in found if i < doc.n_title]
    return sorted(found)


def _prefix(node: Prefix, doc: Document) -> Ranges | None:
    found = prefix_tokens(node, doc)
    if not found:
        return None
    return doc.spans_at(found)


def _occurrences(node: Node, doc: Document) -> list[tuple[int, int]]:
    if isinstance(node, Word):
        return [(i, i) for i in word_tokens(node, doc)]
    if isinstance(node, Prefix):
        return [(i, i) for i in prefix_tokens(node, doc)]
    assert isinstance(node, Phrase)
    return phrase_runs(node, doc)


def _near(node: Near, doc: Document) -> Ranges | None:
    left = _occurrences(node.left, doc)
    if not left:
        return None
    right = _occurrences(node.right, doc)
    if not right:
        return None
    pos = doc.positions
    limit = node.distance + 1
    ranges: list[Span] = []
    for a0, a1 in left:
        for b0, b1 in right:
            if pos[b0] - pos[a1] <= limit and pos[a0] - pos[b1] <= limit:
                ranges.append(doc.span(a0, a1))
                ranges.append(doc.span(b0, b1))
    return ranges or None


def _site(node: Site, doc: Document) -> Ranges | None:
    return [] if doc.site_matches(node.domain) else None


def _source(node: Source, doc: Document) -> Ranges | None:
    return [] if doc.source_matches(node.keys) else None


def _not(node: Not, doc: Document) -> Ranges | None:
    return None if eval_node(node.child, doc) is not None else []


def _and(node: And, doc: Document) -> Ranges | None:
    by_key = doc.by_key
    for child in node.children:  # cheap rejection first: a required word missing altogether
        kind = type(child)
        if kind is Word:
            if child.key not in by_key and not child.aliases:  # type: ignore[union-attr]
                return None
        elif kind is Phrase:
            for word in child.words:  # type: ignore[union-attr]
                if word.key not in by_key:
                    return None
    ranges: list[Span] = []
    for child in node.children:
        found = EVALUATORS[type(child)](child, doc)
        if found is None:
            return None
        ranges.extend(found)
    return ranges


def _or(node: Or, doc: Document) -> Ranges | None:
    ranges: Ranges | None = None
    for child in node.children:
        found = EVALUATORS[type(child)](child, doc)
        if found is not None:
            ranges = found if ranges is None else [*ranges, *found]
    return ranges


EVALUATORS: dict[type, Callable[[Any, Document], Ranges | None]] = {
    Word: _word,
    Phrase: _phrase,
    Prefix: _prefix,
    Near: _near,
    Site: _site,
    Source: _source,
    Not: _not,
    And: _and,
    Or: _or,
}

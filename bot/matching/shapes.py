"""The query shapes most subscriptions have, which the index stores compactly and decides from its key
tables alone: recognised in a tree (:func:`stored_compactly`, :func:`keyset_of`) and, when subscriptions
are loaded in bulk, in their canonical text without the parser (:func:`parse_simple`,
:func:`simple_word_key`, :func:`simple_phrase_keys`).
"""

from __future__ import annotations

import re
import sys
from typing import TypeGuard

from bot.matching.aliases import AliasTable
from bot.matching.parser import MAX_LENGTH, MAX_TERMS, parse_query
from bot.matching.query import And, Node, Not, Or, Phrase, Prefix, Query, Term, Word, make_not
from bot.matching.selectivity import key_cost
from bot.matching.text import stem

_NO_ALIASES = AliasTable()
"""Compact queries have no aliases: their canonical text parsed with no table gives their tree back."""

_SIMPLE_WORD = re.compile(r"[a-z0-9]+")


def parse_simple(text: str, aliases: AliasTable, terms: dict[str, Term] | None = None) -> Node | None:
    """The tree :func:`parse_query` gives for ``text`` when ``text`` is the canonical form of one of the
    shapes most subscriptions have, made of lower-case ASCII words that have no aliases: a word, a prefix
    (``ukrain*``), a two-word phrase (``"kyiv based"``), words joined by ``AND`` with excluded words last
    (``ukraine AND NOT football``), or words, prefixes and two-word phrases joined by ``OR``. None for
    anything else, which :func:`parse_query` must then parse.

    Loading many stored subscriptions (whose text is canonical) goes through here first: it skips the
    general parser's lexing, rendering and de-duplicating, most of the time of a bulk load. The property
    tests check that it agrees with :func:`parse_query` wherever it answers. ``terms`` keeps the terms
    made, to share them with the next calls (the same ``aliases`` for all).
    """
    if len(text) > MAX_LENGTH or not text:
        return None
    if " " not in text:
        return _simple_term(text, aliases, terms)
    parts = text.split(" ")
    if len(parts) > 2 * MAX_TERMS + 1:
        return None
    tokens: list[str] = []  # terms and operators, a phrase's two words joined again
    i = 0
    while i < len(parts):
        part = parts[i]
        if part[:1] == '"' and (len(part) < 2 or part[-1] != '"') and i + 1 < len(parts):
            part = f"{part} {parts[i + 1]}"
            i += 1
        tokens.append(part)
        i += 1
    if len(tokens) == 1:
        return _simple_term(tokens[0], aliases, terms)
    operator = tokens[1]
    if operator not in ("AND", "OR"):
        return None
    children: list[Node] = []
    seen: set[str] = set()
    excluded = 0
    i = 0
    while i < len(tokens):
        if i and (i + 1 >= len(tokens) or tokens[i] != operator):
            return None
        if i:
            i += 1
        chunk = tokens[i]
        negated = operator == "AND" and chunk == "NOT" and i + 1 < len(tokens)
        if negated:
            i += 1
            chunk = tokens[i]
        elif excluded:  # excluded words come last
            return None
        if chunk in seen or len(children) >= MAX_TERMS:
            return None
        seen.add(chunk)
        term = _simple_term(chunk, aliases, terms)
        if term is None or (operator == "AND" and not isinstance(term, Word)):
            return None
        if negated:
            excluded += 1
            children.append(make_not(term))
        else:
            children.append(term)
        i += 1
    if excluded == len(children):
        return None
    return And(tuple(children)) if operator == "AND" else Or(tuple(children))


def _simple_term(chunk: str, aliases: AliasTable, terms: dict[str, Term] | None) -> Term | None:
    """A lower-case ASCII word with no aliases, a prefix of one, or a quoted pair of such words."""
    if terms is None:
        return _new_simple_term(chunk, aliases)
    term = terms.get(chunk)
    if term is None:
        term = _new_simple_term(chunk, aliases)
        if term is not None:
            terms[chunk] = term
    return term


def _new_simple_term(chunk: str, aliases: AliasTable) -> Term | None:
    if _SIMPLE_WORD.fullmatch(chunk):
        key = simple_word_key(chunk, aliases)
        return None if key is None else Word(sys.intern(key), sys.intern(chunk))
    if chunk[-1:] == "*":
        prefix = chunk[:-1]
        if not _SIMPLE_WORD.fullmatch(prefix) or sum(c.isalpha() for c in prefix) < 3:
            return None
        return Prefix(sys.intern(prefix))
    if len(chunk) > 4 and chunk[0] == '"' and chunk[-1] == '"':
        first, _, second = chunk[1:-1].partition(" ")
        if not (_SIMPLE_WORD.fullmatch(first) and _SIMPLE_WORD.fullmatch(second)):
            return None
        # A phrase is literal: its words are never alias-expanded.
        return Phrase(
            (
                Word(sys.intern(stem(first)), sys.intern(first)),
                Word(sys.intern(stem(second)), sys.intern(second)),
            )
        )
    return None


def simple_phrase_keys(text: str) -> tuple[str, str] | None:
    """The keys of the two words of ``text`` when :func:`parse_simple` would take it as a two-word phrase
    of plain words (``"kyiv based"``), else None."""
    if len(text) > MAX_LENGTH or len(text) < 5 or text[0] != '"' or text[-1] != '"':
        return None
    first, space, second = text[1:-1].partition(" ")
    if not (space and _SIMPLE_WORD.fullmatch(first) and _SIMPLE_WORD.fullmatch(second)):
        return None
    return stem(first), stem(second)


def simple_word_key(text: str, aliases: AliasTable) -> str | None:
    """The key of the word ``text`` when :func:`parse_simple` would take it as a query of one plain word
    (lower-case ASCII letters and digits, no aliases), else None."""
    if not _SIMPLE_WORD.fullmatch(text):
        return None
    key = stem(text)
    return None if aliases.alternatives(key) else key


def is_plain(node: Node) -> TypeGuard[Word]:
    """A word that any token with its key matches, and only such a token."""
    return isinstance(node, Word) and node.cased is None and not node.aliases and not node.title


def is_plain_prefix(node: Node) -> TypeGuard[Prefix]:
    return isinstance(node, Prefix) and node.cased is None and not node.title


def is_bigram(node: Node) -> TypeGuard[Phrase]:
    """A phrase of two plain words: it matches where the second word comes right after the first."""
    return (
        isinstance(node, Phrase)
        and len(node.words) == 2
        and not node.title
        and is_plain(node.words[0])
        and is_plain(node.words[1])
    )


def stored_compactly(query: Query) -> bool:
    """Whether ``query`` can be stored as its canonical text: decided from the key tables alone, no
    aliases anywhere, and given back by parsing its canonical text with no aliases (checked for text that
    is not ASCII, where folding might not be idempotent)."""
    root = query.root
    if not all(map(decided, root.children if isinstance(root, Or) else (root,))):
        return False
    return query.canonical.isascii() or reparse(query.canonical).root == root


def decided(node: Node) -> bool:
    """A plain word or prefix, a keyset whose excluded words have no aliases, or a two-word phrase of
    plain words."""
    if is_plain(node) or is_plain_prefix(node) or is_bigram(node):
        return True
    if not isinstance(node, And) or keyset_of(node) is None:
        return False
    return not any(
        isinstance(c, Not) and isinstance(c.child, Word) and c.child.aliases for c in node.children
    )


def reparse(canonical: str) -> Query:
    """A compact query again, from its canonical text."""
    node = parse_simple(canonical, _NO_ALIASES)
    return Query(node, canonical) if node is not None else parse_query(canonical, _NO_ALIASES)


def keyset_of(node: Node) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    """For an AND of plain words and excluded words (``ukraine -football``): the rarest required key,
    the other required keys, and the excluded keys (aliases included); None for any other node."""
    if not isinstance(node, And):
        return None
    required: list[str] = []
    excluded: list[str] = []
    for child in node.children:
        if is_plain(child):
            required.append(child.key)
        elif isinstance(child, Not) and isinstance(child.child, Word):
            word = child.child
            if word.cased is not None or word.title:
                return None
            excluded.extend((word.key, *word.aliases))
        else:
            return None
    if not required:
        return None
    required.sort(key=key_cost)
    return required[0], tuple(required[1:]), tuple(excluded)

"""Parse the query language of Google Alerts and Talkwalker into a :class:`Query`.

Syntax, loosest binding first: ``a OR b`` (also ``|``), ``a AND b`` or just ``a b``, ``NOT a`` or
``-a``, ``a NEAR/n b``; parentheses group. Terms: ``word``, ``"exact phrase"`` (straight or “ ” „ « »
quotes), ``ukrain*`` (at least 3 letters before the star), ``title:term``, ``title:(a OR b)``,
``site:bbc.co.uk``, ``source:reuters``. Operators count only in capitals; ``or`` is a word.

Case: a word in capitals with at most 4 letters (``US``, ``WHO``, ``NATO``) is an acronym and matches
only capitalised occurrences; every other word is case-blind. ``=word`` forces exact case as typed
(``=Apple``, ``=us``); ``~WORD`` forces case-blind (``~US`` matches "us" too). Both also apply to a
phrase (``="Apple Inc"``) or prefix (``=Ukrain*``).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, replace

from bot.core.errors import QueryError
from bot.matching import mistakes
from bot.matching.aliases import AliasTable, default_aliases
from bot.matching.query import (
    And,
    Near,
    Node,
    Or,
    Phrase,
    Prefix,
    Query,
    Site,
    Source,
    Term,
    Word,
    is_positive,
    make_and,
    make_not,
    make_or,
)
from bot.matching.text import Norm, stem_cased, words

MAX_LENGTH = 500
MAX_TERMS = 32
MAX_NEAR = 50

_QUOTES = '"“”„‟«»'
_DASHES = "-–—−"
_STOP = set(_QUOTES) | {"(", ")"}
_OPERATORS = frozenset({"OR", "AND", "NOT", "NEAR"})
_FIELDS = {"title": "title", "intitle": "title", "site": "site", "source": "source"}
_FIELD_RE = re.compile(r"(?i)(intitle|title|site|source):")
_NEAR_RE = re.compile(r"NEAR(?:/(\d*))?")
_NEAR_TYPO = re.compile(r"NEAR/\S*")
_UNKNOWN_FIELD = re.compile(r"[^\W\d_][\w-]*:")
_DOMAIN_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # ( ) OR AND NOT NEAR FIELD MOD TERM PHRASE
    col: int
    value: str = ""


_STARTS_OPERAND = {"(", "NOT", "FIELD", "MOD", "TERM", "PHRASE"}


def _lex(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        col = i + 1
        if c.isspace():
            i += 1
        elif c in "()":
            toks.append(_Tok(c, col))
            i += 1
        elif c in _QUOTES:
            end = next((j for j in range(i + 1, n) if text[j] in _QUOTES), -1)
            if end < 0:
                raise mistakes.unclosed_quote(c, col)
            toks.append(_Tok("PHRASE", col, text[i + 1 : end]))
            i = end + 1
        elif c in _DASHES:
            if i + 1 < n and not text[i + 1].isspace() and text[i + 1] not in _DASHES + ")":
                toks.append(_Tok("NOT", col, "-"))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _STOP:
                j += 1
            _lex_chunk(text[i:j], col, toks, at_end=j >= n or text[j].isspace() or text[j] == ")")
            i = j
    return toks


def _lex_chunk(chunk: str, col: int, toks: list[_Tok], at_end: bool) -> None:
    """A run of non-space, non-quote, non-parenthesis characters: operator, field, modifier or term."""
    if chunk in ("OR", "|"):
        toks.append(_Tok("OR", col))
        return
    if chunk in ("AND", "&&"):
        toks.append(_Tok("AND", col))
        return
    if chunk == "NOT":
        toks.append(_Tok("NOT", col, "NOT"))
        return
    near = _NEAR_RE.fullmatch(chunk)
    if near:
        if not near.group(1):
            raise mistakes.near_without_distance(chunk, col)
        toks.append(_Tok("NEAR", col, near.group(1)))
        return
    if _NEAR_TYPO.fullmatch(chunk):
        raise mistakes.near_bad_distance(chunk, col)
    field = _FIELD_RE.match(chunk)
    if field:
        toks.append(_Tok("FIELD", col, _FIELDS[field.group(1).lower()]))
        rest = chunk[field.end() :]
        if not rest:
            if at_end:
                raise mistakes.field_without_value(field.group(1).lower(), toks[-1].value, col)
            return
        chunk, col = rest, col + field.end()
    elif (unknown := _UNKNOWN_FIELD.match(chunk)) is not None:  # foo:bar, https://...: not a word
        raise mistakes.unknown_field(unknown.group(), col)
    if chunk[0] in "=~":
        if chunk[1:2] in ("=", "~"):
            raise mistakes.two_modifiers(chunk[:2], col)
        toks.append(_Tok("MOD", col, chunk[0]))
        chunk, col = chunk[1:], col + 1
        if not chunk:
            if at_end:
                raise mistakes.modifier_alone(toks[-1].value, col - 1, space=True)
            return
    if words(chunk) or "*" in chunk:
        toks.append(_Tok("TERM", col, chunk))
    elif toks and toks[-1].kind in ("FIELD", "MOD"):
        raise mistakes.no_letters(chunk, col)


class _Parser:
    def __init__(self, text: str, aliases: AliasTable) -> None:
        self.text = text
        self.aliases = aliases
        self.toks = _lex(text)
        self.i = 0
        self.terms = 0
        self.first_negation: _Tok | None = None
        self.open: list[int] = []
        """The columns of the parentheses open where the parser is."""

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def starts_operand(self) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind in _STARTS_OPERAND

    def parse(self) -> Node:
        if not self.toks:
            raise mistakes.empty(self.text)
        node = self.parse_or()
        tok = self.peek()
        if tok is not None:
            raise self.misplaced(tok)
        return node

    def misplaced(self, tok: _Tok) -> QueryError:
        """``tok`` stands where a term (or the end) was expected."""
        if tok.kind == ")":
            return mistakes.stray_paren(tok.col)
        return mistakes.nothing_before(tok.kind, tok.value, tok.col)

    def missing_after(self, tok: _Tok) -> QueryError:
        """The operator ``tok``, just taken, is not followed by a term."""
        nxt = self.peek()
        if nxt is None:
            return mistakes.nothing_after(tok.kind, tok.value, tok.col, "", "", 0)
        return mistakes.nothing_after(tok.kind, tok.value, tok.col, nxt.kind, nxt.value, nxt.col)

    def parse_or(self) -> Node:
        branches = [self.parse_and()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            if not self.starts_operand():
                raise self.missing_after(tok)
            branches.append(self.parse_and())
        return make_or(branches)

    def parse_and(self) -> Node:
        items = [self.parse_unary()]
        while (tok := self.peek()) is not None:
            if tok.kind == "AND":
                self.take()
                if not self.starts_operand():
                    raise self.missing_after(tok)
            elif not self.starts_operand():
                break
            items.append(self.parse_unary())
        return make_and(items)

    def parse_unary(self) -> Node:
        tok = self.peek()
        if tok is not None and tok.kind == "NOT":
            self.take()
            if self.first_negation is None:
                self.first_negation = tok
            if not self.starts_operand():
                raise self.missing_after(tok)
            return make_not(self.parse_unary())
        return self.parse_near()

    def parse_near(self) -> Node:
        left = self.parse_primary()
        tok = self.peek()
        if tok is None or tok.kind != "NEAR":
            return left
        self.take()
        distance = int(tok.value)
        if distance > MAX_NEAR:
            raise mistakes.near_too_far(distance, MAX_NEAR, tok.col)
        if not self.starts_operand():
            raise self.missing_after(tok)
        right = self.parse_primary()
        if not isinstance(left, Word | Phrase | Prefix) or not isinstance(right, Word | Phrase | Prefix):
            raise mistakes.near_operands(distance, tok.col)
        after = self.peek()
        if after is not None and after.kind == "NEAR":
            raise mistakes.near_chained(after.value, after.col)
        return Near(left, right, distance)

    def parse_primary(self, field: str = "", mod: str = "") -> Node:
        if not self.starts_operand():
            tok = self.peek()
            if tok is None:
                if self.open:  # "((": the first ( open is never closed
                    raise mistakes.unclosed_paren(self.open[0])
                raise mistakes.ends_early(max(len(self.text.rstrip()), 1))
            raise self.misplaced(tok)
        tok = self.take()
        if tok.kind == "FIELD":
            if field or mod:
                raise mistakes.fields_combined(tok.value, tok.col)
            return self.parse_primary(tok.value, mod)
        if tok.kind == "MOD":
            if mod:
                raise mistakes.two_modifiers(mod + tok.value, tok.col)
            nxt = self.peek()
            if nxt is None or nxt.kind not in ("TERM", "PHRASE"):
                raise mistakes.modifier_alone(tok.value, tok.col)
            return self.parse_primary(field, tok.value)
        if tok.kind == "(":
            if field in ("site", "source"):
                raise mistakes.field_on_group(field, tok.col)
            if mod:
                raise mistakes.modifier_on_group(mod, tok.col)
            nxt = self.peek()
            if nxt is not None and nxt.kind == ")":
                raise mistakes.empty_parens(tok.col)
            self.open.append(tok.col)
            node = self.parse_or()
            close = self.peek()
            if close is None or close.kind != ")":
                raise mistakes.unclosed_paren(self.open[0])
            self.take()
            self.open.pop()
            return _in_title(node, tok.col) if field == "title" else node
        if tok.kind == "NOT":
            raise mistakes.negated_field(tok.value, tok.col)
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise mistakes.too_many_terms(MAX_TERMS, tok.col)
        if field == "site":
            return _site(tok)
        if field == "source":
            return _source(tok)
        term = self.term(tok, mod)
        return _in_title(term, tok.col) if field == "title" else term

    def term(self, tok: _Tok, mod: str) -> Term:
        if tok.kind == "PHRASE":
            norms = words(tok.value)
            if not norms:
                raise mistakes.empty_phrase(tok.col)
            return Phrase(tuple(_word(n, mod, in_phrase=True) for n in norms), exact=mod == "=")
        chunk = tok.value
        star = chunk.find("*")
        if star >= 0:
            if star != len(chunk) - 1:
                raise mistakes.star_inside(chunk, tok.col + star)
            norms = words(chunk[:-1])
            if len(norms) > 1:
                raise mistakes.star_after_words(chunk[:-1], tok.col + star)
            if not norms or sum(c.isalpha() for c in norms[0].base) < 3:
                raise mistakes.star_too_short(tok.col + star)
            cased = sys.intern(norms[0].cased_base) if mod == "=" else None
            return Prefix(sys.intern(norms[0].base), cased)
        norms = words(chunk)
        if len(norms) > 1:
            return Phrase(tuple(_word(n, mod, in_phrase=True) for n in norms), exact=mod == "=")
        word = _word(norms[0], mod)
        alternatives = () if word.exact else self.aliases.alternatives(word.key)
        return replace(word, aliases=alternatives) if alternatives else word


def _word(norm: Norm, mod: str, in_phrase: bool = False) -> Word:
    key = sys.intern(norm.key)
    if not in_phrase and not mod and norm.cased_base in _OPERATORS:
        mod = "="  # "NOT-" typed as a word: written =NOT so that it never reads back as an operator
    if mod == "=":
        display = norm.cased_base if in_phrase else "=" + norm.cased_base
        return Word(key, sys.intern(display), (sys.intern(norm.cased),))
    letters = [c for c in norm.cased_base if c.isalpha()]
    if mod != "~" and 0 < len(letters) <= 4 and all(c.isupper() for c in letters):
        cased = [sys.intern(norm.cased)]
        if len(letters) == 4 == len(norm.cased_base):
            cased.append(sys.intern(stem_cased(norm.cased_base[0] + norm.cased_base[1:].lower())))
        return Word(key, sys.intern(norm.cased_base), tuple(cased))
    return Word(key, sys.intern(norm.base))


def _in_title(node: Node, col: int) -> Node:
    if isinstance(node, Word | Phrase | Prefix):
        return replace(node, title=True)
    if isinstance(node, Near):
        left, right = _in_title(node.left, col), _in_title(node.right, col)
        assert isinstance(left, Word | Phrase | Prefix) and isinstance(right, Word | Phrase | Prefix)
        return Near(left, right, node.distance)
    if isinstance(node, And):
        return make_and([_in_title(c, col) for c in node.children])
    if isinstance(node, Or):
        return make_or([_in_title(c, col) for c in node.children])
    if isinstance(node, Site | Source):
        raise mistakes.title_holds_site(col)
    return make_not(_in_title(node.child, col))


def _site(tok: _Tok) -> Site:
    value = tok.value.strip().lower()
    value = re.sub(r"^[a-z]+://", "", value).split("/")[0].removeprefix("www.").strip(".")
    if tok.kind != "TERM" or not _DOMAIN_RE.fullmatch(value):
        raise mistakes.not_a_domain(tok.value, tok.col)
    return Site(sys.intern(value))


def _source(tok: _Tok) -> Site | Source:
    if tok.kind == "TERM" and "." in tok.value.strip("."):
        return _site(tok)
    keys = tuple(sys.intern(n.key) for n in words(tok.value))
    if not keys:
        raise mistakes.no_outlet(tok.col)
    bases = [n.base for n in words(tok.value)]
    display = bases[0] if len(bases) == 1 else '"' + " ".join(bases) + '"'
    return Source(keys, sys.intern(display))


def parse_query(text: str, aliases: AliasTable | None = None) -> Query:
    """Parse a query as a user typed it. ``aliases`` defaults to :func:`default_aliases`.

    Raises :class:`bot.core.errors.QueryError` (:mod:`bot.matching.mistakes`: what is wrong, its 1-based
    column, a query that works) when the query is malformed, or when it only excludes (``-sport`` alone
    would match nearly every article).
    """
    if len(text) > MAX_LENGTH:
        raise mistakes.too_long(len(text), MAX_LENGTH)
    parser = _Parser(text, default_aliases() if aliases is None else aliases)
    root = parser.parse()
    if not is_positive(root):
        first = parser.first_negation
        if first is None:
            raise mistakes.only_excludes(isinstance(root, Or), "", "", None)
        raise mistakes.only_excludes(isinstance(root, Or), first.kind, first.value, first.col)
    return Query.of(root)

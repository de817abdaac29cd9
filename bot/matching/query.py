"""The parsed form of a subscription query: an immutable tree and its canonical text.

Canonical form (what the bot echoes back, and the key under which identical queries are shared):

* case-blind words are written case-folded and accent-folded: ``Kyiv's`` -> ``kyiv``, ``Erdoğan`` ->
  ``erdogan``; acronym terms (capitals, at most 4 letters) keep their capitals: ``US``, ``NATO``;
  exact-case terms are written ``=Apple``;
* phrases in straight double quotes, ``"kyiv based"`` (a hyphenated word is a phrase of its parts); a
  quoted single word stays quoted (it is literal: no alias expansion); ``="Apple Inc"`` is exact case;
* prefixes ``ukrain*``; fields ``title:war``, ``site:bbc.co.uk``, ``source:"bbc news"``;
* operators upper case, spelled out: ``a AND b``, ``a OR b``, ``NOT a``, ``a NEAR/5 b``; nested
  groups of the same operator are flattened, repeated operands dropped, ``NOT NOT a`` is ``a``;
* within ``AND`` the terms keep the order they were typed in, excluded terms last;
* parentheses only around an ``OR`` inside ``AND``/``NOT``, and around an ``AND`` inside ``OR``/``NOT``.

Example: ``Ukraine (NATO OR otan) -football`` -> ``ukraine AND (NATO OR otan) AND NOT football``.
Alias expansion is not shown: it belongs to the bot's alias table, which can change without the query
changing. Re-parsing a canonical form gives the same canonical form.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from bot.matching.aliases import AliasTable


@dataclass(frozen=True, slots=True)
class Word:
    """A single word. ``cased`` lists the case-preserving forms it accepts (None: any case);
    ``aliases`` are extra case-blind keys from the alias table."""

    key: str
    display: str
    cased: tuple[str, ...] | None = None
    aliases: tuple[str, ...] = ()
    title: bool = False

    @property
    def exact(self) -> bool:
        return self.display.startswith("=")


@dataclass(frozen=True, slots=True)
class Phrase:
    """Consecutive words on one line. Literal: never alias-expanded."""

    words: tuple[Word, ...]
    exact: bool = False
    title: bool = False


@dataclass(frozen=True, slots=True)
class Prefix:
    """A word starting with ``prefix`` (folded); with ``cased`` set, starting with exactly that."""

    prefix: str
    cased: str | None = None
    title: bool = False


@dataclass(frozen=True, slots=True)
class Near:
    """Two terms with at most ``distance`` words between them, in either order, on one line."""

    left: Term
    right: Term
    distance: int


@dataclass(frozen=True, slots=True)
class Site:
    """The article's domain is ``domain`` or a subdomain of it, or has ``domain`` as one label."""

    domain: str


@dataclass(frozen=True, slots=True)
class Source:
    """The outlet name contains these words, in this order."""

    keys: tuple[str, ...]
    display: str


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


Term: TypeAlias = Word | Phrase | Prefix
Node: TypeAlias = Word | Phrase | Prefix | Near | Site | Source | And | Or | Not


def make_and(children: list[Node]) -> Node:
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, And) else (child,))
    flat = _unique(flat)
    flat = [c for c in flat if not isinstance(c, Not)] + [c for c in flat if isinstance(c, Not)]
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def make_or(children: list[Node]) -> Node:
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, Or) else (child,))
    flat = _unique(flat)
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def make_not(child: Node) -> Node:
    return child.child if isinstance(child, Not) else Not(child)


def _unique(nodes: list[Node]) -> list[Node]:
    seen: set[str] = set()
    out = []
    for node in nodes:
        text = render(node)
        if text not in seen:
            seen.add(text)
            out.append(node)
    return out


def is_positive(node: Node) -> bool:
    """Whether every article the node matches must contain something it looks for (not only excludes)."""
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(is_positive(c) for c in node.children)
    if isinstance(node, Or):
        return all(is_positive(c) for c in node.children)
    return True


def render(node: Node, context: str = "") -> str:
    """Canonical text of a node; ``context`` is the enclosing operator ("and", "or", "not")."""
    if isinstance(node, Word):
        return f"title:{node.display}" if node.title else node.display
    if isinstance(node, Phrase):
        text = '"' + " ".join(w.display for w in node.words) + '"'
        text = "=" + text if node.exact else text
        return f"title:{text}" if node.title else text
    if isinstance(node, Prefix):
        text = f"={node.cased}*" if node.cased is not None else f"{node.prefix}*"
        return f"title:{text}" if node.title else text
    if isinstance(node, Near):
        return f"{render(node.left)} NEAR/{node.distance} {render(node.right)}"
    if isinstance(node, Site):
        return f"site:{node.domain}"
    if isinstance(node, Source):
        return f"source:{node.display}"
    if isinstance(node, Not):
        return "NOT " + render(node.child, "not")
    if isinstance(node, And):
        text = " AND ".join(render(c, "and") for c in node.children)
        return f"({text})" if context in ("or", "not") else text
    text = " OR ".join(render(c, "or") for c in node.children)
    return f"({text})" if context in ("and", "not") else text


def with_aliases(node: Node, aliases: AliasTable) -> Node:
    """The same tree with bare words re-expanded from ``aliases`` (the same objects where unchanged)."""
    if isinstance(node, Word):
        if node.exact:
            return node
        alternatives = aliases.alternatives(node.key)
        return node if alternatives == node.aliases else replace(node, aliases=alternatives)
    if isinstance(node, Near):
        left, right = with_aliases(node.left, aliases), with_aliases(node.right, aliases)
        assert isinstance(left, Word | Phrase | Prefix) and isinstance(right, Word | Phrase | Prefix)
        return node if (left, right) == (node.left, node.right) else Near(left, right, node.distance)
    if isinstance(node, Not):
        child = with_aliases(node.child, aliases)
        return node if child is node.child else Not(child)
    if isinstance(node, And | Or):
        children = tuple(with_aliases(c, aliases) for c in node.children)
        if all(a is b for a, b in zip(children, node.children, strict=True)):
            return node
        return And(children) if isinstance(node, And) else Or(children)
    return node


@dataclass(frozen=True, slots=True, eq=False)
class Query:
    """A parsed query. Equal when canonical text and tree (alias expansions included) are equal."""

    root: Node
    canonical: str

    @classmethod
    def of(cls, root: Node) -> Query:
        return cls(root, sys.intern(render(root)))

    def with_aliases(self, aliases: AliasTable) -> Query:
        """This query with bare words expanded from ``aliases`` instead of the table it was parsed with."""
        root = with_aliases(self.root, aliases)
        return self if root is self.root else Query(root, self.canonical)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Query):
            return NotImplemented
        return self is other or (self.canonical == other.canonical and self.root == other.root)

    def __hash__(self) -> int:
        return hash(self.canonical)

    def __str__(self) -> str:
        return self.canonical

    def __repr__(self) -> str:
        return f"Query({self.canonical!r})"

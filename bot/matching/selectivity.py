"""Which required term of a query branch to index it under: the one least likely to be in an article.

No corpus statistics are needed: a small built-in prior (general English, not fitted to any data set)
says that function words, then a few hundred common words, then very short tokens and numbers are
unselective, and that longer words are rarer than shorter ones. A poor choice
only costs speed (more candidates to verify), never correctness.
"""

from __future__ import annotations

from itertools import pairwise
from typing import NamedTuple

from bot.matching.document import SITE, SOURCE
from bot.matching.query import And, Near, Node, Not, Or, Phrase, Prefix, Site, Source, Word
from bot.matching.text import stem

_FUNCTION_WORDS = """
the of and to a in is that for it was on with he as be at by this had not are but from or have an they
which you were her she there been his one all we their has would when if so no will can more out do
who about up said what its than then them into some could him only other also may over after most these
just any because now very being our even many should me before where between well through much how my
while those both did off still against since under during including around next own going according
i your it's i'm don't didn't can't won't isn't wasn't there's that's he's she's we're they're been
here why each such same few those every again ever yet though although whether either neither nor upon
within without across along among toward towards onto via per among until unless than whose whom
"""

_COMMON_WORDS = """
time year day week month today yesterday tomorrow night morning evening hour minute second moment
people person man men woman women child children family friend friends life world country city state
government president minister official officials police report news story company business group
team game player club season match home house place area part side end way thing things point case
number lot kind sort type line word name question problem issue fact reason result change example
work job money system program service power water food health school student students study research
university community law court car road street room door head hand face eye eyes body heart mind
age history war fight attack death deaths killed injured hospital doctor doctors patient patients
market price prices cost million billion percent rate level data information media social video photo
picture image pictured film book music show star fan fans party election vote campaign support plan
set top high low long short small large big little great good bad best better worse worst new old young
early late first last next final former current recent major main key real whole full free open clear
public private local national international global political economic military foreign american
british english european chinese russian african white black right left own different important possible
able likely sure certain true false single whole entire special available common general personal
say says said tell told ask asked make made take took taken get got give gave given go went gone come
came know knew known think thought see saw seen look looked want wanted use used find found put keep
kept let begin began seem seemed help helped talk talked turn turned start started show showed shown
hear heard play played run ran move moved live lived believe believed bring brought happen happened
write wrote written provide provided sit stand stood lose lost pay paid meet met include included
continue continued learn learned change changed lead led understand understood watch watched follow
followed following stop stopped create created speak spoke read spend spent grow grew open opened
walk walked win won offer offered remember remembered love loved consider considered appear appeared
buy bought wait waited serve served die died send sent expect expected build built stay stayed fall
fell cut reach reached kill remain remained suggest suggested raise raised pass passed sell sold
require required decide decided return returned explain explained hope hoped develop developed carry
carried break broke receive received agree agreed added add call called try tried need needed feel felt
become became leave left work worked mean meant however another really never always often sometimes
usually already almost also perhaps maybe quite rather enough together instead ago away back down
forward later soon once twice far near nearly less least more most much little else anything
everything something nothing anyone everyone someone nobody another thing things whatever whenever
despite behind above below beyond inside outside throughout against among around before after
one two three four five six seven eight nine ten hundred thousand dozen half first second third
"""

COMMON_KEYS: frozenset[str] = frozenset(stem(w) for w in _COMMON_WORDS.split())
FUNCTION_KEYS: frozenset[str] = frozenset(stem(w) for w in _FUNCTION_WORDS.split())


class Anchors(NamedTuple):
    """A branch can only match an article that has one of ``keys`` (a token key, or a synthetic
    site/source key), a word starting with one of ``prefixes``, or one of ``pairs`` as adjacent tokens."""

    cost: float
    keys: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()
    both: tuple[tuple[str, str], ...] = ()
    """Pairs of keys that must both be somewhere in the article (two required words of an AND)."""


def key_cost(key: str) -> float:
    """Rough chance, on a 0-100 scale, that an article contains a token with this key."""
    if key in FUNCTION_KEYS:
        return 95.0
    if key in COMMON_KEYS:
        return 60.0
    if len(key) <= 2:
        return 80.0
    if key.isdigit():
        return 30.0
    if len(key) == 3:
        return 40.0
    return max(2.0, 14.0 - len(key))


def _prefix_cost(prefix: str) -> float:
    return 20.0 + max(0.0, 10.0 - len(prefix)) * 4


def anchors(node: Node) -> Anchors | None:
    """The cheapest set of anchors such that the node cannot match an article lacking all of them, or
    None if the node has no such set (it only excludes)."""
    if isinstance(node, Word):
        keys = (node.key, *node.aliases)
        return Anchors(sum(key_cost(k) for k in keys), keys)
    if isinstance(node, Phrase):
        if len(node.words) == 1:
            return Anchors(key_cost(node.words[0].key), (node.words[0].key,))
        pairs = [(a.key, b.key) for a, b in pairwise(node.words)]
        pair = min(pairs, key=lambda p: key_cost(p[0]) * key_cost(p[1]))
        return Anchors(key_cost(pair[0]) * key_cost(pair[1]) / 100, pairs=(pair,))
    if isinstance(node, Prefix):
        return Anchors(_prefix_cost(node.prefix), prefixes=(node.prefix,))
    if isinstance(node, Site):
        return Anchors(50.0, (SITE + node.domain,))
    if isinstance(node, Source):
        return Anchors(50.0, (SOURCE + min(node.keys, key=key_cost),))
    if isinstance(node, Near):
        options = [a for a in (anchors(node.left), anchors(node.right)) if a is not None]
        return min(options, key=lambda a: a.cost) if options else None
    if isinstance(node, And):
        best: Anchors | None = None
        for child in node.children:
            found = anchors(child)
            if found is not None and (best is None or found.cost < best.cost):
                best = found
        required = sorted({k for child in node.children for k in _required_keys(child)}, key=key_cost)
        if len(required) >= 2:
            a, b = required[0], required[1]
            both = Anchors(key_cost(a) * key_cost(b) / 80, both=((a, b),))
            if best is None or both.cost < best.cost:
                best = both
        return best
    if isinstance(node, Or):
        parts = [anchors(child) for child in node.children]
        if any(p is None for p in parts):
            return None
        return Anchors(
            sum(p.cost for p in parts if p),
            tuple(dict.fromkeys(k for p in parts if p for k in p.keys)),
            tuple(dict.fromkeys(k for p in parts if p for k in p.prefixes)),
            tuple(dict.fromkeys(k for p in parts if p for k in p.pairs)),
            tuple(dict.fromkeys(k for p in parts if p for k in p.both)),
        )
    assert isinstance(node, Not)
    return None


def _required_keys(node: Node) -> tuple[str, ...]:
    """Keys that every article matching ``node`` has among its tokens."""
    if isinstance(node, Word):
        return () if node.aliases else (node.key,)
    if isinstance(node, Phrase):
        return tuple(w.key for w in node.words)
    return ()

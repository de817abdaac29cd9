"""Normalisation and tokenising shared by queries and articles.

Both sides go through the same functions, so a query term and an article word meet on the same keys:

* ``base``: NFKC, apostrophes and invisible characters unified, accents folded, dots of ``U.S.`` dropped,
  possessive ``'s`` dropped, case folded. Prefix wildcards compare against it.
* ``key``: ``base`` cut back to its singular when it is a plural (``missiles`` -> ``missile``, ``taxes``
  -> ``tax``, ``countries`` -> ``country``, ``movies`` -> ``movie``, ``CEOs`` -> ``CEO``), so that a word
  and its plural meet; anything else is its own key (``Carrie`` never becomes ``carry``, ``Louise`` never
  ``Louis``, ``Hamas`` never ``Hama``). Words compare on it. See the folding lists below.
* ``cased``: like ``key`` but keeping case; case-sensitive terms (``US``, ``=Apple``) compare on it.

Tokens are runs of letters and digits with inner apostrophes (``NATO's``, ``O'Brien``); hyphens and every
other punctuation split (``Kyiv-based`` -> ``Kyiv``, ``based``); dotted abbreviations (``U.S.``) are one
token. Offsets always refer to the original text, never to a normalised copy.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from functools import partial
from itertools import accumulate
from typing import Final, NamedTuple, Protocol

from bot.core.models import Span

_LETTER = r"[^\W\d_]"
_WORD_REST = r"[\w\u0300-\u036f\u00ad\u200c\u200d]*+"
_APOSTROPHE = "['’‘ʼ′]"
# One token: a letter or digit, then the rest of a dotted abbreviation (U.S., U.K., D.C.: only after a
# letter) or the rest of a word with its inner apostrophes. Every token starts with the one character
# class, which lets re skip in C to where a token can start (an alternation at the top would make it try
# each alternative at every character). The quantifiers are possessive: a word never gives back letters.
TOKEN_RE = re.compile(
    rf"[^\W_](?:(?<={_LETTER})\.(?:{_LETTER}\.)++|{_WORD_REST}(?:{_APOSTROPHE}[^\W_]{_WORD_REST})*+)"
)
_SPLIT = re.compile(f"({TOKEN_RE.pattern})").split
_ASCII_RUNS = re.compile(r"([A-Za-z0-9]\w*+)", re.ASCII).split
"""Runs of ASCII letters, digits and underscores that start with a letter or digit: the ASCII path finds
these with the simplest pattern re has (about 1.4x faster than :data:`TOKEN_RE`) and joins the few that
:data:`TOKEN_RE` keeps together (``U.S.``, ``O'Brien``) itself."""
_ASCII_APOSTROPHES = "'’‘′"
"""The apostrophes of :data:`TOKEN_RE` but ``ʼ``, a letter (text with it takes the general path)."""
ASCII_SEPARATORS = "’‘′“”„«»‹›–—‐‑‒―…£€¥¢°·•×÷§¶©®™±†‡‰″\u00a0\u2002\u2003\u2009\u200a\u202f"
"""Characters beyond ASCII that are never part of a word but as apostrophes, so that text whose only
non-ASCII characters are these takes the ASCII path: English news is mostly ASCII with curly quotes,
dashes and currency signs."""
_NOT_ASCII_SAFE = re.compile(f"[^\x00-\x7f{ASCII_SEPARATORS}]").search

Tokens = tuple[list[int], list[str]]
"""Where the tokens of a text start, and their texts, in order (a token ends where its text does)."""
Tables = tuple[list[int], list[str], list[str], dict[str, tuple[int, ...]]]
""":data:`Tokens`, each token's key, and each key's token indices in order (see :func:`token_tables`)."""


class Scan(Protocol):
    def __call__(
        self,
        text: str,
        cache: dict[str, str],
        fill: Callable[[str], str],
        separators: str,
        lower_keys: bool = False,
        /,
    ) -> Tables | None: ...


SpanOf = Callable[[type[Span], str, list[int], list[str], int, int], Span]
SpansOf = Callable[[type[Span], str, list[int], list[str], Sequence[int]], tuple[Span, ...]]


def _compiled() -> tuple[Scan, SpanOf, SpansOf] | tuple[None, None, None]:
    try:
        from bot.matching import _scan
    except ImportError:  # not compiled (NEWSBOT_COMPILE=0): tables and spans are made in Python
        return None, None, None
    return _scan.scan, _scan.span, _scan.spans


SCAN, C_SPAN, C_SPANS = _compiled()
"""``bot/matching/_scan.c``, when the package is compiled: :func:`token_tables` for the ASCII path, and
:meth:`Document.span <bot.matching.document.Document.span>` and ``spans_at`` (a span made there costs a
third of one made in Python)."""


def ascii_path(text: str) -> bool:
    """Whether :func:`tokens` may take the ASCII path for ``text`` (it finds the same tokens there)."""
    return text.isascii() or _NOT_ASCII_SAFE(text) is None


def tokens(text: str) -> Tokens:
    """The tokens of :data:`TOKEN_RE` in ``text``, with their offsets, in one pass of re."""
    return ascii_tokens(text) if ascii_path(text) else general_tokens(text)


def general_tokens(text: str) -> Tokens:
    """:func:`tokens` for any text: one split by :data:`TOKEN_RE`, offsets as running lengths."""
    parts = _SPLIT(text)  # [gap, token, gap, token, ..., gap]
    return list(accumulate(map(len, parts)))[0:-1:2], parts[1::2]


def ascii_tokens(text: str) -> Tokens:
    """:func:`tokens` for text that :func:`ascii_path` accepts.

    The runs of :data:`_ASCII_RUNS` are :data:`TOKEN_RE`'s tokens but where it joins runs: a word goes on
    through an apostrophe followed by a letter or digit (``O'Brien``, ``rock'n'roll``), and a letter
    followed by a dot starts a dotted abbreviation when another letter and dot follow (``U.S.``: it ends
    after its last dot, and takes no apostrophe). A run is never both, so the runs are read left to right
    once, each joined to what follows it as :data:`TOKEN_RE` would.
    """
    parts = _ASCII_RUNS(text)  # [gap, run, gap, run, ..., gap]
    starts: list[int] = []
    surfaces: list[str] = []
    last_run = len(parts) - 2
    pos = len(parts[0])
    j = 1
    while j <= last_run:
        surface: str = parts[j]
        start = pos
        end = pos + len(surface)
        gap: str = parts[j + 1]
        if len(surface) == 1 and gap == "." and surface.isalpha():
            k = j  # the last letter of the abbreviation so far
            while k + 2 <= last_run and parts[k + 1] == "." and len(parts[k + 2]) == 1:
                following: str = parts[k + 2]
                if not following.isalpha() or not parts[k + 3].startswith("."):
                    break
                k += 2
            if k > j:
                end = start + 2 * ((k - j) // 2 + 1)  # letters and dots alternate
                gap = parts[k + 1][1:]
                surface = text[start:end]
                j = k
        elif gap != " " and len(gap) == 1 and gap in _ASCII_APOSTROPHES and j + 2 <= last_run:
            while True:
                end += 1 + len(parts[j + 2])
                j += 2
                gap = parts[j + 1]
                if gap == " " or len(gap) != 1 or gap not in _ASCII_APOSTROPHES or j + 2 > last_run:
                    break
            surface = text[start:end]
        starts.append(start)
        surfaces.append(surface)
        pos = end + len(gap)
        j += 2
    return starts, surfaces


_UNIFY = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "′": "'",
        "\u00ad": None,
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,
        "\ufeff": None,
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "Th",
        "æ": "ae",
        "Æ": "Ae",
        "œ": "oe",
        "Œ": "Oe",
        "ı": "i",
    }
)


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Folding: a word and its plural meet on one key, and nothing else does. A word is never cut unless it
# is a plural, and a plural is cut back to its singular as written; where a spelling could be the plural
# of two singulars ("movies", "cities"; "niches", "churches"; "houses", "buses"), the lists below say
# which, and a missing entry only loses a plural's match, never invents one.
_NOT_PLURAL = _word_set(
    # Words and names whose final "s" is not a plural, above all those that would become another word or
    # name without it (Hamas -> Hama, Carlos -> Carlo, Williams -> William, Mars -> mar).
    """
    news does series species lens chaos thanks texas christmas atlas bias alias canvas pancreas
    hamas vegas lucas andreas nicolas carlos marcos santos lagos mars wales athens
    williams roberts edwards adams peters daniels evans stevens stephens phillips collins richards andrews
    matthews rogers reynolds simons owens gibbs perkins sanders davies achilles hercules
    """
)
_IE_SINGULARS = _word_set(
    # Nouns in "-ie" whose plural is "-ies": other "-ies" plurals are of "-y" nouns (cities -> city).
    """
    movie cookie zombie rookie calorie brownie selfie hippie goalie prairie smoothie newbie hoodie auntie
    sweetie genie veggie yuppie techie foodie bookie junkie indie collie birdie magpie necktie pixie sortie
    talkie walkie groupie hottie cutie oldie goodie baddie freebie quickie eyrie menagerie coterie reverie
    rotisserie boogie bogie budgie wheelie beanie pinkie roomie aussie lassie laddie lingerie bowtie
    kiddie nightie townie trekkie commie stogie sheltie yorkie
    """
)
_CHE_SINGULARS = _word_set(
    # Nouns in "-che": other "-ches" plurals are of "-ch" nouns (churches -> church).
    """
    ache headache toothache backache earache heartache stomachache niche cache cliche avalanche moustache
    mustache psyche quiche tranche creche attache pastiche brioche cloche fiche microfiche douche porsche
    apache comanche gouache synecdoche
    """
)
_OE_SINGULARS = _word_set(
    # Nouns in "-oe": other "-oes" plurals are of "-o" nouns (heroes -> hero).
    "shoe toe foe hoe canoe oboe floe sloe throe woe aloe tiptoe horseshoe snowshoe mistletoe roe doe joe zoe"
)
_US_BEFORE = frozenset("bcdgilnprst")
"""Before "-uses", these letters make a plural of "-us" (buses, viruses, bonuses, campuses, statuses);
others one of "-use" (houses, causes, fuses, muses)."""
_IRREGULAR = {
    # Plurals the rules above would read wrong: "-is" nouns, "-as" words, and "-use" nouns after one of
    # _US_BEFORE.
    "crises": "crisis", "analyses": "analysis", "theses": "thesis", "hypotheses": "hypothesis",
    "diagnoses": "diagnosis", "oases": "oasis", "emphases": "emphasis", "syntheses": "synthesis",
    "parentheses": "parenthesis", "prognoses": "prognosis", "gases": "gas", "biases": "bias",
    "aliases": "alias", "atlases": "atlas", "canvases": "canvas", "lenses": "lens", "quizzes": "quiz",
    "whizzes": "whiz", "fezzes": "fez", "axes": "axe", "abuses": "abuse", "excuses": "excuse",
    "accuses": "accuse", "ruses": "ruse", "peruses": "peruse", "recluses": "recluse",
    "hypotenuses": "hypotenuse", "misuses": "misuse", "disuses": "disuse", "overuses": "overuse",
}  # fmt: skip


class Norm(NamedTuple):
    """The normalised forms of one token (see the module docstring)."""

    base: str
    key: str
    cased_base: str
    cased: str
    trim: int = 0
    """Characters at the end of the token that are not part of its span (a possessive ``'s``)."""


_new_norm: Final[Callable[[tuple[str, str, str, str, int]], Norm]] = partial(tuple.__new__, Norm)
"""Builds a Norm without NamedTuple's Python-level ``__new__`` (one for every word met first)."""


def fold_accents(text: str) -> str:
    """``Zelenskyy`` stays, ``Erdoğan`` -> ``Erdogan``, ``Chișinău`` -> ``Chisinau``."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text).translate(_UNIFY)
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


def _stem_cut(low: str) -> tuple[int, str]:
    """How many trailing characters of a case-folded word to replace, and with what, to make its
    singular: (0, "") for a word that is not a plural (see the folding lists above). A word that does not
    end in s is never cut: ``_scan.c`` makes the key of such an ASCII word as its lower case
    (``plain_key``), and a plural rule for one would have to go there too."""
    if len(low) <= 3 or low[-1] != "s" or low.endswith(("ss", "us", "is")) or low in _NOT_PLURAL:
        return 0, ""
    singular = _IRREGULAR.get(low)
    if singular is not None:
        same = 0
        while same < len(singular) and low[same] == singular[same]:
            same += 1
        return len(low) - same, singular[same:]
    if not low.endswith("es"):
        return 1, ""  # missiles, CEOs, photos
    if low.endswith("ies") and len(low) > 4:
        return (1, "") if low[:-1] in _IE_SINGULARS else (3, "y")  # movies -> movie, cities -> city
    if len(low) > 4:  # "-es" after a sibilant, when the singular keeps three letters or more
        if low.endswith(("sses", "xes", "zzes", "tzes", "shes")):
            return 2, ""  # glasses, taxes, buzzes, waltzes, bushes
        if low.endswith("ches"):
            return (1, "") if low[:-1] in _CHE_SINGULARS else (2, "")  # niches -> niche, churches -> church
        if low.endswith("oes"):
            return (1, "") if low[:-1] in _OE_SINGULARS else (2, "")  # shoes -> shoe, heroes -> hero
        if low.endswith("uses") and low[-5] in _US_BEFORE:
            return 2, ""  # buses -> bus (houses -> house below)
    return 1, ""  # houses, sizes, games


def stem(low: str) -> str:
    """Plural-insensitive key of a case-folded word."""
    cut, repl = _stem_cut(low)
    return low[: len(low) - cut] + repl if cut else low


def stem_cased(word: str) -> str:
    """:func:`stem` that keeps the case of what remains (``CEOs`` -> ``CEO``)."""
    low = word.lower()
    if len(low) != len(word):
        return word
    return _cut_cased(word, *_stem_cut(low))


def _cut_cased(word: str, cut: int, repl: str) -> str:
    """``word`` with the cut of its lower-case form made, the case of what remains kept."""
    if not cut:
        return word
    if repl and word[len(word) - cut].isupper():
        repl = repl.upper()
    return word[: len(word) - cut] + repl


_APOSTROPHE_CHARS = "'’‘ʼ′"
_NON_WORD = re.compile(r"[^\w']")
_APOSTROPHES_RUN = re.compile(r"''+")
_cache: dict[str, Norm] = {}
NORMS = _cache
"""Surface -> :class:`Norm` cache; read it directly in hot loops, fill it through :func:`normalise`."""
KEYS: dict[str, str] = {}
"""Surface -> its key (``NORMS[surface].key``, one lookup less for the loop that reads only keys)."""
_CACHE_LIMIT = 50_000


def normalise(surface: str) -> Norm:
    """Normal forms of one token as found by :data:`TOKEN_RE` (cached in :data:`NORMS`: article words
    repeat a lot)."""
    norm = _cache.get(surface)
    return _normalised(surface) if norm is None else norm


def _normalised(surface: str) -> Norm:
    """:func:`normalise` of a surface not in the cache yet, which it is put in."""
    word = fold_accents(surface)
    if "." in word:
        word = word.replace(".", "")
    if not surface.isascii():
        # NFKC can turn one character into punctuation or spaces ("¼" -> "1⁄4"), and "ʼ" is a letter
        # that folds to an apostrophe: keep the normal form a single token as the tokeniser sees it.
        word = _APOSTROPHES_RUN.sub("'", _NON_WORD.sub("", word)).strip("'_")
    while word[-2:] in ("'s", "'S") and len(word) > 2:
        word = word[:-2]
    word = word or surface
    base = word.casefold()
    cut, repl = _stem_cut(base)
    # The key interned, as the subscription index's keys are: a key found there compares by identity.
    key = sys.intern(base[: len(base) - cut] + repl if cut else base)
    # An ASCII word's lower case is its case fold: its cut is the same.
    cased = _cut_cased(word, cut, repl) if word.isascii() else stem_cased(word)
    norm = _new_norm((base, key, word, cased, possessive_trim(surface)))
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
        KEYS.clear()
    _cache[surface] = norm
    KEYS[surface] = norm.key
    return norm


def possessive_trim(surface: str) -> int:
    """Characters at the end of a token that its span leaves out: 2 for a possessive ``'s``, else 0."""
    if len(surface) > 2 and surface[-1] in "sS" and surface[-2] in _APOSTROPHE_CHARS:
        return 2
    return 0


def key_of(surface: str) -> str:
    """The key of one token (:func:`normalise`'s, cached in :data:`KEYS`)."""
    key = KEYS.get(surface)
    return normalise(surface).key if key is None else key


def _new_key(surface: str) -> str:
    """:func:`key_of` a surface the scan found not in :data:`KEYS` (nor then in :data:`NORMS`: the two
    are filled and emptied together), without looking again."""
    return _normalised(surface).key


def token_tables(text: str) -> Tables:
    """The tokens of ``text`` with their keys, and where each key occurs: in one pass in C on the ASCII
    path when the package is compiled (``bot/matching/_scan.c``), else tokens first, then keys."""
    if SCAN is not None:
        tables = SCAN(text, KEYS, _new_key, ASCII_SEPARATORS, True)  # a plain new word's key made in C
        if tables is not None:
            return tables
        starts, surfaces = general_tokens(text)  # the scan met a character off the ASCII path
    else:
        starts, surfaces = tokens(text)
    keys = [key_of(surface) for surface in surfaces]
    grown: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        hits = grown.get(key)
        if hits is None:
            grown[key] = [i]
        else:
            hits.append(i)
    return starts, surfaces, keys, {key: tuple(hits) for key, hits in grown.items()}


def words(text: str) -> list[Norm]:
    """Normalised tokens of a short text (a query term, an alias, a source name)."""
    return [normalise(surface) for surface in tokens(text)[1]]


def is_shouting(line: str) -> bool:
    """A line set entirely in capitals (two or more words): its capitals say nothing about acronyms."""
    if line.upper() != line or line.lower() == line:
        return False
    return sum(1 for m in TOKEN_RE.finditer(line) if any(c.isalpha() for c in m.group())) >= 2

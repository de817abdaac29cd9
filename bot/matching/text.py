"""Normalisation and tokenising shared by queries and articles.

Both sides go through the same functions, so a query term and an article word meet on the same keys:

* ``base``: NFKC, apostrophes and invisible characters unified, accents folded, dots of ``U.S.`` dropped,
  possessive ``'s`` dropped, case folded. Prefix wildcards compare against it.
* ``key``: ``base`` with a plural ``s``/``es`` taken off (``missiles`` -> ``missile``, ``taxes`` ->
  ``tax``, ``countries`` -> ``country``), applied to singular forms too so that both meet
  (``house``/``houses`` -> ``hous``). Words compare on it.
* ``cased``: like ``key`` but keeping case; case-sensitive terms (``US``, ``=Apple``) compare on it.

Tokens are runs of letters and digits with inner apostrophes (``NATO's``, ``O'Brien``); hyphens and every
other punctuation split (``Kyiv-based`` -> ``Kyiv``, ``based``); dotted abbreviations (``U.S.``) are one
token. Offsets always refer to the original text, never to a normalised copy.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

_WORD = r"[^\W_][\w\u0300-\u036f\u00ad\u200c\u200d]*"
_APOSTROPHE = "['’‘ʼ′]"
TOKEN_RE = re.compile(
    r"[^\W\d_]\.(?:[^\W\d_]\.)+"  # dotted abbreviation: U.S., U.K., D.C.
    rf"|{_WORD}(?:{_APOSTROPHE}{_WORD})*"
)

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

# Words whose final "s" is not a plural (or whose stem would collide with a common word).
_NOT_PLURAL = frozenset({"news", "does", "series", "species", "lens", "chaos", "thanks"})


class Norm(NamedTuple):
    """The normalised forms of one token (see the module docstring)."""

    base: str
    key: str
    cased_base: str
    cased: str
    trim: int = 0
    """Characters at the end of the token that are not part of its span (a possessive ``'s``)."""


def fold_accents(text: str) -> str:
    """``Zelenskyy`` stays, ``Erdoğan`` -> ``Erdogan``, ``Chișinău`` -> ``Chisinau``."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text).translate(_UNIFY)
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


def _stem_cut(low: str) -> tuple[int, str]:
    """How many trailing characters of a case-folded word to replace, and with what."""
    if len(low) <= 3 or low in _NOT_PLURAL or not low[-1].isalpha():
        return 0, ""
    cut = 0
    if low[-1] == "s" and not low.endswith(("ss", "us", "is")):
        cut = 1
    rest = low[: len(low) - cut]
    if len(rest) > 3:
        if rest.endswith("ie"):
            return cut + 2, "y"
        if rest.endswith(("se", "xe", "ze", "che", "she", "oe")):
            return cut + 1, ""
    return cut, ""


def stem(low: str) -> str:
    """Plural-insensitive key of a case-folded word."""
    cut, repl = _stem_cut(low)
    return low[: len(low) - cut] + repl if cut else low


def stem_cased(word: str) -> str:
    """:func:`stem` that keeps the case of what remains (``CEOs`` -> ``CEO``)."""
    low = word.lower()
    if len(low) != len(word):
        return word
    cut, repl = _stem_cut(low)
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
_CACHE_LIMIT = 50_000


def normalise(surface: str) -> Norm:
    """Normal forms of one token as found by :data:`TOKEN_RE` (cached in :data:`NORMS`: article words
    repeat a lot)."""
    norm = _cache.get(surface)
    if norm is not None:
        return norm
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
    trim = 2 if surface[-1:] in "sS" and surface[-2:-1] in _APOSTROPHE_CHARS and len(surface) > 2 else 0
    norm = Norm(base, stem(base), word, stem_cased(word), trim)
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    _cache[surface] = norm
    return norm


def words(text: str) -> list[Norm]:
    """Normalised tokens of a short text (a query term, an alias, a source name)."""
    return [normalise(m.group()) for m in TOKEN_RE.finditer(text)]


def is_shouting(line: str) -> bool:
    """A line set entirely in capitals (two or more words): its capitals say nothing about acronyms."""
    if line.upper() != line or line.lower() == line:
        return False
    return sum(1 for m in TOKEN_RE.finditer(line) if any(c.isalpha() for c in m.group())) >= 2

"""What the story detector knows of an article: its content words counted, which of them are names, and
the facts of its headline. Pure; built once per article."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from bot.core.words import STOPWORDS, fold

_TOKEN = re.compile(r"\d+(?:[.,]\d+)+|[^\W_]+(?:['’][^\W_]+)*")
"""A word as :data:`bot.core.words.WORDS` has it, or a number with its decimals ("7.8", "1,200")."""
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\d])")
"""A number standing on its own or before a unit: "7", "4.3", "$12.4bln" (12.4), "26GW"; not "r3"."""
_SENTENCE_END = frozenset('.!?:"“”')
_NOT_NAMES = frozenset(
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    counts: Counter[str]
    """Folded content words of the headline and body, with how often each occurs (numbers kept: "7.8"
    tells one earthquake from another)."""
    names: frozenset[str]
    """The folded words written with a capital inside a sentence of the body (not its first word): the
    people, places and organisations. Two reports of one event share some; two events of a kind need not."""
    facts: frozenset[str]
    """The headline's names and numbers (every number, "7" too): what a later headline must add to be a
    new development, and what tells two templated headlines apart ("M 4.3 near Anza", "M 5.1 near Ojai")."""


def fingerprint(title: str, text: str) -> Fingerprint:
    counts = Counter(_terms(title))
    counts.update(_terms(text))
    names = _names(text) | _names(title, headline=True)
    facts = frozenset(t for t in _terms(title) if t in names) | frozenset(_NUMBER.findall(title))
    return Fingerprint(counts, frozenset(names), facts)


def _terms(text: str) -> list[str]:
    return [fold(w) for w in _TOKEN.findall(text.casefold()) if w not in STOPWORDS and len(w) > 1]


def _names(text: str, *, headline: bool = False) -> set[str]:
    """Capitalised words not at the start of a sentence. A headline is often in title case, so there only
    the all-capital words count (NATO, UN, EU)."""
    found = set()
    for match in _TOKEN.finditer(text):
        word = match.group()
        if not word[0].isupper():
            continue
        if headline:
            if not (word.isupper() and len(word) > 1):
                continue
        elif _opens_sentence(text, match.start()):
            continue
        folded = word.casefold()
        if folded not in STOPWORDS and folded not in _NOT_NAMES:
            found.add(fold(folded))
    return found


def _opens_sentence(text: str, at: int) -> bool:
    i = at - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END

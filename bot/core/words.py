"""English content words: what is left of a text once the function words are gone and plurals are
folded. The summariser compares sentences by them, the story detector compares articles by them."""

from __future__ import annotations

import re

WORDS = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
"""A word: letters and digits, with inner apostrophes ("O'Hare", "haven’t")."""

_STOPWORD_TEXT = (
    "a about above after again against all also am an and any are as at be because been before being "
    "below between both but by can could did do does doing down during each few for from further had "
    "has have having he her here hers herself him himself his how i if in into is it its itself just "
    "me more most my myself no nor not now of off on once only or other our ours out over own said "
    "same says she should so some such than that the their theirs them then there these they this "
    "those through to too under until up very was we were what when where which while who whom why "
    "will with would you your yours one two new year years told say like get got last first mr mrs "
    "ms s t"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def fold(word: str) -> str:
    """A casefolded word's plural and possessive folded onto the word: "cities" -> "city"."""
    word = word.replace("’", "'").removesuffix("'s")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def content_words(text: str) -> list[str]:
    """The folded content words of ``text`` in order; function words and bare numbers left out."""
    return [fold(w) for w in WORDS.findall(text.casefold()) if w not in STOPWORDS and not w.isdigit()]

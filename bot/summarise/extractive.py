"""Extractive summaries: the few sentences of an article that best say what it is about.

Sentences are scored by position (news puts the point first), centrality (how much of the article's
vocabulary a sentence shares with the rest of it and with the headline) and, when a subscription fired
on some words, by whether they carry those words: an alert about *Blinken* should say something about
Blinken even when the lead is about someone else. Everything here is pure and deterministic.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.models import Article, Summary
from bot.core.words import WORDS as _WORDS
from bot.core.words import content_words

__all__ = ["ExtractiveSummariser", "split_sentences"]


def _words(names: str) -> frozenset[str]:
    return frozenset(names.split())


# --- sentence splitting -------------------------------------------------------------------------------

# Never end a sentence: titles before names, months before days, "No. 10", "vs.", "e.g.".
_NO_BREAK = _words(
    "mr mrs ms mx dr prof st mt ft gen lt col maj capt cmdr adm sgt cpl pvt sen rep gov pres supt insp det "
    "rev fr hon messrs jan feb mar apr jun jul aug sep sept oct nov dec nos vs v e.g i.e cf approx "
    "fig figs vol vols pp ca"
)
# End a sentence only when a typical sentence opener follows: "... by the U.S. The move ...".
_OPENERS = _words(
    "a an the he she it its they we i you this that these those there but and so yet in on at for after "
    "before when while if as his her their our my however meanwhile officials police"
)
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’»)\]]*+(?=\s)")  # possessive: no backtracking
_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n|\n(?=[ \t]*[^\sa-z])")
_NEXT_WORD = re.compile(r"\s+[\"'“‘(\[]*(\S*)")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, verbatim and stripped, in order. A paragraph break (a blank line, or a
    line break before a line that does not continue a sentence) always ends a sentence, so headlines
    and list items without full stops stand alone."""
    sentences: list[str] = []
    for paragraph in _PARAGRAPH.split(text):
        start = 0
        for match in _BOUNDARY.finditer(paragraph):
            if _ends_sentence(paragraph, match):
                piece = paragraph[start : match.end()].strip()
                if piece:
                    sentences.append(piece)
                start = match.end()
        piece = paragraph[start:].strip()
        if piece:
            sentences.append(piece)
    return sentences


def _ends_sentence(text: str, match: re.Match[str]) -> bool:
    following = _NEXT_WORD.match(text, match.end())
    nxt = following.group(1) if following else ""
    if not nxt:
        return True
    first = nxt[0]
    if first.islower():  # '"Why?" he asked.', "an ellipsis... that trails on"
        return False
    mark = match.group(0)
    if not mark.startswith("."):
        return True
    word = _word_before(text, match.start())
    lowered = word.lower().rstrip(".")
    if len(mark.rstrip("\"'”’»)]")) == 1:
        if lowered == "no":  # "No. 10", but "the answer was no."
            return not first.isdigit()
        if lowered in _NO_BREAK:
            return False
        is_initial = len(word) == 1 and word.isalpha() and word.isupper()  # "J. K. Rowling"
        is_acronym = "." in word.strip(".")  # "U.S.", "a.m."
        if is_initial or is_acronym or lowered == "etc":
            return nxt.strip("\"'“‘(").lower() in _OPENERS
    return True


def _word_before(text: str, end: int) -> str:
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:end].lstrip("([\"'“‘")


# --- scoring ------------------------------------------------------------------------------------------

_REDUNDANT = 0.5  # share of the smaller sentence's content words that makes a pick redundant


def _mentions(sentence: str, terms: Sequence[str]) -> bool:
    """Whether ``sentence`` contains one of ``terms`` as whole words; case-insensitive except for
    acronyms, so "US" does not match "us"."""
    folded = f" {' '.join(_WORDS.findall(sentence.casefold()))} "
    exact = f" {' '.join(_WORDS.findall(sentence))} "
    for term in terms:
        acronym = term.isupper() and len(term.strip()) > 1
        words = _WORDS.findall(term if acronym else term.casefold())
        if words and f" {' '.join(words)} " in (exact if acronym else folded):
            return True
    return False


class ExtractiveSummariser:
    """Picks up to ``max_sentences`` sentences (and at most ``max_chars`` characters) from the article
    and returns them in document order."""

    def __init__(self, max_sentences: int = 3, max_chars: int = 600) -> None:
        if max_sentences < 1 or max_chars < 1:
            raise ValueError("max_sentences and max_chars must be at least 1")
        self.max_sentences = max_sentences
        self.max_chars = max_chars

    async def summarise(self, article: Article, focus_terms: Sequence[str] = ()) -> Summary:
        return self.summarise_text(article.title, article.text, focus_terms)

    def summarise_text(self, title: str, text: str, focus_terms: Sequence[str] = ()) -> Summary:
        """Summary of ``text`` (the cleaned body) under ``title``: the best sentences in document order,
        one of them mentioning a focus term whenever any sentence does. The title when the body is empty."""
        title_key = _key(title)
        sentences = [" ".join(s.split()) for s in split_sentences(text)]
        sentences = [s for s in sentences if _key(s) != title_key]
        if not sentences:
            title = " ".join(title.split())
            return self._fit([title]) if title else Summary(text="")
        bags = [set(content_words(s)) for s in sentences]
        scores = _scores(sentences, bags, set(content_words(title)))
        order = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
        chosen = self._select(sentences, bags, order, forced=None)
        terms = [t for t in focus_terms if t.strip()]
        if terms and not any(_mentions(sentences[i], terms) for i in chosen):
            on_topic = next((i for i in order if _mentions(sentences[i], terms)), None)
            if on_topic is not None:
                chosen = self._select(sentences, bags, order, forced=on_topic)
        return self._fit([sentences[i] for i in chosen])

    def _select(
        self, sentences: list[str], bags: list[set[str]], order: list[int], forced: int | None
    ) -> list[int]:
        """Best-scoring first, skipping sentences that repeat a chosen one or overflow ``max_chars``."""
        chosen = [] if forced is None else [forced]
        used = sum(len(sentences[i]) + 1 for i in chosen)
        for i in order:
            if len(chosen) >= self.max_sentences:
                break
            if i in chosen or (chosen and used + len(sentences[i]) > self.max_chars):
                continue
            if any(_overlap(bags[i], bags[j]) > _REDUNDANT for j in chosen):
                continue
            chosen.append(i)
            used += len(sentences[i]) + 1
        return sorted(chosen)

    def _fit(self, sentences: list[str]) -> Summary:
        """Respect ``max_chars``: drop sentences that overflow, or cut a lone long one at a word boundary."""
        kept: list[str] = []
        for sentence in sentences:
            if len(" ".join([*kept, sentence])) <= self.max_chars:
                kept.append(sentence)
        if not kept:
            kept = [truncate_at_word(sentences[0], self.max_chars)]
        return Summary(text=" ".join(kept), sentences=tuple(kept))


def _key(text: str) -> str:
    return " ".join(_WORDS.findall(text.casefold()))


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def truncate_at_word(sentence: str, limit: int) -> str:
    """``sentence`` cut to at most ``limit`` characters, at a word boundary when there is one, with "…"."""
    if len(sentence) <= limit:
        return sentence
    head = sentence[: limit - 1]
    if not sentence[limit - 1].isspace() and head.rfind(" ") > 0:  # the cut falls inside a word
        head = head[: head.rfind(" ")]
    head = head.rstrip().rstrip(",;:-–—").rstrip()
    return (head or sentence[: limit - 1]) + "…"


@dataclass(frozen=True, slots=True)
class _Weights:
    """Tuned on CNN/DailyMail (bench/summaries.py); both halves of the set beat Lead-3 with these."""

    position: float = 1.0  # lead bias: 1 / (1 + index / decay)
    decay: float = 3.0
    centrality: float = 0.2
    headline: float = 0.5
    short: int = 6  # fewer words than this: "Scroll down for video."
    long: int = 35  # more words than this: run-on sentences crowd out two better ones
    quote: float = 0.2  # a sentence opening with a quotation is colour, rarely the news


def _scores(
    sentences: list[str], bags: list[set[str]], title_words: set[str], w: _Weights = _Weights()
) -> list[float]:
    """Lead bias + centrality + headline overlap, damped for very short or very long sentences."""
    totals: Counter[str] = Counter()
    for bag in bags:
        totals.update(bag)
    scores = []
    for index, (sentence, words) in enumerate(zip(sentences, bags, strict=True)):
        length = len(sentence.split())
        # centrality: how many other sentences share each content word, per sqrt of length
        shared = sum(math.log1p(totals[x] - 1) for x in words)
        centrality = shared / math.sqrt(max(len(words), 1)) if words else 0.0
        headline = len(words & title_words) / len(title_words) if title_words else 0.0
        position = 1.0 / (1.0 + index / w.decay)
        score = w.position * position + w.centrality * centrality + w.headline * headline
        if length < w.short:
            score *= length / w.short
        if length > w.long:
            score *= w.long / length
        if sentence.startswith(('"', "“", "'", "‘", "`")):
            score -= w.quote
        scores.append(score)
    return scores

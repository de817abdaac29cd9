"""Tokenising: the ASCII path, the general path and the tokeniser's definition never disagree.

Articles are cut into tokens on one of two paths (text whose only non-ASCII characters are typographic
quotes, dashes and the like takes a cheaper ASCII path); both must find exactly the tokens of the
reference pattern below, the one the module docstring of ``bot.matching.text`` describes, with the same
offsets, so that no query matches differently because of the path an article took.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core.models import Span
from bot.matching import Document, evaluate, parse_query
from bot.matching.text import (
    ASCII_SEPARATORS,
    KEYS,
    SCAN,
    TOKEN_RE,
    Tables,
    ascii_path,
    ascii_tokens,
    general_tokens,
    key_of,
    normalise,
    tokens,
)

_WORD = r"[^\W_][\w\u0300-\u036f\u00ad\u200c\u200d]*"
REFERENCE = re.compile(
    r"[^\W\d_]\.(?:[^\W\d_]\.)+"  # dotted abbreviation: U.S., U.K., D.C.
    rf"|{_WORD}(?:['’‘ʼ′]{_WORD})*"
)
"""The tokeniser as first written: plain and slow, kept here as the definition the fast paths must meet."""

needs_c = pytest.mark.skipif(SCAN is None, reason="the package is not compiled (NEWSBOT_COMPILE=0)")
"""For the C scan's own behaviour (bot/matching/_scan.c); the tests above hold both paths to the reference."""


def reference(text: str) -> tuple[list[int], list[str]]:
    """Where the tokens start, and their texts (each ends where its text does)."""
    found = list(REFERENCE.finditer(text))
    return [m.start() for m in found], [m.group() for m in found]


# Characters chosen to meet every rule: dots and letters (abbreviations), apostrophes of all kinds,
# underscores and digits (word characters that cannot start a word), line breaks, accents (composed and
# combining), a soft hyphen, a letter that is an apostrophe (ʼ), and separators of the ASCII path.
TRICKY = "aZxU.S'’‘′ʼ _-\n09é\u0301\u00ad£“—"
ASCII_TRICKY = "aAbU.S.'’‘′ _-\n09£“—…"


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=TRICKY, max_size=40))
@example("U.S.-led talks, O’Brien's rock'n'roll; the U.S.Army and D.C.'s a.b.c. 3.a.b. x'U.S.A.")
def test_every_path_finds_the_reference_tokens(text: str) -> None:
    expected = reference(text)
    assert general_tokens(text) == expected
    assert tokens(text) == expected
    if ascii_path(text):
        assert ascii_tokens(text) == expected
    if SCAN is not None:
        tables = SCAN(text, KEYS, key_of, ASCII_SEPARATORS)
        assert tables == (tables_of(expected) if ascii_path(text) else None)


def tables_of(found: tuple[list[int], list[str]]) -> Tables:
    """What :func:`bot.matching.text.token_tables` must give for these tokens."""
    keys = [normalise(surface).key for surface in found[1]]
    by_key: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        by_key.setdefault(key, []).append(i)
    return found[0], found[1], keys, {key: tuple(hits) for key, hits in by_key.items()}


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=ASCII_TRICKY, max_size=60))
@example("U.S. U.S U.S.A. a.b U.S.'s NATO’s don't ''x x'' rock'n'roll_ 3.4. _a 'tis a.'b")
def test_ascii_path_takes_ascii_text_with_typographic_punctuation(text: str) -> None:
    assert ascii_path(text)
    assert ascii_tokens(text) == reference(text)
    if SCAN is not None:
        assert SCAN(text, KEYS, key_of, ASCII_SEPARATORS) == tables_of(reference(text))


PIECES = ["U.S.", "us", "US", "cities", "city", "O'Brien", "’", " ", "."]


@needs_c
@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=99))
def test_the_c_tables_of_long_texts_with_repeated_words(parts: list[str]) -> None:
    # Many distinct words (the C table of surfaces met grows several times), each met again and again,
    # and words of one key with different surfaces (city, cities).
    text = "".join(parts) + " " + " ".join(f"w{i % 700} x{i}" for i in range(len(parts) * 12))
    assert SCAN is not None
    assert SCAN(text, KEYS, key_of, ASCII_SEPARATORS) == tables_of(reference(text))


@needs_c
def test_the_c_tables_report_a_key_function_that_fails() -> None:
    assert SCAN is not None

    def failing(surface: str) -> str:
        raise ValueError(surface)

    with pytest.raises(ValueError, match="zzqx"):
        SCAN("a zzqx b", {"a": "a"}, failing, ASCII_SEPARATORS)
    with pytest.raises(TypeError):
        SCAN("a qqzv b", {}, lambda surface: 3, ASCII_SEPARATORS)  # type: ignore[arg-type,return-value]
    assert SCAN("zzqx again", KEYS, key_of, ASCII_SEPARATORS) is not None  # nothing half-made was kept


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_any_text_is_tokenised_as_the_reference_does(text: str) -> None:
    assert tokens(text) == reference(text)
    if SCAN is not None:  # any character, of any width: the C scan takes the text or leaves it
        tables = SCAN(text, KEYS, key_of, ASCII_SEPARATORS)
        assert tables == (tables_of(reference(text)) if ascii_path(text) else None)


def test_the_pattern_is_the_reference() -> None:
    text = "U.S.-led talks in Kyiv, O’Brien said; Erdoğan’s cafe\u0301; rock'n'roll at 3.30 p.m."
    assert [m.group() for m in TOKEN_RE.finditer(text)] == reference(text)[1]


@pytest.mark.parametrize("char", ASCII_SEPARATORS)
def test_ascii_separators_are_never_part_of_a_word(char: str) -> None:
    joined = char in "’‘′"  # apostrophes join words, as ' does
    assert REFERENCE.findall(f"a{char}b") == ([f"a{char}b"] if joined else ["a", "b"])
    assert REFERENCE.findall(f"{char}b{char}") == ["b"]


def test_text_with_letters_beyond_ascii_takes_the_general_path() -> None:
    assert ascii_path("O’Brien paid £3 – “quoted” …")
    for text in ["Erdoğan", "cafe\u0301", "Zelen\u00adskyy", "NATOʼs", "x²"]:
        assert not ascii_path(text)


@pytest.mark.parametrize(
    ("curly", "straight"),
    [("NATO’s allies", "NATO's allies"), ("O’Brien spoke", "O'Brien spoke"), ("Kyiv — “war”", "Kyiv - war")],
)
def test_documents_on_either_path_match_alike(curly: str, straight: str) -> None:
    for query in ["NATO", "O'Brien", '"nato allies"', "kyiv", "war"]:
        a, b = (
            evaluate(parse_query(query), Document(curly, "")),
            evaluate(parse_query(query), Document(straight, "")),
        )
        assert (a is None) == (b is None), query


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=TRICKY + "BCnt", max_size=60))
def test_document_tables_follow_the_tokens(text: str) -> None:
    doc = Document(text, "")
    starts, surfaces = reference(doc.text)
    assert (doc.starts, doc.surfaces) == (starts, surfaces)
    assert doc.ends == [m.end() for m in REFERENCE.finditer(doc.text)]
    assert doc.keys == [normalise(s).key for s in surfaces]
    assert doc.norms == [normalise(s) for s in surfaces]
    assert sorted(i for hits in doc.by_key.values() for i in hits) == list(range(len(surfaces)))
    for key, hits in doc.by_key.items():
        assert all(doc.keys[i] == key for i in hits)


@needs_c
def test_the_c_table_of_surfaces_met_empties_when_full_and_a_nested_scan_does_without_it() -> None:
    assert SCAN is not None
    from bot.matching import _scan

    _scan.forget()
    many = " ".join(f"w{i}x" for i in range(40_000))
    assert SCAN(many, KEYS, key_of, ASCII_SEPARATORS) == tables_of(reference(many))
    assert _scan.remembered() == 32_768  # it grew as the text went on, up to half its largest size
    assert SCAN("w1x w2x", KEYS, key_of, ASCII_SEPARATORS) == tables_of(reference("w1x w2x"))
    assert _scan.remembered() == 2  # emptied before this text: over its limit

    def nested(surface: str) -> str:  # another scan while this one waits (as another thread could)
        inner = f"{surface} inner {surface}"
        assert SCAN(inner, KEYS, key_of, ASCII_SEPARATORS) == tables_of(reference(inner))
        return key_of(surface)

    text = "nestqa nestqb nestqa"
    assert SCAN(text, {}, nested, ASCII_SEPARATORS) == tables_of(reference(text))
    assert SCAN(text, KEYS, key_of, ASCII_SEPARATORS) == tables_of(reference(text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=TRICKY + "sS", max_size=60), st.data())
def test_spans_leave_out_a_possessive_s_and_nothing_else(text: str, data: st.DataObject) -> None:
    # Made in C when compiled (bot/matching/_scan.c), else in Python: the same spans either way.
    doc = Document(text, "")
    n = len(doc.starts)
    ends = [
        m.end() - (2 if len(m.group()) > 2 and m.group()[-1] in "sS" and m.group()[-2] in "'’‘ʼ′" else 0)
        for m in REFERENCE.finditer(doc.text)
    ]
    expected = [Span(doc.starts[i], ends[i], doc.text[doc.starts[i] : ends[i]]) for i in range(n)]
    assert list(doc.spans_at(list(range(n)))) == expected
    if n:
        first = data.draw(st.integers(0, n - 1))
        last = data.draw(st.integers(first, n - 1))
        start, end = doc.starts[first], ends[last]
        assert doc.span(first, last) == Span(start, end, doc.text[start:end])
        assert type(doc.span(first, last)) is Span


def test_spans_refuse_tokens_out_of_range_or_out_of_order() -> None:
    doc = Document("NATO's allies", "")
    for first, last in [(0, 2), (-1, 0), (-1, -1), (1, 0)]:
        with pytest.raises(IndexError):
            doc.span(first, last)
    with pytest.raises(IndexError):
        doc.spans_at([0, 5])
    for indices in ([1, 0], [0, 0]):  # a tuple of spans is taken as sorted and distinct
        with pytest.raises(ValueError, match="sorted and distinct"):
            doc.spans_at(indices)


@needs_c
def test_the_c_table_follows_the_cache_it_is_given() -> None:
    assert SCAN is not None
    assert SCAN("apple pie", KEYS, key_of, ASCII_SEPARATORS) is not None  # remembered with KEYS
    _, _, keys, _ = SCAN("apple pie", {"apple": "X"}, lambda s: "Y", ASCII_SEPARATORS) or ((), (), (), {})
    assert keys == ["X", "Y"]
    assert SCAN("apple", KEYS, key_of, ASCII_SEPARATORS) == tables_of(([0], ["apple"]))


@needs_c
@pytest.mark.parametrize("length", [22, 23, 24, 40])
def test_long_words_around_the_c_tables_inline_length(length: int) -> None:
    word = "x" * (length - 1) + "s"
    text = f"{word} and {word} again, {word}'s end"
    assert SCAN is not None
    assert SCAN(text, KEYS, key_of, ASCII_SEPARATORS) == tables_of(reference(text))
    assert SCAN(text, KEYS, key_of, ASCII_SEPARATORS) == tables_of(reference(text))  # met before


@needs_c
@pytest.mark.parametrize("text", ["Kyiv 🇺🇦 talks", "a 𝐛 c", "naïve", "Zürich", "x\u0301"])
def test_text_off_the_ascii_path_is_left_to_the_general_path(text: str) -> None:
    assert SCAN is not None
    assert not ascii_path(text)
    assert SCAN(text, KEYS, key_of, ASCII_SEPARATORS) is None
    assert Document(text, "").surfaces == reference(text)[1]


@needs_c
def test_apostrophes_join_words_only_where_they_are_separators() -> None:
    assert SCAN is not None
    assert SCAN("O’Brien", KEYS, key_of, ASCII_SEPARATORS) == tables_of(reference("O’Brien"))
    assert SCAN("O’Brien", KEYS, key_of, ASCII_SEPARATORS.replace("’", "")) is None


class Key(str):
    pass


@needs_c
def test_the_c_tables_take_exact_str_keys_only() -> None:
    assert SCAN is not None
    with pytest.raises(TypeError):
        SCAN("qqzk", {}, Key, ASCII_SEPARATORS)
    with pytest.raises(TypeError):
        SCAN("qqzj", {"qqzj": Key("qqzj")}, key_of, ASCII_SEPARATORS)


@needs_c
def test_the_c_table_cannot_be_emptied_while_a_scan_uses_it() -> None:
    from bot.matching import _scan

    def forgetting(surface: str) -> str:
        _scan.forget()
        return key_of(surface)

    with pytest.raises(RuntimeError, match="a scan is running"):
        SCAN("zzforget", KEYS, forgetting, ASCII_SEPARATORS)
    assert SCAN("zzforget", KEYS, key_of, ASCII_SEPARATORS) == tables_of(([0], ["zzforget"]))


@needs_c
@pytest.mark.parametrize("word", ["O’Brien", "Supercalifragilisticexpialidocious", "nAtO"])
def test_a_word_repeated_throughout_a_long_text_has_one_tuple_of_its_tokens(word: str) -> None:
    """Tokens off the table of surfaces (a curly apostrophe, more than 23 characters) are a group each,
    and case variants a group each: a key's groups go into its one tuple in one pass, so a long body of
    one word is tokenised in a blink, not in minutes as when each group was merged into the tuple."""
    variants = [word, word.upper(), word.lower(), word.swapcase()]
    text = " ".join(variants[i % 4] for i in range(200_000))
    assert SCAN is not None
    tables = SCAN(text, KEYS, key_of, ASCII_SEPARATORS)
    assert tables is not None
    starts, surfaces, keys, by_key = tables
    assert list(by_key) == [normalise(word).key]
    assert by_key[normalise(word).key] == tuple(range(200_000))
    assert (starts, surfaces, keys) == tables_of(reference(text))[:3]


@needs_c
@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.text(alphabet="aAbBsSzZ09_", min_size=1, max_size=8).filter(lambda w: w[0] != "_"),
        min_size=1,
        max_size=30,
    )
)
def test_the_c_key_of_a_plain_word_met_first_is_its_normal_key(words: list[str]) -> None:
    """Made in C (its lower case) for a word of ASCII letters, digits and underscores not ending in s;
    by ``normalise`` for any other: the same keys either way, words met first or again."""
    assert SCAN is not None
    text = " ".join(words) + " " + " ".join(words).upper()
    cache: dict[str, str] = {}  # every word met first
    for _ in range(2):
        tables = SCAN(text, cache, key_of, ASCII_SEPARATORS, True)
        assert tables is not None
        assert tables == tables_of(reference(text))

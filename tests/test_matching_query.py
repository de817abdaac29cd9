"""The query language: operators, precedence, canonical form, errors, smart case and aliases."""

from __future__ import annotations

import pytest

from bot.core.errors import QueryError
from bot.matching import AliasTable, Document, Query, default_aliases, evaluate, parse_query


def canonical(text: str) -> str:
    return parse_query(text).canonical


def matches(query: str, title: str, body: str = "") -> bool:
    return evaluate(parse_query(query), Document(title, body)) is not None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Ukraine (NATO OR otan) -football", "ukraine AND (NATO OR otan) AND NOT football"),
        ("ukraine russia", "ukraine AND russia"),
        ("ukraine AND russia", "ukraine AND russia"),
        ("a OR b c", "a OR (b AND c)"),
        ("(a OR b) c", "(a OR b) AND c"),
        ("a -b c", "a AND c AND NOT b"),
        ("a NOT (b OR c)", "a AND NOT (b OR c)"),
        ("a ((b))", "a AND b"),
        ("a a ukraine Ukraine", "a AND ukraine"),
        ("x NOT NOT y", "x AND y"),
        ("Kyiv’s", "kyiv"),
        ("“Prime Minister”", '"prime minister"'),
        ("„Prime Minister“", '"prime minister"'),
        ("«Prime Minister»", '"prime minister"'),
        ('"Ukraine"', '"ukraine"'),
        ("Kyiv-based", '"kyiv based"'),
        ("Ukrain*", "ukrain*"),
        ("=Ukrain*", "=Ukrain*"),
        ("title:Ukraine", "title:ukraine"),
        ("intitle:(war OR peace)", "title:war OR title:peace"),
        ("site:https://www.BBC.co.uk/news", "site:bbc.co.uk"),
        ("source:Reuters", "source:reuters"),
        ('source:"BBC News"', 'source:"bbc news"'),
        ("source:bbc.co.uk", "site:bbc.co.uk"),
        ("putin NEAR/5 biden", "putin NEAR/5 biden"),
        ("US UK WHO IT CIA NATO", "US AND UK AND WHO AND IT AND CIA AND NATO"),
        ("Nasa COVID", "nasa AND covid"),
        ("=us ~US =Apple", "=us AND us AND =Apple"),
        ('="Apple Inc"', '="Apple Inc"'),
        ('"US troops"', '"US troops"'),
        ("Erdoğan", "erdogan"),
        ("ukraine | russia", "ukraine OR russia"),
        ("or and not", "or AND and AND not"),
        ("NOT- OR-gate", '=NOT AND "OR gate"'),
    ],
)
def test_canonical_form(typed: str, expected: str) -> None:
    assert canonical(typed) == expected
    assert canonical(expected) == expected


def test_identical_meaning_gives_identical_canonical_and_equal_queries() -> None:
    a, b = parse_query("Ukraine  NATO"), parse_query("ukraine AND NATO's")
    assert a.canonical == "ukraine AND NATO" == b.canonical
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1


def test_query_is_immutable() -> None:
    query = parse_query("ukraine")
    with pytest.raises(AttributeError):
        query.canonical = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("typed", "message", "column"),
    [
        ("((", "the `(` at column 1 is never closed: add a `)` where its group ends", 1),
        ("(a OR b", "the `(` at column 1 is never closed: add a `)` where its group ends", 1),
        ("a (b (c)", "the `(` at column 3 is never closed: add a `)` where its group ends", 3),
        ('ukraine AND "nato', 'the `"` at column 13 is never closed: end the phrase with a quote too', 13),
        ("ukraine “nato", "the `“` at column 9 is never closed: end the phrase with a quote too", 9),
        ("a OR b)", "the `)` at column 7 closes nothing: no `(` is open there", 7),
        ("ukraine OR", "`OR` at column 9 ends the query: put a term after it", 9),
        ("OR ukraine", "`OR` at column 1 has nothing before it: it goes between two terms", 1),
        ("a OR OR b", "`OR` at column 3 is followed by `OR`, not by a term", 3),
        ("a AND", "`AND` at column 3 ends the query: put a term after it", 3),
        ("(a OR) b", "`OR` at column 4 has nothing after it: the `)` at column 6 comes first", 4),
        ("a NOT", "`NOT` at column 3 ends the query: put a term after it", 3),
        ("a -OR b", "the `-` at column 3 is followed by `OR`, not by a term", 3),
        ("a ()", "the parentheses at column 3 are empty: put terms inside", 3),
        ("uk*", "the `*` at column 3 needs at least 3 letters before it", 3),
        ("a *", "the `*` at column 3 needs at least 3 letters before it", 3),
        (
            "kyiv-bas*",
            "the `*` at column 9 ends `kyiv-bas`, which is more than one word: a `*` can only end a "
            "single word",
            9,
        ),
        ("uk*aine", "the `*` at column 3 is inside `uk*aine`: a `*` can only end a word", 3),
        (
            "a NEAR b",
            "`NEAR` at column 3 needs a distance: `NEAR/5` finds two terms at most 5 words apart",
            3,
        ),
        (
            "a NEAR/ b",
            "`NEAR/` at column 3 needs a distance: `NEAR/5` finds two terms at most 5 words apart",
            3,
        ),
        (
            "a NEAR/x b",
            "`NEAR/x` at column 3 is not a distance: `NEAR/` takes a number of words, as in `NEAR/5`",
            3,
        ),
        ("a NEAR/5", "`NEAR/5` at column 3 ends the query: put a term after it", 3),
        ("a NEAR/500 b", "`NEAR/500` at column 3 is too far apart: at most `NEAR/50`", 3),
        (
            "(a OR b) NEAR/3 c",
            "`NEAR/3` at column 10 joins two words, phrases or prefixes, not a group in parentheses, "
            "`site:` or `source:`",
            10,
        ),
        (
            "a NEAR/3 b NEAR/3 c",
            "`NEAR/3` at column 12 follows another `NEAR`: they cannot be chained, join them with `AND`",
            12,
        ),
        (
            "ukraine title:",
            "`title:` at column 9 has nothing after it: write what to look for right after the colon, "
            "with no space",
            9,
        ),
        (
            "foo:bar",
            "`foo:` at column 1 is not a field: the fields are `title:`, `site:` and `source:` (put "
            "words with a colon in quotes)",
            1,
        ),
        (
            "ukraine https://bbc.co.uk",
            "`https:` at column 9 is not a field: the fields are `title:`, `site:` and `source:` (put "
            "words with a colon in quotes)",
            9,
        ),
        (
            "site:not_a_domain",
            "`not_a_domain` at column 6 is not a domain: `site:` takes one like bbc.co.uk",
            6,
        ),
        ("site:(a)", "`site:` takes one value, not the group in parentheses at column 6", 6),
        ("=~apple", "`=~` at column 1: use either `=` or `~`, not both", 1),
        ("= apple", "the `=` at column 1 needs a word or phrase right after it, with no space", 1),
        ('a ""', "the phrase at column 3 is empty: put words between its quotes", 3),
    ],
)
def test_parse_errors_say_what_and_where(typed: str, message: str, column: int) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(typed)
    assert info.value.reason == message
    assert info.value.column == column
    assert str(info.value) == message
    assert info.value.example
    parse_query(info.value.example)  # the example shown with the error is one that works


@pytest.mark.parametrize("typed", ["-sport", "NOT sport", "ukraine OR -sport", "-(a OR b)", "NOT a NOT b"])
def test_a_query_that_only_excludes_is_refused_with_a_reason(typed: str) -> None:
    with pytest.raises(QueryError, match="only excludes words"):
        parse_query(typed)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "the query is empty: type a word to look for"),
        ("   ", "the query is empty: type a word to look for"),
        ("&", "the query is empty: `&` has no letters or digits to look for"),
    ],
)
def test_empty_query_is_refused(typed: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(typed)
    assert (info.value.reason, info.value.column) == (message, None)


def test_overlong_query_is_refused() -> None:
    with pytest.raises(QueryError, match="too long"):
        parse_query("a " * 400)
    with pytest.raises(QueryError, match="too many terms"):
        parse_query(" ".join(f"w{i}" for i in range(40)))


def test_precedence_not_and_or() -> None:
    # a OR b AND NOT c == a OR (b AND (NOT c))
    assert matches("alpha OR beta -gamma", "alpha gamma")
    assert matches("alpha OR beta -gamma", "beta")
    assert not matches("alpha OR beta -gamma", "beta gamma")
    assert not matches("(alpha OR beta) -gamma", "alpha gamma")


def test_implicit_and_explicit_and() -> None:
    for query in ("ukraine nato", "ukraine AND nato"):
        assert matches(query, "Ukraine and NATO")
        assert not matches(query, "Ukraine alone")


def test_lowercase_operators_are_words() -> None:
    assert not matches("war or peace", "war")
    assert matches("war or peace", "war or peace")


def test_minus_inside_a_word_is_a_hyphen_not_a_negation() -> None:
    assert matches("Kyiv-based", "a Kyiv based firm")
    assert not matches("ukraine -based", "Kyiv-based Ukraine")


def test_near_counts_words_between_in_either_order() -> None:
    assert matches("putin NEAR/2 biden", "Putin and Joe Biden")
    assert matches("putin NEAR/2 biden", "Biden told Putin")
    assert not matches("putin NEAR/1 biden", "Putin and Joe Biden")
    assert matches('putin NEAR/0 "joe biden"', "Putin Joe Biden")
    assert not matches("putin NEAR/5 biden", "Putin spoke", "Biden replied")


def test_prefix_matches_words_starting_with_it() -> None:
    assert matches("Ukrain*", "Ukrainians protest")
    assert matches("ukrain*", "UKRAINE")
    assert not matches("ukrain*", "Russia")
    assert matches("=Ukrain*", "Ukrainian") and not matches("=Ukrain*", "ukrainian")


def test_title_terms_only_look_at_the_headline() -> None:
    assert matches("title:ukraine", "Ukraine talks", "nothing")
    assert not matches("title:ukraine", "Talks", "about Ukraine")
    assert matches("title:(war OR peace) kyiv", "Peace now", "in Kyiv")


class TestSmartCase:
    def test_acronym_matches_capitals_and_dotted_forms_only(self) -> None:
        for text in ("US troops", "U.S. troops", "US-led troops", "the US’s troops"):
            assert matches("US", text), text
        for text in ("tell us more", "Us and them"):
            assert not matches("US", text), text

    def test_lowercase_query_is_case_blind(self) -> None:
        for text in ("US troops", "tell us more", "U.S. troops"):
            assert matches("us", text), text

    @pytest.mark.parametrize("term", ["WHO", "IT", "UK", "CIA"])
    def test_acronym_does_not_match_ordinary_word(self, term: str) -> None:
        assert not matches(term, f"We know {term.lower()} now. {term.capitalize()} is over.")
        assert matches(term, f"The {term} said")

    def test_four_letter_acronyms_also_match_british_title_case(self) -> None:
        assert matches("NATO", "Nato allies")
        assert not matches("NATO", "nato allies")

    def test_all_caps_headline_does_not_count_as_acronyms(self) -> None:
        assert not matches("WHO", "WHO WILL WIN", "The race is close.")
        assert not matches("US", "US TROOPS HEAD HOME", "Soldiers left.")
        assert matches("us", "US TROOPS HEAD HOME", "")
        assert matches("WHO", "WHO WILL WIN", "The WHO said so.")
        assert not matches("WHO", "Election night", "Polls close.\nWHO WILL WIN THE RACE\nNobody knows.")
        assert matches("WHO", "Election night", "Polls close.\nWHO warns about flu\nNobody knows.")

    def test_exact_case_override(self) -> None:
        assert matches("=us", "tell us more") and not matches("=us", "US troops")
        assert matches("=Apple", "Apple shares") and not matches("=Apple", "an apple a day")
        assert not matches("=us", "TELL US MORE")

    def test_case_blind_override(self) -> None:
        assert matches("~US", "tell us more")
        assert matches("~WHO", "who knows")


class TestAliases:
    def test_default_transliterations_expand_bare_words(self) -> None:
        doc = Document("Zelenskiy in Kiev", "Zelenskyy met Zelensky in Kyiv.")
        spans = evaluate(parse_query("Zelensky"), doc)
        assert spans is not None and [s.text for s in spans] == ["Zelenskiy", "Zelenskyy", "Zelensky"]
        assert matches("kyiv", "Kiev") and matches("Kharkov", "Kharkiv") and matches("Gaddafi", "Qaddafi")

    def test_quoted_phrases_are_literal(self) -> None:
        assert not matches('"kyiv"', "Kiev")
        assert matches('"kyiv"', "Kyiv")
        assert not matches('"in kyiv"', "in Kiev")

    def test_config_groups_extend_defaults(self) -> None:
        table = default_aliases().extended([["Daesh", "ISIL"]])
        assert matches("kyiv", "Kiev")
        assert evaluate(parse_query("daesh", table), Document("ISIL fighters", "")) is not None
        assert evaluate(parse_query("daesh"), Document("ISIL fighters", "")) is None

    def test_groups_sharing_a_word_merge(self) -> None:
        table = AliasTable.from_groups([["a1", "b1"], ["b1", "c1"]])
        assert set(table.alternatives("a1")) == {"b1", "c1"}

    def test_no_aliases(self) -> None:
        table = AliasTable.from_groups([])
        assert evaluate(parse_query("kyiv", table), Document("Kiev", "")) is None

    def test_alias_must_be_one_word(self) -> None:
        with pytest.raises(ValueError, match="single word"):
            AliasTable.from_groups([["New York", "NYC"]])

    def test_re_expanding_with_another_table(self) -> None:
        query = parse_query("kyiv", AliasTable.from_groups([]))
        expanded = query.with_aliases(default_aliases())
        assert expanded.canonical == query.canonical
        assert evaluate(expanded, Document("Kiev", "")) is not None
        assert expanded != query


def test_site_and_source_match_outlet_and_domain_without_spans() -> None:
    doc = Document("Ukraine talks", "text", source="BBC News", url="https://www.bbc.co.uk/news/1")
    for query in ("site:bbc.co.uk", "site:co.uk", "site:bbc", "source:bbc", 'source:"bbc news"'):
        assert evaluate(parse_query(query), doc) == (), query
    for query in ("site:cnn.com", "site:c.uk", "source:cnn", 'source:"news bbc"'):
        assert evaluate(parse_query(query), doc) is None, query
    spans = evaluate(parse_query("ukraine site:bbc.co.uk"), doc)
    assert spans is not None and [s.text for s in spans] == ["Ukraine"]


def test_query_repr_and_str() -> None:
    query = parse_query("Ukraine")
    assert str(query) == "ukraine" and "ukraine" in repr(query)
    assert isinstance(query, Query)


def test_with_aliases_keeps_unchanged_queries_identical() -> None:
    query = parse_query("kyiv nato")
    assert query.with_aliases(default_aliases()) is query


def test_shipped_alias_groups_load_from_yaml() -> None:
    table = default_aliases()
    assert len(table) >= 20
    groups = {frozenset(g) for g in table.groups}
    assert frozenset({"kyiv", "kiev"}) in groups
    assert {"odesa", "odessa"} <= next(g for g in groups if "odesa" in g)
    assert table == default_aliases() and hash(table) == hash(default_aliases())

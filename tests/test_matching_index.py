"""The subscription index: add, replace, remove, shared queries, and the same answers as brute force."""

from __future__ import annotations

import doctest
import itertools

import bot.matching
from bot.matching import AliasTable, Document, SubscriptionIndex, default_aliases, evaluate, parse_query

DOC = Document(
    "Blinken heads to Kyiv as US warns of invasion",
    "Ukrainian forces train with NATO allies. Zelenskyy met Blinken.\nThe Pentagon said talks went well.",
    source="Daily Express",
    url="https://www.express.co.uk/news/world/1",
)


def index_of(*queries: str) -> SubscriptionIndex:
    index = SubscriptionIndex()
    for text in queries:
        query = parse_query(text)
        index.add(query.canonical, query)
    return index


def test_match_returns_every_matching_key_with_its_spans() -> None:
    queries = [
        "blinken",
        "US",
        "=us",
        "zelensky",
        "ukrain*",
        "pentagon OR football",
        "football",
        "nato -blinken",
    ]
    index = index_of(*queries)
    found = index.match(DOC)
    assert set(found) == {"blinken", "US", "zelensky", "ukrain*", "pentagon OR football"}
    assert [s.text for s in found["zelensky"]] == ["Zelenskyy"]
    assert [s.text for s in found["pentagon OR football"]] == ["Pentagon"]
    for key, spans in found.items():
        assert spans == evaluate(parse_query(key), DOC)


def test_add_remove_and_replace_without_rebuild() -> None:
    index = index_of("blinken")
    assert "blinken" in index and len(index) == 1
    index.add("k", parse_query("football"))
    assert set(index.match(DOC)) == {"blinken"}
    index.add("k", parse_query("pentagon"))  # same key again replaces
    assert set(index.match(DOC)) == {"blinken", "k"}
    assert len(index) == 2
    index.remove("k")
    index.remove("k")  # unknown key: no error
    index.remove("never added")
    assert set(index.match(DOC)) == {"blinken"}
    assert "k" not in index and len(index) == 1


def test_identical_queries_under_many_keys_are_stored_once() -> None:
    index = SubscriptionIndex()
    query = parse_query("Ukraine OR Kyiv")
    for key in ("a", "b", "c"):
        index.add(key, parse_query("ukraine OR kyiv"))
    assert len(index._entries) == 1
    found = index.match(DOC)
    assert set(found) == {"a", "b", "c"}
    assert found["a"] is found["b"]
    index.remove("a")
    index.remove("b")
    assert set(index.match(DOC)) == {"c"}
    assert index.get("c") == query
    index.remove("c")
    assert index.match(DOC) == {}
    assert not any((index._table, index._prefixes, index._heads, index._short))


def test_prefixes_are_found_per_token_and_removed_cleanly() -> None:
    index = index_of("ukrain*", "pentag*", "kyi*", "nothing*")
    assert set(index.match(DOC)) == {"ukrain*", "pentag*", "kyi*"}
    for key in ("ukrain*", "pentag*", "kyi*", "nothing*"):
        index.remove(key)
    assert index.match(DOC) == {} and not index._heads and not index._short and not index._prefixes


def test_branches_of_one_query_are_indexed_separately_and_merged() -> None:
    index = index_of("football OR (zelensky NATO) OR title:kyiv")
    spans = index.match(DOC)["football OR (zelensky AND NATO) OR title:kyiv"]
    assert [s.text for s in spans] == ["Kyiv", "NATO", "Zelenskyy"]


def test_site_and_source_only_queries_are_indexed() -> None:
    index = index_of("site:express.co.uk", "source:express", "site:bbc.co.uk", "source:bbc")
    assert index.match(DOC) == {"site:express.co.uk": (), "source:express": ()}


def test_index_aliases_apply_to_every_added_query() -> None:
    bare = AliasTable.from_groups([])
    index = SubscriptionIndex(default_aliases())
    index.add("q", parse_query("zelensky", bare))
    assert set(index.match(DOC)) == {"q"}
    plain = SubscriptionIndex(bare)
    plain.add("q", parse_query("zelensky"))
    assert plain.match(DOC) == {}


def test_prefix_queries_and_branches_give_brute_force_spans() -> None:
    queries = [
        "ukrain* OR blinken",
        "pentag*",
        "title:kyi*",
        "=Ukrain*",
        "=ukrain*",
        "zelensk* nato",
        "kyi* -kyiv",
    ]
    index = index_of(*queries)
    found = index.match(DOC)
    for text in queries:
        query = parse_query(text)
        assert found.get(query.canonical) == evaluate(query, DOC), text
    assert [s.text for s in found["ukrain* OR blinken"]] == ["Blinken", "Ukrainian", "Blinken"]
    assert "=ukrain*" not in found and "kyi* AND NOT kyiv" not in found


def test_and_queries_need_both_words() -> None:
    index = index_of("blinken pentagon", "blinken football", '"nato allies" zelensky', '"allies nato"')
    assert set(index.match(DOC)) == {"blinken AND pentagon", '"nato allies" AND zelensky'}


def test_acronyms_and_aliases_are_verified() -> None:
    index = index_of("US", "=us", "NATO", "WHO", "kiev", '"kiev"')
    assert set(index.match(DOC)) == {"US", "NATO", "kiev"}
    assert [s.text for s in index.match(DOC)["kiev"]] == ["Kyiv"]


def test_replacing_a_shared_query_keeps_the_other_subscribers() -> None:
    index = index_of()
    index.add("a", parse_query("blinken"))
    index.add("b", parse_query("blinken"))
    index.add("a", parse_query("pentagon"))
    assert set(index.match(DOC)) == {"a", "b"}
    assert index.get("b") == parse_query("blinken")
    assert index.get("a") == parse_query("pentagon")


def test_package_example_runs() -> None:
    assert doctest.testmod(bot.matching).failed == 0


def test_two_word_phrases_match_on_one_line_only() -> None:
    index = index_of('"pentagon said"', '"nato allies"', '"went well"', '"blinken the"', '"allies zelenskyy"')
    # "Blinken." ends a line and "The" starts the next: a phrase never spans a line break.
    found = index.match(DOC)
    assert set(found) == {'"pentagon said"', '"nato allies"', '"went well"', '"allies zelenskyy"'}
    assert [s.text for s in found['"nato allies"']] == ["NATO allies"]
    assert found == {k: evaluate(index.get(k), DOC) for k in found}  # type: ignore[arg-type]


def test_excluded_words_exclude_their_aliases_too() -> None:
    aliases = default_aliases()
    index = SubscriptionIndex(aliases)
    for text in ("blinken -zelensky", "blinken -football", "blinken pentagon -football", "blinken -kiev"):
        index.add(text, parse_query(text, aliases))
    assert set(index.match(DOC)) == {"blinken -football", "blinken pentagon -football"}
    spans = index.match(DOC)["blinken pentagon -football"]
    assert [s.text for s in spans] == ["Blinken", "Blinken", "Pentagon"]


def test_a_prefix_added_after_matching_is_found_and_a_removed_one_is_not() -> None:
    index = index_of("blink*")
    assert set(index.match(DOC)) == {"blink*"}
    index.add("pentag*", parse_query("pentag*"))
    index.remove("blink*")
    assert set(index.match(DOC)) == {"pentag*"}


def test_a_compacted_index_answers_the_same_and_still_adds_and_removes() -> None:
    queries = [
        "blinken",
        "ukrain*",
        "pentagon OR football",
        "nato -blinken",
        '"nato allies"',
        '"forces train with"',
        "kyiv blinken",
        "title:kyiv",
        "site:express.co.uk zelensky",
    ]
    index = index_of(*queries)
    before = index.match(DOC)
    index.compact()
    assert index.match(DOC) == before and len(before) == len(queries) - 1  # all but "nato -blinken"
    index.add("late", parse_query("zelensky"))
    assert set(index.match(DOC)) == {*before, "late"}
    for key in [*(parse_query(text).canonical for text in queries), "late"]:
        index.remove(key)
    assert index.match(DOC) == {} and not index._table and not index._prefixes


def test_a_word_and_longer_queries_under_one_key_come_and_go_in_any_order() -> None:
    # The plain word is filed as its subscription key alone, or beside the others in the key's slot.
    doc = Document("Kyiv based analysts", "")
    queries = ["kyiv", '"kyiv based"', "kyiv -football", "kyiv OR lviv"]
    for order in itertools.permutations(queries):
        index = SubscriptionIndex()
        for text in order:
            index.add(text, parse_query(text))
        assert set(index.match(doc)) == set(queries)
        for n, text in enumerate(order):
            index.remove(text)
            assert set(index.match(doc)) == set(order[n + 1 :])
            assert index.match(doc) == {k: evaluate(parse_query(k), doc) for k in order[n + 1 :]}
        assert not index._table

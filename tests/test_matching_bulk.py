"""Loading many subscriptions at once: the bulk path gives the index and the book that adding them one by
one gives, and the compact storage answers, replaces and forgets like full entries."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import QueryError
from bot.core.models import Article, ChannelRef, Subscription
from bot.matching import Document, SubscriptionIndex, default_aliases, evaluate, parse_query
from bot.matching.shapes import parse_simple
from bot.processing.subscriptions import SubscriptionBook
from tests.test_matching_properties import documents, queries

ALIASES = default_aliases()
DOC = Document(
    "Blinken heads to Kyiv as US warns of invasion",
    "Ukrainian forces train with NATO allies. Zelenskyy met Blinken.\nThe Pentagon said talks went well.",
    source="Daily Express",
    url="https://www.express.co.uk/news/world/1",
)

# Words that parse_simple takes (lower-case ASCII, no aliases) and ones it must leave to the parser:
# aliases (kiev), capitals, operators typed as words, accents, apostrophes, short or starred prefixes.
SIMPLE_WORDS = [
    "ukraine",
    "talks",
    "talk",
    "missiles",
    "pentagon",
    "blinken",
    "or",
    "not",
    "and",
    "near",
    "3d",
]
OTHER_WORDS = ["kiev", "kyiv", "US", "Talks", "NATO", "erdoğan", "o'brien", "ab*", "12x*", "ukr*", "*", ""]
TERMS = st.sampled_from([*SIMPLE_WORDS, *OTHER_WORDS, "ukrain*", "blink*", '"nato allies"', '"said talks"'])
SIMPLE_TEXTS = st.tuples(
    st.lists(TERMS, min_size=1, max_size=4),
    st.sampled_from([" AND ", " OR ", " AND NOT ", " ", "  ", " NOT ", " | "]),
    st.lists(
        st.sampled_from(["", " AND NOT football", " AND NOT kiev", " AND NOT NOT", " OR talks*"]), max_size=2
    ),
).map(lambda t: t[1].join(t[0]) + "".join(t[2]))


def tree(text: str) -> object:
    try:
        return parse_query(text, ALIASES).root
    except QueryError:
        return None


@settings(max_examples=400, deadline=None)
@given(st.one_of(SIMPLE_TEXTS, queries, queries.map(lambda t: (tree(t) and parse_query(t).canonical) or t)))
def test_the_quick_parser_answers_only_what_the_parser_would(text: str) -> None:
    node = parse_simple(text, ALIASES)
    if node is not None:
        assert node == tree(text)
        assert parse_query(text, ALIASES).canonical == text  # only canonical texts are taken


@pytest.mark.parametrize(
    "text",
    ["ukraine", "ukrain*", '"nato allies"', "blinken AND pentagon", "blinken AND NOT football AND NOT rugby",
     'blinken OR ukrain* OR "said talks"', "3d", "or", "not AND blinken"],
)  # fmt: skip
def test_the_common_shapes_skip_the_general_parser(text: str) -> None:
    assert parse_simple(text, ALIASES) == parse_query(text, ALIASES).root


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.one_of(SIMPLE_TEXTS, queries), min_size=1, max_size=10),
    st.lists(documents(), min_size=1, max_size=2),
    st.data(),
)
def test_adding_in_bulk_gives_the_index_that_adding_one_by_one_gives(
    texts: list[str], docs: list[Document], data: st.DataObject
) -> None:
    pairs = [(f"k{n % 7}", text) for n, text in enumerate(texts)]  # some keys given twice: the last wins
    bulk, single = SubscriptionIndex(ALIASES), SubscriptionIndex(ALIASES)
    failed = bulk.add_many(pairs)
    expected_failures = []
    for key, text in pairs:
        try:
            single.add(key, parse_query(text, ALIASES))
        except QueryError:
            expected_failures.append(key)
    assert [key for key, _ in failed] == expected_failures
    assert len(bulk) == len(single)
    for key, _ in pairs:
        assert bulk.get(key) == single.get(key)
    for doc in docs:
        assert bulk.match(doc) == single.match(doc)
    for key in data.draw(st.sets(st.sampled_from(sorted({k for k, _ in pairs})))):
        bulk.remove(key)
        single.remove(key)
    for doc in docs:
        found = bulk.match(doc)
        assert found == single.match(doc)
        assert found == {k: spans for k in found if (spans := evaluate(bulk.get(k), doc)) is not None}  # type: ignore[arg-type]


def test_compact_queries_under_several_keys_match_replace_and_go() -> None:
    index = SubscriptionIndex(ALIASES)
    index.add_many(
        [("a", "blinken"), ("b", "blinken"), ("c", "blinken OR football"), ("d", "nato AND NOT kiev")]
    )
    assert set(index.match(DOC)) == {"a", "b", "c"}
    index.add("a", parse_query("pentagon", ALIASES))  # replaced
    index.add("b", parse_query("Blinken", ALIASES))  # the same query again: nothing changes
    assert [s.text for s in index.match(DOC)["a"]] == ["Pentagon"]
    assert index.get("b") == parse_query("blinken", ALIASES) and index.get("c") == parse_query(
        "blinken OR football"
    )
    for key in ("a", "b", "c", "d", "d"):
        index.remove(key)
    assert index.match(DOC) == {} and len(index) == 0 and not index._table


def channel(n: int) -> ChannelRef:
    return ChannelRef("console", f"c{n}")


def subscription(sub_id: int, query: str, n: int = 0) -> Subscription:
    return Subscription(sub_id, channel(n), query, query)


ARTICLE = Article(
    id="1",
    url="https://www.express.co.uk/news/world/1",
    title="Blinken heads to Kyiv",
    text="Ukrainian forces train with NATO allies.",
    source="Daily Express",
)


def test_the_book_loads_in_bulk_what_it_adds_one_by_one(caplog: pytest.LogCaptureFixture) -> None:
    stored = [
        subscription(1, "blinken"),
        subscription(2, "blinken", 1),
        subscription(3, "nato AND NOT football"),
        subscription(4, "kiev"),
        subscription(5, "pentagon"),
        subscription(6, "title:(blinken"),  # a stored query that no longer parses
    ]
    bulk, single = SubscriptionBook(ALIASES), SubscriptionBook(ALIASES)
    with caplog.at_level(logging.ERROR):
        bulk.add_many(stored)
    assert "subscription 6: stored query 'title:(blinken' no longer parses" in caplog.text
    for sub in stored:
        single.add(sub)
    assert len(bulk) == len(single) == 5
    assert [m.subscription.id for m in bulk.match(ARTICLE)] == [1, 2, 3, 4]
    assert bulk.match(ARTICLE) == single.match(ARTICLE)

    bulk.set_paused(channel(1), True)
    assert [m.subscription.id for m in bulk.match(ARTICLE)] == [1, 3, 4]
    bulk.replace(dataclasses.replace(stored[2], user_paused=True))  # paused with a command
    assert [m.subscription.id for m in bulk.match(ARTICLE)] == [1, 4]
    bulk.remove(stored[0])
    bulk.remove(stored[3])
    assert [m.subscription.id for m in bulk.match(ARTICLE)] == []
    bulk.set_paused(channel(1), False)
    assert [m.subscription.id for m in bulk.match(ARTICLE)] == [2]
    assert bulk.follow([2, 7], {7: subscription(7, "ukrain*")}) == 2  # 2 gone, 7 new
    assert [m.subscription.id for m in bulk.match(ARTICLE)] == [7] and len(bulk) == 3  # 3, 5 and 7
    bulk.add_many([subscription(5, "kiev"), subscription(8, "kiev")])  # 5 moves to a query 8 shares
    assert [m.subscription.id for m in bulk.match(ARTICLE)] == [5, 7, 8] and len(bulk) == 4

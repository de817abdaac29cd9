"""Property tests: the index finds exactly what brute force finds; canonical forms are stable; spans
always point at the original text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import QueryError
from bot.matching import Document, SubscriptionIndex, evaluate, parse_query
from bot.matching.document import Document as Doc

LEAVES = [
    "ukraine", "Ukraine's", "kyiv", "Kiev", "US", "us", "=us", "~US", "NATO", "nato", "WHO", "who",
    "talks", "missile", "Zelensky", '"kyiv based"', '"US talks"', '"war"', "ukrain*", "missil*",
    "=Kyi*", "title:war", "title:(peace OR US)", "site:bbc.co.uk", "source:reuters", "war NEAR/2 peace",
    '"talks" NEAR/0 US', "erdogan", "it", "IT", "Kyiv-based", "peace", "=Peace", '"peace talks"',
    "countri*", "countr*", "country", '"the war"', "talks peace", '"peace talks in kyiv"',
]  # fmt: skip
WORDS = [
    "Ukraine", "Ukraine’s", "ukraine", "Kyiv", "Kiev", "kyiv", "US", "us", "U.S.", "Us", "NATO", "Nato",
    "nato", "WHO", "who", "talks", "talk", "missiles", "missile", "Zelenskyy", "Zelensky", "war", "peace",
    "Peace", "Kyiv-based", "based", "it", "IT", "It", "Erdoğan", "the", "and", "UKRAINIAN", "countries",
    "country", "in",
]  # fmt: skip


def combine(parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    forms = [
        "({a}) ({b})",
        "({a}) AND ({b})",
        "({a}) OR ({b})",
        "({a}) -({b})",
        "({a}) AND NOT ({b})",
        "{a} {b}",
    ]
    return st.tuples(parts, parts, st.sampled_from(forms)).map(lambda t: t[2].format(a=t[0], b=t[1]))


queries = st.recursive(st.sampled_from(LEAVES), combine, max_leaves=6)


@st.composite
def documents(draw: st.DrawFn) -> Document:
    def line(max_size: int) -> str:
        chosen = draw(st.lists(st.sampled_from(WORDS), max_size=max_size))
        seps = draw(st.lists(st.sampled_from([" ", " ", ", ", ". ", " - ", " “"]), min_size=len(chosen)))
        return "".join(w + s for w, s in zip(chosen, seps, strict=False)).strip()

    title = line(6)
    if draw(st.booleans()):
        title = title.upper()
    body = "\n".join(line(12) for _ in range(draw(st.integers(0, 3))))
    source = draw(st.sampled_from(["", "Reuters", "BBC News"]))
    url = draw(st.sampled_from(["", "https://www.bbc.co.uk/news/1", "https://reuters.com/x"]))
    return Document(title, body, source, url)


@settings(max_examples=300, deadline=None)
@given(st.lists(queries, min_size=1, max_size=8), st.lists(documents(), min_size=1, max_size=3), st.data())
def test_index_returns_exactly_what_brute_force_returns(
    texts: list[str], docs: list[Document], data: st.DataObject
) -> None:
    index = SubscriptionIndex()
    parsed = {}
    early = data.draw(st.integers(0, len(texts)))  # added before a first round of matching
    for n, text in enumerate(texts):
        if n == early:
            for doc in docs:  # what the index remembers between articles must follow later changes
                index.match(doc)
        query = parse_query(text)
        parsed[str(n)] = query
        index.add(str(n), query)
    removed = data.draw(st.sets(st.sampled_from(sorted(parsed))))
    for key in removed:
        index.remove(key)
        del parsed[key]
    assert len(index) == len(parsed)
    for doc in docs:
        expected = {k: spans for k, q in parsed.items() if (spans := evaluate(q, doc)) is not None}
        assert index.match(doc) == expected


@settings(max_examples=300, deadline=None)
@given(queries)
def test_canonical_form_is_stable(text: str) -> None:
    query = parse_query(text)
    again = parse_query(query.canonical)
    assert again.canonical == query.canonical
    assert again == query


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_every_token_is_found_by_its_own_text_at_its_own_offsets(title: str, body: str) -> None:
    doc = Doc(title, body)
    for i in range(min(len(doc.starts), 5)):
        surface = doc.text[doc.starts[i] : doc.ends[i]]
        assert surface
        query = parse_query(f'~"{surface}"')
        assert parse_query(query.canonical).canonical == query.canonical
        spans = evaluate(query, doc)
        assert spans is not None
        assert any(s.start == doc.starts[i] for s in spans)
        assert all(doc.text[s.start : s.end] == s.text for s in spans)


SYNTAX = st.sampled_from(
    ["a", "US", "kyiv", " ", " ", "OR", "AND", "NOT", "-", "(", ")", '"', "“", "»", "*", "title:", "site:",
     "source:", "NEAR/2", "=", "~", "é", "'s", ".", "ʼ", "3", "|"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(SYNTAX, max_size=14).map("".join))
def test_any_input_parses_or_fails_with_a_located_query_error(text: str) -> None:
    try:
        query = parse_query(text)
    except QueryError as exc:
        assert exc.column is None or 1 <= exc.column <= max(len(text), 1)
        return
    assert parse_query(query.canonical).canonical == query.canonical

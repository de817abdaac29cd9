"""Text rules: normalisation, tokenising and exact offsets back into the original text."""

from __future__ import annotations

import pytest

from bot.matching import Document, evaluate, parse_query
from bot.matching.text import normalise, stem, words


def hits(query: str, title: str, body: str = "") -> list[str] | None:
    spans = evaluate(parse_query(query), Document(title, body))
    return None if spans is None else [s.text for s in spans]


@pytest.mark.parametrize(
    ("singular", "plural"),
    [
        ("missile", "missiles"),
        ("tax", "taxes"),
        ("church", "churches"),
        ("country", "countries"),
        ("house", "houses"),
        ("glass", "glasses"),
        ("bus", "buses"),
        ("hero", "heroes"),
        ("shoe", "shoes"),
        ("ally", "allies"),
    ],
)
def test_plural_s_and_es_meet_the_base_word(singular: str, plural: str) -> None:
    assert stem(singular) == stem(plural)
    assert hits(singular, f"Two {plural} seen") == [plural]
    assert hits(plural, f"One {singular} seen") == [singular]


@pytest.mark.parametrize("word", ["news", "does", "crisis", "virus", "us", "gas", "his"])
def test_words_ending_in_s_that_are_not_plurals_keep_it(word: str) -> None:
    assert stem(word) == word


def test_news_does_not_match_new() -> None:
    assert hits("news", "A new plan") is None


@pytest.mark.parametrize("text", ["NATO's allies", "NATO’s allies", "NATOʼs allies", "NATO‘s allies"])
def test_possessive_matches_base_word_and_span_leaves_out_the_s(text: str) -> None:
    assert hits("NATO", text) == ["NATO"]
    assert hits('"nato allies"', text) == [text]


def test_possessive_in_query_is_the_base_word() -> None:
    assert parse_query("Ukraine’s").canonical == "ukraine"
    assert hits("Ukraine's", "Ukraine agrees") == ["Ukraine"]


def test_hyphenated_compound_matches_its_parts() -> None:
    assert hits("Kyiv", "A Kyiv-based firm") == ["Kyiv"]
    assert hits("based", "A Kyiv-based firm") == ["based"]
    assert hits("Kyiv-based", "A Kyiv–based firm and a Kyiv based one") == ["Kyiv–based", "Kyiv based"]


def test_dashes_and_typographic_apostrophes_are_unified() -> None:
    assert hits("O'Brien", "Mr O’Brien spoke") == ["O’Brien"]
    assert hits('"anti tank"', "anti—tank and anti‐tank") == ["anti—tank", "anti‐tank"]


def test_accent_folding_keeps_original_text_in_spans() -> None:
    body = "Recep Tayyip Erdoğan met the mayor of Chișinău in Zürich."
    assert hits("erdogan", body) == ["Erdoğan"]
    assert hits("Chisinau", body) == ["Chișinău"]
    assert hits("zürich", body) == ["Zürich"]


def test_nfkc_and_case_folding() -> None:
    assert hits("nato", "ＮＡＴＯ summit") == ["ＮＡＴＯ"]
    assert hits("strasse", "Große Straße") == ["Straße"]


def test_offsets_map_back_exactly_through_decomposed_accents_and_soft_hyphens() -> None:
    body = "Cafe\u0301 owner and Zelen\u00adskyy met; Zelensky"
    doc = Document("Héadline", body)
    spans = evaluate(parse_query("zelensky OR café OR headline"), doc)
    assert spans is not None
    for span in spans:
        assert doc.text[span.start : span.end] == span.text
    assert [s.text for s in spans] == ["Héadline", "Cafe\u0301", "Zelen\u00adskyy", "Zelensky"]


def test_dotted_abbreviations_are_one_token() -> None:
    assert [n.cased_base for n in words("the U.S. and U.K.-led talks")] == [
        "the",
        "US",
        "and",
        "UK",
        "led",
        "talks",
    ]


def test_normal_forms_of_a_token() -> None:
    norm = normalise("Zelenskyy’s")
    assert (norm.base, norm.key, norm.cased_base) == ("zelenskyy", "zelenskyy", "Zelenskyy")
    assert normalise("CEOs").cased == "CEO"


def test_match_text_joins_title_and_body_like_article() -> None:
    assert Document("Title", "Body").text == "Title\n\nBody"
    assert Document("", "Body").text == "Body"
    assert Document("Title", "").text == "Title"


def test_phrases_do_not_run_from_headline_into_body() -> None:
    assert hits('"ukraine russia"', "Tensions in Ukraine", "Russia says") is None
    assert hits('"ukraine russia"', "Tensions in Ukraine Russia", "") == ["Ukraine Russia"]

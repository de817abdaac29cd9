"""Brute-force evaluation on the real seed article: what fires, and the spans that made it fire."""

from __future__ import annotations

import pytest

from bot.core.models import Article
from bot.matching import Document, evaluate, parse_query
from tests.conftest import SEED

TITLE = "Russia threatened with war as US declares Ukraine could be invaded at ‘any point’"


@pytest.fixture(scope="module")
def seed() -> Document:
    body = SEED.read_text(encoding="utf-8").split(TITLE, 1)[1].strip()
    article = Article(
        id="seed",
        title=TITLE,
        text=body,
        url="https://www.express.co.uk/news/world/1",
        source="Daily Express",
    )
    doc = Document.from_article(article)
    assert doc.text == article.match_text
    return doc


def texts(query: str, doc: Document) -> list[str] | None:
    spans = evaluate(parse_query(query), doc)
    if spans is None:
        return None
    for span in spans:
        assert doc.text[span.start : span.end] == span.text
    return [s.text for s in spans]


def test_acronym_us_matches_us_official(seed: Document) -> None:
    spans = evaluate(parse_query("US"), seed)
    assert spans is not None
    official = seed.text.index("a US official said")
    assert any(s.start == official + 2 and s.text == "US" for s in spans)
    assert all(s.text == "US" for s in spans)


def test_phrase_with_acronym_matches_plural_too(seed: Document) -> None:
    assert texts('"US official"', seed) == ["US official", "US officials", "US official"]


def test_acronym_us_does_not_match_the_pronoun() -> None:
    doc = Document("Putin warns the US", "“Let us talk,” he said. Us against them. A US official agreed.")
    assert texts("US", doc) == ["US", "US"]
    assert texts("=us", doc) == ["us"]
    assert texts("us", doc) == ["US", "us", "Us", "US"]


def test_zelensky_matches_both_spellings_with_spans(seed: Document) -> None:
    spans = evaluate(parse_query("Zelensky"), seed)
    assert spans is not None
    assert [s.text for s in spans] == ["Zelenskyy", "Zelenskyy", "Zelensky"]
    assert spans[0].start == seed.text.index("Zelenskyy")
    assert spans[-1].start == seed.text.index("Zelensky and discuss")
    assert texts('"zelensky"', seed) == ["Zelensky"]


def test_nato_matches_nato_allies(seed: Document) -> None:
    assert texts('"NATO allies"', seed) == ["NATO allies"]
    spans = texts("NATO", seed)
    assert spans is not None and len(spans) == 3


def test_possessive_on_real_text(seed: Document) -> None:
    spans = evaluate(parse_query('"ukraine border"'), seed)
    assert spans is not None and [s.text for s in spans] == ["Ukraine’s border"]


def test_title_site_and_source_on_real_article(seed: Document) -> None:
    assert texts("title:ukraine", seed) == ["Ukraine"]
    assert texts("title:blinken", seed) is None
    assert texts("blinken site:express.co.uk", seed) is not None
    assert texts("blinken source:express", seed) is not None
    assert texts("blinken site:mirror.co.uk", seed) is None


def test_near_on_real_text(seed: Document) -> None:
    assert texts("blinken NEAR/3 kyiv", seed) == ["Blinken", "Kyiv"]
    assert texts("burns NEAR/1 kyiv", seed) is None


def test_not_branch_contributes_no_spans(seed: Document) -> None:
    assert texts("lavrov -football", seed) == ["Lavrov"]
    assert texts("lavrov -geneva", seed) is None


def test_or_reports_every_branch_that_matched(seed: Document) -> None:
    assert texts("lavrov OR kuleba OR football", seed) == ["Kuleba", "Lavrov"]


def test_prefix_spans(seed: Document) -> None:
    spans = texts("title:ukrain* OR pentag*", seed)
    assert spans == ["Ukraine", "Pentagon"]

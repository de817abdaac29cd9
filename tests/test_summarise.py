from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.models import Article, Summary
from bot.ingest.clean import clean_article
from bot.summarise import Summariser
from bot.summarise.extractive import ExtractiveSummariser, split_sentences
from tests.conftest import SEED

SEED_TITLE = "Russia threatened with war as US declares Ukraine could be invaded at ‘any point’"
LEAD = "The Biden administration is weighing new options"


@pytest.fixture(scope="module")
def seed_text() -> str:
    return clean_article(SEED_TITLE, SEED.read_text(encoding="utf-8"))


# --- sentence splitting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The U.S. and the U.K. agreed. The E.U. did not.",
            ["The U.S. and the U.K. agreed.", "The E.U. did not."],
        ),
        (
            "Mr. Smith met Mrs. Jones and Dr. Patel at St. Paul's. Gen. Milley called Sen. Warren, "
            "Rep. Cheney and Gov. Newsom. They talked.",
            [
                "Mr. Smith met Mrs. Jones and Dr. Patel at St. Paul's.",
                "Gen. Milley called Sen. Warren, Rep. Cheney and Gov. Newsom.",
                "They talked.",
            ],
        ),
        (
            "It opened on Jan. 5 and closed Feb. 2, etc. It was No. 10 vs. No. 11. The answer was no. Why?",
            [
                "It opened on Jan. 5 and closed Feb. 2, etc.",
                "It was No. 10 vs. No. 11.",
                "The answer was no.",
                "Why?",
            ],
        ),
        (
            "Fruit, e.g. apples, i.e. the best ones, sold out. J. K. Rowling was pleased.",
            ["Fruit, e.g. apples, i.e. the best ones, sold out.", "J. K. Rowling was pleased."],
        ),
        ("Prices rose 3.5% to $1.25 a share. Profits fell 0.7 points.", None),
        (
            "He paused... then went on. I was afraid… Nobody came.",
            ["He paused... then went on.", "I was afraid…", "Nobody came."],
        ),
        (
            '"We will fight," he said. "Every window will shoot." Officials agreed. "Why?" she asked.',
            [
                '"We will fight," he said.',
                '"Every window will shoot."',
                "Officials agreed.",
                '"Why?" she asked.',
            ],
        ),
        (
            "They added: “We are ready. Our people will fight.” Officials said so.",
            ["They added: “We are ready.", "Our people will fight.”", "Officials said so."],
        ),
        (
            "Sanctions were imposed by the U.S. The move angered Moscow at 5 p.m. on Friday.",
            ["Sanctions were imposed by the U.S.", "The move angered Moscow at 5 p.m. on Friday."],
        ),
        (
            "Canada sends forces to Ukraine\n\nThe first paragraph. The second!\n"
            "A headline line\nwrapped lower",
            [
                "Canada sends forces to Ukraine",
                "The first paragraph.",
                "The second!",
                "A headline line\nwrapped lower",
            ],
        ),
        ("", []),
        ("   \n\n  ", []),
        ("No full stop at all", ["No full stop at all"]),
    ],
)
def test_split_sentences(text: str, expected: list[str] | None) -> None:
    sentences = split_sentences(text)
    if expected is None:
        assert len(sentences) == 2
    else:
        assert sentences == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab U.S.?!…"”’\n 3')), max_size=80))
def test_split_sentences_are_verbatim_stripped_substrings(text: str) -> None:
    position = 0
    for sentence in split_sentences(text):
        assert sentence and sentence == sentence.strip()
        found = text.find(sentence, position)
        assert found >= position
        position = found + len(sentence)


# --- summaries ----------------------------------------------------------------------------------------


def test_seed_summary_starts_with_the_lead_and_carries_no_junk(seed_text: str) -> None:
    summary = ExtractiveSummariser().summarise_text(SEED_TITLE, seed_text)
    assert summary.text.startswith(LEAD)
    assert summary.method == "extractive"
    assert 1 <= len(summary.sentences) <= 3
    assert summary.text == " ".join(summary.sentences)
    for junk in ("(Image:", "[", "Putin and Biden", "Canada sends forces", "London Defender", "Sturgeon"):
        assert junk not in summary.text
    for sentence in summary.sentences:
        assert sentence in seed_text


def test_focus_term_brings_in_a_sentence_that_mentions_it(seed_text: str) -> None:
    summariser = ExtractiveSummariser(max_sentences=2)
    plain = summariser.summarise_text(SEED_TITLE, seed_text)
    assert "Blinken" not in plain.text
    focused = summariser.summarise_text(SEED_TITLE, seed_text, focus_terms=["Blinken"])
    assert focused.text.startswith(LEAD)
    assert any("Blinken" in sentence for sentence in focused.sentences)
    assert len(focused.sentences) == 2


def test_focus_terms_match_case_insensitively_and_as_phrases(seed_text: str) -> None:
    summariser = ExtractiveSummariser(max_sentences=2)
    focused = summariser.summarise_text(SEED_TITLE, seed_text, focus_terms=["bloomberg news"])
    assert "Bloomberg News" in focused.text
    unmatched = summariser.summarise_text(SEED_TITLE, seed_text, focus_terms=["Antarctica", " "])
    assert unmatched == summariser.summarise_text(SEED_TITLE, seed_text)


def test_an_acronym_focus_term_does_not_match_the_ordinary_word() -> None:
    text = (
        "The council approved the new budget for schools on Monday night after a long debate. "
        "Several members told us they expected the vote to be close. "
        "The plan copies a scheme tried in the US last year."
    )
    summariser = ExtractiveSummariser(max_sentences=1)
    assert (
        summariser.summarise_text("", text, focus_terms=["US"]).text
        == "The plan copies a scheme tried in the US last year."
    )
    assert summariser.summarise_text("", text).text.startswith("The council")


def test_sentences_come_out_in_document_order_without_repeats() -> None:
    text = (
        "The central bank raised interest rates by half a point on Thursday to fight inflation. "
        "The central bank raised interest rates by half a point on Thursday to fight inflation again. "
        "Markets fell sharply after the interest rates decision was announced by the bank. "
        "Economists had expected a smaller rise in rates from the central bank. "
        "The weather was mild."
    )
    summary = ExtractiveSummariser(max_sentences=3).summarise_text("Bank raises interest rates", text)
    assert summary.sentences[0].startswith("The central bank raised")
    assert sum(s.startswith("The central bank raised") for s in summary.sentences) == 1
    positions = [text.index(s) for s in summary.sentences]
    assert positions == sorted(positions)


def test_limits_drop_sentences_before_cutting_one(seed_text: str) -> None:
    summary = ExtractiveSummariser(max_sentences=3, max_chars=300).summarise_text(SEED_TITLE, seed_text)
    assert len(summary.text) <= 300
    assert not summary.text.endswith("…")


def test_a_single_sentence_longer_than_max_chars_is_cut_at_a_word_boundary() -> None:
    text = "The Biden administration is weighing new options including more arms for Ukraine."
    summary = ExtractiveSummariser(max_chars=30).summarise_text("", text)
    assert summary.text == "The Biden administration is…"
    assert summary.sentences == (summary.text,)


def test_empty_text_summarises_the_title() -> None:
    summariser = ExtractiveSummariser()
    assert summariser.summarise_text("Talks  collapse\nin Geneva", "") == Summary(
        text="Talks collapse in Geneva", sentences=("Talks collapse in Geneva",)
    )
    assert summariser.summarise_text("", "  \n ") == Summary(text="")
    assert summariser.summarise_text("Talks collapse", "Talks collapse.").text == "Talks collapse"


def test_the_headline_repeated_in_the_body_is_not_summary_material() -> None:
    text = "Talks collapse in Geneva\n\nDiplomats walked out after six hours of talks on Friday."
    summary = ExtractiveSummariser().summarise_text("Talks collapse in Geneva", text)
    assert summary.text == "Diplomats walked out after six hours of talks on Friday."


def test_invalid_limits_are_rejected() -> None:
    with pytest.raises(ValueError):
        ExtractiveSummariser(max_sentences=0)
    with pytest.raises(ValueError):
        ExtractiveSummariser(max_chars=0)


async def test_summarise_an_article(seed_text: str) -> None:
    summariser: Summariser = ExtractiveSummariser()
    article = Article(id="a1", title=SEED_TITLE, text=seed_text, source="London Defender")
    summary = await summariser.summarise(article, focus_terms=("Burns",))
    assert summary.text.startswith(LEAD)
    assert "CIA Director Bill Burns" in summary.text
    assert summary == await summariser.summarise(article, focus_terms=("Burns",))


@settings(max_examples=200, deadline=None)
@given(
    title=st.text(max_size=40),
    text=st.text(max_size=400)
    | st.lists(
        st.sampled_from(["Mr. A said.", "U.S.", "...", "\n\n", "x" * 70, " ", "Why?", "“Hi.”"]), max_size=20
    ).map("".join),
    focus=st.lists(st.text(max_size=8), max_size=3),
    max_sentences=st.integers(1, 5),
    max_chars=st.integers(1, 300),
)
def test_limits_always_hold_and_it_never_raises(
    title: str, text: str, focus: list[str], max_sentences: int, max_chars: int
) -> None:
    summary = ExtractiveSummariser(max_sentences, max_chars).summarise_text(title, text, focus)
    assert len(summary.text) <= max_chars
    assert len(summary.sentences) <= max_sentences
    assert summary.text == " ".join(summary.sentences)
    assert summary == ExtractiveSummariser(max_sentences, max_chars).summarise_text(title, text, focus)

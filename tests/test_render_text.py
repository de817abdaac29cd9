"""The text helpers the renderers share (handlers.text): truncating at a word, fitting escaped text,
joining items within a limit, finding terms to bold, and cleaning paragraphs."""

from __future__ import annotations

import pytest

from handlers.slack.render import escape_mrkdwn
from handlers.text import ELLIPSIS, fit, join_fitting, paragraphs, term_spans, truncate


def test_truncate_leaves_text_that_fits_alone() -> None:
    assert truncate("short text", 10) == "short text"


def test_truncate_cuts_at_a_word_boundary_with_an_ellipsis() -> None:
    assert truncate("the quick brown fox jumps", 16) == "the quick brown…"
    assert truncate("the quick brown fox jumps", 18) == "the quick brown…"


def test_truncate_drops_punctuation_left_dangling_before_the_ellipsis() -> None:
    assert truncate("Kyiv, Kharkiv, and Odesa were hit", 16) == "Kyiv, Kharkiv…"


def test_truncate_cuts_inside_a_word_too_long_to_keep_whole() -> None:
    assert truncate("x" * 50, 10) == "x" * 9 + ELLIPSIS
    assert truncate("a " + "b" * 50, 10) == "a " + "b" * 7 + ELLIPSIS


@pytest.mark.parametrize(("limit", "expected"), [(-3, ""), (0, ""), (1, ELLIPSIS), (2, "a…")])
def test_truncate_with_tiny_limits(limit: int, expected: str) -> None:
    assert truncate("abc def", limit) == expected


def test_truncate_keeps_an_emoji_with_its_modifier_and_a_letter_with_its_accent() -> None:
    assert truncate("👍🏽👍🏽👍🏽", 4) == "👍🏽" + ELLIPSIS
    assert truncate("e\u0301" * 5, 4) == "e\u0301" + ELLIPSIS


def test_fit_never_cuts_an_escape_in_half() -> None:
    rendered = fit("a & b & c & d & e", 16, escape_mrkdwn)
    assert rendered == "a &amp; b &amp;…"
    assert len(rendered) <= 16


def test_join_fitting_keeps_whole_items_then_an_ellipsis() -> None:
    assert join_fitting(["Kyiv", "Kharkiv", "Odesa"], ", ", 100) == "Kyiv, Kharkiv, Odesa"
    assert join_fitting(["Kyiv", "Kharkiv", "Odesa"], ", ", 16) == "Kyiv, Kharkiv, …"


def test_term_spans_are_whole_words_any_case_longest_first_without_overlap() -> None:
    text = "Air defence over ukraine; Ukrainian air units; AIR DEFENCE again"
    spans = term_spans(text, ["air", "Air defence", "Ukraine"])
    assert [text[s:e] for s, e in spans] == ["Air defence", "ukraine", "air", "AIR DEFENCE"]


def test_term_spans_stay_out_of_avoided_ranges() -> None:
    text = "Ukraine https://x.example/ukraine"
    assert term_spans(text, ["Ukraine"], avoid=[(8, len(text))]) == [(0, 7)]


def test_paragraphs_drop_controls_and_bidi_overrides() -> None:
    assert paragraphs("a\x1b[2J\u202eb\r\n\n\n\nc\td") == "a[2Jb\n\nc d"

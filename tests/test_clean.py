from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ingest.clean import clean_article, clean_text, html_to_text
from tests.conftest import SEED

SEED_TITLE = "Russia threatened with war as US declares Ukraine could be invaded at ‘any point’"
TAG_LINE = re.compile(r"\[ *[A-Z][A-Z ]*\]\s*$", re.MULTILINE)

JUNK = [
    "(Image:",
    "[REVEAL]",
    "[REPORT]",
    "[WEATHER]",
    "Sturgeon humiliated",
    "WHO in Covid update",
    "London Defender",
    "Daily Mirror of the Great Britain",
    "Putin and Biden\n",
    "Anthony Blinken\n",
    "Russian Soldiers",
    "Canada sends forces to Ukraine amid rising tensions",
    "Russian vs US jets compared",
    "The US has stated that Russia could invade Ukraine at",
    "approach to Ukraine is ‘dangerous’ says Nuland",
]
REAL = [
    "That includes potentially providing the Ukrainian Army with additional ammunition",
    "Mr Blinken will land in Kyiv on Wednesday",
    "Ahead of the trip, Mr Blinken spoke to his counterpart",
    "President Joe Biden has said that sending US combat troops",
    "CIA Director Bill Burns traveled to Kyiv",
    "The Prime Minister told the Russian President to stop his “disinformation campaign”",
    "Addressing Cabinet as the first UK troops",
    "“We prepared a response for each scenario,” an official said.",
    "Every window will shoot if Russians go in.",
    "The Foreign, Commonwealth & Development Office did not respond immediately to a request for comment.",
]


@pytest.fixture(scope="module")
def seed() -> str:
    return SEED.read_text(encoding="utf-8")


def _seed_as_html(text: str) -> str:
    parts = ["<html><head><title>London Defender</title><style>p{}</style></head><body><article>"]
    for line in (row.strip() for row in text.splitlines()):
        if not line:
            continue
        if "(Image:" in line:
            parts.append(f'<figure><img src="x.jpg"><figcaption>{line}</figcaption></figure>')
        else:
            parts.append(f"<p>{line.replace('&', '&amp;')}</p>")
    parts.append("<script>track('x')</script></article></body></html>")
    return "\n".join(parts)


# --- the seed article ---------------------------------------------------------------------------------


def test_seed_starts_with_the_real_lead_and_drops_all_junk(seed: str) -> None:
    cleaned = clean_article(SEED_TITLE, seed, source="London Defender")
    assert cleaned.startswith("The Biden administration is weighing new options")
    for junk in JUNK:
        assert junk not in cleaned, junk
    for line in cleaned.splitlines():
        assert not line.endswith("]")


def test_seed_keeps_every_real_paragraph_verbatim_in_order(seed: str) -> None:
    cleaned = clean_article(SEED_TITLE, seed)
    positions = [cleaned.find(paragraph) for paragraph in REAL]
    assert -1 not in positions
    assert positions == sorted(positions)
    assert cleaned.endswith(REAL[-1])
    assert len(cleaned.split("\n\n")) == 27


def test_seed_without_title_or_source_cleans_the_same(seed: str) -> None:
    assert clean_article("", seed) == clean_article(SEED_TITLE, seed, source="London Defender")


def test_seed_as_html_gives_the_same_paragraphs(seed: str) -> None:
    page = _seed_as_html(seed)
    assert clean_article(SEED_TITLE, page) == clean_article(SEED_TITLE, seed)
    assert "(Image:" not in html_to_text(page)


# --- HTML to text -------------------------------------------------------------------------------------


def test_block_elements_become_paragraphs_and_inline_elements_do_not() -> None:
    html = (
        "<div><h1>Title</h1><p>One <b>bold</b> <a href='#'>link</a>.</p>"
        "Loose<br>text<blockquote>Q</blockquote></div>"
    )
    assert html_to_text(html) == "Title\n\nOne bold link.\n\nLoose\n\ntext\n\nQ"


def test_scripts_styles_navigation_and_forms_are_dropped() -> None:
    html = (
        "<nav>Home | World</nav><script>var a = '<p>no</p>';</script><style>p {color: red}</style>"
        "<noscript>Enable JS</noscript><template><p>tpl</p></template><iframe>frame</iframe>"
        "<form><input name=q><button>Search</button></form><svg><text>logo</text></svg>"
        "<header>Site</header><aside>Most read</aside><p>The story.</p><footer>© 2024</footer>"
    )
    assert html_to_text(html) == "The story."


def test_figure_captions_and_hidden_elements_are_dropped() -> None:
    html = (
        '<p>Before.</p><figure><img src="a.jpg"><figcaption>Putin and Biden (Image: Getty)</figcaption>'
        '</figure><p class="image-caption">Soldiers at the border</p><div hidden>secret</div>'
        '<p style="display: none">invisible</p><p>After <span hidden><div>x</div></span>all.</p>'
    )
    assert html_to_text(html) == "Before.\n\nAfter\n\nall."


def test_entities_are_decoded_and_whitespace_collapsed() -> None:
    html = "<p>AT&amp;T&nbsp;and  Caf&eacute;\n\t said &#8220;yes&#8221; &lt;3 &#x2014; it&rsquo;s</p>"
    assert html_to_text(html) == "AT&T and Café said “yes” <3 — it’s"


def test_nested_lists_give_one_paragraph_per_item() -> None:
    html = "<ul><li>One<ul><li>One.a</li><li>One.b</ul></li><li>Two<li>Three</ul><ol><li>Four</li></ol>"
    assert html_to_text(html).split("\n\n") == ["One", "One.a", "One.b", "Two", "Three", "Four"]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("", ""),
        ("   \n ", ""),
        ("<p>Unclosed <b>bold <i>italic", "Unclosed bold italic"),
        ("<p>one<p>two</div></span></p>", "one\n\ntwo"),
        ("</p></div>stray end tags", "stray end tags"),
        ("<p>a</p><!-- unclosed comment <p>b</p>", "a"),
        ("<head><title>Page</title><p>no body tag.</p>", "no body tag."),
        ("<title>Unclosed title<body><p>Body text.</p></body>", "Body text."),
        ("<<<>>><p>>a < b<</p>", "<<<>>>\n\n>a < b<"),
        ("<script>never closed <p>lost</p>", ""),
        ("plain text, no tags", "plain text, no tags"),
    ],
)
def test_malformed_html_never_raises(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


def test_an_unterminated_attribute_does_not_lose_the_rest() -> None:
    assert html_to_text("<p title='unterminated>text</p><p>next.</p>").endswith("next.")


def test_a_form_that_wraps_the_whole_page_keeps_its_article() -> None:
    prose = (
        "This paragraph is long enough to be the article itself and not a search box or a login form at all."
    )
    html = f"<form id='aspnetForm'><p>Search</p><div><p>{prose}</p></div></form>"
    assert html_to_text(html) == f"Search\n\n{prose}"


# --- plain text cleaning ------------------------------------------------------------------------------

PROSE = "The talks in Geneva ended without agreement on Friday, officials from both delegations said."


def test_a_credit_inside_prose_is_removed_and_the_sentence_kept() -> None:
    text = f"The minister (Photo: AP) said talks would resume on Monday.\n\n{PROSE}"
    assert clean_text(text) == f"The minister said talks would resume on Monday.\n\n{PROSE}"


@pytest.mark.parametrize(
    "junk",
    [
        "Troops near the border on Tuesday (Image: Getty)",
        "Soldiers in Kyiv. Photograph: Sergei Supinsky/AFP/Getty Images",
        "The president arrives in Warsaw. (AP Photo/Evan Vucci)",
        "Picture: Reuters",
        "Credit: Getty Images",
        "Getty Images",
        "READ MORE: Putin issues new warning to the West",
        "RELATED: How the crisis unfolded",
        "Click here to sign up to our newsletter",
        "Met Office EXTENDS London weather warning [WEATHER]",
        "Queen's funeral in pictures [PICTURES]",
        "Putin's chilling threat to Europe [ VIDEO ]",
        "Advertisement",
        "Scroll down for video",
        "The post Talks collapse appeared first on Example News.",
        "Russian Soldiers",
        "Canada sends forces to Ukraine amid rising tensions with Russia",
    ],
)
def test_captions_credits_teasers_and_subheads_are_dropped(junk: str) -> None:
    assert clean_text(f"{PROSE}\n\n{junk}\n\n{PROSE.replace('Friday', 'Monday')}").count("\n\n") == 1


def test_branding_headline_and_standfirst_before_the_lead_are_dropped() -> None:
    text = (
        "Example Gazette\n\nYour news, every day\n\nTalks collapse in Geneva\n\n"
        f"Diplomats walk out after six hours\n\n{PROSE}"
    )
    assert clean_text(text, title="Talks Collapse in Geneva", source="Example Gazette") == PROSE


def test_headline_is_dropped_even_when_it_is_a_sentence() -> None:
    assert clean_text(f"Talks collapse in Geneva.\n{PROSE}", title="Talks collapse in Geneva") == PROSE


def test_real_questions_quotes_and_colon_intros_are_kept() -> None:
    text = (
        f"{PROSE}\n\nWhat happens next?\n\n“We will not back down”\n\nThey added:\n\n"
        "“Every window will shoot if Russians go in.”"
    )
    assert clean_text(text) == text


def test_list_items_after_a_colon_are_kept() -> None:
    text = f"{PROSE}\n\nThe package includes:\n\nJavelin missiles\n\nAmmunition\n\n{PROSE[:-1]} again."
    assert "Javelin missiles\n\nAmmunition" in clean_text(text)


def test_a_short_feed_summary_without_prose_is_kept() -> None:
    assert clean_text("Ukraine crisis live updates") == "Ukraine crisis live updates"
    assert clean_article("Ukraine crisis", "<p>Live <b>updates</b> from Kyiv</p>") == "Live updates from Kyiv"


def test_hard_wrapped_paragraphs_are_rejoined_not_dropped() -> None:
    text = (
        "The Biden administration is weighing new options,\n"
        "including providing more arms to Ukraine to resist a\n"
        "Russian occupation, officials said on Tuesday.\n\n"
        f"{PROSE}"
    )
    assert clean_text(text) == (
        "The Biden administration is weighing new options, including providing more arms to Ukraine to "
        f"resist a Russian occupation, officials said on Tuesday.\n\n{PROSE}"
    )


def test_single_newlines_separate_paragraphs_and_duplicates_go() -> None:
    text = f"{PROSE}\nSecond paragraph is here.\n{PROSE}\r\nThird one!"
    assert clean_text(text) == f"{PROSE}\n\nSecond paragraph is here.\n\nThird one!"


def test_plain_text_is_not_mistaken_for_html() -> None:
    text = f"If a < b and c > d, then the claim holds.\n\n{PROSE}\n\nAT&amp;T agreed."
    assert clean_article("", text) == f"If a < b and c > d, then the claim holds.\n\n{PROSE}\n\nAT&T agreed."


def test_empty_input() -> None:
    assert clean_article("", "") == ""
    assert clean_article("Title", "   \n\n ") == ""
    assert clean_article("", "", is_html=True) == ""


FRAGMENTS = st.sampled_from(
    [
        PROSE,
        "(Image: Getty)",
        "(Image: (Image: Getty))",
        "((Image: a)Image: b)",
        "( Image:",
        "[REVEAL]",
        "[ ]",
        "\n",
        "\n\n",
        "<p>",
        "</p>",
        "<figcaption>",
        "<script>",
        "&amp;",
        "READ MORE:",
        "Photo: AP",
        "Mr. Smith said.",
        "“quoted”",
        " ",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    title=st.text(max_size=30),
    body=st.lists(FRAGMENTS | st.text(max_size=20), max_size=25).map("".join),
    is_html=st.sampled_from([None, True, False]),
)
def test_clean_article_never_raises_or_leaves_credits_or_tags(
    title: str, body: str, is_html: bool | None
) -> None:
    cleaned = clean_article(title, body, is_html=is_html)
    assert "(Image:" not in cleaned
    assert not TAG_LINE.search(cleaned)
    assert all(line.strip() for line in cleaned.split("\n\n")) or cleaned == ""

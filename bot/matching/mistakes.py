"""What the query parser says about a query it cannot read: what is wrong and where, in words ("the
`(` at column 1 is never closed"), the column for a marker under the query, and one query that parses,
showing the right way to write what failed. One function per kind of mistake, so that the wording is
in one place (``tests/test_matching_query.py`` has the table). Pieces of the query are in backticks: a
chat reply shows them as code (``handlers/query_errors.py``), never as formatting."""

from __future__ import annotations

from bot.core.errors import QueryError

EXAMPLE = 'ukraine OR "NATO summit" -football'
GROUP = "(ukraine OR kyiv) grain"
PHRASE = '"air defence" ukraine'
NEAR = "zelensky NEAR/10 brussels"
PREFIX = "ukrain*"
MODIFIER = "=Apple OR ~US"
NEGATION = "ukraine -football"
FIELD = {"title": "title:ukraine", "site": "site:bbc.co.uk ukraine", "source": "source:reuters ukraine"}
OPERATOR = {"OR": "ukraine OR kyiv", "AND": "ukraine AND grain", "NOT": NEGATION, "NEAR": NEAR}


def code(text: str) -> str:
    return f"`{text}`"


def label(kind: str, value: str) -> str:
    """How a message names a token: `OR`, `NEAR/5`, the `(`, `title:`, `ukraine`."""
    if kind == "NEAR":
        return code(f"NEAR/{value}")
    if kind in ("OR", "AND"):
        return code(kind)
    if kind == "NOT":
        return code("NOT") if value == "NOT" else "the " + code("-")
    if kind == "FIELD":
        return code(f"{value}:")
    if kind in ("(", ")", "MOD"):
        return "the " + code(value or kind)
    if kind == "PHRASE":
        return "the phrase " + code(f'"{value}"')
    return code(value)


def empty(text: str) -> QueryError:
    if text.strip():
        what = code(text.strip())
        return QueryError(f"the query is empty: {what} has no letters or digits to look for", None, EXAMPLE)
    return QueryError("the query is empty: type a word to look for", None, EXAMPLE)


def unclosed_quote(quote: str, col: int) -> QueryError:
    return QueryError(
        f"the {code(quote)} at column {col} is never closed: end the phrase with a quote too", col, PHRASE
    )


def unclosed_paren(col: int) -> QueryError:
    return QueryError(f"the `(` at column {col} is never closed: add a `)` where its group ends", col, GROUP)


def stray_paren(col: int) -> QueryError:
    return QueryError(f"the `)` at column {col} closes nothing: no `(` is open there", col, GROUP)


def empty_parens(col: int) -> QueryError:
    return QueryError(f"the parentheses at column {col} are empty: put terms inside", col, GROUP)


def nothing_before(kind: str, value: str, col: int) -> QueryError:
    return QueryError(
        f"{label(kind, value)} at column {col} has nothing before it: it goes between two terms",
        col,
        OPERATOR.get(kind, EXAMPLE),
    )


def nothing_after(
    kind: str, value: str, col: int, next_kind: str, next_value: str, next_col: int
) -> QueryError:
    """The operator at ``col`` is followed by ``next_kind`` (empty: the end of the query), not a term."""
    if not next_kind:
        problem = "ends the query: put a term after it"
    elif next_kind == ")":
        problem = f"has nothing after it: the `)` at column {next_col} comes first"
    else:
        problem = f"is followed by {label(next_kind, next_value)}, not by a term"
    return QueryError(f"{label(kind, value)} at column {col} {problem}", col, OPERATOR.get(kind, EXAMPLE))


def ends_early(col: int) -> QueryError:
    return QueryError("the query ends where a term was expected", col, EXAMPLE)


def near_without_distance(typed: str, col: int) -> QueryError:
    return QueryError(
        f"{code(typed)} at column {col} needs a distance: `NEAR/5` finds two terms at most 5 words apart",
        col,
        NEAR,
    )


def near_bad_distance(typed: str, col: int) -> QueryError:
    return QueryError(
        f"{code(typed)} at column {col} is not a distance: `NEAR/` takes a number of words, as in `NEAR/5`",
        col,
        NEAR,
    )


def near_too_far(distance: int, limit: int, col: int) -> QueryError:
    return QueryError(
        f"`NEAR/{distance}` at column {col} is too far apart: at most `NEAR/{limit}`", col, NEAR
    )


def near_operands(distance: int, col: int) -> QueryError:
    return QueryError(
        f"`NEAR/{distance}` at column {col} joins two words, phrases or prefixes, not a group in "
        "parentheses, `site:` or `source:`",
        col,
        NEAR,
    )


def near_chained(distance: str, col: int) -> QueryError:
    return QueryError(
        f"`NEAR/{distance}` at column {col} follows another `NEAR`: they cannot be chained, join them with "
        "`AND`",
        col,
        "kyiv NEAR/5 drone AND drone NEAR/5 strike",
    )


def field_without_value(typed: str, field: str, col: int) -> QueryError:
    return QueryError(
        f"`{typed}:` at column {col} has nothing after it: write what to look for right after the colon, "
        "with no space",
        col,
        FIELD[field],
    )


def unknown_field(typed: str, col: int) -> QueryError:
    return QueryError(
        f"{code(typed)} at column {col} is not a field: the fields are `title:`, `site:` and `source:` "
        "(put words with a colon in quotes)",
        col,
        FIELD["site"],
    )


def fields_combined(field: str, col: int) -> QueryError:
    return QueryError(
        f"`{field}:` at column {col} cannot be combined with another field or `=` or `~`", col, FIELD[field]
    )


def field_on_group(field: str, col: int) -> QueryError:
    return QueryError(
        f"`{field}:` takes one value, not the group in parentheses at column {col}", col, FIELD[field]
    )


def title_holds_site(col: int) -> QueryError:
    return QueryError(
        f"the group in `title:` at column {col} cannot hold `site:` or `source:`",
        col,
        "title:ukraine site:bbc.co.uk",
    )


def not_a_domain(typed: str, col: int) -> QueryError:
    return QueryError(
        f"{code(typed)} at column {col} is not a domain: `site:` takes one like bbc.co.uk", col, FIELD["site"]
    )


def no_outlet(col: int) -> QueryError:
    return QueryError(f"`source:` at column {col} needs an outlet's name", col, FIELD["source"])


def two_modifiers(typed: str, col: int) -> QueryError:
    return QueryError(f"{code(typed)} at column {col}: use either `=` or `~`, not both", col, MODIFIER)


def modifier_alone(mod: str, col: int, *, space: bool = False) -> QueryError:
    tail = ", with no space" if space else ""
    return QueryError(
        f"the {code(mod)} at column {col} needs a word or phrase right after it{tail}", col, MODIFIER
    )


def modifier_on_group(mod: str, col: int) -> QueryError:
    return QueryError(
        f"{code(mod)} applies to one word or phrase, not the group in parentheses at column {col}",
        col,
        MODIFIER,
    )


def negated_field(value: str, col: int) -> QueryError:
    return QueryError(
        f"{label('NOT', value)} at column {col} cannot come after a field or `=` or `~`: put it first, as in "
        "`-title:word`",
        col,
        "ukraine -title:football",
    )


def no_letters(typed: str, col: int) -> QueryError:
    return QueryError(f"{code(typed)} at column {col} has no letters or digits to look for", col, EXAMPLE)


def empty_phrase(col: int) -> QueryError:
    return QueryError(f"the phrase at column {col} is empty: put words between its quotes", col, PHRASE)


def star_inside(typed: str, col: int) -> QueryError:
    return QueryError(
        f"the `*` at column {col} is inside {code(typed)}: a `*` can only end a word", col, PREFIX
    )


def star_after_words(typed: str, col: int) -> QueryError:
    return QueryError(
        f"the `*` at column {col} ends {code(typed)}, which is more than one word: a `*` can only end a "
        "single word",
        col,
        PREFIX,
    )


def star_too_short(col: int) -> QueryError:
    return QueryError(f"the `*` at column {col} needs at least 3 letters before it", col, PREFIX)


def too_many_terms(limit: int, col: int) -> QueryError:
    return QueryError(
        f"too many terms: the one at column {col} is past the limit of {limit}; split the query into two "
        "subscriptions",
        col,
    )


def too_long(length: int, limit: int) -> QueryError:
    return QueryError(f"the query is too long: {length} characters, at most {limit}", limit + 1)


def only_excludes(in_branch: bool, kind: str, value: str, col: int | None) -> QueryError:
    where = f" ({label(kind, value)} at column {col})" if col is not None else ""
    part = "one of the query's `OR` branches" if in_branch else "the query"
    return QueryError(
        f"{part} only excludes words{where}, so it would match almost every article: add a word to look for",
        col,
        NEGATION,
    )

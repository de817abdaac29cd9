"""Folding: a word and its plural match each other, and no word is ever folded into another.

As with Google Alerts or Inoreader, `movie` finds "movies" and `cities` finds "city"; but a subscription
to a name must never fire on a common word or on another name because one of them was cut down to look
like the other (`Carrie` on "They carry the load home.", `Louise` on "Louis", `Hamas` on "Hama").
Each case says why it is there.
"""

from __future__ import annotations

import pytest

from bot.matching import Document, evaluate, parse_query
from bot.matching.text import stem


def matches(query: str, text: str) -> bool:
    return evaluate(parse_query(query), Document(text, "")) is not None


SAME_WORD = [
    # (singular, plural, why they must meet)
    ("movie", "movies", "-ie noun: the plural only adds -s"),
    ("city", "cities", "-y noun: -ies plural"),
    ("party", "parties", "-y noun: -ies plural"),
    ("ally", "allies", "-y noun: -ies plural"),
    ("cookie", "cookies", "-ie noun that looks like a -y plural"),
    ("CEO", "CEOs", "acronym plural, written with a lower-case s"),
    ("missile", "missiles", "plain -s plural"),
    ("photo", "photos", "-o noun with a plain -s plural"),
    ("hero", "heroes", "-o noun with an -es plural"),
    ("shoe", "shoes", "-oe noun: the plural only adds -s"),
    ("bus", "buses", "-us noun: -es plural"),
    ("virus", "viruses", "-us noun: -es plural"),
    ("house", "houses", "-se noun: the plural only adds -s"),
    ("cause", "causes", "-se noun: the plural only adds -s"),
    ("glass", "glasses", "-ss noun: -es plural"),
    ("tax", "taxes", "-x noun: -es plural"),
    ("church", "churches", "-ch noun: -es plural"),
    ("niche", "niches", "-che noun: the plural only adds -s"),
    ("bush", "bushes", "-sh noun: -es plural"),
    ("size", "sizes", "-ze noun: the plural only adds -s"),
    ("quiz", "quizzes", "-z noun whose plural doubles the z"),
    ("crisis", "crises", "-is noun: -es replaces -is"),
    ("gas", "gases", "-as noun: -es plural"),
]

DIFFERENT_WORDS = [
    # (query, text it must not fire on, why)
    ("Carrie", "They carry the load home.", "a name ending in -ie is not a -y word"),
    ("Macie", "The Macy parade", "one name is not another that differs by -ie / -y"),
    ("Bernie", "Berny Ltd", "one name is not another that differs by -ie / -y"),
    ("Julie", "It rained in July", "a name is not a month"),
    ("Rosie", "a rosy outlook", "a name is not an adjective"),
    ("Katie", "Katy Perry sang", "one name is not another"),
    ("carry", "Carrie Lam spoke", "the other way round: a common word never fires on a name"),
    ("Louise", "Louis Vuitton", "a name is not the name without its final e"),
    ("Denise", "Denis Villeneuve", "a name is not the name without its final e"),
    ("Jesse", "Jess Phillips", "a name is not the name without its final e"),
    ("Marche", "It happened in March", "the Italian region is not the month"),
    ("attache", "attach the file", "a noun is not the verb without its final e"),
    ("Ashe", "volcanic ash", "a name is not a common word"),
    ("Schulze", "Martin Schulz", "two politicians' names"),
    ("Monroe", "Alice Munro and Monro", "a name is not the name without its final e"),
    ("lose", "Los Angeles", "a verb is not a city's first word"),
    ("case", "the CAS ruling", "a common word is not an acronym"),
    ("psyche", "psych ward", "a noun is not its clipped form"),
    ("Hamas", "the Syrian city of Hama", "a name ending in -as is not a plural"),
    ("Carlos", "Monte Carlo", "a name ending in -os is not a plural"),
    ("Andreas", "Andrea Bocelli", "a man's name is not a woman's"),
    ("Lucas", "Luca Brasi", "one name is not another"),
    ("Williams", "Prince William", "a surname is not a first name"),
    ("William", "Serena Williams", "the other way round"),
    ("Mars", "it would mar the day", "a planet is not a verb"),
    ("news", "a new plan", "news is not a plural"),
]


@pytest.mark.parametrize(("singular", "plural", "why"), SAME_WORD, ids=[c[1] for c in SAME_WORD])
def test_a_word_and_its_plural_match_each_other(singular: str, plural: str, why: str) -> None:
    assert stem(singular.lower()) == stem(plural.lower()), why
    assert matches(singular, f"Two {plural} were seen"), why
    assert matches(plural, f"One {singular} was seen"), why


@pytest.mark.parametrize(("query", "text", "why"), DIFFERENT_WORDS, ids=[c[0] for c in DIFFERENT_WORDS])
def test_folding_never_turns_one_word_into_another(query: str, text: str, why: str) -> None:
    assert not matches(query, text), why


@pytest.mark.parametrize("name", ["Carrie", "Macie", "Bernie", "Louise", "Hamas", "Williams", "Marche"])
def test_a_name_still_matches_itself_and_its_possessive(name: str) -> None:
    assert matches(name, f"{name} said so")
    assert matches(name, f"{name}’s view")
    assert matches(name.lower(), f"{name.upper()} RALLY in town")

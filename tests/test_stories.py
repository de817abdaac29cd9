"""Same-story detection (bot/stories): one event told by several outlets is one story, and one alert
per channel that the later reports edit; another event of the same kind is another story. The
articles are in tests/fixtures/stories (its README says what each is)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import pytest

from bot.core.models import Article, ChannelRef, MessageRef
from bot.matching import default_aliases
from bot.processing.pipeline import Pipeline
from bot.processing.subscriptions import SubscriptionBook
from bot.store import PostgresStore, SqliteStore
from bot.stories import StoryDecision, StoryDetector, story_keys
from bot.summarise.extractive import ExtractiveSummariser
from tests.conftest import REPO
from tests.events import EVENTS
from tests.postgres import Cluster

HOUR = 3600.0
DESK = ChannelRef("console", "desk")


def fixture_articles() -> dict[str, Article]:
    found = {}
    path = REPO / "tests" / "fixtures" / "stories" / "articles.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        found[row["id"]] = Article(
            id=row["id"],
            title=row["title"],
            text=row["text"],
            url=row["url"],
            source=row["source"],
            published=datetime.fromisoformat(row["published"]),
        )
    return found


ARTICLES = fixture_articles()


def at(article: Article) -> float:
    assert article.published is not None
    return article.published.timestamp()


def detector() -> StoryDetector:
    """A window that already holds the day's other news, as a running bot's would."""
    d = StoryDetector()
    start = at(ARTICLES["izmir-reuters"]) - 12 * HOUR
    for n, text in enumerate(EVENTS):
        d.assign(Article(id=f"other-{n}", title=text.split(",")[0], text=text, url="", source="Wire"), start)
    return d


def assign(d: StoryDetector, *ids: str) -> list[StoryDecision]:
    return [d.assign(ARTICLES[i], at(ARTICLES[i]))[0] for i in ids]


def test_one_event_from_three_outlets_in_their_own_words_is_one_story() -> None:
    """Another headline, another link (with tracking parameters), its own wording; and a syndicated copy
    under a third headline."""
    first, rewrite, copy = assign(detector(), "izmir-reuters", "izmir-ap", "izmir-copy")
    assert first.reason == "new"
    assert (rewrite.story_id, rewrite.reason) == ("izmir-reuters", "joined")
    assert (copy.story_id, copy.reason) == ("izmir-reuters", "near-copy")
    assert rewrite.edition == copy.edition == "izmir-reuters"  # one alert, that the others edit
    assert "izmir" in rewrite.evidence and rewrite.closest_source == "Reuters"


@pytest.mark.parametrize(
    ("first", "second", "why"),
    [
        ("izmir-reuters", "sulawesi", "the same words about another earthquake: other city, people, agency"),
        ("rehab-1", "rehab-2", "two celebrities in rehab, told from one template by one outlet"),
        ("rates-boe", "rates-rba", "two central banks raising rates in the same words"),
        ("usgs-1", "usgs-2", "a templated feed: headlines that differ only in numbers and places"),
        ("usgs-1", "usgs-3", "the same template, the same town: only the headline numbers differ"),
    ],
)
def test_another_event_of_the_same_kind_is_another_story(first: str, second: str, why: str) -> None:
    a, b = assign(detector(), first, second)
    assert b.story_id == second != a.story_id, why
    assert b.reason == "new", why


def test_similar_articles_that_share_no_names_stay_apart_however_close_their_words() -> None:
    """The earthquake pair is close in words (the rule needs names in common as well): the score says
    so, and /news why shows it as the closest story it did not join."""
    _, other = assign(detector(), "izmir-reuters", "sulawesi")
    assert other.score >= 0.45 and other.closest_title.startswith("Strong earthquake hits Turkey")


def test_a_development_hours_later_gets_its_own_alert_and_a_later_rewrite_edits_that_one() -> None:
    d = detector()
    first, toll, later = assign(d, "izmir-reuters", "izmir-toll", "izmir-later")
    assert toll.story_id == later.story_id == first.story_id  # one story...
    assert (toll.edition, toll.reason) == ("izmir-toll", "development")  # ...a new fact ("39"), 20 h on
    assert (later.edition, later.reason) == ("izmir-toll", "joined")  # no new fact: edits the latest alert


def test_a_rewrite_within_hours_is_no_development_even_with_a_new_number() -> None:
    d = detector()
    first = d.assign(ARTICLES["izmir-reuters"], at(ARTICLES["izmir-reuters"]))[0]
    soon = ARTICLES["izmir-toll"]
    decision, _ = d.assign(soon, at(ARTICLES["izmir-reuters"]) + HOUR)  # the same report, an hour on
    assert (decision.story_id, decision.edition) == (first.story_id, first.edition)


def test_an_article_after_the_window_starts_a_story_of_its_own() -> None:
    d = StoryDetector(window=24 * HOUR)
    d.assign(ARTICLES["izmir-reuters"], at(ARTICLES["izmir-reuters"]))
    decision, _ = d.assign(ARTICLES["izmir-ap"], at(ARTICLES["izmir-reuters"]) + 25 * HOUR)
    assert decision.story_id == "izmir-ap"
    assert len(d.index) == 1  # the first one left the window


def test_only_an_absolute_link_is_a_story_key() -> None:
    """Two sites' relative links "/2026/a" are two pages, not one story."""
    article = ARTICLES["rehab-1"]
    relative = Article(id="x", title="Short one", text="t", url="/2026/a", source="S")
    assert story_keys(article) == (
        "url:https://showbiz.example/lena-marwick-rehab",
        "title:pop star lena marwick enters rehab cancels european tour",
    )
    assert story_keys(relative) == ()


def test_articles_gone_from_the_window_never_crowd_out_live_ones() -> None:
    """Dropped articles stay in the postings until a compaction: fifteen old copies of a story must not
    take the candidates' places from the live article a new copy joins."""
    d = StoryDetector(window=100.0)
    live = ARTICLES["sulawesi"]
    for n in range(15):  # the same words as the live one: they tie with it, and came first
        d.assign(Article(id=f"old-{n}", title=live.title, text=live.text, url="", source="Old"), 0.0)
    d.assign(live, 150.0)  # the fifteen have left the window
    copy = Article(id="copy", title="Quake toll climbs on Sulawesi", text=live.text, url="", source="Copy")
    decision, _ = d.assign(copy, 151.0)
    assert decision.story_id == "sulawesi" and decision.reason != "new"


def test_the_decision_is_kept_for_why_and_read_back() -> None:
    [_, decision] = assign(detector(), "izmir-reuters", "izmir-ap")
    assert StoryDecision.from_json(decision.to_json()) == decision
    assert StoryDecision.from_json("") is None and StoryDecision.from_json('{"story_id": 1}') is None


# ---- through the pipeline and the store -----------------------------------------------------------


async def pipeline(path: Path, clock: list[float]) -> tuple[Pipeline, SqliteStore]:
    store = await SqliteStore.open(path)
    book = SubscriptionBook(default_aliases())
    for text in ("earthquake OR quake",):
        sub, _ = await store.add_subscription(DESK, book.parse(text).canonical, text)
        book.add(sub)
    p = Pipeline(store, book, ExtractiveSummariser(), clock=lambda: clock[0])
    await p.restore_stories()
    return p, store


async def test_later_reports_edit_the_channels_one_alert_and_a_restart_keeps_the_window(
    tmp_path: Path,
) -> None:
    clock = [time.time()]
    p, store = await pipeline(tmp_path / "bot.db", clock)
    assert (await p.process([ARTICLES["izmir-reuters"]])).queued == 1
    [item] = await store.due_alerts(clock[0] + 1, 10, ["console"])
    await store.mark_delivered(item.alert.id, MessageRef("console", "desk", "m1"), clock[0])
    await store.close()

    clock[0] += 2 * HOUR
    p, store = await pipeline(tmp_path / "bot.db", clock)  # a restart: the window comes from the store
    assert len(p.stories.index) == 1
    report = await p.process([ARTICLES["izmir-ap"], ARTICLES["sulawesi"]])
    assert report.queued == 1  # Sulawesi is news; the AP report of Izmir is not
    [(edited, ref)] = await store.edits_due(["console"], 10)
    assert ref.message_id == "m1" and edited.alert.also == ("Harbour Gazette",)
    [sulawesi] = await store.due_alerts(clock[0] + 1, 10, ["console"])
    assert sulawesi.alert.title.startswith("Strong earthquake hits Indonesia")
    [seen] = [s for s in await store.recent_articles(10) if s.article.id == "izmir-ap"]
    assert seen.story_id == "izmir-reuters"
    why = StoryDecision.from_json(seen.story_why)
    assert why is not None and why.reason == "joined" and why.joined == "izmir-reuters"
    await store.close()


async def test_a_development_is_a_new_alert_in_the_channel(tmp_path: Path) -> None:
    clock = [time.time()]
    p, store = await pipeline(tmp_path / "bot.db", clock)
    assert (await p.process([ARTICLES["izmir-reuters"]])).queued == 1
    assert (await p.process([ARTICLES["izmir-toll"]])).queued == 1
    assert (await p.process([ARTICLES["izmir-later"]])).queued == 0
    titles = [i.alert.title for i in await store.due_alerts(clock[0] + 1, 10, ["console"])]
    assert titles == [ARTICLES["izmir-reuters"].title, ARTICLES["izmir-toll"].title]
    await store.close()


async def test_an_outlets_report_taken_in_by_another_worker_joins_the_story_on_a_shared_store(
    pg_cluster: Cluster,
) -> None:
    """Two workers on one PostgreSQL database, each with its own story window: the second catches up
    from the store before it decides, so the AP report of Izmir that it polls joins the Reuters story
    the first recorded, and the channel's one alert is edited instead of a second one being posted."""
    url = pg_cluster.database()
    clock = [time.time()]
    stores = [await PostgresStore.open(url), await PostgresStore.open(url)]
    try:
        book = SubscriptionBook(default_aliases())
        sub, _ = await stores[0].add_subscription(DESK, book.parse("earthquake").canonical, "earthquake")
        book.add(sub)
        workers = [
            Pipeline(s, book, ExtractiveSummariser(), clock=lambda: clock[0], shared=True) for s in stores
        ]
        for worker in workers:
            await worker.restore_stories()
        assert (await workers[0].process([ARTICLES["izmir-reuters"]])).queued == 1
        [item] = await stores[0].due_alerts(clock[0] + 1, 10, ["console"])
        await stores[0].mark_delivered(item.alert.id, MessageRef("console", "desk", "m1"), clock[0])
        clock[0] += HOUR
        assert (await workers[1].process([ARTICLES["izmir-ap"]])).queued == 0
        [(edited, ref)] = await stores[1].edits_due(["console"], 10)
        assert ref.message_id == "m1" and edited.alert.also == ("Harbour Gazette",)
    finally:
        for s in stores:
            await s.close()

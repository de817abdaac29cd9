from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from bot.core.models import Article, ChannelRef, Summary
from bot.matching import default_aliases
from bot.processing.pipeline import Pipeline
from bot.processing.subscriptions import SubscriptionBook
from bot.store import SqliteStore
from bot.summarise.extractive import ExtractiveSummariser
from tests.events import event

NEWSROOM = ChannelRef("console", "newsroom")
SPORTS = ChannelRef("console", "sports")


_EVENT_OF: dict[str, int] = {}
"""Each article id its own event, so that articles meant as two stories are two."""


def art(id: str, title: str, text: str = "", url: str = "", hour: int = 8) -> Article:
    return Article(
        id=id,
        title=title,
        text=text or f"{title}. {event(_EVENT_OF.setdefault(id, len(_EVENT_OF)))}",
        url=url or f"https://news.example/{id}",
        source="Example News",
        published=datetime(2026, 11, 24, hour, tzinfo=UTC),
    )


async def subscribe(store: SqliteStore, book: SubscriptionBook, channel: ChannelRef, text: str) -> None:
    sub, _ = await store.add_subscription(channel, book.parse(text).canonical, text)
    book.add(sub)


@pytest.fixture
def book() -> SubscriptionBook:
    return SubscriptionBook(default_aliases())


async def test_matching_article_becomes_one_alert_per_channel_with_why(
    store: SqliteStore, book: SubscriptionBook
) -> None:
    await subscribe(store, book, NEWSROOM, "Ukraine")
    await subscribe(store, book, NEWSROOM, "Zelensky")
    await subscribe(store, book, SPORTS, "football")
    pipeline = Pipeline(store, book, ExtractiveSummariser(), clock=lambda: 1000.0)
    report = await pipeline.process(
        [
            art(
                "a1",
                "Zelenskyy visits front line in eastern Ukraine",
                "The president arrived by train on Tuesday and met commanders near Kupiansk. "
                "He promised more air defence for the region.",
            ),
            art("a2", "Markets rally on rate hopes"),
        ]
    )
    assert (report.received, report.new, report.matched, report.queued) == (2, 2, 1, 1)
    [item] = await store.due_alerts(1000.0, 10, ["console"])
    alert = item.alert
    assert alert.channel == NEWSROOM
    assert alert.title == "Zelenskyy visits front line in eastern Ukraine"
    assert set(alert.terms) == {"Zelenskyy", "Ukraine"}
    assert len(alert.queries) == 2
    assert alert.summary.startswith("The president arrived by train on Tuesday")


async def test_an_article_seen_before_is_never_alerted_again(
    store: SqliteStore, book: SubscriptionBook
) -> None:
    await subscribe(store, book, NEWSROOM, "Ukraine")
    pipeline = Pipeline(store, book, ExtractiveSummariser())
    first = await pipeline.process([art("a1", "Ukraine talks resume")])
    again = await pipeline.process([art("a1", "Ukraine talks resume (updated)")])
    assert (first.queued, again.new, again.queued) == (1, 0, 0)


async def test_same_story_from_two_outlets_alerts_a_channel_once(
    store: SqliteStore, book: SubscriptionBook
) -> None:
    await subscribe(store, book, NEWSROOM, "NATO")
    pipeline = Pipeline(store, book, ExtractiveSummariser())
    title = "NATO ministers agree to expand Baltic air policing"
    report = await pipeline.process(
        [art("wire-1", title, url="https://a.example/x?utm_source=rss"), art("paper-9", title, hour=9)]
    )
    assert report.new == 2 and report.queued == 1
    later = await pipeline.process([art("blog-3", title.upper(), url="https://a.example/x")])
    assert later.new == 1 and later.queued == 0


async def test_alerts_are_queued_oldest_first(store: SqliteStore, book: SubscriptionBook) -> None:
    await subscribe(store, book, NEWSROOM, "Ukraine")
    pipeline = Pipeline(store, book, ExtractiveSummariser())
    await pipeline.process(
        [art("late", "Ukraine evening update", hour=20), art("early", "Ukraine morning brief", hour=6)]
    )
    assert [i.alert.story_id for i in await store.due_alerts(1e12, 10, ["console"])] == ["early", "late"]


class FailingOn:
    """A summariser that breaks on one article, as a buggy stage would."""

    def __init__(self, bad_id: str) -> None:
        self.bad_id = bad_id

    async def summarise(self, article: Article, focus_terms: Sequence[str] = ()) -> Summary:
        if article.id == self.bad_id:
            raise RuntimeError("stage bug")
        return Summary(article.title)


async def test_one_bad_article_is_logged_and_skipped_without_stopping_the_batch(
    store: SqliteStore, book: SubscriptionBook, caplog: pytest.LogCaptureFixture
) -> None:
    await subscribe(store, book, NEWSROOM, "Ukraine")
    pipeline = Pipeline(store, book, FailingOn("bad"))
    report = await pipeline.process([art("bad", "Ukraine one", hour=1), art("good", "Ukraine two", hour=2)])
    assert (report.queued, report.failed) == (1, 1)
    assert [i.alert.story_id for i in await store.due_alerts(1e12, 10, ["console"])] == ["good"]
    assert "article bad" in caplog.text and "stage bug" in caplog.text
    assert (
        await pipeline.process([art("bad", "Ukraine one", hour=1)])
    ).new == 0  # logged once, not every cycle


async def test_paused_and_removed_subscriptions_do_not_fire(
    store: SqliteStore, book: SubscriptionBook
) -> None:
    await subscribe(store, book, NEWSROOM, "Ukraine")
    [sub] = await store.list_subscriptions(NEWSROOM)
    book.remove(sub)
    pipeline = Pipeline(store, book, ExtractiveSummariser())
    assert (await pipeline.process([art("a1", "Ukraine talks")])).queued == 0


async def test_quiet_articles_are_recorded_but_never_alerted(
    store: SqliteStore, book: SubscriptionBook
) -> None:
    await subscribe(store, book, NEWSROOM, "Ukraine")
    pipeline = Pipeline(store, book, ExtractiveSummariser())
    report = await pipeline.process(
        [art("old", "Ukraine history"), art("new", "Ukraine today")], quiet={"old"}
    )
    assert (report.new, report.queued) == (2, 1)
    assert (await pipeline.process([art("old", "Ukraine history")])).new == 0  # seen: never alerted later


async def test_a_changed_article_is_an_update_not_a_new_alert(
    store: SqliteStore, book: SubscriptionBook
) -> None:
    await subscribe(store, book, NEWSROOM, "Ukraine")
    pipeline = Pipeline(store, book, ExtractiveSummariser())
    await pipeline.process([art("a1", "Ukraine talks resume")])
    report = await pipeline.process([art("a1", "Ukraine talks resume in Geneva")])
    assert (report.new, report.updated, report.queued) == (0, 1, 0)
    again = await pipeline.process([art("a1", "Ukraine talks resume in Geneva")])
    assert again.updated == 0


async def test_feed_notices_go_to_the_channels_that_added_the_feed(
    store: SqliteStore, book: SubscriptionBook
) -> None:
    from bot.ingest.poller import FeedNotice

    await store.upsert_feed("https://f.example/rss", "F")
    await store.add_feed_channel("https://f.example/rss", NEWSROOM)
    pipeline = Pipeline(store, book, ExtractiveSummariser(), clock=lambda: 50.0)
    queued = await pipeline.notify([FeedNotice("https://f.example/rss", "F", "has failed for 6 h: HTTP 404")])
    assert queued == 1
    [item] = await store.due_alerts(50.0, 10, ["console"])
    assert item.alert.kind == "notice" and item.alert.channel == NEWSROOM
    assert item.alert.title == "Feed F has failed for 6 h: HTTP 404"
    assert await pipeline.notify([FeedNotice("https://other.example/rss", "O", "is working again")]) == 0

from __future__ import annotations

import time

import pytest

from bot.core.errors import CommandError
from bot.core.models import Article, ChannelRef
from bot.matching import default_aliases
from bot.processing.subscriptions import SubscriptionBook
from bot.store import SqliteStore
from handlers.commands import MAX_QUERY_CHARS, CommandService, Invocation
from tests.store_support import alert

HERE = Invocation(ChannelRef("console", "here"), user="ana")
THERE = Invocation(ChannelRef("console", "there"), user="ben")


def article(title: str) -> Article:
    return Article(id=title, title=title, text="")


async def test_subscribe_echoes_the_query_as_understood_and_starts_matching(service: CommandService) -> None:
    reply = await service.run_text(HERE, '/news subscribe "NATO summit" OR OTAN -football')
    canonical = service.book.parse('"NATO summit" OR OTAN -football').canonical
    assert reply.text == f"Subscribed. Watching for: {canonical}"
    assert not reply.ephemeral
    [sub] = await service.store.list_subscriptions(HERE.channel)
    assert sub.raw_query == '"NATO summit" OR OTAN -football' and sub.created_by == "ana"
    assert [m.subscription.id for m in service.book.match(article("OTAN se réunit à Bruxelles"))] == [sub.id]
    assert service.book.match(article("OTAN football friendly")) == []


async def test_subscribing_twice_says_so(service: CommandService) -> None:
    await service.run_text(HERE, "subscribe Ukraine")
    reply = await service.run_text(HERE, "subscribe ukraine")
    assert reply.text.startswith("This channel is already subscribed to:")
    assert len(await service.store.list_subscriptions(HERE.channel)) == 1


async def test_bad_query_gets_a_specific_message(service: CommandService) -> None:
    bad = await service.run_text(HERE, 'subscribe "NATO summit')
    assert (
        bad.text.startswith("I couldn't read that query: the \" at column 1 is never closed")
        and bad.ephemeral
    )
    with pytest.raises(CommandError, match="Say what to watch for"):
        await service.run_text(HERE, "subscribe   ")
    with pytest.raises(CommandError, match=f"limit is {MAX_QUERY_CHARS}"):
        await service.run_text(HERE, "subscribe " + "x" * (MAX_QUERY_CHARS + 1))
    assert await service.store.list_subscriptions(HERE.channel) == []


async def test_list_numbers_this_channels_subscriptions_only(service: CommandService) -> None:
    assert "no subscriptions" in (await service.run_text(HERE, "list")).text
    await service.run_text(HERE, "subscribe Ukraine")
    await service.run_text(HERE, "subscribe NATO")
    await service.run_text(THERE, "subscribe football")
    listing = (await service.run_text(HERE, "list")).text
    assert listing.splitlines()[1:] == ["1. ukraine", "2. NATO"]
    assert "football" not in listing


async def test_unsubscribe_by_number_or_by_query_stops_matching(service: CommandService) -> None:
    await service.run_text(HERE, "subscribe Ukraine")
    await service.run_text(HERE, "subscribe NATO")
    assert (await service.run_text(HERE, "unsubscribe 2")).text == "Unsubscribed from: NATO"
    assert service.book.match(article("NATO summit opens")) == []
    assert (await service.run_text(HERE, "unsubscribe UKRAINE")).text == "Unsubscribed from: ukraine"
    assert await service.store.list_subscriptions(HERE.channel) == []


async def test_unsubscribe_errors_are_specific(service: CommandService) -> None:
    with pytest.raises(CommandError, match="no subscriptions to remove"):
        await service.run_text(HERE, "unsubscribe 1")
    await service.run_text(HERE, "subscribe Ukraine")
    with pytest.raises(CommandError, match="There is no subscription 5 here; /news list shows 1 to 1"):
        await service.run_text(HERE, "unsubscribe 5")
    with pytest.raises(CommandError, match="No subscription here matches 'NATO'"):
        await service.run_text(HERE, "unsubscribe NATO")
    with pytest.raises(CommandError, match="Say which subscription"):
        await service.run_text(HERE, "unsubscribe")


async def test_shared_query_stays_matched_for_the_other_channel(service: CommandService) -> None:
    await service.run_text(HERE, "subscribe Ukraine")
    await service.run_text(THERE, "subscribe Ukraine")
    await service.run_text(HERE, "unsubscribe 1")
    [match] = service.book.match(article("Ukraine grain exports rise"))
    assert match.subscription.channel == THERE.channel


async def test_unknown_command_and_help(service: CommandService) -> None:
    known = (
        "subscribe, unsubscribe, list, preview, why, feeds, mute, digest, timezone, pause, resume, status, "
    )
    known += "help"
    with pytest.raises(CommandError, match=rf"Unknown command 'subscibe'\. Commands: {known}\."):
        await service.run_text(HERE, "subscibe Ukraine")
    assert "/news subscribe <query>" in (await service.run_text(HERE, "/news")).text
    assert "/news subscribe <query>" in (await service.run_text(HERE, "help")).text


async def seed_history(service: CommandService) -> None:
    """Three articles the bot has seen, one of them alerted here, one quiet history."""
    from bot.processing.pipeline import Pipeline
    from bot.summarise.extractive import ExtractiveSummariser

    await service.run_text(HERE, "subscribe Kharkiv")
    pipeline = Pipeline(service.store, service.book, ExtractiveSummariser())
    await pipeline.process(
        [
            Article(
                id="k",
                title="Kharkiv power restored",
                text="Crews worked overnight.",
                url="https://n.example/k",
            ),
            Article(
                id="z",
                title="Zelenskyy in Brussels",
                text="Talks on accession.",
                url="https://n.example/z?utm_source=x",
            ),
            Article(id="h", title="Kharkiv archive", text="Old news.", url="https://n.example/h"),
        ],
        quiet={"h"},
    )


async def test_subscribe_says_how_many_recent_articles_it_would_have_matched(service: CommandService) -> None:
    await seed_history(service)
    reply = await service.run_text(THERE, "subscribe Zelensky")
    assert reply.text == "Subscribed. Watching for: zelensky\nIt would have matched 1 of the last 3 articles."


async def test_preview_lists_matches_among_recent_articles_and_saves_nothing(service: CommandService) -> None:
    assert "I have not seen any articles yet" in (await service.run_text(HERE, "preview Kharkiv")).text
    await seed_history(service)
    reply = await service.run_text(THERE, "preview Kharkiv OR Kiev")
    assert reply.ephemeral
    assert reply.text.splitlines() == [
        "Query understood as: kharkiv OR kiev",
        "2 of the last 3 articles match:",
        "- Kharkiv archive (matched: Kharkiv)",  # newest first
        "- Kharkiv power restored (matched: Kharkiv)",
    ]
    assert await service.store.list_subscriptions(THERE.channel) == []
    assert "never closed" in (await service.run_text(HERE, 'preview "Kyiv')).text


async def test_why_explains_seen_matched_and_alert_state(service: CommandService) -> None:
    await seed_history(service)
    alerted = (await service.run_text(HERE, "why https://n.example/k")).text.splitlines()
    assert alerted[0].startswith("Seen ") and alerted[0].endswith(": Kharkiv power restored.")
    assert alerted[1:] == [
        "Story: a story of its own; nothing like it was seen in the window before it.",
        "- matches kharkiv (on Kharkiv)",
        "The alert is queued and will be posted shortly.",
    ]

    missed = (await service.run_text(HERE, "why <https://n.example/z>")).text.splitlines()
    assert missed[2:] == ["- does not match: kharkiv"]

    history = (await service.run_text(HERE, "why https://n.example/h")).text
    assert "recorded as history" in history

    unseen = (await service.run_text(HERE, "why https://n.example/nope")).text
    assert unseen == "I have not seen https://n.example/nope in any feed I watch (or pushed to me)."


async def test_why_tells_which_story_an_article_joined_and_on_what(service: CommandService) -> None:
    """The second outlet's report made no alert of its own: why says whose alert it joined, and that
    alert's state."""
    from bot.processing.pipeline import Pipeline
    from bot.summarise.extractive import ExtractiveSummariser
    from tests.test_stories import ARTICLES

    await service.run_text(HERE, "subscribe Izmir")
    pipeline = Pipeline(service.store, service.book, ExtractiveSummariser())
    await pipeline.process([ARTICLES["izmir-reuters"]])
    await pipeline.process([ARTICLES["izmir-ap"], ARTICLES["sulawesi"]])
    lines = (await service.run_text(HERE, "why " + ARTICLES["izmir-ap"].url)).text.splitlines()
    assert lines[1].startswith(
        "Story: joined “Strong earthquake hits Turkey's Izmir, buildings collapse” — Reuters (similarity 0."
    )
    assert "izmir" in lines[1] and lines[1].endswith("its outlet is added to that alert.")
    assert lines[-1] == "The alert is queued and will be posted shortly."
    other = (await service.run_text(HERE, "why " + ARTICLES["sulawesi"].url)).text.splitlines()
    assert other[1].startswith("Story: a story of its own. The closest article was “Strong earthquake hits")
    assert other[1].endswith("not close enough, or no names in common.")


ADMIN = Invocation(ChannelRef("console", "here"), user="ana", is_admin=True)


async def test_feeds_add_list_remove_and_permissions(store: SqliteStore) -> None:
    from bot.ingest.safety import UrlPolicy

    service = CommandService(store, SubscriptionBook(default_aliases()), url_check=UrlPolicy().check_url)
    with pytest.raises(
        CommandError, match=r"^Only the channel's admins can add and remove this channel's feeds"
    ):
        await service.run_text(HERE, "feeds add https://feeds.example/rss")
    reply = await service.run_text(ADMIN, "feeds add https://feeds.example/rss")
    assert reply.text.startswith(
        "Watching https://feeds.example/rss for this channel. Its current items are history"
    )
    await service.run_text(ADMIN, "feeds add https://other.example/atom 5")
    [first, second] = await store.list_feeds()
    assert (first.backfill, second.backfill) == (0, 5)
    listing = (await service.run_text(HERE, "feeds list")).text  # anyone may list
    assert listing.splitlines()[1:] == ["1. https://feeds.example/rss", "2. https://other.example/atom"]
    assert await store.feed_channels("https://feeds.example/rss") == [HERE.channel]

    with pytest.raises(CommandError, match="private address"):
        await service.run_text(ADMIN, "feeds add http://10.1.2.3/rss")
    with pytest.raises(CommandError, match="0 to 20"):
        await service.run_text(ADMIN, "feeds add https://x.example/rss 500")
    assert (
        await service.run_text(ADMIN, "feeds remove 1")
    ).text == "This channel no longer watches https://feeds.example/rss"
    with pytest.raises(CommandError, match=r"There is no feed 7 here; /news feeds list shows 1 to 1"):
        await service.run_text(ADMIN, "feeds remove 7")
    with pytest.raises(CommandError, match="Use /news feeds list"):
        await service.run_text(ADMIN, "feeds frobnicate")


async def test_re_adding_a_paused_feed_resumes_it(store: SqliteStore) -> None:
    import dataclasses

    service = CommandService(store, SubscriptionBook(default_aliases()))
    await service.run_text(ADMIN, "feeds add https://feeds.example/rss")
    [feed] = await store.list_feeds()
    await store.save_feed_state(dataclasses.replace(feed, paused=True, health_stage=2, failures=30))
    await service.run_text(ADMIN, "feeds add https://feeds.example/rss")
    [feed] = await store.list_feeds()
    assert (feed.paused, feed.health_stage, feed.failures) == (False, 0, 0)


async def test_subscribe_with_a_digest_mode(service: CommandService) -> None:
    reply = await service.run_text(HERE, "subscribe Ukraine daily")
    assert reply.text == "Subscribed. Watching for: ukraine (daily digest)"
    [sub] = await service.store.list_subscriptions(HERE.channel)
    assert sub.mode == "daily" and sub.query == "ukraine"
    await service.subscribe(HERE, "NATO", mode="hourly")
    assert [s.mode for s in await service.store.list_subscriptions(HERE.channel)] == ["daily", "hourly"]
    with pytest.raises(CommandError, match="Mode must be one of instant, hourly, daily"):
        await service.subscribe(HERE, "Kyiv", mode="weekly")


async def test_mute_and_digest_set_the_channel(service: CommandService) -> None:
    reply = await service.run_text(ADMIN, "mute 2h")
    assert reply.text.startswith("Muted until ") and "digest" in reply.text
    settings = await service.store.channel_settings(HERE.channel)
    assert settings.muted_until > 0
    assert (await service.store.channel_settings(THERE.channel)).muted_until == 0
    reply = await service.run_text(ADMIN, "mute off")
    assert reply.text == "Alerts are back on for this channel; nothing was held."
    assert (await service.store.channel_settings(HERE.channel)).muted_until <= time.time()
    assert (await service.run_text(ADMIN, "mute off")).text == "This channel is not muted."
    for bad in (
        "mute soon",
        "mute 0m",
        "mute 90d",
        "mute -5m",
        "mute 30",
        "mute 1.5",
        "mute 30s",
        "mute 500ms",
    ):
        with pytest.raises(CommandError, match="Say how long to mute"):
            await service.run_text(ADMIN, bad)
    assert "every day at 08:00 UTC" in (await service.run_text(ADMIN, "digest daily")).text
    assert (await service.store.channel_settings(HERE.channel)).digest == "daily"
    with pytest.raises(CommandError, match="off, hourly or daily"):
        await service.run_text(ADMIN, "digest weekly")


async def test_mute_takes_the_durations_the_config_file_takes(service: CommandService) -> None:
    """One grammar for both: `/news mute 90s` was refused while `interval: 90s` was fine."""
    for text, seconds in (("90s", 90), ("45 min", 2700), ("2H", 7200), ("1.5h", 5400), ("1d", 86400)):
        before = time.time()
        await service.run_text(ADMIN, f"mute {text}")
        until = (await service.store.channel_settings(HERE.channel)).muted_until
        assert before + seconds <= until <= time.time() + seconds, text


async def test_autocomplete_offers_this_channels_subscriptions(service: CommandService) -> None:
    await service.run_text(HERE, "subscribe Ukraine")
    await service.run_text(HERE, 'subscribe "NATO summit"')
    await service.run_text(THERE, "subscribe Ukrainian grain")
    assert await service.subscription_choices(HERE, "ukr") == [("1. ukraine", "1")]
    assert [v for _, v in await service.subscription_choices(HERE, "")] == ["1", "2"]


async def test_losing_a_channel_pauses_its_subscriptions_once(
    service: CommandService, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.processing.subscriptions import pause_channel, resume_channel

    await service.run_text(HERE, "subscribe Ukraine")
    await service.run_text(THERE, "subscribe Ukraine")
    assert await pause_channel(service.store, service.book, HERE.channel, "missing access") == 1
    assert await pause_channel(service.store, service.book, HERE.channel, "missing access") == 0
    assert caplog.text.count("paused 1 subscription") == 1
    [match] = service.book.match(article("Ukraine grain deal"))
    assert match.subscription.channel == THERE.channel
    assert "(paused)" in (await service.run_text(HERE, "list")).text
    await resume_channel(service.store, service.book, HERE.channel, time.time())
    assert len(service.book.match(article("Ukraine grain deal"))) == 2


async def test_status_tells_what_waits_what_failed_and_why(service: CommandService) -> None:
    store = service.store
    now = time.time()
    alerts = [alert(f"s{i}", HERE.channel) for i in range(4)] + [alert("t1", THERE.channel)]
    await store.record_processed([], alerts, now=now)
    await store.begin_attempt([alerts[0].id])
    await store.mark_failed(alerts[0].id, "slack chat.postMessage in here: channel_not_found")
    await store.defer(alerts[1].id, now + 3600)
    first = (await service.run_text(HERE, "status")).text
    assert first.splitlines() == [
        "Alerts for this channel: 2 going out now, 1 held for later, 1 could not be delivered.",
        "Last error: slack chat.postMessage in here: channel_not_found",
        "Last alert posted: none yet.",
        "Time zone: UTC (set one with /news timezone)",
    ]
    await service.run_text(ADMIN, "mute 2h")
    assert "Muted until " in (await service.run_text(HERE, "status")).text
    assert (await service.run_text(THERE, "status")).text.startswith(
        "Alerts for this channel: 1 going out now, 0 held for later, 0 could not be delivered."
    )


# ---- query errors: what is wrong, where, and one query that works ----------------------------------

from __future__ import annotations

import time

import pytest

from bot.core.errors import CommandError
from bot.core.models import Article, ChannelRef
from bot.matching import default_aliases
from bot.processing.subscriptions import SubscriptionBook
from bot.store import ChannelSettings, SqliteStore
from handlers.commands import MAX_QUERY_CHARS, CommandService, Invocation, PlatformWords
from handlers.replies import Code, Outside
from tests.store_support import alert

HERE = Invocation(ChannelRef("console", "here"), user="ana")
THERE = Invocation(ChannelRef("console", "there"), user="ben")


@pytest.fixture
def service(store: SqliteStore) -> CommandService:
    return CommandService(store, SubscriptionBook(default_aliases()))


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


@pytest.mark.parametrize(
    ("typed", "plain", "here"),
    [
        (
            "((",
            "I couldn't read that query: the ( at column 1 is never closed: add a ) where its group ends.\n"
            "  ((\n"
            "  ^\n"
            "This one works: /news subscribe (ukraine OR kyiv) grain",
            "👉((",
        ),
        (
            "ukraine OR",
            "I couldn't read that query: OR at column 9 ends the query: put a term after it.\n"
            "  ukraine OR\n"
            "          ^\n"
            "This one works: /news subscribe ukraine OR kyiv",
            "ukraine 👉OR",
        ),
        (
            "kyiv NEAR drone",
            "I couldn't read that query: NEAR at column 6 needs a distance: NEAR/5 finds two terms at most 5 "
            "words apart.\n"
            "  kyiv NEAR drone\n"
            "       ^\n"
            "This one works: /news subscribe zelensky NEAR/10 brussels",
            "kyiv 👉NEAR drone",
        ),
        (
            "grain foo:bar",
            "I couldn't read that query: foo: at column 7 is not a field: the fields are title:, site: and "
            "source: (put words with a colon in quotes).\n"
            "  grain foo:bar\n"
            "        ^\n"
            "This one works: /news subscribe site:bbc.co.uk ukraine",
            "grain 👉foo:bar",
        ),
        (
            "!!",
            "I couldn't read that query: the query is empty: !! has no letters or digits to look for.\n"
            'This one works: /news subscribe ukraine OR "NATO summit" -football',
            "",
        ),
        (
            "киев “Харків",  # the marker counts characters, not bytes
            "I couldn't read that query: the “ at column 6 is never closed: end the phrase with a quote "
            "too.\n"
            "  киев “Харків\n"
            "       ^\n"
            'This one works: /news subscribe "air defence" ukraine',
            "киев 👉“Харків",
        ),
        (
            "東京 OR",  # wide characters take two places in a monospaced font
            "I couldn't read that query: OR at column 4 ends the query: put a term after it.\n"
            "  東京 OR\n"
            "       ^\n"
            "This one works: /news subscribe ukraine OR kyiv",
            "東京 👉OR",
        ),
    ],
)
async def test_a_query_error_says_what_is_wrong_marks_the_spot_and_shows_one_that_works(
    service: CommandService, typed: str, plain: str, here: str
) -> None:
    answer = await service.run_text(HERE, f"subscribe {typed}")
    assert answer.text == plain and answer.ephemeral
    [section] = answer.sections
    what, *rest = section.lines
    assert what[0] == "I couldn't read that query: " and what[-1] == "."
    assert any(isinstance(p, Outside) and p.code for p in what) or typed == "!!"  # what was typed, as code
    if here:
        assert rest[0] == ("Here: ", Outside(here, code=True))
    example = plain.rsplit("/news subscribe ", 1)[1]
    assert rest[-1] == ("This one works: ", Code(f"/news subscribe {example}"))
    assert (await service.run_text(HERE, f"subscribe {example}")).text.startswith("Subscribed.")
    assert len(await service.store.list_subscriptions(HERE.channel)) == 1


def test_a_long_query_is_cut_around_the_spot() -> None:
    from handlers.query_errors import WINDOW, window

    text = "alpha " * 30 + "OR"
    shown, spot = window(text, len(text) - 1)
    assert shown.startswith("…") and shown.endswith(" OR") and len(shown) == WINDOW + 1
    assert shown[spot : spot + 2] == "OR"
    shown, spot = window("(" + "beta " * 30, 1)
    assert shown.endswith("…") and shown[spot] == "(" and spot == 0


# ---- who may change what the whole channel gets ------------------------------------------------------

DESK = PlatformWords(admins="workspace admins or members of the admin user group", group="user group")
MEMBER = Invocation(ChannelRef("slack", "C1", "T1"), user="UUSER", words=DESK)
EDITOR = Invocation(ChannelRef("slack", "C1", "T1"), user="UADMIN", is_admin=True, words=DESK)


@pytest.mark.parametrize(
    ("command", "action"),
    [
        ("mute 2h", "mute this channel"),
        ("mute off", "mute this channel"),
        ("digest daily", "change this channel's digest"),
        ("timezone Europe/Kyiv", "change this channel's time zone"),
        ("feeds add https://feeds.example/rss", "add and remove this channel's feeds"),
        ("feeds remove 1", "add and remove this channel's feeds"),
    ],
)
async def test_channel_wide_commands_are_for_admins_and_say_who_in_the_platforms_words(
    service: CommandService, command: str, action: str
) -> None:
    with pytest.raises(CommandError) as refused:
        await service.run_text(MEMBER, command)
    assert str(refused.value) == (
        f"Only workspace admins or members of the admin user group can {action}; ask one of them."
    )
    assert await service.store.channel_settings(MEMBER.channel) == ChannelSettings()
    assert await service.store.list_feeds() == []


async def test_reading_the_channels_settings_is_for_everyone(service: CommandService) -> None:
    await service.run_text(EDITOR, "timezone Asia/Kolkata")
    assert (await service.run_text(MEMBER, "timezone")).text.startswith(
        "This channel's time zone is Asia/Kolkata."
    )
    assert "Time zone: Asia/Kolkata" in (await service.run_text(MEMBER, "status")).text
    assert "no feeds" in (await service.run_text(MEMBER, "feeds list")).text


async def test_a_group_mention_is_for_admins_a_plain_subscription_for_everyone(
    service: CommandService,
) -> None:
    with pytest.raises(CommandError) as refused:
        await service.subscribe(MEMBER, "Ukraine", mention="S0DESK")
    assert str(refused.value) == (
        "Only workspace admins or members of the admin user group can subscribe with a user group "
        "mention, which pings the whole user group with every alert; subscribe without the mention, or ask "
        "one of them."
    )
    assert await service.store.list_subscriptions(MEMBER.channel) == []
    assert (await service.subscribe(MEMBER, "Ukraine")).text.startswith("Subscribed.")
    assert (await service.subscribe(EDITOR, "NATO", mention="S0DESK")).text.startswith("Subscribed.")
    assert [s.mention for s in await service.store.list_subscriptions(MEMBER.channel)] == ["", "S0DESK"]


# ---- pausing one subscription --------------------------------------------------------------------------


async def test_pause_stops_one_subscription_matching_until_resume(service: CommandService) -> None:
    await service.run_text(HERE, "subscribe Ukraine")
    await service.run_text(HERE, "subscribe NATO")
    with pytest.raises(CommandError, match="no subscriptions to pause"):  # each channel its own numbering
        await service.run_text(THERE, "pause 1")
    paused = await service.run_text(HERE, "pause 1")
    assert paused.text == "Paused subscription 1: ukraine\nIt matches nothing until /news resume 1."
    assert not paused.ephemeral
    assert service.book.match(article("Ukraine grain deal")) == []
    assert len(service.book.match(article("NATO summit opens"))) == 1
    assert (await service.run_text(HERE, "list")).text.splitlines()[1:] == ["1. ukraine (paused)", "2. NATO"]
    assert (await service.run_text(HERE, "pause ukraine")).text == (
        "Subscription 1 is already paused; /news resume 1 starts it again."
    )
    assert (await service.run_text(HERE, "subscribe Ukraine")).text == (
        "This channel already has that subscription, paused; /news resume 1 starts it again."
    )
    resumed = await service.run_text(HERE, "resume 1")
    assert resumed.text == "Resumed subscription 1: ukraine"
    assert len(service.book.match(article("Ukraine grain deal"))) == 1
    assert (await service.run_text(HERE, "resume 1")).text == "Subscription 1 is not paused."
    assert not any(s.user_paused for s in await service.store.list_subscriptions(HERE.channel))


async def test_a_paused_subscription_makes_no_alert_says_why_and_stays_paused_after_a_restart(
    store: SqliteStore,
) -> None:
    from bot.processing.pipeline import Pipeline
    from bot.summarise.extractive import ExtractiveSummariser

    service = CommandService(store, SubscriptionBook(default_aliases()))
    await service.run_text(HERE, "subscribe Ukraine")
    await service.run_text(HERE, "pause 1")
    pipeline = Pipeline(store, service.book, ExtractiveSummariser())
    story = Article(id="u", title="Ukraine grain deal", text="Ships sail.", url="https://n.example/u")
    await pipeline.process([story])
    assert await store.due_alerts(time.time() + 1, 10, ["console"]) == []
    why = (await service.run_text(HERE, "why https://n.example/u")).text.splitlines()
    assert "- matches ukraine, but that subscription is paused" in why
    book = SubscriptionBook(default_aliases())  # as the bot builds it at start
    for subscription in await store.list_subscriptions():
        book.add(subscription)
    assert book.match(article("Ukraine grain deal")) == []


async def test_pause_and_resume_errors_are_specific(service: CommandService) -> None:
    with pytest.raises(CommandError, match="no subscriptions to pause"):
        await service.run_text(HERE, "pause 1")
    await service.run_text(HERE, "subscribe Ukraine")
    with pytest.raises(CommandError, match="Say which subscription to resume"):
        await service.run_text(HERE, "resume")
    with pytest.raises(CommandError, match="There is no subscription 4 here; /news list shows 1 to 1"):
        await service.run_text(HERE, "pause 4")


async def test_resume_also_lifts_the_pause_of_a_channel_the_bot_had_lost(service: CommandService) -> None:
    from bot.processing.subscriptions import pause_channel

    await service.run_text(HERE, "subscribe Ukraine")
    await pause_channel(service.store, service.book, HERE.channel, "missing access")
    assert "(paused)" in (await service.run_text(HERE, "list")).text
    assert (await service.run_text(HERE, "resume 1")).text == "Resumed subscription 1: ukraine"
    assert len(service.book.match(article("Ukraine grain deal"))) == 1


# ---- the channel's time zone ---------------------------------------------------------------------------


async def test_timezone_is_checked_kept_and_shown(service: CommandService) -> None:
    reply = await service.run_text(ADMIN, "timezone europe/kyiv")
    assert reply.text == (
        "This channel's time zone is now Europe/Kyiv: daily digests come at 08:00 there, hourly ones at the "
        "top of its hours, and times are shown in it."
    )
    assert not reply.ephemeral
    assert (await service.store.channel_settings(ADMIN.channel)).timezone == "Europe/Kyiv"
    await service.run_text(ADMIN, "subscribe Ukraine")
    assert (await service.run_text(ADMIN, "list")).text.splitlines()[-1] == "Time zone: Europe/Kyiv"
    digest = (await service.run_text(ADMIN, "digest daily")).text
    assert digest == "This channel now gets one digest every day at 08:00 Europe/Kyiv time."
    muted = (await service.run_text(ADMIN, "mute 2h")).text
    assert muted.startswith("Muted until ") and " Europe/Kyiv. Alerts are kept" in muted
    status = (await service.run_text(ADMIN, "status")).text.splitlines()
    assert any(line.startswith("Alerts come as a daily digest; the next one at ") for line in status)
    assert status[-1] == "Time zone: Europe/Kyiv"
    assert (await service.run_text(ADMIN, "timezone Kolkata")).text.startswith(
        "This channel's time zone is now Asia/Kolkata:"
    )
    assert (await service.run_text(ADMIN, "digest hourly")).text == (
        "This channel now gets one digest at the top of every hour (Asia/Kolkata time)."
    )


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "Europe/Kyev",
            "I don't know the time zone 'Europe/Kyev'. Did you mean Europe/Kyiv or Europe/Kiev or "
            "Europe/Kirov? Give its IANA name, e.g. /news timezone Europe/Kyiv or /news timezone "
            "America/New_York (or UTC).",
        ),
        (
            "Mars/Olympus",
            "I don't know the time zone 'Mars/Olympus'. Give its IANA name, e.g. /news timezone "
            "Europe/Kyiv or /news timezone America/New_York (or UTC).",
        ),
        ("../../etc/passwd", "I don't know the time zone '../../etc/passwd'."),
    ],
)
async def test_an_unknown_timezone_is_refused_with_the_nearest_names(
    service: CommandService, typed: str, message: str
) -> None:
    with pytest.raises(CommandError) as refused:
        await service.run_text(ADMIN, f"timezone {typed}")
    assert str(refused.value).startswith(message)
    assert (await service.store.channel_settings(ADMIN.channel)).timezone == "UTC"

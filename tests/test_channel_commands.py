"""The /news commands that shape a channel: query errors that say what and where, who may change
the channel's settings (in each platform's words), pausing one subscription, the channel's time zone.
The rest of the command service is in test_commands.py."""

from __future__ import annotations

import time

import pytest

from bot.core.errors import CommandError
from bot.core.models import Article, ChannelRef
from bot.matching import default_aliases
from bot.processing.subscriptions import SubscriptionBook
from bot.store import ChannelSettings, SqliteStore
from handlers.commands import CommandService, Invocation, PlatformWords
from handlers.replies import Code, Outside
from tests.test_commands import ADMIN, HERE, THERE, article


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


async def test_why_gives_its_times_in_the_channels_zone(service: CommandService) -> None:
    from bot.processing.pipeline import Pipeline
    from bot.summarise.extractive import ExtractiveSummariser

    await service.run_text(ADMIN, "timezone Asia/Kolkata")
    kharkiv = Article(id="k", title="Kharkiv power restored", text="Crews worked.", url="https://n.example/k")
    await Pipeline(service.store, service.book, ExtractiveSummariser()).process([kharkiv])
    seen = (await service.run_text(ADMIN, "why https://n.example/k")).text.splitlines()[0]
    assert seen.startswith("Seen ") and " Asia/Kolkata: Kharkiv power restored" in seen


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

from __future__ import annotations

import pytest

from bot.errors import CommandError
from bot.matching import default_aliases
from bot.models import Article, ChannelRef
from bot.store import SqliteStore
from bot.subscriptions import SubscriptionBook
from handlers.commands import MAX_QUERY_CHARS, CommandService, Invocation

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
    with pytest.raises(CommandError, match=r"couldn't read that query: unclosed quote at column \d+"):
        await service.run_text(HERE, 'subscribe "NATO summit')
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
    with pytest.raises(
        CommandError, match=r"Unknown command 'subscibe'\. Commands: subscribe, unsubscribe, list, help"
    ):
        await service.run_text(HERE, "subscibe Ukraine")
    assert "/news subscribe <query>" in (await service.run_text(HERE, "/news")).text
    assert "/news subscribe <query>" in (await service.run_text(HERE, "help")).text

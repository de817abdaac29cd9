"""What a button beside a listed item does: the same :class:`CommandService` call as typing the command
(``/news unsubscribe <n>``, ``/news feeds remove <url>``), so its checks (admins for feeds) and its
reply are the command's. A button names its item by a key that outlives renumbering: a subscription's
id, a feed's :func:`handlers.replies.feed_key`."""

from __future__ import annotations

from bot.core.errors import CommandError
from handlers.commands import CommandService, Invocation
from handlers.replies import Reply, feed_key


async def run_action(service: CommandService, invocation: Invocation, action: str, key: str) -> Reply:
    """Run a button's ``action`` on the item ``key`` names, in the channel of ``invocation``."""
    if action == "unsubscribe":
        subscriptions = await service.store.list_subscriptions(invocation.channel)
        number = next((n for n, s in enumerate(subscriptions, 1) if str(s.id) == key), None)
        if number is None:
            raise CommandError(
                "That subscription is no longer in this channel; /news list shows those that are."
            )
        return await service.unsubscribe(invocation, str(number))
    if action == "feeds-remove":
        urls = await service.store.channel_feeds(invocation.channel)
        url = next((u for u in urls if feed_key(u) == key), None)
        if url is None:
            raise CommandError(
                "This channel no longer watches that feed; /news feeds list shows those it does."
            )
        return await service.feeds(invocation, f"remove {url}")
    raise CommandError("That button does nothing any more; run the command again.")

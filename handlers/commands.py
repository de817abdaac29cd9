"""The /news commands, once, for every platform.

Adapters turn their platform's input into calls on :class:`CommandService` and render the
:class:`Reply`. User mistakes raise :class:`CommandError` with a message meant for the user; each
adapter catches it (and, separately, anything unexpected) in one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.errors import CommandError, QueryError
from bot.models import ChannelRef, Subscription
from bot.store.base import Store
from bot.subscriptions import SubscriptionBook

MAX_QUERY_CHARS = 500
MAX_SUBSCRIPTIONS_PER_CHANNEL = 100


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    ephemeral: bool = True


@dataclass(frozen=True, slots=True)
class Invocation:
    """Who typed the command, and where."""

    channel: ChannelRef
    user: str = ""


HELP = """\
/news subscribe <query>   alert this channel about articles matching the query
/news list                this channel's subscriptions, numbered
/news unsubscribe <n>     remove subscription number n (or give the query itself)
/news help                this text

Queries: words (all must appear), "exact phrases", OR, -word to exclude, (parentheses),
Ukrain* for prefixes, title:word for headlines, site:example.com for one outlet."""


class CommandService:
    def __init__(self, store: Store, book: SubscriptionBook) -> None:
        self.store = store
        self.book = book
        self._text_commands: dict[str, Callable[[Invocation, str], Awaitable[Reply]]] = {
            "subscribe": self.subscribe,
            "unsubscribe": self.unsubscribe,
            "list": lambda inv, _rest: self.list(inv),
            "help": lambda _inv, _rest: self.help(),
        }

    async def run_text(self, invocation: Invocation, text: str) -> Reply:
        """Run a command typed as text: ``/news subscribe "NATO" OR OTAN`` or ``subscribe ...``."""
        text = text.strip()
        if text.startswith("/news"):
            text = text.removeprefix("/news").strip()
        name, _, rest = text.partition(" ")
        if not name:
            return await self.help()
        handler = self._text_commands.get(name.lower())
        if handler is None:
            known = ", ".join(self._text_commands)
            raise CommandError(f"Unknown command {name!r}. Commands: {known}.")
        return await handler(invocation, rest.strip())

    async def subscribe(self, invocation: Invocation, query_text: str, *, mention: str = "") -> Reply:
        query_text = query_text.strip()
        if not query_text:
            raise CommandError('Say what to watch for, e.g. /news subscribe Ukraine OR "NATO summit"')
        if len(query_text) > MAX_QUERY_CHARS:
            raise CommandError(f"That query is {len(query_text)} characters; the limit is {MAX_QUERY_CHARS}.")
        try:
            query = self.book.parse(query_text)
        except QueryError as exc:
            raise CommandError(f"I couldn't read that query: {exc}.") from exc
        existing = await self.store.list_subscriptions(invocation.channel)
        if len(existing) >= MAX_SUBSCRIPTIONS_PER_CHANNEL:
            raise CommandError(
                f"This channel already has {len(existing)} subscriptions, the most allowed. "
                "Remove one with /news unsubscribe <n>, or combine queries with OR."
            )
        subscription, added = await self.store.add_subscription(
            invocation.channel, query.canonical, query_text, created_by=invocation.user, mention=mention
        )
        if not added:
            return Reply(f"This channel is already subscribed to: {subscription.query}")
        self.book.add(subscription)
        return Reply(f"Subscribed. Watching for: {subscription.query}", ephemeral=False)

    async def unsubscribe(self, invocation: Invocation, which: str) -> Reply:
        subscriptions = await self.store.list_subscriptions(invocation.channel)
        target = _pick(subscriptions, which.strip(), self.book)
        await self.store.remove_subscription(target.id)
        self.book.remove(target)
        return Reply(f"Unsubscribed from: {target.query}", ephemeral=False)

    async def list(self, invocation: Invocation) -> Reply:
        subscriptions = await self.store.list_subscriptions(invocation.channel)
        if not subscriptions:
            return Reply("This channel has no subscriptions. Add one with /news subscribe <query>.")
        lines = [
            f"{n}. {s.query}" + (" (paused)" if s.paused else "") for n, s in enumerate(subscriptions, 1)
        ]
        return Reply("Subscriptions in this channel:\n" + "\n".join(lines))

    async def help(self) -> Reply:
        return Reply(HELP)


def _pick(subscriptions: list[Subscription], which: str, book: SubscriptionBook) -> Subscription:
    if not subscriptions:
        raise CommandError("This channel has no subscriptions to remove.")
    if not which:
        raise CommandError("Say which subscription to remove: its number from /news list, or its query.")
    if which.isdigit():
        n = int(which)
        if 1 <= n <= len(subscriptions):
            return subscriptions[n - 1]
        raise CommandError(f"There is no subscription {n} here; /news list shows 1 to {len(subscriptions)}.")
    try:
        canonical = book.parse(which).canonical
    except QueryError:
        canonical = which
    for subscription in subscriptions:
        if subscription.query == canonical or subscription.raw_query == which:
            return subscription
    raise CommandError(f"No subscription here matches {which!r}; /news list shows them with their numbers.")

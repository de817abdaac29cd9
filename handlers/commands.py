"""The /news commands, once, for every platform.

Adapters turn their platform's input into calls on :class:`CommandService` and render the
:class:`Reply`. User mistakes raise :class:`CommandError` with a message meant for the user; each
adapter catches it (and, separately, anything unexpected) in one place. What changes a whole channel
(its feeds, mute, digest, time zone, a subscription that pings a group) is for the platform's admins
(:attr:`Invocation.is_admin`); a refusal names them in the platform's words (:class:`PlatformWords`).
The feed and channel commands are in ``handlers/feed_commands.py`` and ``handlers/channel_commands.py``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.errors import CommandError, QueryError
from bot.core.identity import canonical_url
from bot.core.models import MODES, ChannelRef, Subscription, mode_named
from bot.core.zones import UTC_NAME
from bot.matching import Document, Query, evaluate
from bot.platforms import PlatformContext
from bot.processing.alerts import alert_id
from bot.processing.subscriptions import SubscriptionBook, resume_channel
from bot.store.base import Store
from bot.stories import StoryDecision
from handlers.channel_commands import ChannelCommands
from handlers.explain import Hit, Verdict, preview_reply, why_reply, would_have_matched
from handlers.feed_commands import FeedCommands, FindFeed, UrlCheck
from handlers.help import TERMINAL_USAGE, HelpUsage, help_reply
from handlers.query_errors import QueryProblem, query_problem
from handlers.replies import Button, Item, Outside, Section, reply
from handlers.replies import Reply as Reply  # where adapters have always found it

MAX_QUERY_CHARS = 500
MAX_SUBSCRIPTIONS_PER_CHANNEL = 100


@dataclass(frozen=True, slots=True)
class PlatformWords:
    """How a platform names who may change what a whole channel gets, and a mention of many people.
    Each adapter supplies its own with every :class:`Invocation`."""

    admins: str = "the channel's admins"
    """Discord: "server admins or members of the trusted role"; Slack: "workspace admins or ..."."""
    group: str = "group"
    """What a subscription may mention: a "role" on Discord, a "user group" on Slack."""
    usage: HelpUsage = TERMINAL_USAGE
    """How ``/news help`` shows the commands that have options."""


@dataclass(frozen=True, slots=True)
class Invocation:
    """Who typed the command, and where. ``is_admin``: the platform says this user may change what the
    whole channel gets: its feeds, mute, digest and time zone, and subscriptions that mention a group
    (Discord: Manage Server or the configured role; Slack: a workspace admin or the configured group)."""

    channel: ChannelRef
    user: str = ""
    is_admin: bool = False
    words: PlatformWords = PlatformWords()

    def require_admin(self, action: str, instead: str = "ask one of them") -> None:
        """Raise :class:`CommandError` naming who may ``action`` ("mute this channel"), unless this user
        may; ``instead``: what else to do."""
        if not self.is_admin:
            raise CommandError(f"Only {self.words.admins} can {action}; {instead}.")


class CommandService:
    def __init__(
        self,
        store: Store,
        book: SubscriptionBook,
        *,
        url_check: UrlCheck | None = None,
        find_feed: FindFeed | None = None,
        recent: int = 200,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.book = book
        self.url_check = url_check
        self.recent = recent
        self.wake = wake
        """Tells the bot's loop there is work now (a feed to fetch, held alerts to send)."""
        self.feed_commands = FeedCommands(store, url_check=url_check, find_feed=find_feed, wake=wake)
        self.channel_commands = ChannelCommands(store, wake)
        self._text_commands: dict[str, Callable[[Invocation, str], Awaitable[Reply]]] = {
            "subscribe": self.subscribe,
            "unsubscribe": self.unsubscribe,
            "list": lambda inv, _rest: self.list(inv),
            "preview": lambda inv, rest: self.preview(rest),
            "why": self.why,
            "feeds": self.feeds,
            "mute": self.mute,
            "digest": self.digest,
            "timezone": self.timezone,
            "pause": self.pause,
            "resume": self.resume,
            "status": lambda inv, _rest: self.status(inv),
            "help": lambda inv, _rest: self.help(inv.words.usage),
        }

    @classmethod
    def from_context(cls, context: PlatformContext) -> CommandService:
        """The service an adapter built from ``context`` gives its platform."""
        return cls(
            context.store,
            context.book,
            url_check=context.url_check,
            find_feed=context.find_feed,
            wake=context.wake,
        )

    async def run_text(self, invocation: Invocation, text: str) -> Reply:
        """Run a command typed as text: ``/news subscribe "NATO" OR OTAN`` or ``subscribe ...``."""
        text = text.strip()
        if text.startswith("/news"):
            text = text.removeprefix("/news").strip()
        name, _, rest = text.partition(" ")
        if not name:
            return await self.help(invocation.words.usage)
        handler = self._text_commands.get(name.lower())
        if handler is None:
            known = ", ".join(self._text_commands)
            raise CommandError(f"Unknown command {name!r}. Commands: {known}.")
        return await handler(invocation, rest.strip())

    def _query(self, query_text: str, example: str) -> Query:
        """The parsed query; raises :class:`CommandError`, or :class:`QueryProblem` (with a reply that
        marks the spot) for a query the parser can't read."""
        if not query_text:
            raise CommandError(f'Say what to watch for, e.g. {example} Ukraine OR "NATO summit"')
        if len(query_text) > MAX_QUERY_CHARS:
            raise CommandError(f"That query is {len(query_text)} characters; the limit is {MAX_QUERY_CHARS}.")
        try:
            return self.book.parse(query_text)
        except QueryError as exc:
            raise QueryProblem(query_problem(query_text, exc, example)) from exc

    async def _recent_hits(self, query: Query) -> tuple[list[Hit], int]:
        recent = await self.store.recent_articles(self.recent)
        hits = []
        for seen in recent:
            spans = evaluate(query, Document.from_article(seen.article))
            if spans is not None:
                hits.append(Hit(seen, spans))
        return hits, len(recent)

    async def subscribe(
        self,
        invocation: Invocation,
        query_text: str,
        *,
        mention: str = "",
        mode: str = "instant",
        thread: bool = False,
    ) -> Reply:
        query_text = query_text.strip()
        if mention:
            group = invocation.words.group
            invocation.require_admin(
                f"subscribe with a {group} mention, which pings the whole {group} with every alert",
                "subscribe without the mention, or ask one of them",
            )
        chosen = mode_named(mode)
        if chosen is None:
            raise CommandError(f"Mode must be one of {', '.join(MODES)}.")
        words = query_text.rsplit(maxsplit=1)
        if len(words) == 2 and chosen == "instant" and (typed := mode_named(words[1])) is not None:
            query_text, chosen = words[0], typed  # "/news subscribe Ukraine daily"
        try:
            query = self._query(query_text, "/news subscribe")
        except QueryProblem as problem:
            return problem.reply
        existing = await self.store.list_subscriptions(invocation.channel)
        if len(existing) >= MAX_SUBSCRIPTIONS_PER_CHANNEL:
            raise CommandError(
                f"This channel already has {len(existing)} subscriptions, the most allowed. "
                "Remove one with /news unsubscribe <n>, or combine queries with OR."
            )
        subscription, added = await self.store.add_subscription(
            invocation.channel,
            query.canonical,
            query_text,
            created_by=invocation.user,
            mention=mention,
            mode=chosen,
            thread=thread,
        )
        if not added and subscription.paused:
            resumed = await resume_channel(self.store, self.book, invocation.channel, time.time())
            self.wake()
            return Reply(f"Resumed this channel's {resumed} paused subscription(s).", ephemeral=False)
        if not added and subscription.user_paused:
            n = [s.id for s in existing].index(subscription.id) + 1
            return Reply(
                f"This channel already has that subscription, paused; /news resume {n} starts it again."
            )
        if not added:
            return reply(
                Section(lines=(("This channel is already subscribed to: ", _query(subscription.query)),))
            )
        self.book.add(subscription)
        hits, looked_at = await self._recent_hits(query)
        tail = would_have_matched(len(hits), looked_at)
        when = "" if chosen == "instant" else f" ({chosen} digest)"
        when += " (alerts go into threads)" if thread else ""
        lines = (("Subscribed. Watching for: ", _query(subscription.query), when), (tail,))
        return reply(Section(lines=lines if tail else lines[:1]), ephemeral=False)

    async def preview(self, query_text: str) -> Reply:
        try:
            query = self._query(query_text.strip(), "/news preview")
        except QueryProblem as problem:
            return problem.reply
        hits, looked_at = await self._recent_hits(query)
        return preview_reply(query.canonical, hits, looked_at)

    async def why(self, invocation: Invocation, url: str) -> Reply:
        url = url.strip().strip("<>")
        if not url:
            raise CommandError("Give the article's link, e.g. /news why https://example.com/story")
        seen = await self.store.find_article(canonical_url(url))
        verdicts: list[Verdict] = []
        status = None
        if seen is not None:
            doc = Document.from_article(seen.article)
            for subscription in await self.store.list_subscriptions(invocation.channel):
                try:
                    query = self.book.parse(subscription.query)
                except QueryError:
                    continue
                shown = subscription if subscription.live else dataclasses.replace(subscription, paused=True)
                verdicts.append(Verdict(shown, evaluate(query, doc)))
            decision = StoryDecision.from_json(seen.story_why)
            edition = decision.edition if decision is not None else seen.story_id
            status = await self.store.alert_status(alert_id(invocation.channel, edition))
        zone = (await self.store.channel_settings(invocation.channel)).timezone
        return why_reply(url, seen, verdicts, status, zone)

    async def feeds(self, invocation: Invocation, rest: str) -> Reply:
        action, _, argument = rest.strip().partition(" ")
        action, argument = action.lower(), argument.strip()
        feeds = self.feed_commands
        if action == "list":
            return await feeds.list(invocation.channel, removable=invocation.is_admin)
        if action not in ("add", "remove"):
            raise CommandError("Use /news feeds list, /news feeds add <url> [n] or /news feeds remove <n>.")
        invocation.require_admin("add and remove this channel's feeds")
        if action == "add":
            return await feeds.add(invocation.channel, invocation.user, argument)
        return await feeds.remove(invocation.channel, argument)

    async def mute(self, invocation: Invocation, duration: str) -> Reply:
        invocation.require_admin("mute this channel")
        text, changed = await self.channel_commands.mute(invocation.channel, duration)
        return Reply(text, ephemeral=not changed)

    async def digest(self, invocation: Invocation, text: str) -> Reply:
        invocation.require_admin("change this channel's digest")
        return Reply(await self.channel_commands.digest(invocation.channel, text), ephemeral=False)

    async def timezone(self, invocation: Invocation, text: str) -> Reply:
        """``/news timezone Europe/Kyiv`` sets it (admins); ``/news timezone`` alone says which it is."""
        if not text.strip():
            return Reply(await self.channel_commands.current_timezone(invocation.channel))
        invocation.require_admin("change this channel's time zone")
        return Reply(await self.channel_commands.timezone(invocation.channel, text), ephemeral=False)

    async def status(self, invocation: Invocation) -> Reply:
        return await self.channel_commands.status(invocation.channel)

    async def subscription_choices(self, invocation: Invocation, prefix: str) -> list[tuple[str, str]]:
        """For autocomplete: this channel's subscriptions whose query contains ``prefix``, as (label,
        value) where value is what :meth:`unsubscribe` takes (its number)."""
        prefix = prefix.strip().casefold()
        subscriptions = await self.store.list_subscriptions(invocation.channel)
        return [
            (f"{n}. {s.query}"[:100], str(n))
            for n, s in enumerate(subscriptions, 1)
            if prefix in s.query.casefold() or prefix == str(n)
        ][:25]

    async def unsubscribe(self, invocation: Invocation, which: str) -> Reply:
        subscriptions = await self.store.list_subscriptions(invocation.channel)
        target = _pick(subscriptions, which.strip(), self.book)
        await self.store.remove_subscription(target.id)
        self.book.remove(target)
        return reply(Section(lines=(("Unsubscribed from: ", _query(target.query)),)), ephemeral=False)

    async def pause(self, invocation: Invocation, which: str) -> Reply:
        """Stop one subscription matching until :meth:`resume`; the others go on."""
        subscriptions = await self.store.list_subscriptions(invocation.channel)
        target = _pick(subscriptions, which.strip(), self.book, "pause")
        n = subscriptions.index(target) + 1
        if target.user_paused:
            return Reply(f"Subscription {n} is already paused; /news resume {n} starts it again.")
        await self.store.set_subscription_paused(target.id, True)
        self.book.replace(dataclasses.replace(target, user_paused=True))
        lines = (
            (f"Paused subscription {n}: ", _query(target.query)),
            (f"It matches nothing until /news resume {n}.",),
        )
        return reply(Section(lines=lines), ephemeral=False)

    async def resume(self, invocation: Invocation, which: str) -> Reply:
        subscriptions = await self.store.list_subscriptions(invocation.channel)
        target = _pick(subscriptions, which.strip(), self.book, "resume")
        n = subscriptions.index(target) + 1
        if target.live:
            return Reply(f"Subscription {n} is not paused.")
        if target.user_paused:
            await self.store.set_subscription_paused(target.id, False)
            self.book.replace(dataclasses.replace(target, user_paused=False))
        if target.paused:  # paused when the bot lost the channel: it is back, since the command came from it
            await resume_channel(self.store, self.book, invocation.channel, time.time())
            self.wake()
        return reply(Section(lines=((f"Resumed subscription {n}: ", _query(target.query)),)), ephemeral=False)

    async def list(self, invocation: Invocation) -> Reply:
        subscriptions = await self.store.list_subscriptions(invocation.channel)
        if not subscriptions:
            return Reply("This channel has no subscriptions. Add one with /news subscribe <query>.")
        items = tuple(
            Item(
                (_query(s.query), "" if s.live else " (paused)"),
                Button("Unsubscribe", "unsubscribe", str(s.id)),
            )
            for s in subscriptions
        )
        zone = (await self.store.channel_settings(invocation.channel)).timezone
        footer = () if zone == UTC_NAME else ((f"Time zone: {zone}",),)
        return reply(
            Section(heading="Subscriptions in this channel", items=items, numbered=True, footer=footer)
        )

    async def help(self, usage: HelpUsage = TERMINAL_USAGE) -> Reply:
        """The commands and the query language, with each command's options as the platform takes them."""
        return help_reply(usage)


def _pick(
    subscriptions: list[Subscription], which: str, book: SubscriptionBook, verb: str = "remove"
) -> Subscription:
    if not subscriptions:
        raise CommandError(f"This channel has no subscriptions to {verb}.")
    if not which:
        raise CommandError(f"Say which subscription to {verb}: its number from /news list, or its query.")
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


def _query(query: str) -> Outside:
    """A query in a reply: outside text (the user typed it), in code format."""
    return Outside(query, code=True)

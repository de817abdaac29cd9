"""The /news commands, once, for every platform.

Adapters turn their platform's input into calls on :class:`CommandService` and render the
:class:`Reply`. User mistakes raise :class:`CommandError` with a message meant for the user; each
adapter catches it (and, separately, anything unexpected) in one place.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.durations import parse_duration
from bot.core.errors import CommandError, FeedError, QueryError
from bot.core.identity import canonical_url
from bot.core.models import MODES, ChannelRef, Subscription, digest_schedule_named, mode_named
from bot.matching import Document, Query, evaluate
from bot.processing.alerts import alert_id
from bot.processing.subscriptions import SubscriptionBook, resume_channel
from bot.store.base import Store
from bot.stories import StoryDecision
from handlers.explain import Hit, Verdict, preview_reply, why_reply, would_have_matched
from handlers.help import help_reply
from handlers.replies import Button, Item, Line, Link, Outside, Section, feed_key, reply
from handlers.replies import Reply as Reply  # where adapters have always found it

MAX_QUERY_CHARS = 500
MAX_SUBSCRIPTIONS_PER_CHANNEL = 100
MAX_BACKFILL = 20
MIN_MUTE = 60.0
MAX_MUTE = 30 * 86400.0


@dataclass(frozen=True, slots=True)
class Invocation:
    """Who typed the command, and where. ``is_admin``: the platform says this user may manage feeds
    (Discord: Manage Server or the configured role; Slack: a workspace admin or the configured group)."""

    channel: ChannelRef
    user: str = ""
    is_admin: bool = False


UrlCheck = Callable[[str], None]
"""Raises :class:`bot.core.errors.FeedError` for a URL the bot must not fetch (see bot.ingest.safety)."""


class CommandService:
    def __init__(
        self,
        store: Store,
        book: SubscriptionBook,
        *,
        url_check: UrlCheck | None = None,
        recent: int = 200,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.book = book
        self.url_check = url_check
        self.recent = recent
        self.wake = wake
        """Tells the bot's loop there is work now (a feed to fetch, held alerts to send)."""
        self._text_commands: dict[str, Callable[[Invocation, str], Awaitable[Reply]]] = {
            "subscribe": self.subscribe,
            "unsubscribe": self.unsubscribe,
            "list": lambda inv, _rest: self.list(inv),
            "preview": lambda inv, rest: self.preview(rest),
            "why": self.why,
            "feeds": self.feeds,
            "mute": self.mute,
            "digest": self.digest,
            "status": lambda inv, _rest: self.status(inv),
            "help": lambda inv, _rest: self.help(inv.channel.platform),
        }

    async def run_text(self, invocation: Invocation, text: str) -> Reply:
        """Run a command typed as text: ``/news subscribe "NATO" OR OTAN`` or ``subscribe ...``."""
        text = text.strip()
        if text.startswith("/news"):
            text = text.removeprefix("/news").strip()
        name, _, rest = text.partition(" ")
        if not name:
            return await self.help(invocation.channel.platform)
        handler = self._text_commands.get(name.lower())
        if handler is None:
            known = ", ".join(self._text_commands)
            raise CommandError(f"Unknown command {name!r}. Commands: {known}.")
        return await handler(invocation, rest.strip())

    def _query(self, query_text: str, example: str) -> Query:
        if not query_text:
            raise CommandError(f'Say what to watch for, e.g. {example} Ukraine OR "NATO summit"')
        if len(query_text) > MAX_QUERY_CHARS:
            raise CommandError(f"That query is {len(query_text)} characters; the limit is {MAX_QUERY_CHARS}.")
        try:
            return self.book.parse(query_text)
        except QueryError as exc:
            raise CommandError(f"I couldn't read that query: {exc}.") from exc

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
        chosen = mode_named(mode)
        if chosen is None:
            raise CommandError(f"Mode must be one of {', '.join(MODES)}.")
        words = query_text.rsplit(maxsplit=1)
        if len(words) == 2 and chosen == "instant" and (typed := mode_named(words[1])) is not None:
            query_text, chosen = words[0], typed  # "/news subscribe Ukraine daily"
        query = self._query(query_text, "/news subscribe")
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
        query = self._query(query_text.strip(), "/news preview")
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
                verdicts.append(Verdict(subscription, evaluate(query, doc)))
            decision = StoryDecision.from_json(seen.story_why)
            edition = decision.edition if decision is not None else seen.story_id
            status = await self.store.alert_status(alert_id(invocation.channel, edition))
        return why_reply(url, seen, verdicts, status)

    async def feeds(self, invocation: Invocation, rest: str) -> Reply:
        action, _, argument = rest.strip().partition(" ")
        actions = {"list": self._feeds_list, "add": self._feeds_add, "remove": self._feeds_remove}
        handler = actions.get(action.lower())
        if handler is None:
            raise CommandError("Use /news feeds list, /news feeds add <url> [n] or /news feeds remove <n>.")
        if action.lower() != "list" and not invocation.is_admin:
            raise CommandError(
                "Adding and removing feeds is for server admins (or the role the bot is set to trust)."
            )
        return await handler(invocation, argument.strip())

    async def _feeds_list(self, invocation: Invocation, _argument: str) -> Reply:
        urls = await self._channel_feeds(invocation)
        if not urls:
            return Reply("This channel has added no feeds. Add one with /news feeds add <url>.")
        items = tuple(
            Item((Link(u),), Button("Remove", "feeds-remove", feed_key(u)) if invocation.is_admin else None)
            for u in urls
        )
        return reply(Section(heading="Feeds this channel added", items=items, numbered=True))

    async def _feeds_add(self, invocation: Invocation, argument: str) -> Reply:
        url, _, count = argument.partition(" ")
        if not url:
            raise CommandError("Give the feed's link, e.g. /news feeds add https://example.com/rss")
        count = count.strip()
        if count and not (count.isdigit() and int(count) <= MAX_BACKFILL):
            raise CommandError(f"The number of items to alert now must be 0 to {MAX_BACKFILL}.")
        if self.url_check is not None:
            try:
                self.url_check(url)
            except FeedError as exc:
                raise CommandError(f"I can't watch that feed: {exc}.") from exc
        elif not url.startswith(("http://", "https://")):
            raise CommandError("A feed's link starts with http:// or https://.")
        known = {f.url: f for f in await self.store.list_feeds()}
        feed = known.get(url)
        if feed is None:
            await self.store.upsert_feed(url, backfill=int(count or 0))
        elif feed.paused:  # re-adding a paused feed is how a channel resumes it
            await self.store.save_feed_state(
                dataclasses.replace(
                    feed, paused=False, health_stage=0, failures=0, failing_since=None, next_fetch_at=0
                )
            )
        await self.store.add_feed_channel(url, invocation.channel, added_by=invocation.user)
        self.wake()  # its first fetch now, not at the next idle tick
        history = (
            f"its {count} newest items will be alerted"
            if count and int(count)
            else "its current items are history"
        )
        watching = (
            "Watching ",
            Outside(url),
            f": {history}; new ones will be matched against every subscription.",
        )
        return reply(Section(lines=(watching,)), ephemeral=False)

    async def _feeds_remove(self, invocation: Invocation, argument: str) -> Reply:
        urls = await self._channel_feeds(invocation)
        if not urls:
            raise CommandError("This channel has added no feeds to remove.")
        if argument.isdigit() and 1 <= int(argument) <= len(urls):
            url = urls[int(argument) - 1]
        elif argument in urls:
            url = argument
        else:
            raise CommandError(f"No feed {argument!r} here; /news feeds list shows 1 to {len(urls)}.")
        await self.store.remove_feed_channel(url, invocation.channel)
        return reply(
            Section(lines=(("This channel no longer watches ", Outside(url), "."),)), ephemeral=False
        )

    async def _channel_feeds(self, invocation: Invocation) -> list[str]:
        return await self.store.channel_feeds(invocation.channel)

    async def mute(self, invocation: Invocation, duration: str) -> Reply:
        duration = duration.strip().lower()
        if duration in ("off", "0", "none", "unmute"):
            now = time.time()
            if (await self.store.channel_settings(invocation.channel)).muted_until <= now:
                return Reply("This channel is not muted.")
            held = await self.store.end_mute(invocation.channel, now)
            self.wake()
            what = f"the {held} alert(s) held come now as one digest" if held else "nothing was held"
            return Reply(f"Alerts are back on for this channel; {what}.", ephemeral=False)
        try:
            # A unit is required here ("mute 30" is not 30 seconds): the config's grammar, minus bare numbers.
            seconds = parse_duration(duration) if duration[-1:].isalpha() else 0.0
        except ValueError:
            seconds = 0.0
        if not MIN_MUTE <= seconds <= MAX_MUTE:
            raise CommandError(
                "Say how long to mute, e.g. /news mute 2h (90s, 30m, 2h, 1d; 1 minute to 30 days), "
                "or /news mute off."
            )
        until = time.time() + seconds
        await self.store.set_mute(invocation.channel, until)
        return Reply(
            f"Muted until {_utc(until)}. Alerts are kept and come as one digest then.", ephemeral=False
        )

    async def status(self, invocation: Invocation) -> Reply:
        """What the channel's admins need when alerts do not arrive: what is queued, held and failed,
        with the last error and the last alert posted."""
        now = time.time()
        outbox = await self.store.channel_outbox(invocation.channel, now)
        settings = await self.store.channel_settings(invocation.channel)
        lines: list[Line] = [
            (
                f"Alerts for this channel: {outbox.due} going out now, {outbox.held} held for later, "
                f"{outbox.failed} could not be delivered.",
            )
        ]
        if settings.muted_until > now:
            lines.append((f"Muted until {_utc(settings.muted_until)}.",))
        if settings.digest != "off":
            lines.append((f"Alerts come as a {settings.digest} digest.",))
        if outbox.last_error:
            lines.append(("Last error: ", Outside(outbox.last_error)))
        posted = _utc(outbox.last_sent_at) if outbox.last_sent_at else "none yet"
        lines.append((f"Last alert posted: {posted}.",))
        return reply(Section(lines=tuple(lines)))

    async def digest(self, invocation: Invocation, text: str) -> Reply:
        schedule = digest_schedule_named(text)
        if schedule is None:
            raise CommandError("Say off, hourly or daily, e.g. /news digest daily.")
        await self.store.set_digest(invocation.channel, schedule)
        if schedule == "off":
            return Reply("Digest off: alerts are posted as they come.", ephemeral=False)
        when = "at the top of every hour" if schedule == "hourly" else "every day at 08:00 UTC"
        return Reply(f"This channel now gets one digest {when}.", ephemeral=False)

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

    async def list(self, invocation: Invocation) -> Reply:
        subscriptions = await self.store.list_subscriptions(invocation.channel)
        if not subscriptions:
            return Reply("This channel has no subscriptions. Add one with /news subscribe <query>.")
        items = tuple(
            Item(
                (_query(s.query), " (paused)" if s.paused else ""),
                Button("Unsubscribe", "unsubscribe", str(s.id)),
            )
            for s in subscriptions
        )
        return reply(Section(heading="Subscriptions in this channel", items=items, numbered=True))

    async def help(self, platform: str = "") -> Reply:
        """The commands and the query language, with each command's options as ``platform`` takes them."""
        return help_reply(platform)


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


def _query(query: str) -> Outside:
    """A query in a reply: outside text (the user typed it), in code format."""
    return Outside(query, code=True)


def _utc(when: float) -> str:
    return datetime.fromtimestamp(when, tz=UTC).strftime("%d %b %H:%M UTC")

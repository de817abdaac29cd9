"""``/news feeds list|add|remove``: the feeds a channel watches. Each returns its reply (or raises
:class:`CommandError`); :class:`handlers.commands.CommandService` checks who may run it.

Adding takes a feed's URL or a site's page: with a ``find_feed`` (:class:`bot.ingest.discover.FeedFinder`)
the URL is fetched first, through the bot's guarded fetching, and a page is replaced by the feed it names
or one at a usual path; the reply says which feed was chosen. A URL that cannot be fetched just now is
watched as typed (the feed's health notices tell the channel if it keeps failing)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

from bot.core.errors import CommandError, FeedError
from bot.core.models import ChannelRef
from bot.ingest.discover import FoundFeed, NoFeedFound
from bot.store.base import Store
from handlers.replies import Button, Code, Item, Line, Link, Outside, Reply, Section, feed_key, reply

MAX_BACKFILL = 20

UrlCheck = Callable[[str], None]
"""Raises :class:`bot.core.errors.FeedError` for a URL the bot must not fetch (see bot.ingest.safety)."""
FindFeed = Callable[[str], Awaitable[FoundFeed]]

_FOUND_BY: dict[str, Line] = {
    "link": (" through the page's ", Code('rel="alternate"'), " link."),
    "path": (" at a usual address (the page names none).",),
}


class FeedCommands:
    def __init__(
        self,
        store: Store,
        *,
        url_check: UrlCheck | None,
        find_feed: FindFeed | None,
        wake: Callable[[], None],
    ) -> None:
        self.store = store
        self.url_check = url_check
        self.find_feed = find_feed
        self.wake = wake

    async def list(self, channel: ChannelRef, *, removable: bool) -> Reply:
        """The channel's feeds, each with a button to remove it when the user may (``removable``)."""
        urls = await self.store.channel_feeds(channel)
        if not urls:
            return Reply("This channel has added no feeds. Add one with /news feeds add <url>.")
        items = tuple(
            Item((Link(u),), Button("Remove", "feeds-remove", feed_key(u)) if removable else None)
            for u in urls
        )
        return reply(Section(heading="Feeds this channel added", items=items, numbered=True))

    async def add(self, channel: ChannelRef, user: str, argument: str) -> Reply:
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
        before: Line = ()
        after: Line = ()
        if url not in known and self.find_feed is not None:
            url, before, after = await self._find(url)
        feed = known.get(url)
        if feed is None:
            await self.store.upsert_feed(url, backfill=int(count or 0))
        elif feed.paused:  # re-adding a paused feed is how a channel resumes it
            await self.store.save_feed_state(
                dataclasses.replace(
                    feed, paused=False, health_stage=0, failures=0, failing_since=None, next_fetch_at=0
                )
            )
        await self.store.add_feed_channel(url, channel, added_by=user)
        self.wake()  # its first fetch now, not at the next idle tick
        history = (
            f"Its {count} newest items will be alerted"
            if count and int(count)
            else "Its current items are history"
        )
        # A URL is never followed by punctuation here: a client that makes links would take it in.
        watching: Line = (
            "Watching ",
            Outside(url),
            f" for this channel. {history}; new ones will be matched against every subscription.",
        )
        lines = tuple(line for line in (before, watching, after) if line)
        return reply(Section(lines=lines), ephemeral=False)

    async def _find(self, url: str) -> tuple[str, Line, Line]:
        """The feed to watch for ``url``, and what to say before and after "Watching": how it was found,
        or that it could not be checked."""
        assert self.find_feed is not None
        try:
            found = await self.find_feed(url)
        except NoFeedFound as exc:
            reason = str(exc)
            raise CommandError(f"I found no feed for {url}\n{reason[:1].upper()}{reason[1:]}.") from exc
        except FeedError as exc:
            if not exc.retryable:
                raise CommandError(f"I can't watch {url} as a feed: {exc}.") from exc
            note: Line = (
                "I couldn't fetch it just now (",
                Outside(str(exc)),
                "); I'll keep trying, and say so here if it keeps failing.",
            )
            return url, (), note
        if found.how == "given":
            return url, (), ()
        named: Line = (" “", Outside(found.title), "”") if found.title else ()
        line = (Outside(url), " is a web page, not a feed: I found its feed", *named, *_FOUND_BY[found.how])
        return found.url, line, ()

    async def remove(self, channel: ChannelRef, argument: str) -> Reply:
        urls = await self.store.channel_feeds(channel)
        if not urls:
            raise CommandError("This channel has added no feeds to remove.")
        if argument.isdigit() and 1 <= int(argument) <= len(urls):
            url = urls[int(argument) - 1]
        elif argument in urls:
            url = argument
        else:
            raise CommandError(f"There is no feed {argument} here; /news feeds list shows 1 to {len(urls)}.")
        await self.store.remove_feed_channel(url, channel)
        return reply(Section(lines=(("This channel no longer watches ", Outside(url)),)), ephemeral=False)

"""Live subscriptions, grouped by canonical query so that a query many channels share is indexed and
evaluated once."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping, Sequence

from bot.core.errors import QueryError
from bot.core.models import Article, ChannelRef, Match, Span, Subscription
from bot.matching import AliasTable, Document, Query, SubscriptionIndex, parse_query
from bot.store.base import Store

log = logging.getLogger(__name__)


Entry = Subscription | int
"""A subscription, or only its id until it first matches (:meth:`SubscriptionBook.load`): the store
has the rest."""
Group = Entry | dict[int, Entry]
"""The subscriptions of one query: most queries have one, kept as it is (a dict costs ~200 bytes)."""


class SubscriptionBook:
    """Live subscriptions by query, over the index of their queries.

    At start the book is loaded with each subscription's id and query alone (:meth:`load`): most never
    match a given article, so the rest of a subscription is read from the store the first time it
    matches (:func:`match_stored` asks :meth:`unmade` which, and hands them to :meth:`made`).
    """

    def __init__(self, aliases: AliasTable) -> None:
        self.aliases = aliases
        self._index = SubscriptionIndex(aliases)
        self._by_query: dict[str, Group] = {}
        self._queries: dict[int, str] = {}
        """subscription id -> its query, to remove by id."""
        self.pauses = 0
        """How many times :meth:`set_paused` ran: a read of subscriptions begun before it may hold a
        channel's old state (:func:`match_stored` reads again)."""

    def parse(self, text: str) -> Query:
        """Parse a query as typed by a user. Raises :class:`QueryError`."""
        return parse_query(text, self.aliases)

    def add(self, subscription: Subscription) -> None:
        """Index a stored subscription. A stored query that no longer parses is logged and skipped."""
        key = subscription.query
        if key not in self._by_query:
            try:
                self._index.add(key, parse_query(key, self.aliases))
            except QueryError as exc:
                log.error("subscription %d: stored query %r no longer parses: %s", subscription.id, key, exc)
                return
        self._put(subscription, subscription.id, key)

    def add_many(self, subscriptions: Iterable[Subscription]) -> None:
        """Index many stored subscriptions at once: as :meth:`add` each, in one pass through
        :meth:`SubscriptionIndex.add_many`."""
        subscriptions = list(subscriptions)
        self._file_many(subscriptions, [s.id for s in subscriptions], [s.query for s in subscriptions])

    def load(self, keys: Iterable[tuple[int, str]]) -> None:
        """Index every stored subscription by its id and query (the store's ``subscription_keys``), as
        :meth:`add_many` would the subscriptions themselves; each is made the first time it matches."""
        keys = list(keys)
        ids = [sid for sid, _ in keys]
        self._file_many(ids, ids, [query for _, query in keys])

    def _file_many(self, entries: Sequence[Entry], ids: Sequence[int], keys: Sequence[str]) -> None:
        """Index the queries ``keys`` not indexed yet in one pass, then file each entry (of id ``ids[i]``
        and query ``keys[i]``) under its query, or log it when its query no longer parses."""
        by_query = self._by_query
        new = {key: key for key in keys if key not in by_query}
        failed = dict(self._index.add_many(new.items()))
        for entry, sid, key in zip(entries, ids, keys, strict=True):
            exc = failed.get(key) if failed else None
            if exc is not None:
                log.error("subscription %d: stored query %r no longer parses: %s", sid, key, exc)
            else:
                self._put(entry, sid, key)

    def _put(self, entry: Entry, sid: int, key: str) -> None:
        """File ``entry`` (subscription ``sid``) under its query ``key`` (already indexed), replacing one
        with its id."""
        old = self._queries.get(sid)
        if old is not None and old != key:
            self._remove(sid, old)
        group = self._by_query.get(key)
        if group is None or (not isinstance(group, dict) and _id(group) == sid):
            self._by_query[key] = entry
        elif not isinstance(group, dict):
            self._by_query[key] = {_id(group): group, sid: entry}
        else:
            group[sid] = entry
        self._queries[sid] = key

    def compact(self) -> None:
        """After adding many subscriptions one by one (see :meth:`SubscriptionIndex.compact`)."""
        self._index.compact()

    def remove(self, subscription: Subscription) -> None:
        self._remove(subscription.id, subscription.query)

    def _remove(self, sid: int, query: str) -> None:
        if self._queries.get(sid) == query:
            del self._queries[sid]
        group = self._by_query.get(query)
        if group is None:
            return
        if isinstance(group, dict):
            group.pop(sid, None)
            if len(group) == 1:
                self._by_query[query] = next(iter(group.values()))
            return
        if _id(group) != sid:
            return
        del self._by_query[query]
        self._index.remove(query)

    def follow(self, ids: Iterable[int], stored: Mapping[int, Subscription]) -> int:
        """Another worker changed the subscriptions ``ids``: index each as ``stored`` holds it now, or
        drop it when it is gone. Returns how many were added or removed."""
        moved = 0
        for sub_id in ids:
            subscription = stored.get(sub_id)
            if subscription is not None:
                moved += sub_id not in self._queries
                self.add(subscription)
            elif (query := self._queries.get(sub_id)) is not None:
                self._remove(sub_id, query)
                moved += 1
        return moved

    def replace(self, subscription: Subscription) -> None:
        """A stored subscription changed (paused or resumed with a command): match with the new one."""
        group = self._by_query.get(subscription.query)
        if isinstance(group, dict):
            if subscription.id in group:
                group[subscription.id] = subscription
        elif group is not None and _id(group) == subscription.id:
            self._by_query[subscription.query] = subscription

    def set_paused(self, channel: ChannelRef, paused: bool) -> None:
        """Every subscription of ``channel`` paused or resumed, once the store has it so: one not made
        yet is read from the store as it is then."""
        self.pauses += 1
        for query, group in self._by_query.items():
            if isinstance(group, dict):
                for sub_id, entry in group.items():
                    if isinstance(entry, Subscription) and entry.channel == channel:
                        group[sub_id] = dataclasses.replace(entry, paused=paused)
            elif isinstance(group, Subscription) and group.channel == channel:
                self._by_query[query] = dataclasses.replace(group, paused=paused)

    def hits(self, article: Article) -> dict[str, tuple[Span, ...]]:
        """The queries ``article`` matches, with the spans that made each fire."""
        return self._index.match(Document.from_article(article))

    def unmade(self, hits: Mapping[str, object]) -> list[int]:
        """The ids, among the subscriptions of these queries, known only by id so far."""
        wanted: list[int] = []
        for key in hits:
            group = self._by_query.get(key)
            if isinstance(group, int):
                wanted.append(group)
            elif isinstance(group, dict):
                wanted.extend(entry for entry in group.values() if isinstance(entry, int))
        return wanted

    def made(self, ids: Iterable[int], stored: Mapping[int, Subscription]) -> None:
        """The subscriptions ``ids`` as the store holds them now (``stored``, by id): each takes the
        place of its id; one the store no longer has is dropped (another worker removed it), and one
        whose query changed waits for :meth:`follow`."""
        for sid in ids:
            query = self._queries.get(sid)
            if query is None:
                continue
            subscription = stored.get(sid)
            if subscription is None:
                self._remove(sid, query)
            elif subscription.query == query:
                group = self._by_query[query]
                if isinstance(group, dict):
                    if isinstance(group.get(sid), int):
                        group[sid] = subscription
                elif group == sid:  # its id, not a subscription made meanwhile
                    self._by_query[query] = subscription

    def matches(self, hits: Mapping[str, tuple[Span, ...]]) -> list[Match]:
        """The live subscriptions of the queries hit, with their spans, by id (those known only by id
        are left out: :func:`match_stored` makes them first)."""
        matches = []
        by_query = self._by_query
        for key, spans in hits.items():
            group = by_query.get(key)
            if group is None:
                continue
            if isinstance(group, Subscription):
                if group.live:
                    matches.append(Match(group, spans))
                continue
            if isinstance(group, dict):
                for entry in group.values():
                    if isinstance(entry, Subscription) and entry.live:
                        matches.append(Match(entry, spans))
        matches.sort(key=lambda m: m.subscription.id)
        return matches

    def match(self, article: Article) -> list[Match]:
        """:meth:`matches` of :meth:`hits`, for a book whose subscriptions are all made (added, not
        loaded by id): the pipeline uses :func:`match_stored`."""
        return self.matches(self.hits(article))

    def __len__(self) -> int:
        return len(self._queries)


def _id(entry: Entry) -> int:
    return entry if isinstance(entry, int) else entry.id


READ_ATTEMPTS = 3
"""Reads of the subscriptions an article matched, while channels are paused or resumed meanwhile."""


async def match_stored(store: Store, book: SubscriptionBook, article: Article) -> list[Match]:
    """The book's matches for ``article``, the subscriptions it knows only by id read from the store
    first. A channel paused or resumed while they are read (/news, or the bot losing a channel) may be
    in the read as it was: they are read again (the last read is taken as it is). Raises
    :class:`bot.core.errors.StoreError` when a read fails."""
    hits = book.hits(article)
    for attempt in range(READ_ATTEMPTS):
        wanted = book.unmade(hits)
        if not wanted:
            break
        pauses = book.pauses
        stored = await store.subscriptions_by_id(wanted)
        if book.pauses == pauses or attempt == READ_ATTEMPTS - 1:
            book.made(wanted, stored)
    return book.matches(hits)


async def pause_channel(store: Store, book: SubscriptionBook, channel: ChannelRef, reason: str) -> int:
    """The bot lost access to a channel: its subscriptions are paused, not deleted, and it is logged
    once (a second call finds nothing left to pause and logs nothing)."""
    paused = await store.pause_channel(channel)
    book.set_paused(channel, True)
    if paused:
        log.warning("paused %d subscription(s) of %s: %s", paused, channel.key, reason)
    return paused


async def pause_workspace(
    store: Store, book: SubscriptionBook, platform: str, workspace_id: str, reason: str
) -> int:
    """The bot was removed from a whole server or workspace: every channel of it that has subscriptions
    is paused as :func:`pause_channel` pauses one, and it is logged once for all of them (a second call
    finds nothing left to pause and logs nothing). Each channel resumes as one lost alone does."""
    channels = sorted(
        {
            s.channel
            for s in await store.list_subscriptions()
            if s.channel.platform == platform and s.channel.workspace_id == workspace_id and not s.paused
        },
        key=lambda c: c.channel_id,
    )
    paused = 0
    for channel in channels:
        paused += await store.pause_channel(channel)
        book.set_paused(channel, True)
    if paused:
        log.warning(
            "paused %d subscription(s) in %d channel(s) of %s:%s: %s",
            paused,
            len(channels),
            platform,
            workspace_id,
            reason,
        )
    return paused


async def resume_channel(store: Store, book: SubscriptionBook, channel: ChannelRef, now: float) -> int:
    """Resume a channel paused when the bot lost it: its subscriptions match again and the alerts held
    for it fall due. Returns how many subscriptions were resumed."""
    resumed = await store.resume_channel(channel)
    book.set_paused(channel, False)
    held = await store.release_channel(channel, now)
    if resumed or held:
        log.info("resumed %s: %d subscription(s), %d held alert(s) due now", channel.key, resumed, held)
    return resumed

"""Live subscriptions, grouped by canonical query so that a query many channels share is indexed and
evaluated once."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import cast

from bot.core.errors import QueryError
from bot.core.models import Article, ChannelRef, Match, Subscription
from bot.matching import AliasTable, Document, Query, SubscriptionIndex, parse_query
from bot.store.base import Store
from bot.store.rows import ROW_ID, ROW_QUERY, subscription_from_stored
from bot.store.subscriptions import SubscriptionRow

log = logging.getLogger(__name__)


Entry = Subscription | SubscriptionRow
"""A subscription, or its stored row until it is needed (:meth:`SubscriptionBook.load`)."""
Group = Entry | dict[int, Entry]
"""The subscriptions of one query: most queries have one, kept as it is (a dict costs ~200 bytes)."""


class SubscriptionBook:
    def __init__(self, aliases: AliasTable) -> None:
        self.aliases = aliases
        self._index = SubscriptionIndex(aliases)
        self._by_query: dict[str, Group] = {}
        self._queries: dict[int, str] = {}
        """subscription id -> its query, to remove by id."""
        self._channels: dict[tuple[str, str, str], ChannelRef] = {}
        """The one ChannelRef of each channel, for the subscriptions made from stored rows."""

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
        """Index many stored subscriptions at once (loading them at start): as :meth:`add` each, in one
        pass through :meth:`SubscriptionIndex.add_many`."""
        subscriptions = list(subscriptions)
        self._file_many(subscriptions, [s.id for s in subscriptions], [s.query for s in subscriptions])

    def load(self, rows: Iterable[SubscriptionRow]) -> None:
        """Index every stored subscription as read at start
        (:meth:`bot.store.subscriptions.SubscriptionStore.subscription_rows`), as :meth:`add_many` would
        their subscriptions, but each row is filed as it is and made a :class:`Subscription` the first
        time one is needed (:meth:`_group`): most subscriptions never match a given article."""
        rows = list(rows)
        self._file_many(rows, [row[ROW_ID] for row in rows], [row[ROW_QUERY] for row in rows])

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
        with its id. A row already filed there is left as it is: only ``sid`` is compared."""
        old = self._queries.get(sid)
        if old is not None and old != key:
            self.remove(self._subscriptions(old)[sid])
        group = self._by_query.get(key)
        if group is None or (not isinstance(group, dict) and _id(group) == sid):
            self._by_query[key] = entry
        elif not isinstance(group, dict):
            self._by_query[key] = {_id(group): group, sid: entry}
        else:
            group[sid] = entry
        self._queries[sid] = key

    def _group(self, query: str) -> Subscription | dict[int, Subscription] | None:
        """The subscriptions of ``query`` (None when it has none), every stored row among them made a
        :class:`Subscription` in its place, so that each is made once."""
        group = self._by_query.get(query)
        if group is None or isinstance(group, Subscription):
            return group
        if isinstance(group, dict):
            for sid, entry in group.items():
                if not isinstance(entry, Subscription):
                    group[sid] = subscription_from_stored(entry, self._channels)
            return cast(dict[int, Subscription], group)
        made = self._by_query[query] = subscription_from_stored(group, self._channels)
        return made

    def _subscriptions(self, query: str) -> dict[int, Subscription]:
        """The subscriptions of ``query`` by id (a copy when the query has one)."""
        group = self._group(query)
        if group is None:
            return {}
        return {group.id: group} if isinstance(group, Subscription) else group

    def compact(self) -> None:
        """After adding many subscriptions one by one (see :meth:`SubscriptionIndex.compact`)."""
        self._index.compact()

    def remove(self, subscription: Subscription) -> None:
        if self._queries.get(subscription.id) == subscription.query:
            del self._queries[subscription.id]
        group = self._group(subscription.query)
        if group is None:
            return
        if isinstance(group, dict):
            group.pop(subscription.id, None)
            if len(group) == 1:
                self._by_query[subscription.query] = next(iter(group.values()))
            return
        if group.id != subscription.id:
            return
        del self._by_query[subscription.query]
        self._index.remove(subscription.query)

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
                self.remove(self._subscriptions(query)[sub_id])
                moved += 1
        return moved

    def replace(self, subscription: Subscription) -> None:
        """A stored subscription changed (paused or resumed with a command): match with the new one."""
        group = self._group(subscription.query)
        if isinstance(group, dict):
            if subscription.id in group:
                group[subscription.id] = subscription
        elif group is not None and group.id == subscription.id:
            self._by_query[subscription.query] = subscription

    def set_paused(self, channel: ChannelRef, paused: bool) -> None:
        """Every subscription of ``channel`` paused or resumed (every stored row is made a subscription:
        a rare change)."""
        for query in self._by_query:
            group = self._group(query)
            if isinstance(group, dict):
                for sub_id, subscription in group.items():
                    if subscription.channel == channel:
                        group[sub_id] = dataclasses.replace(subscription, paused=paused)
            elif group is not None and group.channel == channel:
                self._by_query[query] = dataclasses.replace(group, paused=paused)

    def match(self, article: Article) -> list[Match]:
        hits = self._index.match(Document.from_article(article))
        matches = []
        for key, spans in hits.items():
            group = self._group(key)
            if group is None:
                continue
            if isinstance(group, Subscription):
                if group.live:
                    matches.append(Match(group, tuple(spans)))
                continue
            for subscription in group.values():
                if subscription.live:
                    matches.append(Match(subscription, tuple(spans)))
        matches.sort(key=lambda m: m.subscription.id)
        return matches

    def __len__(self) -> int:
        return len(self._queries)


def _id(entry: Entry) -> int:
    """The id of a subscription or of its stored row."""
    return entry.id if isinstance(entry, Subscription) else int(entry[ROW_ID])


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

"""Live subscriptions, grouped by canonical query so that a query many channels share is indexed and
evaluated once."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping

from bot.core.errors import QueryError
from bot.core.models import Article, ChannelRef, Match, Subscription
from bot.matching import AliasTable, Document, Query, SubscriptionIndex, parse_query
from bot.store.base import Store

log = logging.getLogger(__name__)


Group = Subscription | dict[int, Subscription]
"""The subscriptions of one query: most queries have one, kept as it is (a dict costs ~200 bytes)."""


class SubscriptionBook:
    def __init__(self, aliases: AliasTable) -> None:
        self.aliases = aliases
        self._index = SubscriptionIndex(aliases)
        self._by_query: dict[str, Group] = {}
        self._queries: dict[int, str] = {}
        """subscription id -> its query, to remove by id."""

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
        self._put(subscription)

    def add_many(self, subscriptions: Iterable[Subscription]) -> None:
        """Index many stored subscriptions at once (loading them at start): as :meth:`add` each, in one
        pass through :meth:`SubscriptionIndex.add_many`."""
        subscriptions = list(subscriptions)
        by_query = self._by_query
        new: dict[str, str] = {}
        for subscription in subscriptions:
            if subscription.query not in by_query:
                new[subscription.query] = subscription.query
        failed = dict(self._index.add_many(new.items()))
        for subscription in subscriptions:
            key = subscription.query
            exc = failed.get(key) if failed else None
            if exc is not None:
                log.error("subscription %d: stored query %r no longer parses: %s", subscription.id, key, exc)
            else:
                self._put(subscription)

    def _put(self, subscription: Subscription) -> None:
        """File ``subscription`` under its query (already indexed), replacing one with its id."""
        key = subscription.query
        old = self._queries.get(subscription.id)
        if old is not None and old != key:
            self.remove(self._subscriptions(old)[subscription.id])
        group = self._by_query.get(key)
        if group is None or (isinstance(group, Subscription) and group.id == subscription.id):
            self._by_query[key] = subscription
        elif isinstance(group, Subscription):
            self._by_query[key] = {group.id: group, subscription.id: subscription}
        else:
            group[subscription.id] = subscription
        self._queries[subscription.id] = key

    def _subscriptions(self, query: str) -> dict[int, Subscription]:
        """The subscriptions of ``query`` by id (a copy when the query has one)."""
        group = self._by_query.get(query)
        if group is None:
            return {}
        return {group.id: group} if isinstance(group, Subscription) else group

    def compact(self) -> None:
        """After adding many subscriptions one by one (see :meth:`SubscriptionIndex.compact`)."""
        self._index.compact()

    def remove(self, subscription: Subscription) -> None:
        if self._queries.get(subscription.id) == subscription.query:
            del self._queries[subscription.id]
        group = self._by_query.get(subscription.query)
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
        group = self._by_query.get(subscription.query)
        if isinstance(group, dict):
            if subscription.id in group:
                group[subscription.id] = subscription
        elif group is not None and group.id == subscription.id:
            self._by_query[subscription.query] = subscription

    def set_paused(self, channel: ChannelRef, paused: bool) -> None:
        for query, group in self._by_query.items():
            if isinstance(group, dict):
                for sub_id, subscription in group.items():
                    if subscription.channel == channel:
                        group[sub_id] = dataclasses.replace(subscription, paused=paused)
            elif group.channel == channel:
                self._by_query[query] = dataclasses.replace(group, paused=paused)

    def match(self, article: Article) -> list[Match]:
        hits = self._index.match(Document.from_article(article))
        matches = []
        by_query = self._by_query
        for key, spans in hits.items():
            group = by_query.get(key)
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

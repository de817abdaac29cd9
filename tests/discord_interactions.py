"""The interaction side of the fake Discord (tests/fake_discord.py): what Discord keeps of each slash
command or autocomplete it sends the bot, and the webhook routes the bot answers it on.

As Discord documents (Receiving and Responding): the interaction callback must arrive within 3 seconds
of the interaction (later: 404 Unknown Interaction) and only once (again: 400 "already acknowledged").
A deferred callback (type 5) shows a "thinking" message whose visibility the defer's flags decide; the
first followup after it fills that message and keeps that visibility whatever its own flags say, later
followups are messages of their own. The original response can be edited and deleted
(``/messages/@original``).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.discord_wire import error, json_answer, message_json

EPHEMERAL = 1 << 6
ANSWER_WITHIN = 3.0
"""Seconds Discord gives a bot to answer an interaction (the callback)."""
DEFERRED = 5


@dataclass
class Shown:
    """A message the interaction left in the channel (or, ephemeral, for the user alone)."""

    id: str
    body: dict[str, Any]
    ephemeral: bool
    loading: bool = False

    @property
    def content(self) -> str:
        return str(self.body.get("content") or "")


@dataclass
class Exchange:
    """One interaction and everything the bot answered to it."""

    id: str
    token: str
    channel_id: str
    sent_at: float = field(default_factory=time.monotonic)
    callback: dict[str, Any] | None = None
    callback_at: float = 0.0
    original: Shown | None = None
    """The original response: the callback's message, or a defer's "thinking" message until filled."""
    original_deleted: bool = False
    followups: list[Shown] = field(default_factory=list)
    late: list[dict[str, Any]] = field(default_factory=list)
    """Callbacks refused because they came after :data:`ANSWER_WITHIN`."""
    answered: asyncio.Future[dict[str, Any]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def deferred(self) -> bool:
        return self.callback is not None and self.callback.get("type") == DEFERRED

    def visible(self) -> list[Shown]:
        """What the user sees now, oldest first."""
        original = [self.original] if self.original is not None and not self.original_deleted else []
        return original + self.followups

    async def until(self, predicate: Callable[[Exchange], bool], within: float = 10.0) -> None:
        """Wait until ``predicate(self)`` holds (it is checked after each change)."""
        async with asyncio.timeout(within):
            while not predicate(self):
                self.changed.clear()
                await self.changed.wait()

    def _touch(self) -> None:
        self.changed.set()


class Interactions:
    def __init__(self, guild_id: str, author: dict[str, Any]) -> None:
        self.guild_id = guild_id
        self.author = author
        self.answer_within = ANSWER_WITHIN
        self.by_token: dict[str, Exchange] = {}
        self._ids = itertools.count(1)

    def open(self, iid: str, token: str, channel_id: str) -> Exchange:
        exchange = Exchange(iid, token, channel_id)
        self.by_token[token] = exchange
        return exchange

    def add_routes(self, router: web.UrlDispatcher, api: str) -> None:
        router.add_post(api + "/interactions/{id}/{token}/callback", self._callback)
        router.add_post(api + "/webhooks/{app}/{token}", self._followup)
        router.add_patch(api + "/webhooks/{app}/{token}/messages/{message}", self._edit)
        router.add_delete(api + "/webhooks/{app}/{token}/messages/{message}", self._delete)

    def _shown(self, exchange: Exchange, body: dict[str, Any], ephemeral: bool, **kw: Any) -> Shown:
        return Shown(str(990000000000000000 + next(self._ids)), body, ephemeral, **kw)

    def _answer(self, exchange: Exchange, shown: Shown) -> web.Response:
        flags = EPHEMERAL if shown.ephemeral else 0
        return json_answer(
            message_json(shown.id, exchange.channel_id, self.guild_id, self.author, shown.body, flags=flags)
        )

    async def _callback(self, request: web.Request) -> web.Response:
        exchange = self.by_token.get(request.match_info["token"])
        body: dict[str, Any] = await request.json()
        if exchange is None or exchange.id != request.match_info["id"]:
            return error(404, 10062, "Unknown interaction")
        if exchange.callback is not None:
            return error(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - exchange.sent_at > self.answer_within:
            exchange.late.append(body)
            exchange._touch()
            return error(404, 10062, "Unknown interaction")
        exchange.callback, exchange.callback_at = body, time.monotonic()
        data = body.get("data") or {}
        ephemeral = bool((data.get("flags") or 0) & EPHEMERAL)
        if body.get("type") in (4, DEFERRED):
            exchange.original = self._shown(exchange, data, ephemeral, loading=body.get("type") == DEFERRED)
        if not exchange.answered.done():
            exchange.answered.set_result(body)
        exchange._touch()
        message_id = exchange.original.id if exchange.original is not None else "0"
        return json_answer(
            {
                "interaction": {
                    "id": exchange.id,
                    "type": 2,
                    "response_message_id": message_id,
                    "response_message_loading": body.get("type") == DEFERRED,
                    "response_message_ephemeral": ephemeral,
                }
            }
        )

    async def _followup(self, request: web.Request) -> web.Response:
        exchange = self.by_token.get(request.match_info["token"])
        if exchange is None or exchange.callback is None:
            return error(404, 10015, "Unknown Webhook")
        body: dict[str, Any] = await request.json()
        original = exchange.original
        if original is not None and original.loading and not exchange.original_deleted:
            original.body, original.loading = body, False  # keeps the defer's visibility
            shown = original
        else:
            shown = self._shown(exchange, body, bool((body.get("flags") or 0) & EPHEMERAL))
            exchange.followups.append(shown)
        exchange._touch()
        return self._answer(exchange, shown)

    def _target(self, request: web.Request) -> tuple[Exchange, Shown] | None:
        exchange = self.by_token.get(request.match_info["token"])
        if exchange is None:
            return None
        mid = request.match_info["message"]
        if mid == "@original":
            original = exchange.original
            return (exchange, original) if original is not None and not exchange.original_deleted else None
        shown = next((f for f in exchange.followups if f.id == mid), None)
        return (exchange, shown) if shown is not None else None

    async def _edit(self, request: web.Request) -> web.Response:
        target = self._target(request)
        if target is None:
            return error(404, 10008, "Unknown Message")
        exchange, shown = target
        shown.body = {**shown.body, **(await request.json())}
        shown.loading = False
        exchange._touch()
        return self._answer(exchange, shown)

    async def _delete(self, request: web.Request) -> web.Response:
        target = self._target(request)
        if target is None:
            return error(404, 10008, "Unknown Message")
        exchange, shown = target
        if shown is exchange.original:
            exchange.original_deleted = True
        else:
            exchange.followups.remove(shown)
        exchange._touch()
        return web.Response(status=204)

"""A small fake of Discord on 127.0.0.1 that the unmodified discord.py client talks to: the REST routes
the bot uses and a gateway websocket (hello, identify, ready, guild create, heartbeat, resume,
interaction create). Only what discord.py and the tests need; shapes follow Discord's API docs.

Tests drive it: :meth:`FakeDiscord.command` sends a slash command as Discord would and returns the
bot's interaction callback (:meth:`FakeDiscord.interact`: the whole exchange, followups included, kept
by tests/discord_interactions.py); :meth:`FakeDiscord.press` clicks a button of that answer (a
component interaction) and returns the bot's callback for the click; ``messages`` holds what the bot
posted; ``requests`` records every REST call with its arrival time; :meth:`rate_limit` makes the next
matching calls answer 429; :meth:`drop_gateway` closes the websockets so the clients have to resume.

Shards: each IDENTIFY names its shard (``[id, count]``, else ``[0, 1]``) and makes a :class:`Session`;
a session's READY lists the guild only when Discord's formula puts it on that shard, and the guild's
events (commands, clicks) go to the live sessions of that shard. :meth:`FakeDiscord.live_sessions` and
:meth:`FakeDiscord.identified_shards` count the gateway connections, per shard.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.discord_interactions import EPHEMERAL as EPHEMERAL  # re-exported: tests import it from here
from tests.discord_interactions import Exchange, Interactions
from tests.discord_wire import (
    Scope,
    channel_json,
    error,
    json_answer,
    message_json,
    rate_limited,
    role_json,
    user_json,
)

TOKEN = "fake-discord-token"
APP_ID = "900000000000000001"
BOT_ID = APP_ID
GUILD_ID = "910000000000000001"
CHANNEL_ID = "920000000000000001"
QUIET_CHANNEL_ID = "920000000000000002"
"""A channel the bot can see but not post in."""
FORUM_CHANNEL_ID = "920000000000000003"
"""A forum channel: it takes posts (threads), not messages."""
TEXT_CHANNEL_BASE = 921000000000000000
"""``FakeDiscord(text_channels=n)`` adds text channels news-0 .. news-(n-1), ids from this one up."""
ADMIN_ID = "930000000000000001"
MEMBER_ID = "930000000000000002"
EDITOR_ID = "930000000000000003"
"""A member without Manage Server who has the trusted role (TRUSTED_ROLE_ID)."""
ROLE_ID = "940000000000000001"
"""A mentionable role a subscriber can pick."""
TRUSTED_ROLE_ID = "940000000000000002"

VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
MANAGE_GUILD = 1 << 5
USE_COMMANDS = 1 << 31
MEMBER_PERMS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | USE_COMMANDS
BOT_PERMS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS
NONCE_WINDOW = 120.0
"""Discord checks an enforced nonce against "the past few minutes"; the fake remembers two."""


@dataclass
class Recorded:
    method: str
    path: str
    at: float
    status: int
    body: Any = None


@dataclass
class Posted:
    id: str
    channel_id: str
    body: dict[str, Any]
    edits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def current(self) -> dict[str, Any]:
        merged = dict(self.body)
        for edit in self.edits:
            merged.update(edit)
        return merged


@dataclass
class Session:
    """A gateway session: the shard it identified as (of ``count``), its websocket while connected."""

    id: str
    shard: int
    count: int
    ws: web.WebSocketResponse | None
    events: list[tuple[int, str, Any]] = field(default_factory=list)

    def serves(self, guild_id: str) -> bool:
        """Discord's sharding formula: a guild's events go to shard ``(guild_id >> 22) % count``."""
        return (int(guild_id) >> 22) % self.count == self.shard


def text_channel_id(i: int) -> str:
    """The id of the ``i``-th extra text channel (news-i) of ``FakeDiscord(text_channels=n)``."""
    return str(TEXT_CHANNEL_BASE + i)


class FakeDiscord:
    def __init__(self, *, heartbeat_interval_ms: int = 1000, text_channels: int = 0) -> None:
        """``text_channels``: that many more text channels the bot may post in (see
        :func:`text_channel_id`), besides CHANNEL_ID, QUIET_CHANNEL_ID and FORUM_CHANNEL_ID."""
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self._channel_map: dict[str, dict[str, Any]] = {
            CHANNEL_ID: channel_json(GUILD_ID, CHANNEL_ID, "news", 0),
            QUIET_CHANNEL_ID: channel_json(GUILD_ID, QUIET_CHANNEL_ID, "announcements", 1),
            FORUM_CHANNEL_ID: {
                **channel_json(GUILD_ID, FORUM_CHANNEL_ID, "news-forum", 2, 15),
                "available_tags": [],
            },
        }
        for i in range(text_channels):
            self._channel_map[text_channel_id(i)] = channel_json(
                GUILD_ID, text_channel_id(i), f"news-{i}", 3 + i
            )
        self.requests: list[Recorded] = []
        self.messages: list[Posted] = []
        self.synced: dict[str, list[dict[str, Any]]] = {}
        """"global" or a guild id -> the commands the bot registered there."""
        self.forbidden_channels: set[str] = set()
        self.threads: list[dict[str, Any]] = []
        """Threads the bot opened: {"parent", "id", "name", "from_message"}."""
        self.identifies = 0
        self.resumes = 0
        self.heartbeats = 0
        self._limits: list[tuple[str, str, float, Scope]] = []
        self._lost_answers: list[tuple[str, str]] = []
        self._outages: list[tuple[str, str, float, int, dict[str, Any]]] = []
        self.token_revoked = False
        self.garbled: set[str] = set()
        """Markers: a message whose embeds hold one is answered 200 ``{}`` and not stored, as a broken
        proxy in front of Discord might."""
        self._ids = itertools.count(1)
        self._nonces: dict[tuple[str, str], tuple[float, Posted]] = {}
        """(author, nonce) -> when, and the message it created: Create Message's ``enforce_nonce``."""
        self.interactions = Interactions(GUILD_ID, user_json(BOT_ID, "newsbot", bot=True))
        self.sessions: list[Session] = []
        """Every gateway session identified, in order (a resumed one is the same session)."""
        self._pending: list[tuple[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.connected = asyncio.Event()
        self.latency = 0.0
        """Seconds every REST request takes after it took effect, before its answer leaves (a network)."""

    # ---- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        api = "/api/v10"
        app.router.add_get("/gateway", self._gateway_ws)
        app.router.add_get(api + "/gateway/bot", self._gateway_bot)
        app.router.add_get(api + "/users/@me", self._me)
        app.router.add_get(api + "/oauth2/applications/@me", self._application)
        app.router.add_put(api + "/applications/{app}/commands", self._sync)
        app.router.add_put(api + "/applications/{app}/guilds/{guild}/commands", self._sync)
        app.router.add_get(api + "/channels/{channel}", self._get_channel)
        app.router.add_get(api + "/channels/{channel}/messages/{message}", self._get_message)
        app.router.add_get(api + "/guilds/{guild}/threads/active", self._active_threads)
        app.router.add_post(api + "/channels/{channel}/messages", self._create_message)
        app.router.add_patch(api + "/channels/{channel}/messages/{message}", self._edit_message)
        app.router.add_post(api + "/channels/{channel}/threads", self._forum_post)
        app.router.add_post(api + "/channels/{channel}/messages/{message}/threads", self._message_thread)
        self.interactions.add_routes(app.router, api)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def close(self) -> None:
        for session in self.live_sessions():
            if session.ws is not None:
                await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ---- test controls ---------------------------------------------------------------------------

    def rate_limit(self, method: str, path_part: str, retry_after: float, *, scope: Scope = "user") -> None:
        """The next ``method`` request whose path contains ``path_part`` answers 429 as Discord does for
        ``scope`` ("user": this bot on this route, "shared": the resource, "global": every route of
        this bot), or as Cloudflare does ("cloudflare": an HTML page without Discord's headers)."""
        self._limits.append((method, path_part, retry_after, scope))

    def outage(
        self,
        method: str,
        path_part: str,
        seconds: float,
        status: int = 503,
        body: dict[str, Any] | None = None,
    ) -> None:
        """For the next ``seconds``, every ``method`` request whose path contains ``path_part`` answers
        ``status`` before doing anything, as Discord does while its API is down (or, with a 4xx and
        Discord's error ``body``, as a server that refuses what it is sent)."""
        answer = body or {"message": "Service Unavailable", "code": 0}
        self._outages.append((method, path_part, time.monotonic() + seconds, status, answer))

    def revoke_token(self) -> None:
        """The bot's token is reset in the developer portal: REST answers 401 and the gateway refuses
        it (close 4004) when the bot next identifies; the live gateway session is left as it is."""
        self.token_revoked = True

    def _accepts(self, token: object) -> bool:
        return token == TOKEN and not self.token_revoked

    def lose_answer(self, method: str, path_part: str) -> None:
        """Discord carries out the next ``method`` request whose path contains ``path_part``, but its
        answer never reaches the bot (the connection drops): the bot can't tell whether it posted."""
        self._lost_answers.append((method, path_part))

    async def drop_gateway(self) -> None:
        """Close the websockets as a network blip would: the clients should resume their sessions."""
        self.connected.clear()
        for session in self.live_sessions():
            ws, session.ws = session.ws, None
            if ws is not None:
                await ws.close(code=4000, message=b"dropped by test")

    def live_sessions(self, shard: int | None = None) -> list[Session]:
        """The sessions with an open websocket now (of ``shard`` only, when given)."""
        return [s for s in self.sessions if s.ws is not None and shard in (None, s.shard)]

    def identified_shards(self) -> list[int]:
        """The shard of each IDENTIFY, in order: a shard that appears twice was connected anew."""
        return [s.shard for s in self.sessions]

    def _serving(self) -> list[Session]:
        """The live sessions that get GUILD_ID's events: those of the shard the guild is on."""
        return [s for s in self.live_sessions() if s.serves(GUILD_ID)]

    async def command(
        self,
        path: str,
        options: dict[str, Any] | None = None,
        *,
        user: str = ADMIN_ID,
        channel: str = CHANNEL_ID,
        autocomplete: str = "",
        answer_within: float = 10.0,
    ) -> dict[str, Any]:
        """Send ``/news <path> option:value ...`` as a member (ADMIN_ID has Manage Server, MEMBER_ID
        has not) and return the bot's interaction callback body. ``autocomplete``: the focused option
        (an autocomplete interaction, answered with choices)."""
        exchange = await self.interact(
            path, options, user=user, channel=channel, autocomplete=autocomplete, answer_within=answer_within
        )
        assert exchange.callback is not None
        return exchange.callback

    async def interact(
        self,
        path: str,
        options: dict[str, Any] | None = None,
        *,
        user: str = ADMIN_ID,
        channel: str = CHANNEL_ID,
        autocomplete: str = "",
        answer_within: float = 10.0,
    ) -> Exchange:
        """As :meth:`command`, but the whole exchange: the callback, then whatever follows it."""
        leaf: list[dict[str, Any]] = []
        resolved: dict[str, Any] = {}
        for name, value in (options or {}).items():
            if name == "mention":
                leaf.append({"name": name, "type": 8, "value": value})
                resolved = {"roles": {value: self._roles()[value]}}
            else:
                kind = 5 if isinstance(value, bool) else 4 if isinstance(value, int) else 3
                option: dict[str, Any] = {"name": name, "type": kind, "value": value}
                if name == autocomplete:
                    option["focused"] = True
                leaf.append(option)
        parts = path.split()
        tree: list[dict[str, Any]] = [{"name": parts[-1], "type": 1, "options": leaf}]
        if len(parts) == 2:
            tree = [{"name": parts[0], "type": 2, "options": tree}]
        data = {
            "id": "950000000000000001",
            "name": "news",
            "type": 1,
            "guild_id": GUILD_ID,
            "options": tree,
            **({"resolved": resolved} if resolved else {}),
        }
        return await self._interact(4 if autocomplete else 2, data, user, channel, answer_within)

    async def press(
        self,
        answer: dict[str, Any],
        custom_id: str,
        *,
        user: str = ADMIN_ID,
        channel: str = CHANNEL_ID,
        answer_within: float = 10.0,
    ) -> dict[str, Any]:
        """Click the button ``custom_id`` on the message the bot answered with (``answer``: an interaction
        callback, as :meth:`command` returns it), as ``user``; the bot's callback for the click (a
        component interaction, type 3, carrying that message)."""
        sent = answer["data"]
        shown = {"content": sent.get("content") or "", "embeds": sent.get("embeds") or []}
        author = user_json(BOT_ID, "newsbot", bot=True)
        message_id = str(980000000000000000 + next(self._ids))
        message = message_json(message_id, channel, GUILD_ID, author, shown, flags=sent.get("flags") or 0)
        # The bot's answer to an interaction: a message of type 20 with the answer's components.
        message.update(components=sent.get("components") or [], type=20, application_id=APP_ID)
        buttons = [c for row in message["components"] for c in row.get("components", [])]
        assert any(b.get("custom_id") == custom_id for b in buttons), f"no button {custom_id} on {buttons}"
        data = {"custom_id": custom_id, "component_type": 2}
        exchange = await self._interact(3, data, user, channel, answer_within, message=message)
        assert exchange.callback is not None
        return exchange.callback

    async def _interact(
        self,
        kind: int,
        data: dict[str, Any],
        user: str,
        channel: str,
        answer_within: float,
        *,
        message: dict[str, Any] | None = None,
    ) -> Exchange:
        """Send an interaction of ``kind`` (2 command, 3 component, 4 autocomplete) from ``user`` in
        ``channel``; the exchange, once the bot's callback has come."""
        iid = str(next(self._ids) + 5_000_000)
        token = f"itoken-{iid}"
        permissions = MEMBER_PERMS | (MANAGE_GUILD if user == ADMIN_ID else 0)
        app_permissions = 0 if channel == QUIET_CHANNEL_ID else BOT_PERMS
        member = self._member(user)
        payload: dict[str, Any] = {
            "id": iid,
            "application_id": APP_ID,
            "type": kind,
            "token": token,
            "version": 1,
            "guild_id": GUILD_ID,
            "channel_id": channel,
            "channel": {**self._channels()[channel], "permissions": str(permissions)},
            "member": {**member, "permissions": str(permissions)},
            "app_permissions": str(app_permissions),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "authorizing_integration_owners": {"0": GUILD_ID},
            "context": 0,
            "data": data,
            **({"message": message} if message is not None else {}),
        }
        exchange = self.interactions.open(iid, token, channel)
        await self.dispatch("INTERACTION_CREATE", payload)
        await asyncio.wait_for(asyncio.shield(exchange.answered), answer_within)
        return exchange

    def channel_messages(self, channel: str = CHANNEL_ID) -> list[Posted]:
        return [m for m in self.messages if m.channel_id == channel]

    def calls(self, method: str, path_part: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    # ---- gateway ---------------------------------------------------------------------------------

    async def dispatch(self, event: str, data: Any) -> None:
        """Send an event to the sessions of the guild's shard (every one of them, as Discord would if two
        connections identified as one shard); while none is connected it waits, and goes out on resume."""
        serving = self._serving()
        if not serving:
            self._pending.append((event, data))
            return
        for session in serving:
            await self._send_event(session, event, data)

    async def _send_event(self, session: Session, event: str, data: Any) -> None:
        seq = len(session.events) + 1
        session.events.append((seq, event, data))
        if session.ws is not None:
            await session.ws.send_str(json.dumps({"op": 0, "t": event, "s": seq, "d": data}))

    async def _gateway_ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}))
        session: Session | None = None
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            op, d = frame.get("op"), frame.get("d")
            if op == 1:
                self.heartbeats += 1
                await ws.send_str(json.dumps({"op": 11}))
            elif op == 2:
                if not self._accepts(d.get("token")):
                    await ws.close(code=4004, message=b"Authentication failed.")
                    break
                self.identifies += 1
                shard, count = d.get("shard") or (0, 1)
                session = Session(f"session-{self.identifies}", int(shard), int(count), ws)
                self.sessions.append(session)
                await self._send_event(session, "READY", self._ready(session))
                if session.serves(GUILD_ID):
                    await self._send_event(session, "GUILD_CREATE", self._guild())
                await self._flush_pending(session)
            elif op == 6:
                known = next((s for s in self.sessions if s.id == d.get("session_id")), None)
                if known is None or not self._accepts(d.get("token")):
                    await ws.send_str(json.dumps({"op": 9, "d": False}))
                    continue
                self.resumes += 1
                session, session.ws = known, ws
                for seq, event, data in session.events:
                    if seq > (d.get("seq") or 0):
                        await ws.send_str(json.dumps({"op": 0, "t": event, "s": seq, "d": data}))
                await self._send_event(session, "RESUMED", {})
                await self._flush_pending(session)
        if session is not None and session.ws is ws:
            session.ws = None
        return ws

    async def _flush_pending(self, session: Session) -> None:
        if not session.serves(GUILD_ID):
            return
        self.connected.set()
        pending, self._pending = self._pending, []
        for event, data in pending:
            await self._send_event(session, event, data)

    def _ready(self, session: Session) -> dict[str, Any]:
        return {
            "v": 10,
            "user": {
                **user_json(BOT_ID, "newsbot", bot=True),
                "verified": True,
                "mfa_enabled": False,
                "flags": 0,
            },
            "guilds": [{"id": GUILD_ID, "unavailable": True}] if session.serves(GUILD_ID) else [],
            "session_id": session.id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": APP_ID, "flags": 0},
            "private_channels": [],
            "relationships": [],
        }

    def _roles(self) -> dict[str, dict[str, Any]]:
        return {
            GUILD_ID: role_json(GUILD_ID, "@everyone", MEMBER_PERMS, 0),
            ROLE_ID: role_json(ROLE_ID, "news-desk", 0, 1),
            TRUSTED_ROLE_ID: role_json(TRUSTED_ROLE_ID, "feed-editors", 0, 2),
        }

    def _channels(self) -> dict[str, dict[str, Any]]:
        return self._channel_map

    def _member(self, uid: str) -> dict[str, Any]:
        names = {ADMIN_ID: "editor", MEMBER_ID: "reader", EDITOR_ID: "desk", BOT_ID: "newsbot"}
        return {
            "user": user_json(uid, names.get(uid, "someone"), bot=uid == BOT_ID),
            "roles": [TRUSTED_ROLE_ID] if uid == EDITOR_ID else [],
            "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "pending": False,
        }

    def _guild(self) -> dict[str, Any]:
        return {
            "id": GUILD_ID,
            "name": "Newsroom",
            "icon": None,
            "owner_id": ADMIN_ID,
            "unavailable": False,
            "member_count": 3,
            "large": False,
            "features": [],
            "roles": list(self._roles().values()),
            "emojis": [],
            "stickers": [],
            "channels": list(self._channels().values()),
            "threads": [],
            "members": [self._member(BOT_ID)],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "joined_at": "2026-01-01T00:00:00+00:00",
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
        }

    # ---- REST ------------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/gateway":
            response: web.StreamResponse = await handler(request)
            return response
        body = await request.json() if request.can_read_body else None
        record = Recorded(request.method, request.path, time.monotonic(), 0, body)
        self.requests.append(record)
        webhook = "/interactions/" in request.path or "/webhooks/" in request.path
        if not webhook and not self._accepts(request.headers.get("Authorization", "").removeprefix("Bot ")):
            response = error(401, 0, "401: Unauthorized")
        elif limit := self._take_limit(request.method, request.path):
            response = rate_limited(*limit)
        elif outage := self._outage(request.method, request.path):
            response = json_answer(outage[1], status=outage[0])
        else:
            response = await handler(request)
            if self.latency:
                await asyncio.sleep(self.latency)
            if self._take_lost_answer(request.method, request.path) and request.transport is not None:
                request.transport.close()
        record.status = response.status
        return response

    def _outage(self, method: str, path: str) -> tuple[int, dict[str, Any]] | None:
        now = time.monotonic()
        found = (
            (status, body)
            for m, part, end, status, body in self._outages
            if m == method and part in path and now < end
        )
        return next(found, None)

    def _take_lost_answer(self, method: str, path: str) -> bool:
        for i, (m, part) in enumerate(self._lost_answers):
            if m == method and part in path:
                del self._lost_answers[i]
                return True
        return False

    def _take_limit(self, method: str, path: str) -> tuple[float, Scope] | None:
        for i, (m, part, after, scope) in enumerate(self._limits):
            if m == method and part in path:
                del self._limits[i]
                return after, scope
        return None

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return json_answer({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _me(self, request: web.Request) -> web.Response:
        return json_answer({**user_json(BOT_ID, "newsbot", bot=True), "verified": True, "flags": 0})

    async def _application(self, request: web.Request) -> web.Response:
        return json_answer(
            {
                "id": APP_ID,
                "name": "newsbot",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": user_json(ADMIN_ID, "editor"),
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "summary": "",
            }
        )

    async def _sync(self, request: web.Request) -> web.Response:
        where = request.match_info.get("guild", "global")
        commands = []
        for n, command in enumerate(await request.json(), 1):
            commands.append(
                {
                    "id": str(960000000000000000 + n),
                    "application_id": APP_ID,
                    "version": "1",
                    "default_member_permissions": None,
                    "dm_permission": True,
                    "nsfw": False,
                    **command,
                    **({"guild_id": where} if where != "global" else {}),
                }
            )
        self.synced[where] = commands
        return json_answer(commands)

    async def _get_channel(self, request: web.Request) -> web.Response:
        cid = request.match_info["channel"]
        channel = self._channels().get(cid)
        if channel is None or cid in self.forbidden_channels:
            return error(404 if channel is None else 403, 10003 if channel is None else 50001, "no access")
        return json_answer(channel)

    async def _create_message(self, request: web.Request) -> web.Response:
        cid = request.match_info["channel"]
        if cid not in self._channels():
            return error(404, 10003, "Unknown Channel")
        if cid in self.forbidden_channels:
            return error(403, 50001, "Missing Access")
        if cid == QUIET_CHANNEL_ID:
            return error(403, 50013, "Missing Permissions")
        if self._channels()[cid]["type"] == 15:
            return error(400, 40058, "Cannot send a message in a forum channel")
        body: dict[str, Any] = await request.json()
        if any(m in json.dumps(body.get("embeds")) for m in self.garbled):
            return json_answer({})  # a 200 with nothing a message needs, and nothing stored
        # https://discord.com/developers/docs/resources/message#create-message: "If true and nonce is
        # present, it will be checked for uniqueness in the past few minutes. If another message was
        # created by the same author with the same nonce, that message will be returned and no new
        # message will be created." Without enforce_nonce the same nonce posts again. Every message
        # here is the bot's (its token is the only one accepted), so the author is always BOT_ID.
        enforced = (BOT_ID, str(body["nonce"])) if body.get("nonce") and body.get("enforce_nonce") else None
        now = time.monotonic()
        if enforced is not None:
            known = self._nonces.get(enforced)
            if known is not None and now - known[0] < NONCE_WINDOW:
                return json_answer(self._message_json(known[1]))
        posted = Posted(id=str(970000000000000000 + next(self._ids)), channel_id=cid, body=body)
        self.messages.append(posted)
        if enforced is not None:
            self._nonces[enforced] = (now, posted)
        return json_answer(self._message_json(posted))

    async def _get_message(self, request: web.Request) -> web.Response:
        cid, mid = request.match_info["channel"], request.match_info["message"]
        if cid in self.forbidden_channels:
            return error(403, 50001, "Missing Access")
        for posted in self.messages:
            if posted.id == mid and posted.channel_id == cid:
                return json_answer(self._message_json(posted))
        return error(404, 10008, "Unknown Message")

    async def _active_threads(self, request: web.Request) -> web.Response:
        """List Active Guild Threads: every thread here is the bot's, and none is archived."""
        threads = [self._thread_json(t["parent"], t["id"], t["name"]) for t in self.threads]
        return json_answer({"threads": threads, "members": []})

    async def _edit_message(self, request: web.Request) -> web.Response:
        cid, mid = request.match_info["channel"], request.match_info["message"]
        if cid in self.forbidden_channels:
            return error(403, 50001, "Missing Access")
        for posted in self.messages:
            if posted.id == mid and posted.channel_id == cid:
                posted.edits.append(await request.json())
                return json_answer(self._message_json(posted))
        return error(404, 10008, "Unknown Message")

    async def _forum_post(self, request: web.Request) -> web.Response:
        """Start Thread in Forum or Media Channel. Its message params document no ``nonce`` nor
        ``enforce_nonce`` (unlike Create Message), so the fake checks none: the same body twice makes
        two posts, as nothing in Discord's docs says it would not."""
        cid = request.match_info["channel"]
        if cid in self.forbidden_channels:
            return error(403, 50001, "Missing Access")
        if self._channels().get(cid, {}).get("type") != 15:
            return error(400, 50024, "Cannot execute action on this channel type")
        body: dict[str, Any] = await request.json()
        tid = str(980000000000000000 + next(self._ids))
        posted = Posted(id=tid, channel_id=tid, body=body["message"])  # the starter message is the thread
        self.messages.append(posted)
        self.threads.append({"parent": cid, "id": tid, "name": body["name"], "from_message": None})
        return json_answer(
            {**self._thread_json(cid, tid, body["name"]), "message": self._message_json(posted)}
        )

    async def _message_thread(self, request: web.Request) -> web.Response:
        cid, mid = request.match_info["channel"], request.match_info["message"]
        body: dict[str, Any] = await request.json()
        tid = mid  # a thread started from a message shares its id
        if any(t["id"] == tid for t in self.threads):
            return error(400, 160004, "A thread has already been created for this message")
        self.threads.append({"parent": cid, "id": tid, "name": body["name"], "from_message": mid})
        return json_answer(self._thread_json(cid, tid, body["name"]))

    def _thread_json(self, parent: str, tid: str, name: str) -> dict[str, Any]:
        metadata = {"archived": False, "auto_archive_duration": 1440, "locked": False}
        return {
            "id": tid,
            "type": 11,
            "guild_id": GUILD_ID,
            "parent_id": parent,
            "owner_id": BOT_ID,
            "name": name,
            "thread_metadata": {**metadata, "archive_timestamp": "2026-01-01T00:00:00+00:00"},
        }

    def _message_json(self, posted: Posted) -> dict[str, Any]:
        author = user_json(BOT_ID, "newsbot", bot=True)
        return message_json(posted.id, posted.channel_id, GUILD_ID, author, posted.current)

"""A fake Slack on 127.0.0.1 that the unmodified slack-sdk / slack-bolt clients talk to.

- Web API at ``/api/<method>``: form, query-string or JSON arguments, as slack_sdk sends them. Every
  call is recorded; errors (``fail``), 429 with Retry-After, and held responses (``hold``) are
  injectable per method, and so is a failure that comes after the call took effect (``after=True``:
  Slack stored the message, then answered 500).
- Messages as Slack keeps them: every ``chat.postMessage`` is stored, none is deduplicated (Slack
  dedupes nothing); ``thread_ts`` makes a reply. ``conversations.history`` lists a channel's
  top-level messages only, newest first (a thread's replies are not in it, as on Slack);
  ``conversations.replies`` lists a thread, parent first, oldest first. Both return each message's
  metadata when asked with ``include_all_metadata``.
- Socket Mode: ``apps.connections.open`` hands out ``ws://127.0.0.1:<port>/link/?ticket=<n>``; the
  websocket says hello, delivers ``slash_commands`` envelopes (and ``events_api`` ones, built by
  tests/fake_slack_events.py) and records the acks. Several connections may be open at once for one
  app (Slack allows 10: one per worker), and each envelope goes to one of them, in turn (round robin);
  :attr:`FakeSlack.delivered_on` and :attr:`FakeSlack.acked_on` say over which (by ticket).
  ``drop()`` closes the connections (the clients reconnect through ``apps.connections.open``);
  envelopes sent while no client is connected, or not acked when their connection went, are delivered
  on another open one, or the next one to open.
- ``/respond/<n>``: the response_url of each slash command and button click; what bolt's ``respond()``
  posts lands in :attr:`FakeSlack.responses`.
- ``click``: a click on a button of a message the bot sent, as a ``block_actions`` payload (an
  ``interactive`` envelope over Socket Mode).
- ``post_command_http``, ``post_click_http``: Slack's HTTP mode, signed form POSTs to the bot's
  ``/slack/events`` (a click's payload as JSON in the ``payload`` field, as Slack sends it).
- Several workspaces: each bot token belongs to a team (:attr:`FakeSlack.tokens`; a token it never
  issued is the default team's, as before OAuth); a message is stored with the team of the token that
  posted it, and ``auth.test`` answers for the token's team. OAuth: :meth:`FakeSlack.register_app` knows
  an app's client id and secret, :meth:`FakeSlack.consent` is an admin approving the install on Slack's
  page (the code and state the browser brings back), and ``oauth.v2.access`` exchanges a code, once,
  for a new bot token of that team when the app's credentials (HTTP Basic) are right.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
from aiohttp import web

TEAM = "T0TEAM"
BOT_USER = "U0BOT"
BOT_ID = "B0BOT"
WAIT = 5.0
"""Seconds a test waits for something the bot should do at once."""


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str
    at: float = field(default_factory=time.monotonic)
    """When the call arrived (``time.monotonic()``)."""
    status: int = 200
    """The HTTP status it was answered with."""


@dataclass
class Failure:
    error: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    channel: str | None = None
    after: bool = False
    """The call takes effect (a message is stored) before the failure is answered."""
    until: float | None = None
    """A ``time.monotonic()`` deadline: every call fails until then (``times`` is not counted)."""


@dataclass
class Posted:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None
    thread_ts: str | None = None
    """The ts of the thread's parent, for a reply; None for a top-level message."""
    edits: list[dict[str, Any]] = field(default_factory=list)
    team: str = TEAM
    """The workspace of the token that posted it."""
    token: str = ""


def bot_user(team: str) -> str:
    """The bot's user id in ``team``: each installation has its own."""
    return BOT_USER if team == TEAM else f"U0BOT{team}"


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.events: list[tuple[str, str]] = []
        """What happened, in order: ("ack", envelope_id), ("respond", text), ("api", method)."""
        self.messages: list[Posted] = []
        self.responses: list[dict[str, Any]] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {"UADMIN": {"is_admin": True}, "UUSER": {}}
        self.groups: dict[str, list[str]] = {}
        self.connections_opened = 0
        self.peers: set[Any] = set()
        """The client (address, port) of every connection a Web API call came over."""
        self.latency = 0.0
        """Seconds every Web API call takes after it took effect, before its answer leaves (a network)."""
        self._failures: dict[str, list[Failure]] = {}
        self.garbled: set[str] = set()
        """Markers: a chat.postMessage whose text holds one is answered ``{"ok": true}`` and nothing else
        (no ts, no message) and stores nothing, as a broken proxy in front of Slack might."""
        self._holds: dict[str, asyncio.Event] = {}
        self._ts = itertools.count(1)
        self._envelope_ids = itertools.count(1)
        self._sockets: dict[web.WebSocketResponse, int] = {}
        """The open Socket Mode connections, oldest first, and the ticket each was opened with."""
        self._turn = 0
        self._connected = asyncio.Event()
        self._unacked: dict[str, dict[str, Any]] = {}
        self._sent_on: dict[str, web.WebSocketResponse] = {}
        """Envelope id -> the connection an unacked envelope went out on."""
        self.delivered_on: dict[str, list[int]] = {}
        """Envelope id -> the ticket of each connection it was sent over (more than one: resent)."""
        self.acked_on: dict[str, list[int]] = {}
        """Envelope id -> the ticket of each connection that acked it (more than one: acked twice)."""
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.tokens: dict[str, str] = {}
        """Bot token -> its team, for every token ``oauth.v2.access`` issued (or a test added)."""
        self.revoked: set[str] = set()
        """Tokens Slack refuses (``token_revoked``): the app was uninstalled or its token revoked."""
        self.apps: dict[str, str] = {}
        """client id -> client secret of each app that may be installed."""
        self.team_names: dict[str, str] = {}
        self._codes: dict[str, tuple[str, str, str]] = {}
        """code -> (client id, team, installing user), until exchanged."""
        self._issued = itertools.count(1)

    # ---- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/link/", self._websocket)
        app.router.add_post("/respond/{n}", self._respond)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        for gate in self._holds.values():
            gate.set()  # a test that failed mid-hold must not hang the teardown
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    # ---- injection -------------------------------------------------------------------------------

    def fail(self, method: str, error: str, **kwargs: Any) -> None:
        """The next call(s) of ``method`` answer ``{"ok": false, "error": error}``: before doing anything,
        or with ``after=True`` once the call took effect (a ``status=500`` after Slack stored the
        message). ``channel`` limits it to calls for that channel."""
        self._failures.setdefault(method, []).append(Failure(error, **kwargs))

    def fail_for(self, method: str, error: str, seconds: float, **kwargs: Any) -> None:
        """Every call of ``method`` fails as :meth:`fail` says for the next ``seconds`` (an outage)."""
        self.fail(method, error, until=time.monotonic() + seconds, **kwargs)

    def rate_limit(self, method: str, retry_after: int, times: int = 1) -> None:
        self.fail(method, "ratelimited", status=429, headers={"Retry-After": str(retry_after)}, times=times)

    def hold(self, method: str) -> asyncio.Event:
        """Calls of ``method`` wait until the returned event is set (slow work, made deterministic)."""
        self._holds[method] = gate = asyncio.Event()
        return gate

    # ---- waiting ---------------------------------------------------------------------------------

    async def _wait(self, predicate: Callable[[], Any]) -> Any:
        async def until() -> Any:
            async with self._changed:
                while not (result := predicate()):
                    await self._changed.wait()
                return result

        return await asyncio.wait_for(until(), WAIT)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_connected(self) -> None:
        await asyncio.wait_for(self._connected.wait(), WAIT)

    async def wait_connections(self, count: int) -> None:
        """Until ``count`` Socket Mode connections are open at once."""
        await self._wait(lambda: len(self._sockets) >= count)

    @property
    def open_connections(self) -> list[int]:
        """The tickets of the Socket Mode connections open now, oldest first."""
        return list(self._sockets.values())

    async def wait_ack(self, envelope_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._wait(lambda: self.acks.get(envelope_id))
        return result

    async def wait_response(self, count: int = 1) -> dict[str, Any]:
        """The ``count``-th reply posted to a response_url (1-based)."""
        await self._wait(lambda: len(self.responses) >= count)
        return self.responses[count - 1]

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # ---- Socket Mode -----------------------------------------------------------------------------

    def command_payload(
        self,
        text: str,
        *,
        user: str = "UUSER",
        channel: str = "C0NEWS",
        command: str = "/news",
        team: str = TEAM,
    ) -> dict[str, str]:
        n = next(self._envelope_ids)
        return {
            "token": "verification-token-unused",
            "team_id": team,
            "team_domain": "newsroom",
            "channel_id": channel,
            "channel_name": "news",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0APP",
            "is_enterprise_install": "false",
            "response_url": f"http://127.0.0.1:{self.port}/respond/{n}",
            "trigger_id": f"trigger-{n}",
        }

    async def slash_command(self, text: str, **kwargs: Any) -> str:
        """Deliver ``/news <text>`` over Socket Mode (now, or when a client next connects)."""
        payload = self.command_payload(text, **kwargs)
        return await self._deliver("slash_commands", payload, accepts_response_payload=True)

    def click_payload(
        self, button: dict[str, Any], *, user: str = "UUSER", channel: str = "C0NEWS"
    ) -> dict[str, Any]:
        """What Slack sends when ``user`` clicks ``button`` (a Block Kit button element) in an ephemeral
        message of ``channel``: https://docs.slack.dev/reference/interaction-payloads/block_actions-payload"""
        n = next(self._envelope_ids)
        action = {
            "type": "button",
            "action_id": button["action_id"],
            "block_id": f"block-{n}",
            "text": button["text"],
            "action_ts": f"1700000000.{n:06d}",
            **({"value": button["value"]} if "value" in button else {}),
        }
        return {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
            "api_app_id": "A0APP",
            "token": "verification-token-unused",
            "container": {"type": "message", "message_ts": "1700000000.000000", "channel_id": channel,
                          "is_ephemeral": True},
            "trigger_id": f"trigger-{n}",
            "team": {"id": TEAM, "domain": "newsroom"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": "news"},
            "state": {"values": {}},
            "response_url": f"http://127.0.0.1:{self.port}/respond/{n}",
            "actions": [action],
        }  # fmt: skip

    async def click(self, button: dict[str, Any], **kwargs: Any) -> str:
        """Deliver a click on ``button`` over Socket Mode; the envelope id, to wait for its ack."""
        return await self._deliver("interactive", self.click_payload(button, **kwargs))

    async def _deliver(
        self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = False
    ) -> str:
        envelope_id = f"env-{payload['trigger_id']}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        await self.deliver(envelope)
        return envelope_id

    async def deliver(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope over the next open connection in turn, or over the first to open;
        again (on another) until it is acked."""
        self._unacked[str(envelope["envelope_id"])] = envelope
        if sockets := [socket for socket in self._sockets if not socket.closed]:
            self._turn += 1
            await self._send(sockets[self._turn % len(sockets)], envelope)

    async def _send(self, socket: web.WebSocketResponse, envelope: dict[str, Any]) -> None:
        envelope_id = str(envelope["envelope_id"])
        self._sent_on[envelope_id] = socket
        self.delivered_on.setdefault(envelope_id, []).append(self._sockets.get(socket, 0))
        with contextlib.suppress(ConnectionError, RuntimeError):  # closing: it goes over the next one
            await socket.send_json(envelope)

    async def drop(self) -> None:
        """Close every Socket Mode connection as a Slack server restart would."""
        sockets = list(self._sockets)
        self._sockets.clear()
        self._connected.clear()
        for socket in sockets:
            await socket.close()

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets[ws] = int(request.query.get("ticket", "0"))
        hello = {
            "type": "hello",
            "num_connections": len(self._sockets),
            "connection_info": {"app_id": "A0APP"},
        }
        await ws.send_json(hello)
        await self._resend(ws)
        self._connected.set()
        await self._notify()
        try:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(message.data)
                envelope_id = data.get("envelope_id")
                if envelope_id:
                    self._unacked.pop(envelope_id, None)
                    self._sent_on.pop(envelope_id, None)
                    self.acks[envelope_id] = data
                    self.acked_on.setdefault(envelope_id, []).append(self._sockets.get(ws, 0))
                    self.events.append(("ack", envelope_id))
                    await self._notify()
        finally:
            self._sockets.pop(ws, None)
            if not self._sockets:
                self._connected.clear()
            else:  # Slack sends what this connection left unacked over another
                await self._resend(next(iter(self._sockets)))
        return ws

    async def _resend(self, socket: web.WebSocketResponse) -> None:
        """Send over ``socket`` every unacked envelope whose connection is gone (or that none took)."""
        for envelope_id, envelope in list(self._unacked.items()):
            sent_on = self._sent_on.get(envelope_id)
            if sent_on is None or sent_on not in self._sockets:
                await self._send(socket, envelope)

    # ---- response_url ----------------------------------------------------------------------------

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append(body)
        self.events.append(("respond", str(body.get("text", ""))))
        await self._notify()
        return web.Response(text="ok")

    # ---- HTTP mode -------------------------------------------------------------------------------

    async def post_command_http(
        self,
        url: str,
        secret: str,
        text: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        **kwargs: Any,
    ) -> tuple[int, str]:
        """POST a slash command to the bot's HTTP endpoint as Slack would; (status, body)."""
        return await self._post_http(
            url, secret, urlencode(self.command_payload(text, **kwargs)), timestamp, signature
        )

    async def post_click_http(
        self, url: str, secret: str, button: dict[str, Any], **kwargs: Any
    ) -> tuple[int, str]:
        """POST a click on ``button`` to the bot's HTTP endpoint as Slack would; (status, body)."""
        body = urlencode({"payload": json.dumps(self.click_payload(button, **kwargs))})
        return await self._post_http(url, secret, body, None, None)

    async def _post_http(
        self, url: str, secret: str, body: str, timestamp: int | None, signature: str | None
    ) -> tuple[int, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        if signature is None:
            digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
            signature = f"v0={digest}"
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        }
        async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as r:
            answer = await r.text()
            self.events.append(("ack", f"http:{r.status}"))
            await self._notify()
            return r.status, answer

    # ---- Web API ---------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.transport is not None:
            self.peers.add(request.transport.get_extra_info("peername"))
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            args.update(await request.post())
        authorization = request.headers.get("Authorization", "")
        token = authorization.removeprefix("Bearer ")
        call = Call(method, args, token)
        self.calls.append(call)
        self.events.append(("api", method))
        if method == "oauth.v2.access":
            response = web.json_response(self._oauth_access(authorization, args))
        elif token in self.revoked:
            response = web.json_response({"ok": False, "error": "token_revoked"})
        else:
            response = await self._answer(method, {**args, "_token": token})
        call.status = response.status
        return response

    async def _answer(self, method: str, args: dict[str, Any]) -> web.Response:
        if gate := self._holds.get(method):
            await gate.wait()
        if method == "chat.postMessage" and any(m in str(args.get("text", "")) for m in self.garbled):
            return web.json_response({"ok": True})
        failure = self._take_failure(method, args)
        if failure is not None and not failure.after:
            return _failed(failure)
        handler = self._methods().get(method)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        result = await handler(args)
        await self._notify()
        if self.latency:
            await asyncio.sleep(self.latency)
        if failure is not None:
            return _failed(failure)
        return web.json_response({"ok": "error" not in result, **result})

    def _take_failure(self, method: str, args: dict[str, Any]) -> Failure | None:
        for failure in self._failures.get(method, []):
            if failure.channel is not None and failure.channel != args.get("channel"):
                continue
            if failure.until is not None:
                if time.monotonic() < failure.until:
                    return failure
                continue
            failure.times -= 1
            if failure.times <= 0:
                self._failures[method].remove(failure)
            return failure
        return None

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]]:
        return {
            "auth.test": self._auth_test,
            "apps.connections.open": self._connections_open,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroup_users,
        }

    def team_of(self, token: str) -> str:
        return self.tokens.get(token, TEAM)

    async def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        team = self.team_of(args["_token"])
        return {
            "url": f"https://{team.lower()}.slack.com/",
            "team": self.team_names.get(team, "Newsroom"),
            "user": "newsbot",
            "team_id": team,
            "user_id": bot_user(team),
            "bot_id": BOT_ID if team == TEAM else f"B0BOT{team}",
        }

    # ---- OAuth -----------------------------------------------------------------------------------

    def register_app(self, client_id: str, client_secret: str) -> None:
        self.apps[client_id] = client_secret

    def consent(
        self, authorize_url: str, *, team: str, user: str = "UADMIN", name: str = ""
    ) -> dict[str, str]:
        """An admin of ``team`` approves the install on Slack's page, opened at ``authorize_url``: the
        query Slack would send the browser back to the app's redirect URL with (``code``, ``state``)."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        if query.get("client_id") not in self.apps:
            raise AssertionError(f"Slack knows no app {query.get('client_id')!r}")
        code = f"code-{team}-{next(self._issued)}"
        self._codes[code] = (query["client_id"], team, user)
        self.team_names[team] = name or f"Team {team}"
        return {"code": code, "state": query.get("state", "")}

    def _oauth_access(self, authorization: str, args: dict[str, Any]) -> dict[str, Any]:
        """https://docs.slack.dev/reference/methods/oauth.v2.access: the app's credentials as HTTP Basic."""
        try:
            client_id, _, secret = (
                base64.b64decode(authorization.removeprefix("Basic ")).decode().partition(":")
            )
        except ValueError:
            return {"ok": False, "error": "invalid_client_id"}
        if client_id not in self.apps:
            return {"ok": False, "error": "invalid_client_id"}
        if not hmac.compare_digest(self.apps[client_id], secret):
            return {"ok": False, "error": "bad_client_secret"}
        grant = self._codes.pop(str(args.get("code") or ""), None)
        if grant is None or grant[0] != client_id:
            return {"ok": False, "error": "invalid_code"}
        _, team, user = grant
        token = f"xoxb-{team}-{next(self._issued)}"
        self.tokens[token] = team
        return {
            "ok": True,
            "access_token": token,
            "token_type": "bot",
            "scope": "commands,chat:write",
            "bot_user_id": bot_user(team),
            "app_id": "A0APP",
            "team": {"id": team, "name": self.team_names.get(team, team)},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": user},
        }

    async def _connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        self.connections_opened += 1
        return {"url": f"ws://127.0.0.1:{self.port}/link/?ticket={self.connections_opened}"}

    async def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"1700000000.{next(self._ts):06d}"
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        blocks = args.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        channel = str(args["channel"])
        thread_ts = str(args.get("thread_ts") or "") or None
        if thread_ts is not None:  # a reply to a reply goes into the thread of its parent
            parent = self._find(channel, thread_ts)
            thread_ts = parent.thread_ts or parent.ts if parent is not None else thread_ts
        token = str(args.get("_token") or "")
        posted = Posted(
            channel,
            ts,
            str(args.get("text", "")),
            blocks,
            metadata,
            thread_ts,
            team=self.team_of(token),
            token=token,
        )
        self.messages.append(posted)
        message: dict[str, Any] = {"text": posted.text, "ts": ts}
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        return {"channel": posted.channel, "ts": ts, "message": message}

    async def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        for posted in self.messages:
            if posted.channel == args["channel"] and posted.ts == args["ts"]:
                posted.edits.append(args)
                return {"channel": posted.channel, "ts": posted.ts}
        return {"error": "message_not_found"}

    async def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        self.events.append(("respond", str(args.get("text", ""))))
        blocks = args.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        self.responses.append({"text": args.get("text", ""), "response_type": "ephemeral", "blocks": blocks})
        return {"message_ts": f"1700000000.{next(self._ts):06d}"}

    async def _history(self, args: dict[str, Any]) -> dict[str, Any]:
        """A channel's top-level messages, newest first: replies in threads are left out."""
        channel = args.get("channel")
        top = [p for p in self.messages if p.channel == channel and p.thread_ts in (None, p.ts)]
        limit = int(args.get("limit") or 100)
        messages = [self._message(p, args) for p in reversed(top)]
        return {"messages": messages[:limit], "has_more": len(messages) > limit}

    async def _replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """A thread, parent first, then its replies oldest first; ``ts`` may name the parent or any
        reply. A message without replies is a thread of one. Paged by ``limit`` and ``cursor``."""
        channel, ts = str(args.get("channel") or ""), str(args.get("ts") or "")
        if not channel or not ts:
            return {"error": "invalid_arguments"}
        start = self._find(channel, ts)
        if start is None:
            return {"error": "thread_not_found"}
        root = start.thread_ts or start.ts
        thread = [p for p in self.messages if p.channel == channel and root in (p.ts, p.thread_ts)]
        offset = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 1000)
        page = thread[offset : offset + limit]
        more = offset + limit < len(thread)
        return {
            "messages": [self._message(p, args) for p in page],
            "has_more": more,
            "response_metadata": {"next_cursor": str(offset + limit) if more else ""},
        }

    def _find(self, channel: str, ts: str) -> Posted | None:
        return next((p for p in self.messages if p.channel == channel and p.ts == ts), None)

    def _message(self, posted: Posted, args: dict[str, Any]) -> dict[str, Any]:
        """A stored message as conversations.history and conversations.replies show it."""
        message: dict[str, Any] = {
            "type": "message",
            "ts": posted.ts,
            "text": posted.text,
            "user": BOT_USER,
            "bot_id": BOT_ID,
        }
        if posted.thread_ts not in (None, posted.ts):
            message |= {"thread_ts": posted.thread_ts, "parent_user_id": BOT_USER}
        elif replies := [p for p in self.messages if (p.channel, p.thread_ts) == (posted.channel, posted.ts)]:
            message |= {"thread_ts": posted.ts, "reply_count": len(replies), "latest_reply": replies[-1].ts}
        if str(args.get("include_all_metadata", "")).lower() in ("1", "true") and posted.metadata:
            message["metadata"] = posted.metadata
        return message

    async def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user"))
        return {"user": {"id": user, "is_admin": False, "is_owner": False, **self.users.get(user, {})}}

    async def _usergroup_users(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"users": self.groups.get(str(args.get("usergroup")), [])}


def _failed(failure: Failure) -> web.Response:
    payload = {"ok": False, "error": failure.error}
    return web.json_response(payload, status=failure.status, headers=failure.headers)

"""What the fake Discord (tests/fake_discord.py) sends over the wire: Discord's objects (a user, a guild
channel, a role) and its answers (JSON exactly as Discord labels it, errors, 429s), in the shapes of
Discord's API docs."""

from __future__ import annotations

import json
import math
from typing import Any, Literal

from aiohttp import web

Scope = Literal["user", "shared", "global", "cloudflare"]


def user_json(uid: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": uid,
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
    }


def channel_json(guild: str, cid: str, name: str, position: int, kind: int = 0) -> dict[str, Any]:
    return {
        "id": cid,
        "type": kind,
        "guild_id": guild,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
    }


def role_json(rid: str, name: str, permissions: int, position: int) -> dict[str, Any]:
    return {
        "id": rid,
        "name": name,
        "permissions": str(permissions),
        "position": position,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": True,
        "flags": 0,
    }


def message_json(
    mid: str, channel_id: str, guild: str, author: dict[str, Any], body: dict[str, Any], *, flags: int = 0
) -> dict[str, Any]:
    """A message as Discord returns it, from the body it was created (and edited) with."""
    return {
        "id": mid,
        "channel_id": channel_id,
        "guild_id": guild,
        "author": author,
        "content": body.get("content", ""),
        "embeds": body.get("embeds", []),
        "timestamp": "2026-01-01T00:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "pinned": False,
        "type": 0,
        "flags": flags,
        "nonce": body.get("nonce"),
    }


def json_answer(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Exactly ``application/json``, as Discord sends it (discord.py compares the header verbatim)."""
    body = json.dumps(data).encode()
    return web.Response(
        body=body, status=status, headers={"Content-Type": "application/json", **(headers or {})}
    )


def rate_limited(retry_after: float, scope: Scope) -> web.Response:
    """A 429 in the shapes of https://discord.com/developers/docs/topics/rate-limits (Discord's answers
    come through Google's load balancer, hence ``Via``; discord.py takes a 429 without it for a
    Cloudflare ban)."""
    wait = str(math.ceil(retry_after))
    if scope == "cloudflare":
        page = "<html><body>error 1015: you are being rate limited</body></html>"
        return web.Response(text=page, status=429, content_type="text/html", headers={"Retry-After": wait})
    headers = {"Via": "1.1 google", "Retry-After": wait, "X-RateLimit-Scope": scope}
    if scope == "global":
        headers["X-RateLimit-Global"] = "true"
    message = "The resource is being rate limited." if scope == "shared" else "You are being rate limited."
    body = {"message": message, "retry_after": retry_after, "global": scope == "global"}
    return json_answer(body, status=429, headers=headers)


def error(status: int, code: int, message: str) -> web.Response:
    return json_answer({"message": message, "code": code}, status=status)

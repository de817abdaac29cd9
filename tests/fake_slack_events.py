"""Events API callbacks from the fake Slack (tests/fake_slack.py), in the shapes of Slack's docs: an
``event_callback`` body, sent over Socket Mode in an ``events_api`` envelope or, in HTTP mode, as a
signed JSON POST to the bot's ``/slack/events``."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Sequence
from typing import Any

import aiohttp

from tests.fake_slack import TEAM, FakeSlack

_ids = itertools.count(1)


def app_uninstalled() -> dict[str, Any]:
    """https://api.slack.com/events/app_uninstalled"""
    return {"type": "app_uninstalled"}


def tokens_revoked(*, bot: Sequence[str] = (), oauth: Sequence[str] = ()) -> dict[str, Any]:
    """https://api.slack.com/events/tokens_revoked: the user ids whose user (oauth) or bot tokens went."""
    tokens: dict[str, list[str]] = {}
    if oauth:
        tokens["oauth"] = list(oauth)
    if bot:
        tokens["bot"] = list(bot)
    return {"type": "tokens_revoked", "tokens": tokens}


def callback(event: dict[str, Any], *, team: str = TEAM) -> dict[str, Any]:
    n = next(_ids)
    return {
        "token": "verification-token-unused",
        "team_id": team,
        "api_app_id": "A0APP",
        "event": {**event, "event_ts": f"1700000000.{n:06d}"},
        "type": "event_callback",
        "event_id": f"Ev{n:08d}",
        "event_time": 1700000000 + n,
    }


async def send_event(fake: FakeSlack, event: dict[str, Any], *, team: str = TEAM) -> str:
    """Deliver ``event`` over Socket Mode; returns its envelope id (see :meth:`FakeSlack.wait_ack`)."""
    body = callback(event, team=team)
    envelope_id = f"env-{body['event_id']}"
    envelope = {
        "envelope_id": envelope_id,
        "type": "events_api",
        "payload": body,
        "accepts_response_payload": False,
        "retry_attempt": 0,
        "retry_reason": "",
    }
    await fake.deliver(envelope)
    return envelope_id


async def post_event_http(url: str, secret: str, event: dict[str, Any], *, team: str = TEAM) -> int:
    """POST ``event`` to the bot's HTTP endpoint as Slack would, signed; the HTTP status."""
    body = json.dumps(callback(event, team=team))
    ts = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as r:
        return r.status

"""WebSub subscriber (W3C Recommendation, https://www.w3.org/TR/websub/): pushes from the feeds' hubs
instead of waiting for the next poll.

- Discovery (§4, :func:`discover`): ``Link`` headers (which win), Atom ``<link rel="hub">``, RSS
  ``<atom:link rel="hub">`` or JSON Feed ``"hubs"``; the topic is ``rel="self"``, else the feed URL.
- Subscribing (§5.1): callback ``<public_url>/websub/<token>``, a random token and ``hub.secret`` per
  subscription. The secret goes to plain-http hubs too (the spec says SHOULD only over HTTPS): unsigned
  pushes are never accepted. Pending state is saved before the request: a hub may verify before answering.
- Verification (§5.3, :func:`verify_intent`): the challenge is echoed only for this token's topic and an
  action we asked for (or an active subscription being re-verified); anything else gets 404.
- Content (§7-8): a missing or wrong ``X-Hub-Signature`` means the push is logged and ignored, yet gets
  the same 2xx as a good one (§8 allows it; it keeps the signature from being guessed). An unknown or
  abandoned token gets 410 Gone, which tells the hub to drop the subscription.
- Leases (:func:`due_for_renewal`): renewal ahead of expiry; retries with backoff for refusals, denials
  and requests never verified.

The hubs' callbacks are answered by :class:`bot.web.websub.WebSubCallbacks` with the pure decisions
here. State lives behind :class:`WebSubRegistry`; :class:`MemoryWebSubRegistry` forgets it on restart.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import feedparser

from bot.core.backoff import Backoff
from bot.core.errors import NewsBotError
from bot.ingest.safety import check_xml

log = logging.getLogger(__name__)

DEFAULT_LEASE = 10 * 86400
"""Lease asked for (seconds); the hub decides and says so in its verification request."""
VERIFY_WAIT = 15 * 60.0
"""A request the hub accepted but never verified is sent again after this (doubling with each try)."""
RETRY_MAX = 86400.0
"""Longest wait between tries; also how long a hub's denial is respected before asking again."""
HUB_SIGNATURE_HEADER = "X-Hub-Signature"
CALLBACK_PREFIX = "/websub/"
_HMAC = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_LINK = re.compile(r'<([^>]*)>((?:\s*;\s*[^;,=\s]+\s*(?:=\s*(?:"[^"]*"|[^;,]*))?)*)')
_REL = re.compile(r';\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]*))', re.IGNORECASE)


class WebSubError(NewsBotError):
    """A hub could not be reached or refused a (un)subscription request, or discovery failed."""


@dataclass(frozen=True, slots=True)
class CallbackReply:
    """What the web server answers a hub: a status and a plain-text body."""

    status: int
    body: str = ""


ACKNOWLEDGED = CallbackReply(202)
"""The answer to every content push taken off the hub's hands, whether its signature was good or not
(a different answer would tell a forger when a guess was right)."""


@dataclass(frozen=True, slots=True)
class Discovery:
    hubs: tuple[str, ...]
    topic: str


@dataclass(frozen=True, slots=True)
class WebSubSubscription:
    """One feed's subscription at one hub. Times are epoch seconds."""

    token: str
    """The last path segment of the callback URL; unguessable, one per subscription."""
    feed_url: str
    """The URL the bot polls and stores the feed under; pushed articles carry it as ``feed_url``."""
    topic: str
    hub: str
    secret: str
    feed_name: str = ""
    requested_lease: int = DEFAULT_LEASE
    wanted: bool = True
    """False once we asked to unsubscribe: pushes get 410 Gone."""
    pending: str = ""
    """The action sent to the hub and awaiting its verification: "subscribe", "unsubscribe" or ""."""
    active: bool = False
    expires_at: float | None = None
    next_request_at: float = 0.0
    """When a subscription request is next due (renewal, or a retry)."""
    failures: int = 0
    """Requests sent since the last successful verification."""
    last_error: str = ""


class WebSubRegistry(Protocol):
    """Where subscription state is kept. Swap the in-memory one for a persistent store."""

    async def get(self, token: str) -> WebSubSubscription | None: ...

    async def for_feed(self, feed_url: str) -> WebSubSubscription | None: ...

    async def save(self, subscription: WebSubSubscription) -> None: ...

    async def remove(self, token: str) -> None: ...

    async def all(self) -> list[WebSubSubscription]: ...


class MemoryWebSubRegistry:
    def __init__(self) -> None:
        self._subs: dict[str, WebSubSubscription] = {}

    async def get(self, token: str) -> WebSubSubscription | None:
        return self._subs.get(token)

    async def for_feed(self, feed_url: str) -> WebSubSubscription | None:
        return next((s for s in self._subs.values() if s.feed_url == feed_url), None)

    async def save(self, subscription: WebSubSubscription) -> None:
        self._subs[subscription.token] = subscription

    async def remove(self, token: str) -> None:
        self._subs.pop(token, None)

    async def all(self) -> list[WebSubSubscription]:
        return list(self._subs.values())


# --- discovery (pure) -------------------------------------------------------------------------------


def parse_link_header(values: Iterable[str]) -> list[tuple[str, frozenset[str]]]:
    """RFC 8288 ``Link`` header values to (target, rel values) pairs, in order."""
    links = []
    for value in values:
        for match in _LINK.finditer(value):
            rel = _REL.search(match.group(2))
            rels = (rel.group(1) or rel.group(2) or "") if rel else ""
            links.append((match.group(1).strip(), frozenset(rels.lower().split())))
    return links


def discover(body: bytes, url: str, link_headers: Sequence[str] = ()) -> Discovery:
    """The hubs and topic of a feed fetched from ``url``. HTTP ``Link`` headers win over links in the
    document (§4); without a ``rel="self"`` the topic is ``url``. Relative links resolve against
    ``url``; only http(s) hubs are kept. Raises :class:`FeedError` for XML declaring entities.
    CPU-bound for large feeds: run it in a thread."""
    hubs, topic = _pick(parse_link_header(link_headers), url)
    if not hubs or not topic:
        doc_hubs, doc_topic = _pick(_document_links(body), url)
        hubs = hubs or doc_hubs
        topic = topic or doc_topic
    return Discovery(hubs=hubs, topic=topic or url)


def _pick(links: list[tuple[str, frozenset[str]]], base: str) -> tuple[tuple[str, ...], str]:
    hubs: list[str] = []
    topic = ""
    for href, rels in links:
        if not href:
            continue
        absolute = urljoin(base, href)
        if "hub" in rels and is_web_url(absolute) and absolute not in hubs:
            hubs.append(absolute)
        if "self" in rels and not topic:
            topic = absolute
    return tuple(hubs), topic


def _document_links(body: bytes) -> list[tuple[str, frozenset[str]]]:
    if body.lstrip()[:1] == b"{":  # JSON Feed: "hubs": [{"type": "WebSub", "url": …}], "feed_url"
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return []
        if not isinstance(data, dict):
            return []
        found = [
            (str(h.get("url") or ""), frozenset({"hub"}))
            for h in data.get("hubs") or []
            if isinstance(h, dict) and str(h.get("type", "")).lower() in ("websub", "pubsubhubbub")
        ]
        if isinstance(data.get("feed_url"), str):
            found.append((data["feed_url"], frozenset({"self"})))
        return found
    check_xml(body)  # entity declarations: refused before feedparser can expand them
    parsed: Any = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    return [
        (str(link.get("href") or ""), frozenset(str(link.get("rel") or "").lower().split()))
        for link in parsed.feed.get("links", []) or []
    ]


def is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# --- requests, verification, signatures, leases (pure) -----------------------------------------------


def callback_url(public_url: str, token: str) -> str:
    return public_url.rstrip("/") + CALLBACK_PREFIX + token


def request_form(subscription: WebSubSubscription, mode: str, public_url: str) -> dict[str, str]:
    """The form fields of a (un)subscription request to the hub (§5.1)."""
    form = {
        "hub.mode": mode,
        "hub.topic": subscription.topic,
        "hub.callback": callback_url(public_url, subscription.token),
    }
    if mode == "subscribe":
        form["hub.lease_seconds"] = str(subscription.requested_lease)
        form["hub.secret"] = subscription.secret
    return form


def retry_delay(failures: int) -> float:
    return Backoff(VERIFY_WAIT, RETRY_MAX, jitter=0.0).delay(failures)


def renew_at(expires_at: float, lease: float) -> float:
    """When to renew a lease: a tenth of it before expiry (at least a minute, at most a day, never
    more than half the lease), so a hub that is briefly down can be retried before the lease ends."""
    margin = min(RETRY_MAX, max(60.0, lease / 10), lease / 2)
    return expires_at - margin


def due_for_renewal(subscriptions: Iterable[WebSubSubscription], now: float) -> list[WebSubSubscription]:
    """Subscriptions that need a subscription request at ``now``: a lease close to expiry, a request
    that failed or was never verified, a denial old enough to ask again."""
    return [s for s in subscriptions if s.wanted and s.next_request_at <= now]


def requested(subscription: WebSubSubscription, mode: str, now: float) -> WebSubSubscription:
    """State to save just before sending a request: if no verification follows, ask again later."""
    failures = subscription.failures + 1
    return dataclasses.replace(
        subscription,
        pending=mode,
        wanted=mode == "subscribe",
        failures=failures,
        next_request_at=now + retry_delay(failures),
    )


def request_failed(subscription: WebSubSubscription, error: str, now: float) -> WebSubSubscription:
    return dataclasses.replace(
        subscription,
        pending="",
        last_error=error,
        next_request_at=now + retry_delay(subscription.failures),
    )


@dataclass(frozen=True, slots=True)
class Verification:
    reply: CallbackReply
    state: WebSubSubscription | None = None
    """The subscription's new state to save, if it changed."""
    forget: bool = False
    """An unsubscription was confirmed: delete the record."""


NOT_OURS = Verification(CallbackReply(404, "no such subscription"))


def verify_intent(
    subscription: WebSubSubscription | None, params: Mapping[str, str], now: float
) -> Verification:
    """Answer a hub's verification GET (§5.3) for the subscription its callback token names."""
    mode = params.get("hub.mode", "")
    if subscription is None or params.get("hub.topic") != subscription.topic:
        return NOT_OURS
    if mode == "denied":  # §5.2: the hub refused or ended the subscription
        reason = params.get("hub.reason", "") or "denied by the hub"
        state = dataclasses.replace(
            subscription, active=False, pending="", last_error=reason, next_request_at=now + RETRY_MAX
        )
        return Verification(CallbackReply(200), state)
    challenge = params.get("hub.challenge", "")
    if not challenge:
        return Verification(CallbackReply(400, "hub.challenge is missing"))
    if mode == "unsubscribe" and subscription.pending == "unsubscribe":
        return Verification(CallbackReply(200, challenge), forget=True)
    if (
        mode == "subscribe"
        and subscription.wanted
        and (subscription.pending == "subscribe" or subscription.active)
    ):
        lease = _positive_int(params.get("hub.lease_seconds")) or subscription.requested_lease
        expires = now + lease
        state = dataclasses.replace(
            subscription,
            active=True,
            pending="",
            expires_at=expires,
            next_request_at=renew_at(expires, lease),
            failures=0,
            last_error="",
        )
        return Verification(CallbackReply(200, challenge), state)
    return NOT_OURS


def hub_signature_ok(header: str | None, body: bytes, secret: str) -> bool:
    """Check ``X-Hub-Signature: <algorithm>=<hex>`` (sha1, sha256, sha384 or sha512) in constant time."""
    if not header or not secret:
        return False
    method, _, signature = header.strip().partition("=")
    digest = _HMAC.get(method.strip().lower())
    if digest is None:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


def _positive_int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number > 0 else None


# --- I/O ---------------------------------------------------------------------------------------------

"""WebSub as a publisher's hub sees the bot: a fake hub on 127.0.0.1 serves a feed that advertises it,
takes the bot's subscription, verifies it against the bot's real web server and pushes content."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from bot.core.errors import FeedError
from bot.core.models import Article
from bot.ingest.websub import (
    MemoryWebSubRegistry,
    WebSubError,
    WebSubSubscription,
    discover,
    due_for_renewal,
    verify_intent,
)
from bot.ingest.websub_client import WebSubSubscriber
from bot.web.server import WebServer, create_web_app
from bot.web.websub import WebSubCallbacks

T0 = 1_800_000_000.0


def atom(hub: str, self_url: str, entry_id: str = "urn:entry:1") -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Northbound Wire</title>
  <link rel="hub" href="{hub}"/>
  <link rel="self" href="{self_url}"/>
  <id>urn:feed</id><updated>2026-11-23T08:00:00Z</updated>
  <entry>
    <id>{entry_id}</id><title>NATO ministers meet in Brussels</title>
    <link href="https://news.example/{entry_id.rsplit(":", 1)[-1]}"/>
    <updated>2026-11-23T08:00:00Z</updated>
    <content type="html">&lt;p&gt;Ministers from NATO countries met in Brussels on Monday to agree on air
      defence for Ukraine.&lt;/p&gt;&lt;figure&gt;&lt;figcaption&gt;The meeting (Image: Getty)
      &lt;/figcaption&gt;&lt;/figure&gt;&lt;p&gt;A statement is expected on Tuesday.&lt;/p&gt;</content>
  </entry>
</feed>""".encode()


@dataclass
class Hub:
    """A WebSub hub and publisher in one: ``/feed`` advertises ``/hub``."""

    base: str = ""
    http: aiohttp.ClientSession | None = None
    verify_inline: bool = True
    """Verify before answering the subscription request (else the test verifies later, by calling
    :meth:`verify`, as a hub that answers 202 first and verifies asynchronously does)."""
    refuse: bool = False
    lease: int | None = None
    """Lease to grant; None: whatever was asked."""
    requests: list[dict[str, str]] = field(default_factory=list)
    verifications: list[tuple[dict[str, str], int, str]] = field(default_factory=list)

    @property
    def topic(self) -> str:
        return self.base + "/feed"

    async def handle(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.requests.append(form)
        if self.refuse:
            return web.Response(status=400, text="topic not hosted here")
        if self.verify_inline:
            await self.verify(form)
        return web.Response(status=202)

    async def verify(self, form: dict[str, str], topic: str | None = None) -> tuple[int, str]:
        challenge = secrets.token_hex(8)
        params = {
            "hub.mode": form["hub.mode"],
            "hub.topic": topic or form["hub.topic"],
            "hub.challenge": challenge,
        }
        if form["hub.mode"] == "subscribe":
            params["hub.lease_seconds"] = str(self.lease or form["hub.lease_seconds"])
        assert self.http is not None
        async with self.http.get(form["hub.callback"], params=params) as resp:
            outcome = (resp.status, await resp.text())
        self.verifications.append((params, *outcome))
        return outcome

    async def publish(
        self,
        body: bytes,
        *,
        algorithm: str = "sha256",
        secret: str | None = None,
        to: dict[str, str] | None = None,
    ) -> int:
        """Push ``body`` to a subscriber (``to``: its request, else the latest), signed with its secret
        (or ``secret``; an empty one sends no signature)."""
        form = to or self.requests[-1]
        key = form.get("hub.secret", "") if secret is None else secret
        headers = {
            "Content-Type": "application/atom+xml",
            "Link": f'<{self.base}/hub>; rel="hub", <{self.topic}>; rel="self"',
        }
        if key:
            digest = hmac.new(key.encode(), body, getattr(hashlib, algorithm)).hexdigest()
            headers["X-Hub-Signature"] = f"{algorithm}={digest}"
        assert self.http is not None
        async with self.http.post(form["hub.callback"], data=body, headers=headers) as resp:
            return resp.status


@dataclass
class RecordingIntake:
    batches: list[list[Article]] = field(default_factory=list)

    async def __call__(self, articles: Sequence[Article]) -> int:
        self.batches.append(list(articles))
        return len(articles)


@dataclass
class Setup:
    hub: Hub
    bot_url: str
    intake: RecordingIntake
    registry: MemoryWebSubRegistry
    subscriber: WebSubSubscriber
    http: aiohttp.ClientSession
    clock: list[float]


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    hub = Hub()
    hub_app = web.Application()
    hub_app.router.add_post("/hub", hub.handle)

    async def feed(request: web.Request) -> web.Response:
        return web.Response(body=atom(hub.base + "/hub", hub.topic), content_type="application/atom+xml")

    hub_app.router.add_get("/feed", feed)
    hub_server = WebServer(hub_app)
    await hub_server.start("127.0.0.1", 0)
    hub.base = hub_server.url

    clock = [T0]
    intake = RecordingIntake()
    registry = MemoryWebSubRegistry()
    callbacks = WebSubCallbacks(registry, intake, clock=lambda: clock[0])
    bot_server = WebServer(
        create_web_app(intake=intake, secret="s", max_body_bytes=100_000, websub=callbacks)
    )
    await bot_server.start("127.0.0.1", 0)
    async with aiohttp.ClientSession() as http:
        hub.http = http
        subscriber = WebSubSubscriber(
            http, registry, public_url=bot_server.url + "/", lease_seconds=3600, clock=lambda: clock[0]
        )
        yield Setup(hub, bot_server.url, intake, registry, subscriber, http, clock)
    await bot_server.stop()
    await hub_server.stop()


async def test_subscribe_verify_and_receive_a_signed_push(setup: Setup) -> None:
    hub = setup.hub
    sub = await setup.subscriber.subscribe_feed(hub.topic, name="Northbound")
    assert sub is not None and sub.active and sub.hub == hub.base + "/hub"

    [form] = hub.requests
    assert form["hub.mode"] == "subscribe" and form["hub.topic"] == hub.topic
    assert form["hub.callback"] == f"{setup.bot_url}/websub/{sub.token}"
    assert form["hub.lease_seconds"] == "3600" and 16 <= len(form["hub.secret"]) < 200
    [(params, status, body)] = hub.verifications
    assert (status, body) == (200, params["hub.challenge"])

    assert await hub.publish(atom(hub.base + "/hub", hub.topic, "urn:entry:2")) == 202
    [[article]] = setup.intake.batches
    assert article.title == "NATO ministers meet in Brussels"
    assert article.feed_url == hub.topic and article.source == "Northbound"
    assert "air defence" in article.text and "Getty" not in article.text


async def test_the_hub_may_verify_after_answering_and_grant_a_shorter_lease(setup: Setup) -> None:
    setup.hub.verify_inline = False
    setup.hub.lease = 600
    sub = await setup.subscriber.subscribe_feed(setup.hub.topic)
    assert sub is not None and sub.pending == "subscribe" and not sub.active
    [form] = setup.hub.requests
    assert await setup.hub.verify(form) == (200, setup.hub.verifications[0][0]["hub.challenge"])
    state = await setup.registry.get(sub.token)
    assert state is not None and state.active and state.expires_at == T0 + 600
    assert T0 < state.next_request_at < T0 + 600


@pytest.mark.parametrize("algorithm", ["sha1", "sha384", "sha512"])
async def test_every_websub_signature_algorithm_is_accepted(setup: Setup, algorithm: str) -> None:
    await setup.subscriber.subscribe_feed(setup.hub.topic)
    assert await setup.hub.publish(atom(setup.hub.base, setup.hub.topic), algorithm=algorithm) == 202
    assert len(setup.intake.batches) == 1


async def test_wrongly_signed_or_unsigned_pushes_are_acknowledged_but_ignored(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    await setup.subscriber.subscribe_feed(setup.hub.topic)
    body = atom(setup.hub.base, setup.hub.topic, "urn:entry:forged")
    assert await setup.hub.publish(body, secret="guessed") == 202
    assert await setup.hub.publish(body, secret="") == 202
    assert setup.intake.batches == []
    assert "ignored" in caplog.text


async def test_verification_for_a_topic_we_did_not_ask_for_is_404(setup: Setup) -> None:
    sub = await setup.subscriber.subscribe_feed(setup.hub.topic)
    assert sub is not None
    form = setup.hub.requests[-1]
    assert await setup.hub.verify(form, topic=setup.hub.base + "/other-feed") == (404, "no such subscription")
    unsubscribe = {**form, "hub.mode": "unsubscribe"}  # we never asked to leave
    assert (await setup.hub.verify(unsubscribe))[0] == 404
    unknown = {**form, "hub.callback": f"{setup.bot_url}/websub/not-a-token"}
    assert (await setup.hub.verify(unknown))[0] == 404
    still = await setup.registry.get(sub.token)
    assert still is not None and still.active


async def test_unsubscribing_stops_pushes(setup: Setup) -> None:
    sub = await setup.subscriber.subscribe_feed(setup.hub.topic)
    assert sub is not None
    assert await setup.subscriber.unsubscribe(setup.hub.topic)
    assert setup.hub.requests[-1]["hub.mode"] == "unsubscribe"
    assert setup.hub.verifications[-1][1] == 200
    assert await setup.registry.all() == []
    subscribed = setup.hub.requests[0]  # a hub that missed the unsubscription pushes all the same
    assert await setup.hub.publish(atom(setup.hub.base, setup.hub.topic), to=subscribed) == 410
    assert setup.intake.batches == []


async def test_leases_are_renewed_before_they_expire(setup: Setup) -> None:
    sub = await setup.subscriber.subscribe_feed(setup.hub.topic)
    assert sub is not None and sub.expires_at == T0 + 3600
    setup.clock[0] = T0 + 1800
    assert await setup.subscriber.renew_due() == 0
    assert len(setup.hub.requests) == 1

    setup.clock[0] = T0 + 3600 - 300  # five minutes before the lease ends
    assert await setup.subscriber.renew_due() == 1
    renewal = setup.hub.requests[-1]
    assert renewal["hub.callback"] == setup.hub.requests[0]["hub.callback"]
    assert renewal["hub.secret"] == setup.hub.requests[0]["hub.secret"]
    state = await setup.registry.get(sub.token)
    assert state is not None and state.active and state.expires_at == setup.clock[0] + 3600


async def test_a_refusing_hub_is_retried_later(setup: Setup) -> None:
    setup.hub.refuse = True
    with pytest.raises(WebSubError, match="topic not hosted here"):
        await setup.subscriber.subscribe_feed(setup.hub.topic)
    [state] = await setup.registry.all()
    assert not state.active and "HTTP 400" in state.last_error
    assert await setup.subscriber.renew_due() == 0  # not straight away
    setup.hub.refuse = False
    setup.clock[0] = state.next_request_at
    assert await setup.subscriber.renew_due() == 1
    again = await setup.registry.get(state.token)
    assert again is not None and again.active and again.failures == 0


def test_renewal_is_due_before_the_lease_expires_whatever_its_length() -> None:
    for lease in (120, 3600, 86400, 10 * 86400):
        sub = WebSubSubscription(
            token="t",
            feed_url="f",
            topic="https://x/feed",
            hub="https://hub",
            secret="s",
            pending="subscribe",
        )
        params = {"hub.mode": "subscribe", "hub.topic": "https://x/feed", "hub.challenge": "c"}
        outcome = verify_intent(sub, {**params, "hub.lease_seconds": str(lease)}, T0)
        assert outcome.reply.body == "c" and outcome.state is not None
        active = outcome.state
        assert due_for_renewal([active], T0 + lease * 0.4) == []
        assert due_for_renewal([active], T0 + lease - 1) == [active]
        assert active.next_request_at >= T0 + lease / 2


def test_discovery_prefers_link_headers_and_reads_rss_and_json_feed() -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
      <title>T</title><link>https://pub.example/</link>
      <atom:link rel="hub" href="/hub"/><atom:link rel="self" href="https://pub.example/rss"/>
      <item><title>a</title><guid>1</guid></item></channel></rss>"""
    assert discover(rss, "https://cdn.example/rss").hubs == ("https://cdn.example/hub",)
    assert discover(rss, "https://cdn.example/rss").topic == "https://pub.example/rss"

    headers = ['<https://hub.example/>; rel="hub", <https://pub.example/canonical>; rel=self']
    found = discover(rss, "https://cdn.example/rss", headers)
    assert (found.hubs, found.topic) == (("https://hub.example/",), "https://pub.example/canonical")

    json_feed = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [],'
        b' "hubs": [{"type": "WebSub", "url": "https://hub.example/j"}]}'
    )
    found = discover(json_feed, "https://pub.example/feed.json")
    assert (found.hubs, found.topic) == (("https://hub.example/j",), "https://pub.example/feed.json")

    plain = b"<rss version='2.0'><channel><title>T</title></channel></rss>"
    assert discover(plain, "https://pub.example/rss").hubs == ()


def test_discovery_refuses_feeds_that_declare_xml_entities() -> None:
    laughs = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "hahahahaha"><!ENTITY b "&a;&a;&a;&a;">]>
      <rss version="2.0"><channel><title>&b;</title><atom:link rel="hub" href="https://hub.example/"
      xmlns:atom="http://www.w3.org/2005/Atom"/></channel></rss>"""
    with pytest.raises(FeedError, match="entities"):
        discover(laughs, "https://pub.example/rss")

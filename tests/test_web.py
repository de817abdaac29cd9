"""POST /articles and /healthz as a sender sees them: a real server on 127.0.0.1 and a real client."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web

from bot.core.errors import StoreError
from bot.core.models import Article
from bot.web.server import WebServer, WebServerError, create_web_app

SECRET = "correct horse battery staple"
LIMIT = 4000
GETTY_HTML = (
    "<p>Kyiv said on Monday that talks with NATO allies would continue next week in Brussels.</p>"
    '<figure><img src="x.jpg"><figcaption>President Zelensky at the summit (Image: Getty)</figcaption>'
    "</figure><p>Officials expect an agreement on air defence before the end of the month.</p>"
)


@dataclass
class RecordingIntake:
    batches: list[list[Article]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    fail: bool = False

    async def __call__(self, articles: Sequence[Article]) -> int:
        if self.fail:
            raise StoreError("database is locked")
        self.batches.append(list(articles))
        new = {a.id for a in articles} - self.seen
        self.seen |= new
        return len(new)


@dataclass
class Bot:
    url: str
    http: aiohttp.ClientSession
    intake: RecordingIntake

    async def post(self, body: bytes, *, signature: str | None = "good") -> tuple[int, dict[str, object]]:
        headers = {"Content-Type": "application/json"}
        if signature == "good":
            headers["X-Newsbot-Signature"] = sign(body)
        elif signature is not None:
            headers["X-Newsbot-Signature"] = signature
        async with self.http.post(self.url + "/articles", data=body, headers=headers) as resp:
            return resp.status, await resp.json()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def dumps(value: object) -> bytes:
    return json.dumps(value).encode()


async def extra(request: web.Request) -> web.Response:
    return web.json_response({"extra": True})


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    intake = RecordingIntake()
    app = create_web_app(
        intake=intake, secret=SECRET, max_body_bytes=LIMIT, routes=[web.get("/extra", extra)]
    )
    server = WebServer(app)
    await server.start("127.0.0.1", 0)
    async with aiohttp.ClientSession() as http:
        yield Bot(server.url, http, intake)
    await server.stop()


async def test_a_signed_article_is_cleaned_and_handed_to_intake(bot: Bot) -> None:
    article = {
        "id": "kyiv-talks",
        "title": "Talks go on",
        "html": GETTY_HTML,
        "url": "https://news.example/kyiv-talks",
        "source": "Example News",
        "published": "2026-11-23T09:30:00+02:00",
        "unknown": "ignored",
    }
    status, reply = await bot.post(dumps(article))
    assert (status, reply) == (200, {"accepted": 1, "new": 1})
    [[got]] = bot.intake.batches
    assert got.id == "push:kyiv-talks"  # the sender's id, scoped to the push intake
    assert got.title == "Talks go on" and got.source == "Example News"
    assert got.text.startswith("Kyiv said on Monday")
    assert "Officials expect an agreement" in got.text
    assert "Getty" not in got.text and "figcaption" not in got.text
    assert got.published == datetime(2026, 11, 23, 7, 30, tzinfo=UTC)


async def test_a_signed_list_is_accepted_and_a_repeat_is_not_new(bot: Bot) -> None:
    body = dumps(
        [{"id": "a", "title": "First", "text": "One."}, {"id": 2, "title": "Second", "text": "Two."}]
    )
    assert await bot.post(body) == (200, {"accepted": 2, "new": 2})
    assert await bot.post(body) == (200, {"accepted": 2, "new": 0})
    assert [a.id for a in bot.intake.batches[0]] == ["push:a", "push:2"]
    assert bot.intake.batches[0][1].published is None


async def test_an_empty_list_is_accepted_without_calling_intake(bot: Bot) -> None:
    assert await bot.post(b"[]") == (200, {"accepted": 0, "new": 0})
    assert bot.intake.batches == []


@pytest.mark.parametrize(
    "signature",
    [
        None,
        sign(b'{"id": "x"}', "wrong secret"),
        "sha256=not-hex",
        "md5=" + hashlib.md5(b"x").hexdigest(),
        hmac.new(SECRET.encode(), b'{"id": "x"}', hashlib.sha256).hexdigest(),  # no "sha256=" prefix
    ],
    ids=["missing", "wrong-secret", "garbage", "other-algorithm", "bare-hex"],
)
async def test_unsigned_or_wrongly_signed_pushes_are_refused(bot: Bot, signature: str | None) -> None:
    status, reply = await bot.post(b'{"id": "x"}', signature=signature)
    assert status == 401
    assert "X-Newsbot-Signature" in str(reply["error"])
    assert bot.intake.batches == []


async def test_a_signature_over_a_different_body_is_refused(bot: Bot) -> None:
    status, _ = await bot.post(b'{"id": "y"}', signature=sign(b'{"id": "x"}'))
    assert status == 401
    assert bot.intake.batches == []


async def test_a_body_over_the_limit_is_refused_with_413(bot: Bot) -> None:
    body = dumps({"id": "big", "text": "x" * LIMIT})
    status, reply = await bot.post(body)
    assert status == 413
    assert str(LIMIT) in str(reply["error"])
    assert bot.intake.batches == []


async def test_a_chunked_body_over_the_limit_is_refused_without_a_content_length(bot: Bot) -> None:
    body = dumps({"id": "big", "text": "x" * LIMIT})

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    headers = {"X-Newsbot-Signature": sign(body), "Content-Type": "application/json"}
    async with bot.http.post(bot.url + "/articles", data=chunks(), headers=headers) as resp:
        assert resp.status == 413
    assert bot.intake.batches == []


async def test_malformed_json_is_a_400_with_a_message(bot: Bot) -> None:
    status, reply = await bot.post(b'{"id": "x", "title": ')
    assert status == 400
    assert str(reply["error"]).startswith("not valid JSON")
    assert reply["field"] is None


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ([{"id": "ok", "title": "Fine"}, {"title": "no id"}], "items[1].id", 'missing "id"'),
        ([{"id": "ok"}, {"id": "b"}, {"id": "c", "title": ["x"]}], "items[2].title", "must be a string"),
        ([{"id": "ok"}, "just a string"], "items[1]", "expected a JSON object"),
        ({"id": "a", "published": "last Tuesday"}, "published", "ISO 8601"),
        ({"id": "a", "url": "javascript:alert(1)"}, "url", "http or https"),
        ({"id": "   "}, "id", 'missing "id"'),
        ({"id": True}, "id", "must be a string"),
        (42, None, "expected a JSON object"),
    ],
)
async def test_a_bad_article_is_a_400_naming_the_field_and_nothing_is_stored(
    bot: Bot, payload: object, field: str | None, words: str
) -> None:
    status, reply = await bot.post(dumps(payload))
    assert status == 400
    assert reply["field"] == field
    assert words in str(reply["error"])
    assert bot.intake.batches == []


async def test_a_store_failure_is_a_503_so_the_sender_retries(bot: Bot) -> None:
    bot.intake.fail = True
    status, reply = await bot.post(dumps({"id": "a", "title": "t"}))
    assert status == 503
    assert "try again" in str(reply["error"])


async def test_healthz_and_json_errors_for_unknown_routes(bot: Bot) -> None:
    async with bot.http.get(bot.url + "/healthz") as resp:
        assert (resp.status, await resp.json()) == (200, {"status": "ok"})
    async with bot.http.head(bot.url + "/healthz") as resp:
        assert resp.status == 200  # a GET route answers HEAD too (aiohttp's add_get)
    async with bot.http.get(bot.url + "/nowhere") as resp:
        assert resp.status == 404
        assert "error" in await resp.json()
    async with bot.http.get(bot.url + "/articles") as resp:
        assert resp.status == 405
        assert "POST" in resp.headers["Allow"]
    async with bot.http.get(bot.url + "/extra") as resp:
        assert await resp.json() == {"extra": True}


@pytest.mark.parametrize(
    "routes",
    [
        [web.get("/extra", extra), web.route("get", "/extra", extra)],
        [web.get("/extra", extra), web.post("/other", extra), web.get("/extra", extra)],
        [web.get("/healthz", extra)],
        [web.head("/extra", extra), web.get("/extra", extra)],
    ],
    ids=["same-method-any-case", "not-one-after-the-other", "a-route-of-the-server", "head-of-a-get"],
)
def test_a_second_handler_for_a_route_is_refused(routes: list[web.RouteDef]) -> None:
    with pytest.raises(ValueError, match="already registered"):
        create_web_app(intake=RecordingIntake(), secret=SECRET, max_body_bytes=10, routes=routes)


async def test_a_port_in_use_is_a_clear_error() -> None:
    app = create_web_app(intake=RecordingIntake(), secret=SECRET, max_body_bytes=10)
    first = WebServer(app)
    await first.start("127.0.0.1", 0)
    try:
        second = WebServer(create_web_app(intake=RecordingIntake(), secret=SECRET, max_body_bytes=10))
        with pytest.raises(WebServerError, match=str(first.port)):
            await second.start("127.0.0.1", first.port)
    finally:
        await first.stop()

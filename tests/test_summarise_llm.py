"""The LLM summariser against a fake OpenAI-compatible chat-completions server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.assembly import build_summariser
from bot.config import LlmConfig, SummaryConfig
from bot.core.errors import ConfigError
from bot.core.models import Article, ChannelRef
from bot.matching import default_aliases
from bot.processing.pipeline import Pipeline
from bot.processing.subscriptions import SubscriptionBook
from bot.store import SqliteStore
from bot.summarise.extractive import ExtractiveSummariser
from bot.summarise.llm import LlmSummariser, close_summariser
from tests.loopback import serve

KEY = "sk-test-5ecr3t-never-log-me-0123456789"
SUMMARY = "Ukraine and NATO agreed on new air defence deliveries. The first systems arrive in spring."

ARTICLE = Article(
    id="kyiv-1",
    title="NATO pledges air defence for Ukraine",
    text=(
        "NATO ministers meeting in Brussels on Tuesday agreed to send more air defence systems to Ukraine. "
        "The alliance said the first systems would arrive in the spring. "
        "Officials did not say how many launchers were involved. "
        "Kyiv has asked for help protecting its power grid before winter."
    ),
    url="https://news.example/kyiv-1",
    source="Example News",
    published=datetime(2026, 11, 24, 8, tzinfo=UTC),
)


@dataclass
class FakeLlm:
    """Plays an OpenAI-compatible endpoint. Set ``status``, ``content``, ``raw`` or ``hang`` to misbehave."""

    base: str = ""
    requests: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    status: int = 200
    content: Any = SUMMARY
    finish_reason: str = "stop"
    raw: bytes | None = None
    """Sent as the body of a 200 answer instead of the chat-completions JSON."""
    hang: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"{self.base}/v1"


@pytest.fixture
async def fake() -> AsyncIterator[FakeLlm]:
    state = FakeLlm()

    async def completions(request: web.Request) -> web.Response:
        state.requests.append((dict(request.headers), await request.json()))
        if state.hang:
            await state.release.wait()
        if state.status != 200:
            # Real endpoints echo (part of) a bad key; the summariser must not pass it on to the log.
            error = {"message": f"Incorrect API key provided: {request.headers.get('Authorization')}"}
            return web.json_response({"error": error}, status=state.status, headers=state.headers)
        if state.raw is not None:
            return web.Response(body=state.raw, content_type="application/json")
        message = {"role": "assistant", "content": state.content}
        choice = {"index": 0, "message": message, "finish_reason": state.finish_reason}
        return web.json_response({"id": "chatcmpl-1", "object": "chat.completion", "choices": [choice]})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    async with serve(app) as base:
        state.base = base
        try:
            yield state
        finally:
            state.release.set()


def summariser(
    session: aiohttp.ClientSession, fake: FakeLlm, *, timeout: float = 10.0, max_chars: int = 600, **kw: Any
) -> LlmSummariser:
    return LlmSummariser(
        session, fake.url, "test-model", KEY, timeout, 2000, max_chars, ExtractiveSummariser(), **kw
    )


async def extractive(article: Article = ARTICLE, terms: tuple[str, ...] = ("Ukraine",)) -> str:
    return (await ExtractiveSummariser().summarise(article, terms)).text


# --- success ------------------------------------------------------------------------------------------


async def test_summary_comes_from_the_endpoint_in_the_documented_request_shape(
    fake: FakeLlm, session: aiohttp.ClientSession
) -> None:
    result = await summariser(session, fake).summarise(ARTICLE, ["Ukraine", "NATO"])

    assert result.text == SUMMARY
    assert result.method == "llm"
    assert result.sentences == (
        "Ukraine and NATO agreed on new air defence deliveries.",
        "The first systems arrive in spring.",
    )
    [(headers, body)] = fake.requests
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert body["model"] == "test-model"
    assert body["temperature"] == 0
    assert 0 < body["max_tokens"] <= 1024
    system, user = body["messages"]
    assert system["role"] == "system"
    for asked in ("2 or 3 sentences", "neutral", "factual", "no markdown", "no @-mentions", "no URLs"):
        assert asked in system["content"]
    assert user["role"] == "user"
    assert ARTICLE.title in user["content"]
    assert ARTICLE.text in user["content"]
    assert "Ukraine, NATO" in user["content"]  # the focus terms the summary should mention


async def test_a_long_article_is_sent_cut_to_max_input_chars(
    fake: FakeLlm, session: aiohttp.ClientSession
) -> None:
    long = replace(ARTICLE, text="Ukraine said more today. " * 2000)
    await summariser(session, fake).summarise(long, ["Ukraine"])
    [(_, body)] = fake.requests
    user = body["messages"][1]["content"]
    assert len(user) < 2000 + 200
    assert "Ukraine said more today." in user


async def test_markdown_labels_and_line_breaks_are_cleaned_out(
    fake: FakeLlm, session: aiohttp.ClientSession
) -> None:
    fake.content = (
        "**Summary:**\n\nUkraine gets **more** air defence.\n\nThe first systems arrive in spring.\n"
    )
    result = await summariser(session, fake).summarise(ARTICLE, ["Ukraine"])
    assert result.text == "Ukraine gets more air defence. The first systems arrive in spring."


async def test_an_over_long_summary_is_cut_at_a_word_boundary(
    fake: FakeLlm, session: aiohttp.ClientSession
) -> None:
    fake.content = (
        "NATO ministers agreed in Brussels to send additional air defence systems to Ukraine, "
        "with deliveries expected to begin in spring."
    )
    result = await summariser(session, fake, max_chars=100).summarise(ARTICLE, ["Ukraine"])
    assert result.method == "llm"
    assert len(result.text) <= 100
    assert result.text.endswith("…")
    kept = result.text.removesuffix("…")
    assert fake.content.startswith(kept)
    assert fake.content[len(kept)] == " "  # whole words only
    assert kept.split()[-1] in fake.content.split()


# --- every failure falls back to the extractive summary, with one warning and never the key ------------


def _misbehave(fake: FakeLlm, how: str) -> None:
    match how:
        case "slow":
            fake.hang = True
        case "500":
            fake.status = 500
        case "429":
            fake.status, fake.headers = 429, {"Retry-After": "20"}
        case "401":
            fake.status = 401
        case "malformed JSON":
            fake.raw = b'{"choices": [{"message": {"content": "Ukraine'
        case "HTML instead of JSON":
            fake.raw = b"<html><body>Bad gateway</body></html>"
        case "no choices":
            fake.raw = json.dumps({"object": "chat.completion", "choices": []}).encode()
        case "no content":
            fake.content = None
        case "empty content":
            fake.content = "  \n "
        case "refusal":
            fake.content = "I'm sorry, but I can't help with summarising this article."
        case "far too long":
            fake.content = "Ukraine said more today. " * 200
        case "cut off by max_tokens":
            fake.finish_reason = "length"
        case "a link":
            fake.content = "Ukraine gets air defence. Read more at https://evil.example/login now."
        case "a mention":
            fake.content = "@everyone Ukraine gets air defence."
        case _:
            raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    [
        "slow",
        "500",
        "429",
        "401",
        "malformed JSON",
        "HTML instead of JSON",
        "no choices",
        "no content",
        "empty content",
        "refusal",
        "far too long",
        "cut off by max_tokens",
        "a link",
        "a mention",
    ],
)
async def test_any_failure_gives_the_extractive_summary_and_one_warning_without_the_key(
    how: str, fake: FakeLlm, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _misbehave(fake, how)
    llm = summariser(session, fake, timeout=0.3)

    result = await llm.summarise(ARTICLE, ["Ukraine"])

    assert result.method == "extractive"
    assert result.text == await extractive()
    assert len(fake.requests) == 1
    warnings = [r for r in caplog.records if r.name == "bot.summarise.llm" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "kyiv-1" in warnings[0].getMessage()
    assert "\n" not in warnings[0].getMessage()
    assert KEY not in caplog.text
    assert all(KEY not in r.getMessage() for r in caplog.records)
    assert KEY not in repr(llm)


async def test_an_unreachable_endpoint_falls_back_without_logging_the_key(
    session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()  # nothing listens on the port any more: connection refused
    llm = LlmSummariser(
        session, f"http://127.0.0.1:{port}/v1", "m", KEY, 5.0, 2000, 600, ExtractiveSummariser()
    )
    result = await llm.summarise(ARTICLE, ["Ukraine"])
    assert result.text == await extractive()
    assert "request failed" in caplog.text
    assert KEY not in caplog.text


async def test_a_redirect_is_not_followed_so_the_key_goes_nowhere_else(
    session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    reached: list[str] = []

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect("/elsewhere")

    async def elsewhere(request: web.Request) -> web.Response:
        reached.append(request.headers.get("Authorization", ""))
        return web.json_response({"choices": [{"message": {"content": SUMMARY}}]})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", moved)
    app.router.add_post("/elsewhere", elsewhere)
    async with serve(app) as base:
        llm = LlmSummariser(session, base + "/v1", "m", KEY, 5.0, 2000, 600, ExtractiveSummariser())
        result = await llm.summarise(ARTICLE, ["Ukraine"])
    assert result.method == "extractive"
    assert reached == []
    assert "HTTP 307" in caplog.text


# --- requests saved -----------------------------------------------------------------------------------


async def test_the_same_article_is_summarised_once_and_an_updated_one_again(
    fake: FakeLlm, session: aiohttp.ClientSession
) -> None:
    llm = summariser(session, fake)
    first = await llm.summarise(ARTICLE, ["Ukraine"])
    again = await llm.summarise(ARTICLE, ["Ukraine"])
    assert again == first
    assert len(fake.requests) == 1

    await llm.summarise(replace(ARTICLE, text=ARTICLE.text + " Moscow condemned the decision."), ["Ukraine"])
    assert len(fake.requests) == 2


async def test_a_failing_endpoint_is_left_alone_for_a_while_then_tried_again(
    fake: FakeLlm, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    now = [1000.0]
    llm = summariser(session, fake, cooldown=30.0, clock=lambda: now[0])
    fake.status, fake.headers = 429, {"Retry-After": "90"}
    other = replace(ARTICLE, id="kyiv-2", title="Ukraine grid attacked")

    assert (await llm.summarise(ARTICLE, ["Ukraine"])).method == "extractive"
    assert (await llm.summarise(other, ["Ukraine"])).method == "extractive"
    assert len(fake.requests) == 1  # the second article did not wait on a rate-limited endpoint
    assert "pausing llm summaries for 90s" in caplog.text

    fake.status, fake.headers = 200, {}
    now[0] += 91
    result = await llm.summarise(ARTICLE, ["Ukraine"])  # the failure was not cached
    assert (result.method, len(fake.requests)) == ("llm", 2)


# --- configuration and the pipeline -------------------------------------------------------------------


def config(fake: FakeLlm, *, enabled: bool = True) -> SummaryConfig:
    return SummaryConfig(llm=LlmConfig(enabled=enabled, base_url=fake.url, model="m", api_key_env="LLM_KEY"))


async def test_build_summariser_follows_the_config(fake: FakeLlm) -> None:
    assert isinstance(build_summariser(config(fake, enabled=False), None, {}), ExtractiveSummariser)
    with pytest.raises(ConfigError, match="LLM_KEY is not set"):
        build_summariser(config(fake), None, {})
    bad = SummaryConfig(llm=LlmConfig(enabled=True, base_url="ftp://models.example", api_key_env="LLM_KEY"))
    with pytest.raises(ConfigError, match=r"summary\.llm\.base_url"):
        build_summariser(bad, None, {"LLM_KEY": KEY})

    built = build_summariser(config(fake), None, {"LLM_KEY": KEY})  # owns its session
    try:
        assert isinstance(built, LlmSummariser)
        assert (await built.summarise(ARTICLE, ["Ukraine"])).text == SUMMARY
        assert fake.requests[0][0]["Authorization"] == f"Bearer {KEY}"
    finally:
        await close_summariser(built)
    await close_summariser(ExtractiveSummariser())  # nothing to close, no error


async def test_two_channels_matching_one_article_cost_one_request(fake: FakeLlm, store: SqliteStore) -> None:
    book = SubscriptionBook(default_aliases())
    channels = [ChannelRef("console", "newsroom"), ChannelRef("console", "security")]
    for channel, query in zip(channels, ["Ukraine", "NATO"], strict=True):
        sub, _ = await store.add_subscription(channel, book.parse(query).canonical, query)
        book.add(sub)
    llm = build_summariser(config(fake), None, {"LLM_KEY": KEY})
    try:
        pipeline = Pipeline(store, book, llm, clock=lambda: 1000.0)
        report = await pipeline.process([ARTICLE])
        again = await pipeline.process([ARTICLE])  # replayed: already seen, nothing to summarise
    finally:
        await close_summariser(llm)

    assert (report.matched, report.queued, again.queued) == (1, 2, 0)
    assert len(fake.requests) == 1
    alerts = [item.alert for item in await store.due_alerts(1000.0, 10, ["console"])]
    assert {a.channel for a in alerts} == set(channels)
    assert all(a.summary == SUMMARY for a in alerts)

"""Which URLs and addresses the bot fetches from: the pure policy, then a guarded aiohttp session
against a real server on 127.0.0.1, with host names resolved by a fake resolver (no real DNS)."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.core.errors import FeedError
from bot.core.models import FeedState
from bot.ingest.fetch import HttpReader
from bot.ingest.safety import GuardedResolver, UnsafeUrlError, UrlPolicy, guarded_session
from tests.loopback import serve

REFUSED = [
    ("ftp://example.com/feed.xml", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("javascript:alert(1)", "only http and https"),
    ("example.com/feed.xml", "without a scheme"),
    ("http:///feed.xml", "no host"),
    ("http://[::1/feed", "not a valid URL"),
    ("https://reader:s3cret@example.com/private.rss", "user name or password"),
    ("http://127.0.0.1:8080/rss", "loopback"),
    ("http://127.0.0.1.:8080/rss", "loopback"),
    ("http://[::1]/rss", "loopback"),
    ("http://localhost/rss", "loopback"),
    ("http://feeds.localhost/rss", "loopback"),
    ("http://2130706433/rss", "loopback"),  # legacy numeric forms the C library still accepts
    ("http://0x7f.1/rss", "loopback"),
    ("http://127.1/rss", "loopback"),
    ("http://017700000001/rss", "loopback"),
    ("http://10.1.2.3/rss", "private"),
    ("http://172.16.5.4/rss", "private"),
    ("http://192.168.0.1/rss", "private"),
    ("http://[fc00::1]/rss", "private"),
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "cloud metadata"),
    ("http://100.100.100.200/latest/meta-data/", "cloud metadata"),
    ("http://168.63.129.16/machine", "cloud metadata"),
    ("http://169.254.10.10/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fe80::1%25eth0]/", "link-local"),
    ("http://100.64.1.1/", "carrier-grade NAT"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://192.0.2.10/", "not a public address"),  # documentation range
    ("http://198.18.0.1/", "not a public address"),  # benchmarking range
    ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped IPv6
    ("http://[::ffff:10.0.0.1]/", "private"),
    ("http://[::ffff:169.254.169.254]/", "cloud metadata"),
    ("http://[2002:7f00:1::]/", "loopback address embedded in IPv6"),  # 6to4 of 127.0.0.1
    ("http://[64:ff9b::a00:1]/", "private address embedded in IPv6"),  # NAT64 of 10.0.0.1
]

ALLOWED = [
    "https://example.com/feed.xml",
    "HTTP://Example.COM:8443/rss?x=1",
    "http://bücher.example/rss",
    "http://93.184.216.34/rss",
    "http://[2606:4700:4700::1111]/rss",
    "http://[::ffff:8.8.8.8]/rss",
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_unsafe_urls_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(UnsafeUrlError, match=reason) as info:
        UrlPolicy().check_url(url)
    assert info.value.retryable is False


@pytest.mark.parametrize("url", ALLOWED)
def test_public_http_urls_are_allowed(url: str) -> None:
    UrlPolicy().check_url(url)


def test_a_refusal_says_how_to_allow_the_host() -> None:
    with pytest.raises(UnsafeUrlError) as info:
        UrlPolicy().check_url("http://10.0.0.5/rss")
    assert str(info.value) == "10.0.0.5 is a private address; add it to safety.allow_hosts to fetch from it"


def test_allow_list_by_host_name_ip_and_cidr() -> None:
    policy = UrlPolicy(["Feeds.Intranet.", "127.0.0.1", "10.20.0.0/16", "fd12:3456::/32", "localhost"])
    policy.check_address("feeds.intranet", "10.9.9.9")  # any address of an allowed name
    policy.check_address("whatever.test", "127.0.0.1")
    policy.check_address("whatever.test", "10.20.30.40")
    policy.check_address("whatever.test", "::ffff:10.20.30.40")
    policy.check_address("whatever.test", "fd12:3456::1")
    for url in ("http://127.0.0.1:8080/rss", "http://10.20.1.1/rss", "http://localhost/rss"):
        policy.check_url(url)
    for host, ip in [
        ("other.intranet", "10.9.9.9"),
        ("whatever.test", "127.0.0.2"),
        ("whatever.test", "10.21.0.1"),
        ("whatever.test", "169.254.169.254"),
    ]:
        with pytest.raises(UnsafeUrlError):
            policy.check_address(host, ip)


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "http://intranet/", "*.intranet", ""])
def test_allow_list_entries_that_are_not_hosts_are_rejected(entry: str) -> None:
    with pytest.raises(ValueError, match="allow_hosts"):
        UrlPolicy([entry])


def test_credentials_can_be_allowed() -> None:
    UrlPolicy(allow_credentials=True).check_url("https://reader:s3cret@example.com/private.rss")


# --- the guarded session against a loopback server ---------------------------------------------


class FakeDns(AbstractResolver):
    """Resolves from a table; a name missing from it does not exist."""

    def __init__(self, table: Mapping[str, list[str]]) -> None:
        self.table = table

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self.table:
            raise OSError(f"no such host: {host}")
        return [
            ResolveResult(
                hostname=host,
                host=ip,
                port=port,
                family=socket.AF_INET6 if ":" in ip else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for ip in self.table[host]
        ]

    async def close(self) -> None:
        pass


DNS = FakeDns(
    {
        "public.test": ["127.0.0.1"],  # stands in for a public host: allow-listed by name in these tests
        "internal.test": ["127.0.0.2"],  # a loopback address that is not allow-listed
        "mixed.test": ["93.184.216.34", "10.0.0.5"],
        "world.test": ["93.184.216.34", "2606:4700:4700::1111"],
    }
)


@dataclass
class Server:
    port: int
    paths: list[str] = field(default_factory=list)

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server(port=0)

    async def ok(request: web.Request) -> web.Response:
        state.paths.append(request.path)
        return web.Response(text="ok")

    async def redirect(request: web.Request) -> web.Response:
        state.paths.append(request.path)
        raise web.HTTPFound(request.query["to"])

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/redirect", redirect)
    async with serve(app) as base:
        state.port = int(base.rsplit(":", 1)[1])
        yield state


async def fetch(allow: list[str], url: str) -> str:
    async with guarded_session(UrlPolicy(allow), resolver=DNS) as session, session.get(url) as resp:
        return await resp.text()


async def test_loopback_is_refused_unless_allow_listed(server: Server) -> None:
    with pytest.raises(UnsafeUrlError, match=r"127\.0\.0\.1 is a loopback address"):
        await fetch([], server.url("127.0.0.1", "/ok"))
    assert server.paths == []
    assert await fetch(["127.0.0.1"], server.url("127.0.0.1", "/ok")) == "ok"


async def test_host_names_are_checked_after_resolution(server: Server) -> None:
    assert await fetch(["public.test"], server.url("public.test", "/ok")) == "ok"
    with pytest.raises(UnsafeUrlError, match=r"internal\.test \(127\.0\.0\.2\) is a loopback address"):
        await fetch(["public.test"], server.url("internal.test", "/ok"))
    assert server.paths == ["/ok"]


@pytest.mark.parametrize("target", ["internal.test", "127.0.0.1"])
async def test_redirect_from_an_allowed_host_to_a_private_one_is_refused(server: Server, target: str) -> None:
    url = server.url("public.test", "/redirect?to=" + server.url(target, "/ok"))
    with pytest.raises(UnsafeUrlError, match=re.escape(target) + ".* is a loopback address"):
        await fetch(["public.test"], url)
    assert server.paths == ["/redirect"]  # the private target was never requested


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://public.test/feed.xml"])
async def test_redirect_to_a_non_http_scheme_is_refused(server: Server, target: str) -> None:
    url = server.url("public.test", "/redirect?to=" + target)
    with pytest.raises(aiohttp.NonHttpUrlRedirectClientError):
        await fetch(["public.test"], url)
    async with guarded_session(UrlPolicy(["public.test"]), resolver=DNS) as session:
        reader = HttpReader(session, timeout=5.0, max_body_bytes=1_000_000, user_agent="newsbot-test")
        with pytest.raises(FeedError, match="NonHttpUrlRedirectClientError"):
            await reader.read(FeedState(url))


async def test_a_host_with_any_private_address_is_refused() -> None:
    resolver = GuardedResolver(UrlPolicy(), DNS)
    with pytest.raises(UnsafeUrlError, match=r"mixed\.test \(10\.0\.0\.5\) is a private address"):
        await resolver.resolve("mixed.test", 80)
    assert [r["host"] for r in await resolver.resolve("world.test", 80)] == [
        "93.184.216.34",
        "2606:4700:4700::1111",
    ]


async def test_the_system_resolver_is_guarded_too() -> None:
    resolver = GuardedResolver(UrlPolicy())  # aiohttp's default resolver; localhost needs no network
    with pytest.raises(UnsafeUrlError, match=r"localhost \(.+\) is a loopback address"):
        await resolver.resolve("localhost", 80)
    await resolver.close()


async def test_proxies_are_refused(server: Server) -> None:
    with pytest.raises(ValueError, match="proxy"):
        guarded_session(UrlPolicy(), trust_env=True)
    async with guarded_session(UrlPolicy(["127.0.0.1"])) as session:
        with pytest.raises(UnsafeUrlError, match="proxy"):
            await session.get(server.url("127.0.0.1", "/ok"), proxy=server.url("127.0.0.1", "/"))
    assert server.paths == []

"""What the bot may fetch and what it may parse.

URLs come from chat (feeds users add, article pages), so each one could point the bot at its own
network: loopback, the LAN, a cloud metadata service. :class:`UrlPolicy` decides, purely, which URLs and
addresses are allowed. :func:`guarded_session` makes aiohttp enforce it twice on every hop of every
request, redirects included: a session middleware checks each URL (scheme, credentials, literal IPs,
which aiohttp connects to without resolving), and :class:`GuardedResolver` checks every address DNS
returns. The resolver's answer is what the connector connects to (and caches), so the address checked
is the address used: a DNS-rebinding answer that changes between check and connect cannot slip through.

:func:`check_xml` refuses feeds that declare XML entities before feedparser sees them. Expat caps
entity amplification, but feedparser re-parses a document expat gave up on with its own loose parser,
which expands the entities it kept without any limit: a 0.3 MB feed became a 1 GB description there
(22 s, 2.9 GB peak RSS); refused up front it costs microseconds.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.client_middlewares import ClientHandlerType, ClientMiddlewareType
from aiohttp.client_reqrep import ClientRequest, ClientResponse
from feedparser.encodings import convert_to_utf8
from yarl import URL

from bot.core.errors import FeedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SCHEMES = frozenset({"http", "https"})

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure IMDS, OpenStack, DigitalOcean (also link-local)
        "169.254.170.2",  # AWS ECS task metadata (also link-local)
        "fd00:ec2::254",  # AWS IMDS over IPv6 (also unique-local)
        "100.100.100.200",  # Alibaba Cloud (also carrier-grade NAT space)
        "168.63.129.16",  # Azure WireServer: a public address, so only this list refuses it
        "192.0.0.192",  # Oracle Cloud (also IETF protocol assignments)
    )
)
_PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # well-known NAT64 prefix: the low 32 bits are IPv4
_HOSTNAME = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*$")
_LEGACY_IPV4 = re.compile(r"^[0-9a-fx.]+$")


class UnsafeUrlError(FeedError):
    """A URL or address the bot refuses to fetch. Never retryable: the same URL is refused next time."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class UnsafeXmlError(FeedError):
    """XML the bot refuses to parse (entity declarations). Never retryable."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


def address_refusal(ip: IPAddress) -> str | None:
    """Why the bot must not connect to ``ip`` ("a loopback address", ...), or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d connects to a.b.c.d
            return address_refusal(ip.ipv4_mapped)
        embedded = ip.sixtofour or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if embedded is not None and (reason := address_refusal(embedded)):
            return f"{reason} embedded in IPv6"
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED, "a carrier-grade NAT address"),
        (any(ip in net for net in _PRIVATE if ip.version == net.version), "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def _normalise_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return host


def _literal_ip(host: str) -> IPAddress | None:
    """The address a URL host denotes without DNS: an IP literal, or a legacy numeric IPv4 form
    (``2130706433``, ``0x7f.1``, ``127.1``) that the C library would still connect to."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


class UrlPolicy:
    """Which URLs and addresses may be fetched. Pure: no DNS, no I/O.

    ``allow_hosts`` holds hostnames (exact, case-insensitive), IP addresses and CIDR ranges that are
    exempt from the address check, e.g. ``127.0.0.1`` in tests or an intranet feed host. Credentials in
    URLs are refused unless ``allow_credentials``: a URL typed in chat is seen by the whole channel,
    stored and logged, and ``http://trusted@evil/`` is a classic way to dress one host up as another.
    """

    def __init__(self, allow_hosts: Sequence[str] = (), *, allow_credentials: bool = False) -> None:
        hostnames: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in allow_hosts:
            try:
                networks.append(ipaddress.ip_network(entry.strip().strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            host = _normalise_host(entry)
            if not _HOSTNAME.match(host):
                raise ValueError(f"allow_hosts: {entry!r} is not a hostname, IP address or CIDR range")
            hostnames.add(host)
        self.hostnames = frozenset(hostnames)
        self.networks = tuple(networks)
        self.allow_credentials = allow_credentials

    def is_allowed(self, host: str, ip: IPAddress) -> bool:
        """Whether the allow-list exempts this host name or address."""
        if _normalise_host(host) in self.hostnames:
            return True
        candidates = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        return any(c in net for c in candidates for net in self.networks if c.version == net.version)

    def check_address(self, host: str, ip: str) -> None:
        """Raise :class:`UnsafeUrlError` if ``host``, resolved to ``ip``, must not be connected to."""
        try:
            address = ipaddress.ip_address(ip)
        except ValueError as exc:
            raise UnsafeUrlError(f"{host} resolved to {ip!r}, which is not an IP address") from exc
        reason = address_refusal(address)
        if reason is None or self.is_allowed(host, address):
            return
        where = host if _normalise_host(host) == str(address) else f"{host} ({address})"
        raise UnsafeUrlError(f"{where} is {reason}; add it to safety.allow_hosts to fetch from it")

    def check_url(self, url: str | URL) -> None:
        """Raise :class:`UnsafeUrlError` for a URL the bot must not fetch: not http(s), no host,
        credentials, or a literal IP address the address check refuses. Host names are checked after
        DNS resolution, by :class:`GuardedResolver`."""
        try:
            parsed = url if isinstance(url, URL) else URL(url.strip())
            host = parsed.raw_host or ""
        except (ValueError, TypeError) as exc:
            raise UnsafeUrlError(f"not a valid URL: {str(url)[:200]!r}") from exc
        scheme = parsed.scheme.lower()
        if scheme not in SCHEMES:
            shown = f"{scheme}:" if scheme else "a URL without a scheme"
            raise UnsafeUrlError(f"only http and https URLs can be fetched, not {shown}")
        if not host:
            raise UnsafeUrlError(f"URL has no host: {str(url)[:200]!r}")
        if (parsed.raw_user or parsed.raw_password) and not self.allow_credentials:
            raise UnsafeUrlError("URLs with a user name or password in them are not fetched")
        name = _normalise_host(host)
        ip = _literal_ip(name)
        if ip is None and (name == "localhost" or name.endswith(".localhost")):
            ip = ipaddress.IPv4Address("127.0.0.1")  # always loopback (RFC 6761), whatever DNS says
        if ip is not None:
            self.check_address(host, str(ip))
        elif ":" in host:
            raise UnsafeUrlError(f"not a valid IP address: {host!r}")


class GuardedResolver(AbstractResolver):
    """Resolves with ``inner`` (aiohttp's default resolver unless given), then refuses the whole host
    if any address it resolved to is refused by ``policy``."""

    def __init__(self, policy: UrlPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._inner is None:
            self._inner = aiohttp.DefaultResolver()
        results = await self._inner.resolve(host, port, family)
        for result in results:
            self.policy.check_address(host, result["host"])
        return results

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()


def url_guard(policy: UrlPolicy) -> ClientMiddlewareType:
    """A client middleware that checks every request, including each redirect hop, against ``policy``."""

    async def guard(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        if request.proxy is not None:
            raise UnsafeUrlError("requests through a proxy are refused: the address check needs local DNS")
        policy.check_url(request.url)
        return await handler(request)

    return guard


def guarded_session(
    policy: UrlPolicy,
    *,
    resolver: AbstractResolver | None = None,
    limit: int = 100,
    limit_per_host: int = 0,
    ttl_dns_cache: int | None = 10,
    **session_kwargs: Any,
) -> aiohttp.ClientSession:
    """An aiohttp session that refuses every URL and address ``policy`` refuses, on every redirect hop.

    ``resolver`` is the DNS resolver to guard (tests pass a fake one). Refusals raise
    :class:`UnsafeUrlError` from the request. Proxies are refused: through a proxy the bot never sees
    the address it fetches from, so the check could not be made. Call inside a running event loop.
    """
    if session_kwargs.get("trust_env") or "proxy" in session_kwargs:
        raise ValueError("a guarded session cannot use a proxy: the address check needs local DNS")
    if "connector" in session_kwargs or "middlewares" in session_kwargs:
        raise ValueError("guarded_session builds its own connector and middlewares")
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(policy, resolver),
        limit=limit,
        limit_per_host=limit_per_host,
        ttl_dns_cache=ttl_dns_cache,
    )
    return aiohttp.ClientSession(connector=connector, middlewares=(url_guard(policy),), **session_kwargs)


_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_PROLOG_TOKEN = re.compile(rb"<(?:!--|\?|!DOCTYPE|[A-Za-z_:\x80-\xff])", re.IGNORECASE)
_DOCTYPE_TOKEN = re.compile(rb"[\"'\[\]>]|<!--|<\?")
_CLOSERS = {b"<!--": b"-->", b"<?": b"?>", b'"': b'"', b"'": b"'"}


def check_xml(body: bytes) -> None:
    """Raise :class:`UnsafeXmlError` if the document declares entities (``<!ENTITY``) before its root
    element.

    Entity declarations are how billion-laughs, quadratic-blowup and external-entity (XXE) documents
    work, and feeds do not need them. The document is read as feedparser will read it (converted to
    UTF-8, so a UTF-16 or UTF-7 declaration cannot hide) and checked as text, which also catches what
    feedparser's own DOCTYPE rewriting picks up, e.g. a declaration inside a comment. A ``<!ENTITY`` in
    the body, e.g. in an article about XML, is not a declaration and is allowed. Linear time and no
    expansion: after the UTF-8 conversion, a document without ``<!ENTITY`` costs one byte search.
    """
    if body.lstrip()[:1] == b"{":  # JSON Feed: no entities
        return
    try:
        data = convert_to_utf8({}, body, {})
    except Exception:  # feedparser internals changed or failed: look at the raw bytes instead
        data = body
    found = _ENTITY_DECL.search(data)
    if found is not None and _before_root(data, found.start()):
        raise UnsafeXmlError(
            "feed declares XML entities (<!ENTITY ...>), which can expand to gigabytes; it is not read"
        )


def _before_root(data: bytes, offset: int) -> bool:
    """Whether ``offset`` lies before the root element's start tag: in the prolog, a comment, a
    processing instruction or the DOCTYPE, each skipped as an XML parser skips it."""
    pos = 0
    while pos <= offset:
        token = _PROLOG_TOKEN.search(data, pos)
        if token is None or token.start() > offset:
            return True
        kind = token.group()
        if kind.upper() == b"<!DOCTYPE":
            pos = _doctype_end(data, token.end())
        elif kind in _CLOSERS:
            end = data.find(_CLOSERS[kind], token.end())
            pos = len(data) if end < 0 else end + len(_CLOSERS[kind])
        else:  # "<" and a name: the root element
            return False
    return True


def _doctype_end(data: bytes, pos: int) -> int:
    """Offset just after the DOCTYPE whose keyword ends at ``pos``: its ``>`` outside quoted strings,
    comments, processing instructions and the ``[...]`` internal subset."""
    depth = 0
    while (token := _DOCTYPE_TOKEN.search(data, pos)) is not None:
        kind = token.group()
        pos = token.end()
        if kind in _CLOSERS:
            end = data.find(_CLOSERS[kind], pos)
            pos = len(data) if end < 0 else end + len(_CLOSERS[kind])
        elif kind == b"[":
            depth += 1
        elif kind == b"]":
            depth = max(0, depth - 1)
        elif depth == 0:  # ">"
            return pos
    return len(data)

"""Which addresses the server may connect to on someone else's say-so.

Result image URLs come from the API's reply, callback URLs from visitors: either could point at
the server's own network (a cloud metadata service, a database port, the app itself). Such a URL
is used only when it is http(s) and its host resolves to public addresses alone, unless the host
is one the operator configured (the API's host, the in-process simulator's address).

The check runs before any socket is opened. :func:`public_session` checks again inside every
connection it opens (redirects included) and connects to the very address it checked, so a name
that resolves to a public address first and to a private one next (DNS rebinding) is refused too.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import requests

from ..api.transfer import bounded_request, mount_bounded
from ..errors import UnsafeURLError
from ..text.messages import msg

#: Result images are a few MB; anything far larger is not one.
DOWNLOAD_MAX_BYTES = 40 * 1024 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Origin = tuple[str, int]


def is_public_ip(ip: IPAddress) -> bool:
    """Whether ``ip`` is a public unicast address (not loopback, private, link-local, the cloud
    metadata address, shared, reserved, unspecified or multicast), looking inside IPv6 forms
    that carry an IPv4 address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not is_public_ip(embedded):
            return False
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a URL's host name, as written) is this machine: ``localhost`` or a
    loopback address. No name is resolved."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_origins(hosts: Iterable[str | None]) -> frozenset[Origin]:
    """``(host, port)`` pairs from base URLs such as ``https://api.gpt.ge/kling``."""
    origins = set()
    for value in hosts:
        if not value:
            continue
        parts = urlsplit(value if "://" in value else f"http://{value}")
        if parts.hostname:
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 80)
            origins.add((parts.hostname.rstrip("."), port))
    return frozenset(origins)


def check_public_url(url: str, allowed_hosts: Iterable[str | None] = ()) -> tuple[str, ...]:
    """Refuse ``url`` unless it is http(s) to public addresses only, or to an allowed host.

    ``allowed_hosts`` are base URLs or ``host:port`` of hosts the operator configured; they are
    trusted whatever their address. Returns the checked addresses (empty for an allowed host).
    Raises :class:`UnsafeURLError` before any connection is made.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise UnsafeURLError(msg("netpolicy.invalid")) from None
    if parts.scheme not in _DEFAULT_PORTS or not host:
        raise UnsafeURLError(msg("netpolicy.http_only"))
    port = port or _DEFAULT_PORTS[parts.scheme]
    addresses = public_addresses(host, port, allowed_origins(allowed_hosts))
    return addresses or ()


def public_addresses(host: str, port: int, allowed: frozenset[Origin]) -> tuple[str, ...] | None:
    """The addresses of ``host``, all public, or ``None`` when ``(host, port)`` is allowed.

    Raises :class:`UnsafeURLError` when any address is not public or the name does not resolve.
    """
    name = host.strip("[]").rstrip(".").lower()
    if (name, port) in allowed:
        return None
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        raise UnsafeURLError(msg("netpolicy.unresolved", host=repr(name[:80]))) from None
    addresses = tuple(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    for address in addresses:
        if not is_public_ip(ipaddress.ip_address(address)):
            raise UnsafeURLError(msg("netpolicy.not_public", host=repr(name[:80])))
    if not addresses:
        raise UnsafeURLError(msg("netpolicy.unresolved", host=repr(name[:80])))
    return addresses


def public_session(allowed_hosts: Iterable[str | None] = ()) -> requests.Session:
    """A session that connects only to public addresses (or the allowed hosts), bounded by the
    thread's deadline (see :mod:`.transfer`); it ignores proxy settings and ``.netrc``."""
    allowed = allowed_origins(allowed_hosts)

    def policy(host: str, port: int) -> str | None:
        addresses = public_addresses(host, port, allowed)
        return addresses[0] if addresses else None

    session = requests.Session()
    session.trust_env = False  # a proxy would fetch on our behalf from wherever it sits
    session.max_redirects = 5
    mount_bounded(session, policy)
    return session


def download(
    url: str,
    *,
    allowed_hosts: Iterable[str | None] = (),
    budget: float = 70.0,
    max_bytes: int = DOWNLOAD_MAX_BYTES,
    session: requests.Session | None = None,
) -> bytes:
    """The body of ``url`` when it is public (or allowed), at most ``max_bytes`` within
    ``budget`` seconds. Raises :class:`UnsafeURLError` or a ``requests`` error."""
    hosts = tuple(allowed_hosts)
    check_public_url(url, hosts)
    own = session is None
    http = session or public_session(hosts)
    try:
        response, body = bounded_request(
            http, "GET", url, budget=budget, max_bytes=max_bytes, timeout=(budget, budget)
        )
        response.raise_for_status()
        return body
    finally:
        if own:
            http.close()

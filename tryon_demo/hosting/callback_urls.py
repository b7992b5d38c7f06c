"""Which callback URLs a public deployment passes on for a visitor.

The API (or, offline, the app's own simulator) POSTs every status change of a task to the
callback URL the visitor typed. In a public deployment that would let a stranger make the
server's side send requests into the server's own network (loopback ports, the private network,
the cloud's metadata address), so there only public internet addresses are accepted, and the
check runs before anything is prepared or created.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from ..errors import InputError
from ..text.messages import msg
from .netpolicy import is_public_ip

Resolver = Callable[[str, int], Sequence[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (DNS only: no connection is opened)."""
    infos: list[Any] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public_address(address: str) -> bool:
    """Whether ``address`` is a public internet address, by the same rule as result downloads
    (:func:`netpolicy.is_public_ip`: IPv6 forms that carry an IPv4 address are looked into)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return False
    return is_public_ip(ip)


def check_callback_url(url: str | None, *, public: bool, resolver: Resolver = resolve) -> None:
    """Refuse a visitor's callback URL that points at the server's own network.

    Does nothing for an empty URL or a private deployment (the operator may want a callback on
    their own machine). Raises :class:`InputError` with the reason otherwise.
    """
    text = (url or "").strip()
    if not text or not public:
        return
    parts = urlsplit(text)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = 0
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host or not port:
        raise InputError(msg("client.bad_callback", url=repr(text[:80])))
    try:
        addresses = list(resolver(host, port))
    except (OSError, UnicodeError):
        addresses = []
    if not addresses:
        raise InputError(msg("callback.host_not_found", host=repr(host[:80])))
    if not all(is_public_address(address) for address in addresses):
        raise InputError(msg("callback.own_network", host=repr(host[:80])))

"""Bounded HTTP transfers: a deadline for the whole request and a cap on the bytes read.

``requests`` timeouts apply to each socket read, so a server that sends one byte every few
seconds never trips them and a request can hang for ever, holding a thread. Every request made
through a :class:`BoundedAdapter` inside a :class:`Deadline` is bounded instead: when the budget
runs out a timer shuts the request's socket, which wakes a blocked read at once (headers or
body). Bodies are read in chunks, with the clock and the size checked between chunks.

The adapter can also vet the address of every connection it opens (see :mod:`.netpolicy`).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError
from urllib3.poolmanager import ProxyManager

#: Chooses the IP address a connection to ``(host, port)`` may use; ``None`` means "connect as
#: usual". Raises to refuse the connection before any socket is opened.
AddressPolicy = Callable[[str, int], str | None]

_CHUNK = 16 * 1024
_local = threading.local()


class TransferError(requests.RequestException):
    """A transfer stopped by its bounds rather than by the network."""


class DeadlineExceeded(TransferError):
    """The whole request took longer than its budget; ``partial`` is the body read so far."""

    def __init__(self, seconds: float, partial: bytes = b"") -> None:
        super().__init__(f"no complete answer within {seconds:g} s")
        self.seconds = seconds
        self.partial = partial


class ReplyTooLarge(TransferError):
    """The body was larger than the caller accepts."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"reply larger than {limit} bytes")
        self.limit = limit


class Deadline:
    """A budget for one request; use as a context manager around the request and its reading.

    While active (on this thread), connections made or used by a :class:`BoundedAdapter` attach
    their socket to it; when the budget runs out those sockets are shut down.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = max(0.0, seconds)
        self.ends = time.monotonic() + self.seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(self.seconds, self._expire)
        self._timer.daemon = True
        self._outer: Deadline | None = None

    def __enter__(self) -> Deadline:
        self._outer = getattr(_local, "deadline", None)
        _local.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _local.deadline = self._outer
        with self._lock:
            self._sockets.clear()

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.ends - time.monotonic())

    def spent(self) -> bool:
        """Whether the budget has run out."""
        if not self.expired and time.monotonic() >= self.ends:
            self.expired = True
        return self.expired

    def attach(self, sock: socket.socket | None) -> None:
        """Shut ``sock`` down when the budget runs out (at once if it already has)."""
        if sock is None:
            return
        with self._lock:
            if not self.expired:
                if sock not in self._sockets:
                    self._sockets.append(sock)
                return
        _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)


def current_deadline() -> Deadline | None:
    """The deadline active on this thread, if any."""
    return getattr(_local, "deadline", None)


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for TLS sockets: it wakes a read blocked in another
    # thread without touching the TLS object that read is using.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Bounded:
    """Mixed into urllib3's connections: vet the address, attach the socket to the deadline."""

    address_policy: AddressPolicy | None = None
    _dns_host: str
    port: int
    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        policy = type(self).address_policy
        address = policy(self._dns_host, self.port) if policy is not None else None
        if address is None:
            return super()._new_conn()  # type: ignore[misc,no-any-return]
        # Connect to the address that was checked, not to a fresh lookup of the name (which a
        # hostile DNS server could answer differently); Host and TLS still use the name.
        name, self._dns_host = self._dns_host, address
        try:
            return super()._new_conn()  # type: ignore[misc,no-any-return]
        finally:
            self._dns_host = name

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _attach_current(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach_current(self.sock)  # a kept-alive connection: already connected
        super().request(*args, **kwargs)  # type: ignore[misc]


def _attach_current(sock: socket.socket | None) -> None:
    deadline = current_deadline()
    if deadline is not None:
        deadline.attach(sock)


class BoundedAdapter(HTTPAdapter):
    """An adapter whose connections obey the thread's :class:`Deadline` and ``address_policy``."""

    def __init__(self, address_policy: AddressPolicy | None = None, **kwargs: Any) -> None:
        attrs = {"address_policy": staticmethod(address_policy) if address_policy else None}
        http_conn = type("BoundedHTTPConnection", (_Bounded, HTTPConnection), attrs)
        https_conn = type("BoundedHTTPSConnection", (_Bounded, HTTPSConnection), attrs)
        self._pool_classes = {
            "http": type("BoundedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type(
                "BoundedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}
            ),
        }
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if isinstance(manager, ProxyManager):  # an HTTP(S) proxy; SOCKS pools are their own
            manager.pool_classes_by_scheme = self._pool_classes
        return manager


def mount_bounded(session: requests.Session, address_policy: AddressPolicy | None = None) -> None:
    """Make every http(s) request of ``session`` bounded (and vetted by ``address_policy``)."""
    adapter = BoundedAdapter(address_policy)
    session.mount("http://", adapter)
    session.mount("https://", adapter)


def bounded_request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    budget: float,
    max_bytes: int,
    **kwargs: Any,
) -> tuple[requests.Response, bytes]:
    """Send a request and read its whole body within ``budget`` seconds and ``max_bytes``.

    Raises :class:`DeadlineExceeded`, :class:`ReplyTooLarge`, or what ``requests`` raises.
    ``session`` should have a :class:`BoundedAdapter` mounted (see :func:`mount_bounded`).
    """
    with Deadline(budget) as deadline:
        try:
            with session.request(method, url, stream=True, **kwargs) as response:
                body = read_capped(response, max_bytes, deadline)
        except TransferError:
            raise
        except requests.RequestException as exc:
            if deadline.expired:
                raise DeadlineExceeded(deadline.seconds) from exc
            raise
    return response, body


def read_capped(response: requests.Response, max_bytes: int, deadline: Deadline) -> bytes:
    """The body of a streamed response, refusing more than ``max_bytes`` or a spent deadline.

    Reads what has arrived (``read1``) rather than waiting for whole chunks, so the clock is
    checked between the bytes of a trickle and a cut-off keeps what came before it.
    """
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            chunk = response.raw.read1(_CHUNK, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise ReplyTooLarge(max_bytes)
            chunks.append(chunk)
            if deadline.spent():
                raise DeadlineExceeded(deadline.seconds, b"".join(chunks))
    except TransferError:
        raise
    except (HTTPError, OSError) as exc:
        if deadline.spent():  # the watchdog shut the socket: say so, not "connection broken"
            raise DeadlineExceeded(deadline.seconds, b"".join(chunks)) from exc
        raise requests.ConnectionError(f"the reply broke off: {type(exc).__name__}") from exc
    if deadline.expired:
        # The watchdog cut the connection, and what was read up to the cut can look whole: a
        # status line cut to "HTTP/1.1 200" reads as a reply with no headers and no body.
        raise DeadlineExceeded(deadline.seconds, b"".join(chunks))
    return b"".join(chunks)

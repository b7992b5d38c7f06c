"""Deadlines for a connection's request headers and for each pause in its body, beneath every
ASGI middleware.

uvicorn with h11 (the server Gradio starts: ``http="auto"`` without ``httptools``) waits for a
request's headers forever: 2,000 connections that had sent half a request line were all still
held 90 s later, each a socket and a protocol object, and more would have run the process out
of file descriptors. It waits as long for a body that stops halfway, with the app's request
(and whatever it holds) waiting on it. ASGI middleware cannot help with the headers (the app
is first called once they are complete), nor tell a stalled client from a slow app.

:class:`HeaderTimeoutProtocol` is uvicorn's h11 protocol with two additions: a connection whose
request headers are not complete ``timeout`` seconds after it opened, or after the previous
response on a kept-alive connection, is closed; so is one whose body, once begun, sends
nothing for :data:`BODY_PAUSE_FACTOR` times as long (a phone's upload may pause a few seconds
on a poor network; it does not stop for half a minute). A pause that is the server's own (the
app not reading yet, or a ``100 Continue`` not yet sent) does not count. Otherwise nothing
changes (uvicorn closes a kept-alive connection idle for 5 s). :func:`install` makes it
uvicorn's ``auto`` and ``h11`` protocol for this process, on the uvicorn version it was checked
against; ``TRYON_HEADER_TIMEOUT=0`` leaves uvicorn as it is.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

import h11
import uvicorn
from uvicorn import config as uvicorn_config
from uvicorn.importer import import_from_string
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

#: uvicorn releases whose h11 protocol this was checked against (tests/test_header_timeout.py).
CHECKED_VERSIONS = frozenset({"0.54.0"})
#: Where uvicorn finds this protocol when told ``http="auto"`` or ``"h11"``.
PROTOCOL_PATH = f"{__name__}:HeaderTimeoutProtocol"
#: How many times the header deadline a request's body may send nothing once it has begun.
BODY_PAUSE_FACTOR = 3.0


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers are late."""

    #: Seconds a connection has to complete its request headers (set by :func:`install`).
    timeout: ClassVar[float] = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.SEND_BODY:
            self._await_body()  # every piece of a body starts its pause anew
        elif self.conn.their_state is not h11.IDLE:
            self._headers_in()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._await_headers()  # kept alive: the next request's headers are due
        else:
            self._headers_in()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_in()
        super().connection_lost(exc)

    def _await_headers(self) -> None:
        self._headers_in()
        self._deadline = self.loop.call_later(self.timeout, self._headers_late)

    def _headers_in(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_late(self) -> None:
        self._deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    def _await_body(self) -> None:
        self._headers_in()
        self._deadline = self.loop.call_later(self.timeout * BODY_PAUSE_FACTOR, self._body_late)

    def _body_late(self) -> None:
        self._deadline = None
        if self.conn.their_state is not h11.SEND_BODY or self.transport.is_closing():
            return
        cycle = self.cycle
        if self.flow.read_paused or (cycle is not None and cycle.waiting_for_100_continue):
            self._await_body()  # the server is the one not reading yet: not the client's pause
            return
        self.transport.close()  # the app's receive() then hears the client went away


def install(timeout: float) -> bool:
    """Serve this process's uvicorn connections with :class:`HeaderTimeoutProtocol`, whose
    deadline is ``timeout`` seconds (0 leaves uvicorn as it is); True when it is in place."""
    if timeout <= 0:
        return False
    if uvicorn.__version__ not in CHECKED_VERSIONS:
        log.warning(
            "uvicorn %s: no deadline for request headers (checked: %s)",
            uvicorn.__version__,
            ", ".join(sorted(CHECKED_VERSIONS)),
        )
        return False
    auto = import_from_string(uvicorn_config.HTTP_PROTOCOLS["auto"])
    if auto is not H11Protocol and auto is not HeaderTimeoutProtocol:
        log.warning("uvicorn serves HTTP with %s: no deadline for request headers", auto)
        return False
    HeaderTimeoutProtocol.timeout = timeout
    uvicorn_config.HTTP_PROTOCOLS["auto"] = PROTOCOL_PATH
    uvicorn_config.HTTP_PROTOCOLS["h11"] = PROTOCOL_PATH
    return True

"""The HTTP door the API's callbacks come in by: ``POST /callbacks/<token>``, beside Gradio.

It is reachable without the access password (the API cannot log in; the unguessable token is the
credential) and so trusts nothing: it accepts only a POST of a JSON object of at most 64 KB, for a
token a run is waiting on, once per task state. Everything else gets a bare 404, the same for a
wrong method, a wrong token or a bad body, so it tells a prober nothing. Refusals are counted per
client address: an address refused too often gets 429 until its window passes, which makes
guessing tokens hopeless. An accepted callback only wakes the waiting run (see
:mod:`tryon_demo.hosting.callback_inbox`); the run confirms with its own status query.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from ..settings import Rate
from . import access
from .callback_inbox import CALLBACK_PREFIX, TOKEN_PATTERN, Inbox
from .limits import SlidingWindows

log = logging.getLogger(__name__)

CALLBACK_PATH = CALLBACK_PREFIX + "{token}"
#: The largest callback body read; a task object is well under 2 KB.
MAX_BODY_BYTES = 64 * 1024
#: Deeper JSON than this is not a task object (and deep nesting costs recursion to walk).
MAX_DEPTH = 16
#: Refused callbacks one client address may send before it is told to wait (429).
REFUSALS = Rate(60, 60.0)


class CallbackEndpoint:
    """The ASGI app behind :data:`CALLBACK_PATH` (any method reaches it: all but POST get 404)."""

    def __init__(
        self,
        inbox: Inbox,
        trusted_proxies: int = 0,
        *,
        refusals: Rate = REFUSALS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inbox = inbox
        self.trusted_proxies = trusted_proxies
        self._refusals = SlidingWindows(refusals)
        self._clock = clock
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        address = access.client_address(
            request.client.host if request.client else None,
            request.headers.getlist("x-forwarded-for"),
            self.trusted_proxies,
        )
        with self._lock:
            _, wait = self._refusals.wait(address, self._clock())
        # A callback for a token a run waits on is never held back: refusals are counted per
        # sender, and the API sends everyone's callbacks, so strangers who made it send bogus
        # ones (from accounts of their own) must not shut the door on the genuine ones.
        token = str(request.path_params.get("token", ""))
        if wait and TOKEN_PATTERN.fullmatch(token) and self.inbox.knows(token):
            wait = 0
        if wait:
            response = Response(status_code=429, headers={"Retry-After": str(wait)})
        elif await self._accept(request):
            response = Response(status_code=204)
        else:
            with self._lock:
                self._refusals.add(address, self._clock())
            response = Response(status_code=404)
        await response(scope, receive, send)

    async def _accept(self, request: Request) -> bool:
        token = str(request.path_params.get("token", ""))
        if request.method != "POST" or not TOKEN_PATTERN.fullmatch(token):
            return False
        if not self.inbox.knows(token):  # before reading a byte of the body
            return False
        kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind != "application/json":
            return False
        body = await _read_capped(request, MAX_BODY_BYTES)
        if body is None:
            return False
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            return False
        if not isinstance(value, dict) or _depth(value) > MAX_DEPTH:
            return False
        accepted = self.inbox.deliver(token, value)
        if accepted:
            log.info("callback received: %s", value.get("task_status"))
        return accepted


def callback_routes(inbox: Inbox, trusted_proxies: int = 0) -> list[BaseRoute]:
    """The route to mount on the app (Gradio's ``app_kwargs={"routes": ...}``)."""
    return [Route(CALLBACK_PATH, CallbackEndpoint(inbox, trusted_proxies))]


def loopback_url(server_name: str | None, port: int) -> str:
    """The address at which something on this machine (the offline simulator) reaches a server
    listening on ``server_name:port``: always a loopback address, the only kind the simulator
    calls back to."""
    host = (server_name or "").strip().strip("[]")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None and ip.version == 6 and (ip.is_loopback or ip.is_unspecified):
        return f"http://[::1]:{port}"
    return f"http://127.0.0.1:{port}"


async def _read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or ``None`` once it is (or says it will be) longer than ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                return None
        except ValueError:
            return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _depth(value: Any) -> int:
    """How deeply ``value`` nests, walked without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest

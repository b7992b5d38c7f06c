"""Who a visitor is, and the door every request passes: the password, and a brake on guessing it.

Gradio's own login covers its page and API routes, but not what is mounted beside them (the MCP
server answers anonymous tool calls) nor a few of its own routes. :class:`AccessGuard` is an ASGI
middleware in front of the whole app: with ``TRYON_ACCESS_PASSWORD`` set, a request passes only
with Gradio's login cookie, an ``Authorization: Basic`` (user and password) or ``Bearer``
(the password) header, or to the few routes the login page itself needs, or as a POST to
``/callbacks/<token>`` (the API's callbacks: that route checks its unguessable token itself). It
also throttles password guesses per client address.

A visitor is keyed on the client address, taken from ``X-Forwarded-For`` only as far as
``TRYON_TRUSTED_PROXIES`` proxies vouch for it (see :func:`client_address`); a client can mint a
new Gradio session at will, but not a new address.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.middleware import Middleware
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..settings import Settings
from .callback_inbox import CALLBACK_PREFIX, TOKEN_PATTERN

#: Routes that answer without the password: the login page, its assets and its own questions.
PUBLIC_PATHS = frozenset(
    {
        "/",
        "/login",
        "/login/",
        "/logout",
        "/favicon.ico",
        "/robots.txt",
        "/manifest.json",
        "/theme.css",
        "/gradio_api/theme.css",
        "/gradio_api/login_check",
        "/gradio_api/login_check/",
        "/gradio_api/user",
        "/gradio_api/user/",
        "/gradio_api/token",
        "/gradio_api/token/",
        "/gradio_api/app_id",
        "/gradio_api/app_id/",
        "/gradio_api/startup-events",
    }
)
#: Static files of the page (the login form is part of it).
PUBLIC_PREFIXES = ("/static/", "/assets/", "/svelte/", "/pwa_icon")
LOGIN_PATHS = frozenset({"/login", "/login/"})
#: Set in the request's scope by :class:`~tryon_demo.hosting.owner_door.OwnerGuard` on the
#: owner's paths, which it guards with the owner's password: not this guard's to open.
OWNER_DOOR = "tryon.owner_door"
#: The most ``/tryon`` calls (outside Gradio's queue, each open until its task ends) app-wide;
#: more wait for a free slot.
API_CONCURRENCY = 32


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted_proxies: int) -> str:
    """The client's address as the outermost trusted proxy saw it.

    Each proxy appends the address it was connected from to ``X-Forwarded-For``; entries to
    the left of the ones the trusted proxies added were written by the client and prove
    nothing. With ``trusted_proxies`` 0 the connection's own address is used (uvicorn does not
    rewrite it from the header: see :func:`trust_forwarded_headers_here_only`).
    """
    entries = [part.strip() for value in forwarded_for for part in value.split(",")]
    entries = [entry for entry in entries if entry]
    if trusted_proxies <= 0 or not entries:
        return counted_as((peer or "unknown")[:64])
    return counted_as(entries[-min(trusted_proxies, len(entries))][:64].lower())


def counted_as(address: str) -> str:
    """What one visitor's counts are kept under: an IPv4 address as it is, an IPv6 address as
    its /64 network. A subscriber's line gets a /64 (2^64 addresses) to pick from at will, so
    counting each address apart would give one visitor endless allowances."""
    try:
        parsed = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address  # not an address (a test's name, "unknown"): counted as it is
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def trust_forwarded_headers_here_only() -> None:
    """Stop uvicorn from taking the client's address from ``X-Forwarded-For`` itself.

    uvicorn trusts the header from loopback peers by default (``FORWARDED_ALLOW_IPS``), so
    behind a proxy or tunnel on the same machine that passes a client's own header on, any
    visitor could pick the address their limits and login throttle are counted under. The
    header is read only by :func:`client_address`, as ``TRYON_TRUSTED_PROXIES`` says. An
    operator who set ``FORWARDED_ALLOW_IPS`` keeps their setting.
    """
    os.environ.setdefault("FORWARDED_ALLOW_IPS", "")


def scope_address(trusted_proxies: int) -> Callable[[Scope], str]:
    """A function giving an ASGI request's client address, as :func:`client_address` reads it
    (for middleware that counts per visitor before Gradio sees the request)."""

    def address(scope: Scope) -> str:
        headers = _headers(scope)
        peer = (scope.get("client") or (None,))[0]
        return client_address(peer, headers.get("x-forwarded-for", []), trusted_proxies)

    return address


def visitor_key(request: Any, trusted_proxies: int) -> str:
    """The key a visitor's limits are counted under: ``ip:<address>``.

    ``request`` is a ``gr.Request`` (or anything with ``client`` and ``headers``). The login
    user is not used: the password is one shared user name, so it would put every visitor in
    one bucket.
    """
    if request is None:
        return "ip:unknown"
    peer = getattr(getattr(request, "client", None), "host", None)
    headers = getattr(request, "headers", None)
    values: list[str] = []
    if headers is not None:
        getlist = getattr(headers, "getlist", None)
        if callable(getlist):
            values = [str(v) for v in getlist("x-forwarded-for")]
        else:
            found = headers.get("x-forwarded-for") if hasattr(headers, "get") else None
            values = [str(found)] if found else []
    return "ip:" + client_address(peer, values, trusted_proxies)


@dataclass
class _Record:
    attempts: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0
    strikes: int = 0


class LoginThrottle:
    """Password attempts per client address: after ``failures`` within ``window`` seconds the
    address is refused for ``first_lockout`` seconds, doubling with each new lockout up to
    ``max_lockout``. An attempt counts when it starts (so a burst sent at once is held too)
    and is forgiven when it succeeds."""

    def __init__(
        self,
        failures: int = 5,
        window: float = 60.0,
        first_lockout: float = 30.0,
        max_lockout: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures = failures
        self.window = window
        self.first_lockout = first_lockout
        self.max_lockout = max_lockout
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, _Record] = {}

    def attempt(self, address: str) -> int:
        """Count one attempt; the seconds to wait instead if ``address`` is locked out."""
        with self._lock:
            now = self._clock()
            record = self._records.setdefault(address, _Record())
            if record.locked_until > now:
                return max(1, round(record.locked_until - now))
            if record.strikes and now - record.locked_until > self.max_lockout:
                record.strikes = 0  # quiet for long enough: start over
            while record.attempts and record.attempts[0] <= now - self.window:
                record.attempts.popleft()
            record.attempts.append(now)
            if len(record.attempts) >= self.failures:
                lockout = min(self.max_lockout, self.first_lockout * 2**record.strikes)
                record.strikes += 1
                record.locked_until = now + lockout
                record.attempts.clear()
            self._forget_idle(now)
            return 0

    def succeeded(self, address: str) -> None:
        """The attempt had the right password: forget this address's record."""
        with self._lock:
            self._records.pop(address, None)

    def _forget_idle(self, now: float) -> None:
        if len(self._records) <= 10_000:
            return
        horizon = now - max(self.window, self.max_lockout)
        for key in [
            k
            for k, r in self._records.items()
            if r.locked_until < horizon and (not r.attempts or r.attempts[-1] < horizon)
        ]:
            del self._records[key]


class AccessGuard:
    """ASGI middleware: the password on every route but the login page's, and login throttling.

    Refusals look like Gradio's own (401 with ``auth_message``) so the page shows its login
    form; a locked-out address gets 429 and ``Retry-After`` without its password being checked.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        user: str,
        password: str,
        trusted_proxies: int,
        auth_message: str,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self.app = app
        self.user = user
        self.password = password
        self.trusted_proxies = trusted_proxies
        self.auth_message = auth_message
        self.throttle = throttle or LoginThrottle()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope.get(OWNER_DOOR):
            await self.app(scope, receive, send)
            return
        path = _route_path(scope)
        headers = _headers(scope)
        address = client_address(
            (scope.get("client") or (None,))[0],
            headers.get("x-forwarded-for", []),
            self.trusted_proxies,
        )
        if path in LOGIN_PATHS and scope.get("method") == "POST":
            await self._login(address, scope, receive, send)
            return
        if self._has_login_cookie(scope, headers) or _is_public(path, scope.get("method", "GET")):
            await self.app(scope, receive, send)
            return
        credential = (headers.get("authorization") or [""])[0]
        if credential:
            wait = self.throttle.attempt(address)
            if wait:
                await _refuse_throttled(wait, scope, send)
                return
            if self._valid(credential):
                self.throttle.succeeded(address)
                await self.app(scope, receive, send)
                return
        await self._refuse(path, scope, send)

    async def _login(self, address: str, scope: Scope, receive: Receive, send: Send) -> None:
        wait = self.throttle.attempt(address)
        if wait:
            await _refuse_throttled(wait, scope, send)
            return

        async def observe(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                self.throttle.succeeded(address)
            await send(message)

        await self.app(scope, receive, observe)

    def _has_login_cookie(self, scope: Scope, headers: dict[str, list[str]]) -> bool:
        app = scope.get("app")
        tokens = getattr(app, "tokens", None)
        cookie_id = getattr(app, "cookie_id", None)
        if not tokens or cookie_id is None:
            return False
        cookies = cookie_parser("; ".join(headers.get("cookie", [])))
        return any(
            cookies.get(name) in tokens
            for name in (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}")
        )

    def _valid(self, credential: str) -> bool:
        scheme, _, value = credential.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer":
            return hmac.compare_digest(value.encode(), self.password.encode())
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            same_user = hmac.compare_digest(user.encode(), self.user.encode())
            return hmac.compare_digest(password.encode(), self.password.encode()) and same_user
        return False

    async def _refuse(self, path: str, scope: Scope, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = {"detail": {"error": "Not authenticated", "auth_message": self.auth_message}}
        extra = []
        if path.startswith("/gradio_api/mcp"):  # tells an MCP client which credential to send
            extra.append((b"www-authenticate", b'Basic realm="Kolors Try-On Studio"'))
        await _send_json(send, 401, body, extra)


def access_middleware(settings: Settings, auth_message: str) -> list[Middleware]:
    """The middleware a launch needs: the guard when a password is set, else nothing."""
    if not settings.access_password:
        return []
    return [
        Middleware(
            AccessGuard,
            user=settings.access_user,
            password=settings.access_password,
            trusted_proxies=settings.trusted_proxies,
            auth_message=auth_message,
        )
    ]


def _route_path(scope: Scope) -> str:
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", "") or "")
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    return path


def _headers(scope: Scope) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in scope.get("headers", []):
        found.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return found


def _is_public(path: str, method: str) -> bool:
    if method == "POST" and _is_callback(path):
        return True  # the API cannot log in: the route checks the token itself
    if method not in ("GET", "HEAD"):
        return False
    if path in PUBLIC_PATHS:
        return True
    segments: Sequence[str] = path.split("/")
    if ".." in segments or "." in segments:  # never let a public prefix reach elsewhere
        return False
    return path.startswith(PUBLIC_PREFIXES)


def _is_callback(path: str) -> bool:
    """``/callbacks/<token>`` exactly: one segment shaped like a token, nothing below it."""
    token = path.removeprefix(CALLBACK_PREFIX)
    return token != path and TOKEN_PATTERN.fullmatch(token) is not None


async def _refuse_throttled(wait: int, scope: Scope, send: Send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = {"detail": f"Too many password attempts from your address. Try again in {wait} s."}
    await _send_json(send, 429, body, [(b"retry-after", str(wait).encode())])


async def _send_json(
    send: Send, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]]
) -> None:
    data = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})

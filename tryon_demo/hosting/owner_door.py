"""The owner's door: ``/metrics``, ``/owner/usage.json`` and the ``/owner`` page, behind
``TRYON_OWNER_PASSWORD`` and nothing else.

:class:`OwnerGuard` sits in front of the whole app, before the visitors' guard. For a path of
the owner's it decides alone:

- no owner password set: 404, whoever asks (the routes do not exist);
- ``/metrics`` and ``/owner/usage.json``: ``Authorization: Bearer <owner password>`` or 401
  (a locked-out address 429), counted by the same kind of login throttle as the visitors'
  password, then served by :func:`owner_routes`;
- the ``/owner`` page: handed to the owner's own Gradio app, mounted there with its own login
  (user ``owner``) and its own :class:`~.access.AccessGuard` for the owner's password, which
  throttles its login too.

The visitors' password opens none of it: the visitors' guard lets through only what this
guard marked as the owner's (:data:`~.access.OWNER_DOOR`), and what it marked still needs the
owner's password. Neither password is ever written into a page, a reply or a log.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .access import OWNER_DOOR, AccessGuard, LoginThrottle, client_address
from .usage_metrics import CONTENT_TYPE
from .usage_report import UsageReport

#: The user name of the owner's login on the ``/owner`` page.
OWNER_USER = "owner"
OWNER_PAGE = "/owner"
METRICS_PATH = "/metrics"
USAGE_PATH = "/owner/usage.json"
#: Answers about the owner's figures are never kept by a browser or a proxy.
NO_STORE = {"cache-control": "no-store"}


def is_owner_path(path: str) -> bool:
    """Whether ``path`` is one of the owner's (the page, everything under it, the metrics)."""
    return path in (METRICS_PATH, OWNER_PAGE) or path.startswith(OWNER_PAGE + "/")


class OwnerGuard:
    """ASGI middleware: the owner's paths answer 404 without an owner password, need it with
    one, and are never the visitors' guard's business (see the module's docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        password: str | None,
        trusted_proxies: int,
        throttle: LoginThrottle,
    ) -> None:
        self.app = app
        self.password = password
        self.trusted_proxies = trusted_proxies
        self.throttle = throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = _route_path(scope)
        if scope["type"] not in ("http", "websocket") or not is_owner_path(path):
            await self.app(scope, receive, send)
            return
        if not self.password:
            await _answer(scope, send, 404, {"detail": "Not Found"})
            return
        if path in (METRICS_PATH, USAGE_PATH):
            await self._bearer(scope, receive, send)
            return
        scope[OWNER_DOOR] = "page"  # the owner's Gradio app asks for the owner's login
        await self.app(scope, receive, send)

    async def _bearer(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        credential = headers.get("authorization", "")
        if credential:
            address = client_address(
                (scope.get("client") or (None,))[0],
                [headers.get("x-forwarded-for", "")],
                self.trusted_proxies,
            )
            wait = self.throttle.attempt(address)
            if wait:
                await _answer(
                    scope,
                    send,
                    429,
                    {"detail": f"Too many password attempts. Try again in {wait} s."},
                    [(b"retry-after", str(wait).encode())],
                )
                return
            if self._valid(credential):
                self.throttle.succeeded(address)
                scope[OWNER_DOOR] = "bearer"
                await self.app(scope, receive, send)
                return
        await _answer(
            scope,
            send,
            401,
            {"detail": "Not authenticated: send Authorization: Bearer <TRYON_OWNER_PASSWORD>."},
            [(b"www-authenticate", b'Bearer realm="Kolors Try-On Studio owner"')],
        )

    def _valid(self, credential: str) -> bool:
        scheme, _, value = credential.strip().partition(" ")
        if scheme.lower() != "bearer" or self.password is None:
            return False
        # Bytes, not str: compare_digest raises on non-ASCII text (a traceback per request).
        return hmac.compare_digest(value.strip().encode(), self.password.encode())


class OwnerPageGuard(AccessGuard):
    """The :class:`~.access.AccessGuard` of the owner's own Gradio app (mounted at
    ``/owner``), with the owner's user and password: its login throttled, every route but
    the login page's refused without the owner's login cookie or credential.

    The mark :class:`OwnerGuard` left for the visitors' guard ends here, so this guard
    checks the owner's password whatever the mark says."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.pop(OWNER_DOOR, None)
        await super().__call__(scope, receive, send)


def owner_routes(report: UsageReport) -> list[Route]:
    """``GET /metrics`` and ``GET /owner/usage.json``; each answers only a request the
    :class:`OwnerGuard` let through with the owner's bearer, and 404 to anything else."""

    async def metrics(request: Request) -> Response:
        if request.scope.get(OWNER_DOOR) != "bearer":
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        body = await run_in_threadpool(report.usage.metrics.render)
        return Response(body, media_type=CONTENT_TYPE, headers=NO_STORE)

    async def usage(request: Request) -> Response:
        if request.scope.get(OWNER_DOOR) != "bearer":
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        figures = await run_in_threadpool(report.figures)
        return JSONResponse(figures, headers=NO_STORE)

    return [
        Route(METRICS_PATH, metrics, methods=["GET"]),
        Route(USAGE_PATH, usage, methods=["GET"]),
    ]


def _route_path(scope: Scope) -> str:
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", "") or "")
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    return path


async def _answer(
    scope: Scope,
    send: Send,
    status: int,
    body: dict[str, Any],
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    data = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        (b"cache-control", b"no-store"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})

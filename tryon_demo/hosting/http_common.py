"""What the app's ASGI middleware share: the ASGI types, reading a request's path and headers,
and answering with a short JSON body."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

#: The start of a web address as Gradio would fetch one: anything with a scheme (``http:``,
#: ``HTTPS:``, ``ftp:``) or a network path (``//host``); what follows is read as the URL.
REMOTE_ADDRESS = r"\s*(?:[A-Za-z][A-Za-z0-9+.\-]*:|[/\\]{2})"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def route_path(scope: Scope) -> str:
    """The request's path as the app's routes see it: percent-decoded (the server did that),
    without the root path the app is mounted under."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", "") or "").rstrip("/")
    if root and (path == root or path.startswith(root + "/")):
        path = path[len(root) :] or "/"
    return path


def header(scope: Scope, name: bytes) -> str:
    """The first value of header ``name`` (lower case), stripped; empty when absent."""
    for key, value in scope.get("headers", []):
        if bytes(key).lower() == name:
            return bytes(value).decode("latin-1").strip()
    return ""


async def send_json(
    send: Send,
    status: int,
    body: dict[str, Any],
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer with ``body`` as JSON and ``status``."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(data)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})

"""Refuse oversized request bodies before they are read into memory.

Gradio reads a JSON request (``/gradio_api/queue/join``, ``/call/...``, ``/run/...``, MCP) whole
before it looks at it, so an 80 MB ``data:`` URL sat in memory, parsed, and joined the queue.
A picture the API accepts is at most 10 MB, about 14 MB as a base64 ``data:`` URL, and a try-on
takes two. This ASGI middleware refuses any body over :data:`MAX_BODY_BYTES` with 413 and a
short JSON message: by its declared ``Content-Length`` before reading a byte, and, for chunked
bodies that declare no length, as soon as the count passes the cap while it streams in. File
uploads (multipart bodies to Gradio's ``.../upload`` route) are left to Gradio, which enforces
``max_file_size`` while it writes them to disk.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Room for a try-on's two pictures at the API's 10 MB each as base64 ``data:`` URLs (27 MB);
#: the app's own page uploads files instead.
MAX_BODY_BYTES = 32 * 2**20


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes the cap.

    An :class:`HTTPException` so that FastAPI, which turns other errors met while reading a
    body into a 400, lets it through and answers 413.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, _message(limit), headers={"Connection": "close"})


class BodyLimitMiddleware:
    """ASGI middleware: 413 for any request body over ``max_bytes``, uploads excepted."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a ``receive`` that counts, or refuse it outright."""
        if scope["type"] != "http" or _is_upload(scope):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _refuse(send, self.max_bytes)  # before a single byte of the body is read
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:  # a reply already on its way cannot be replaced; end it as it is
                raise
            await _refuse(send, self.max_bytes)


def _is_upload(scope: Scope) -> bool:
    path = str(scope.get("path", "")).rstrip("/")
    return path.endswith("/upload") and _header(scope, b"content-type").startswith(
        "multipart/form-data"
    )


def _content_length(scope: Scope) -> int | None:
    raw = _header(scope, b"content-length")
    return int(raw) if raw.isdigit() else None


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1").strip().lower()
    return ""


def _message(limit: int) -> str:
    return (
        f"The request is larger than the {limit // 2**20} MB this app accepts. "
        "Upload pictures as files, each at most 10 MB."
    )


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": _message(limit)}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The unread rest of the body is still coming: the connection cannot be reused.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

"""Refuse oversized request bodies before they are read into memory.

Gradio reads a JSON request (``/gradio_api/queue/join``, ``/call/...``, ``/run/...``, MCP) whole
before it looks at it, so an 80 MB ``data:`` URL sat in memory, parsed, and joined the queue.
A picture the API accepts is at most 10 MB, about 14 MB as a base64 ``data:`` URL, and a try-on
takes two. This ASGI middleware refuses any body over :data:`MAX_BODY_BYTES` with 413 and a
short JSON message: by its declared ``Content-Length`` before reading a byte, and, for chunked
bodies that declare no length, as soon as the count passes the cap while it streams in. File
uploads (multipart bodies to Gradio's ``.../upload`` route) are left to Gradio, which enforces
``max_file_size`` per file while it writes them to disk; what they cost the disk is bounded
here instead, per client address (:class:`UploadBudget`): a stranger sending a dozen files a
request, request after request, could otherwise fill the disk in minutes.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
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


class UploadOverBudget(HTTPException):
    """Raised from ``receive`` once an address's uploads pass its budget (429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            "This address has uploaded as much as this demo accepts for now. "
            f"Try again in {retry_after} s.",
            headers={"Connection": "close", "Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


class UploadBudget:
    """Bytes each client address may upload within a sliding ``window`` (seconds)."""

    def __init__(
        self, max_bytes: int, window: float = 3600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_bytes = max_bytes
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._spent: dict[str, deque[tuple[float, int]]] = {}

    def spend(self, who: str, amount: int) -> int:
        """Count ``amount`` bytes for ``who``; 0 if within the budget, else the seconds until
        enough of it frees up (nothing is counted then)."""
        if self.max_bytes <= 0:
            return 0
        with self._lock:
            now = self._clock()
            for key in [
                k for k, v in self._spent.items() if not v or v[-1][0] <= now - self.window
            ]:
                del self._spent[key]  # addresses idle for a whole window are forgotten
            spent = self._spent.setdefault(who, deque())
            total = sum(size for _, size in spent)
            if total + amount > self.max_bytes:
                oldest = spent[0][0] if spent else now
                return max(1, round(oldest + self.window - now))
            spent.append((now, amount))
            return 0


class BodyLimitMiddleware:
    """ASGI middleware: 413 for any request body over ``max_bytes``, uploads excepted."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        uploads: UploadBudget | None = None,
        address: Callable[[Scope], str] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = uploads
        self.address = address or _peer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a ``receive`` that counts, or refuse it outright."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _is_upload(scope):
            await self._upload(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            # Before a single byte of the body is read.
            await _answer(send, BodyTooLarge(self.max_bytes))
            return
        received = 0

        def count(size: int) -> None:
            nonlocal received
            received += size
            if received > self.max_bytes:
                raise BodyTooLarge(self.max_bytes)

        await self._counted(scope, receive, send, count)

    async def _upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An upload, counted against its address's budget as it streams in."""
        if self.uploads is None:
            await self.app(scope, receive, send)
            return
        who = self.address(scope)
        budget = self.uploads

        def count(size: int) -> None:
            wait = budget.spend(who, size)
            if wait:
                raise UploadOverBudget(wait)

        await self._counted(scope, receive, send, count)

    async def _counted(
        self, scope: Scope, receive: Receive, send: Send, count: Callable[[int], None]
    ) -> None:
        """Pass the request on, handing each body chunk's size to ``count``; when ``count``
        refuses (raises), the refusal is the answer, unless a reply is already on its way."""
        started = False

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                count(len(message.get("body", b"")))
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except (BodyTooLarge, UploadOverBudget) as refused:
            if started:  # a reply already on its way cannot be replaced; end it as it is
                raise
            await _answer(send, refused)


def _peer(scope: Scope) -> str:
    return str((scope.get("client") or ("unknown",))[0])


#: Gradio's upload route, the only one that streams a body to disk instead of reading it.
#: Exactly these paths: ``/gradio_api/run/upload`` and the like name an *endpoint* "upload",
#: and Gradio reads their bodies whole (an attack run held 4 GB with one 950 MB body).
UPLOAD_PATHS = frozenset({"/gradio_api/upload", "/upload"})


def _is_upload(scope: Scope) -> bool:
    root = str(scope.get("root_path", "")).rstrip("/")
    path = str(scope.get("path", "")).rstrip("/")
    if root and path.startswith(root + "/"):
        path = path[len(root) :]
    return path in UPLOAD_PATHS and _header(scope, b"content-type").startswith(
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


async def _answer(send: Send, refused: HTTPException) -> None:
    """``refused`` as a short JSON reply. It closes the connection: the unread rest of the body
    is still coming, so the connection cannot be reused."""
    body = json.dumps({"detail": refused.detail}).encode()
    extra = [(k.lower().encode(), v.encode()) for k, v in (refused.headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": refused.status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

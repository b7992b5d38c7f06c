"""A small hostile HTTP server on loopback, for what the simulator will not do on purpose.

Each test scripts the answers (echo the key back, send a gateway's HTML error page, close a
kept-alive connection) and reads what arrived: every request with its headers, body and the
connection it came on.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    #: Counts connections from 1: two requests with the same number shared a connection.
    connection: int


@dataclass(frozen=True)
class Reply:
    """What to answer: status, body and any extra headers."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, value: Any, **headers: str) -> Reply:
        return cls(
            status, json.dumps(value).encode(), {"Content-Type": "application/json", **headers}
        )

    @classmethod
    def html(cls, status: int, text: str) -> Reply:
        return cls(status, text.encode(), {"Content-Type": "text/html"})


Answer = Callable[[Seen], Reply]


def envelope(data: Any, code: int = 0, message: str = "SUCCEED") -> dict[str, Any]:
    """The contract's reply envelope."""
    return {"code": code, "message": message, "request_id": "fake-req-1", "data": data}


def task_data(task_id: str = "t-1", status: str = "submitted", **extra: Any) -> dict[str, Any]:
    """A task object as the contract describes it."""
    return {"task_id": task_id, "task_status": status, "created_at": 1, "updated_at": 1, **extra}


class FakeApi:
    """Serves ``answer(request)`` for every request until stopped; a context manager."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.seen: list[Seen] = []
        connections = itertools.count(1)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like a real API

            def setup(self) -> None:
                super().setup()
                self.connection_number = next(connections)

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                    self.connection_number,
                )
                owner.seen.append(seen)
                reply = owner.answer(seen)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: pytest shows what matters

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

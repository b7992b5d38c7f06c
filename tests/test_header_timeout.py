"""Half-open connections are closed (issue 23, finding 12).

uvicorn with h11, the server Gradio starts, waited forever for a request's headers: 2,000
connections that sent half a request were all still held 90 s later. The app on loopback here
has a short ``TRYON_HEADER_TIMEOUT``; each socket waits far longer than it for the server's
answer, so a test fails by that wait running out, not by a timing judged too slow.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_app import RunningApp
from tryon_demo.hosting import header_timeout
from tryon_demo.settings import Settings, load_settings

#: How long a socket here waits for the server to answer or close: many times the timeout.
PATIENCE = 20.0


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    settings = load_settings(
        {
            "TRYON_OFFLINE": "1",
            "TRYON_HEADER_TIMEOUT": "0.5",
            "TRYON_STATE_DIR": str(tmp_path_factory.mktemp("state")),
        },
        dotenv_path=None,
    )
    with RunningApp(settings, tmp_path_factory.mktemp("work")) as running:
        yield running


def connect(app: RunningApp) -> socket.socket:
    host, port = app.url.removeprefix("http://").rstrip("/").split(":")
    sock = socket.create_connection((host, int(port)), timeout=PATIENCE)
    return sock


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while piece := sock.recv(65536):
        received += piece
    return received


def test_connections_that_never_finish_their_headers_are_closed(app: RunningApp) -> None:
    socks = [connect(app) for _ in range(5)]
    try:
        for sock in socks:
            sock.sendall(b"GET /config HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        for sock in socks:
            assert answer(sock) == b""  # closed without a word, within PATIENCE
    finally:
        for sock in socks:
            sock.close()


def test_a_connection_that_sends_nothing_at_all_is_closed(app: RunningApp) -> None:
    with connect(app) as sock:
        assert answer(sock) == b""


def test_a_kept_alive_connection_that_starts_a_second_request_and_stalls_is_closed(
    app: RunningApp,
) -> None:
    with connect(app) as sock:
        sock.sendall(b"GET /gradio_api/app_id HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        sock.sendall(b"GET /gradio_api/app_id HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no end
        assert b"HTTP/1.1 200" not in answer(sock)


def test_a_request_whose_headers_arrive_in_pieces_in_time_is_answered(app: RunningApp) -> None:
    with connect(app) as sock:
        for piece in (b"GET /gradio_api/app_id HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"\r\n"):
            sock.sendall(piece)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


def post_head(length: int) -> bytes:
    return (
        b"POST /gradio_api/queue/join HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % length
    )


def test_a_request_whose_body_stops_arriving_is_closed(app: RunningApp) -> None:
    with connect(app) as sock:
        sock.sendall(post_head(1000) + b'{"data": [')  # 990 bytes never come
        assert b"HTTP/1.1 200" not in answer(sock)  # closed within PATIENCE


def test_a_body_that_keeps_arriving_with_short_pauses_is_answered(app: RunningApp) -> None:
    body = b'{"data": [], "fn_index": 99999, "session_hash": "abcdefghij"}'
    with connect(app) as sock:
        sock.sendall(post_head(len(body)))
        for start in range(0, len(body), 8):
            time.sleep(0.2)  # well within the pause a body may take
            sock.sendall(body[start : start + 8])
        assert sock.recv(65536).startswith(b"HTTP/1.1 ")


def test_the_timeout_is_ten_seconds_unless_set() -> None:
    assert Settings().header_timeout == 10.0
    assert load_settings({}, dotenv_path=None).header_timeout == 10.0
    assert load_settings({"TRYON_HEADER_TIMEOUT": "4"}, dotenv_path=None).header_timeout == 4.0


def test_the_app_is_served_by_the_protocol_with_the_deadline(app: RunningApp) -> None:
    config = app.demo.server.config  # type: ignore[attr-defined]
    assert config.http_protocol_class is header_timeout.HeaderTimeoutProtocol


def test_the_guard_is_installed_on_the_checked_uvicorn_version(tmp_path: Path) -> None:
    import uvicorn

    assert uvicorn.__version__ in header_timeout.CHECKED_VERSIONS
    # One deadline per process: the module's app (0.5 s) keeps its own for the other tests,
    # whatever order they run in.
    before = header_timeout.HeaderTimeoutProtocol.timeout
    try:
        assert header_timeout.install(10.0) is True
        assert header_timeout.HeaderTimeoutProtocol.timeout == 10.0
    finally:
        header_timeout.HeaderTimeoutProtocol.timeout = before

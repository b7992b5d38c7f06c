"""Gradio's file route never fetches a remote URL (issue 23, finding 6), password or not.

The app runs in this process with no password, on loopback. Nothing here sends traffic beyond
loopback: name lookups and connections to anywhere else are intercepted and refused, and the
test shows none was even tried.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.test_app import RunningApp
from tryon_demo.settings import Settings
from tryon_demo.ui import ASSETS


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("work")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, workdir: Path) -> Iterator[RunningApp]:
    settings = Settings(force_offline=True, state_dir=tmp_path_factory.mktemp("state"))
    with RunningApp(settings, workdir) as running:
        yield running


def _loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


#: The hosts the remote URLs below name.
REMOTE_HOSTS = ("evil.example", "93.184.215.14")


@pytest.fixture
def beyond_loopback(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every attempt to look up or connect to a host beyond loopback is refused; those naming
    the hosts of the URLs under test are recorded (Gradio's own telemetry may try others)."""
    attempts: list[str] = []
    lookup, connect = socket.getaddrinfo, socket.socket.connect

    def note(host: object) -> None:
        if any(name in str(host) for name in REMOTE_HOSTS):
            attempts.append(str(host))

    def guarded_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _loopback(host):
            note(host)
            raise socket.gaierror(socket.EAI_NONAME, "refused by the test")
        return lookup(host, *args, **kwargs)

    def guarded_connect(sock: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and not _loopback(address[0]):
            note(address[0])
            raise OSError("refused by the test")
        return connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_lookup)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    return attempts


REMOTE = [
    "http://evil.example/picture.png",
    "https://evil.example/picture.png",
    "http://93.184.215.14/picture.png",
    "HTTP://evil.example/picture.png",
    "http%3A%2F%2Fevil.example%2Fpicture.png",
    "//evil.example/picture.png",
]


@pytest.mark.parametrize("url", REMOTE)
def test_a_remote_file_url_is_refused_before_any_lookup_or_connection(
    app: RunningApp, beyond_loopback: list[str], url: str
) -> None:
    for method in ("GET", "HEAD"):
        answer = requests.request(method, f"{app.url}gradio_api/file={url}", timeout=30)
        assert answer.status_code == 403, (method, answer.status_code)
    assert beyond_loopback == []


def test_the_proxy_route_is_refused_too(app: RunningApp, beyond_loopback: list[str]) -> None:
    answer = requests.get(f"{app.url}gradio_api/proxy=http://evil.example/x", timeout=30)
    assert answer.status_code == 403
    assert beyond_loopback == []


def test_the_refusal_says_why_in_the_visitors_language(app: RunningApp) -> None:
    url = f"{app.url}gradio_api/file=https://evil.example/x.png"
    english = requests.get(url, timeout=30).json()["detail"]
    chinese = requests.get(url, headers={"Accept-Language": "zh-CN"}, timeout=30).json()["detail"]
    assert "only its own files" in english
    assert "只提供自己的文件" in chinese


def test_the_apps_own_files_are_still_served(app: RunningApp) -> None:
    placeholder = ASSETS / "ui" / "no-result.png"
    answer = requests.get(f"{app.url}gradio_api/file={placeholder}", timeout=30)
    assert answer.status_code == 200
    assert answer.content == placeholder.read_bytes()

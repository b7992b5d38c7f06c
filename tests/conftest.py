"""Shared fixtures: a real simulator on loopback and a real client talking HTTP to it."""

from __future__ import annotations

import base64
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import pictures
from tryon_demo.api.auth import BearerAuth
from tryon_demo.api.client import TryOnClient
from tryon_demo.simulator import SimulatorConfig, SimulatorServer


def _run_folder(name: str, prefix: str) -> None:
    """``name`` set to a folder of this test run (unless set already), and under it one of
    each worker's own when the run is split over workers (pytest-xdist): workers inherit the
    run's environment, and two apps of two workers must not share a folder's files."""
    base = os.environ.setdefault(name, tempfile.mkdtemp(prefix=prefix))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        os.environ[name] = os.path.join(base, worker)
        os.makedirs(os.environ[name], exist_ok=True)


# The app's state (daily counts, signing secret) goes to a folder of this test run, never to the
# user's own cache folder; tests that need a state of their own pass TRYON_STATE_DIR themselves.
_run_folder("TRYON_STATE_DIR", "tryon-state-")
# Gradio's upload cache names a file by its content: two test runs at once (or two apps of one
# run) sharing /tmp/gradio would delete each other's uploads of the same picture as they clean
# their caches. Each run gets a cache of its own (before any test module imports gradio).
assert "gradio" not in sys.modules, "set GRADIO_TEMP_DIR before gradio reads it"
_run_folder("GRADIO_TEMP_DIR", "tryon-gradio-")

#: A recognisable fake key: any output that contains it has leaked it.
FAKE_KEY = "sk-FAKE-KEY-0123456789-must-never-leak"

StartSimulator = Callable[..., SimulatorServer]


@pytest.fixture
def start_simulator() -> Iterator[StartSimulator]:
    """Start simulators with any config; all are stopped after the test."""
    servers: list[SimulatorServer] = []

    def start(config: SimulatorConfig | None = None, **options: object) -> SimulatorServer:
        if config is None:
            options.setdefault("task_seconds", 0.6)
            config = SimulatorConfig(**options)  # type: ignore[arg-type]
        server = SimulatorServer(config).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def simulator(start_simulator: StartSimulator) -> SimulatorServer:
    return start_simulator()


def fast_client(server: SimulatorServer, key: str = FAKE_KEY, **options: object) -> TryOnClient:
    """A client with short pauses so tests stay quick."""
    params: dict[str, object] = {
        "poll_interval": 0.05,
        "poll_max_interval": 0.2,
        "backoff_base": 0.01,
        "backoff_max": 0.05,
        "secrets": (key,),
    }
    params.update(options)
    return TryOnClient(server.gateway_base, BearerAuth(key), **params)  # type: ignore[arg-type]


@pytest.fixture
def client(simulator: SimulatorServer) -> Iterator[TryOnClient]:
    with fast_client(simulator) as api:
        yield api


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def person_b64() -> str:
    return b64(pictures.person_jpeg())


@pytest.fixture
def garment_b64() -> str:
    return b64(pictures.garment_png())


@pytest.fixture
def image_files(tmp_path: Path) -> tuple[Path, Path]:
    person = tmp_path / "person.jpg"
    garment = tmp_path / "garment.png"
    person.write_bytes(pictures.person_jpeg())
    garment.write_bytes(pictures.garment_png())
    return person, garment

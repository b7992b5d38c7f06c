"""The command line, run as a subprocess against a simulator on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests import pictures
from tests.conftest import FAKE_KEY, StartSimulator
from tryon_demo.simulator import SimulatorServer

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tryon_demo", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        timeout=60,
        check=False,
    )


@pytest.fixture
def api_env(start_simulator: StartSimulator) -> dict[str, str]:
    server = start_simulator(task_seconds=0.3)
    return {
        "KLING_API_KEY": FAKE_KEY,
        "KLING_API_BASE": server.gateway_base,
        "TRYON_POLL_INTERVAL": "0.1",
    }


def test_submit_wait_saves_the_result_and_exits_0(
    api_env: dict[str, str], image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    person, garment = image_files
    out = tmp_path / "out"
    result = run(
        ["submit", "--human", str(person), "--cloth", str(garment), "--wait", "--out", str(out)],
        api_env,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "succeed" in result.stdout
    assert "expire after about 30 days" in result.stdout
    assert len(list(out.glob("*.png"))) == 1
    assert FAKE_KEY not in result.stdout + result.stderr


def test_submit_json_prints_the_task_envelope(
    api_env: dict[str, str], image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    person, garment = image_files
    result = run(
        ["submit", "--human", str(person), "--cloth", str(garment), "--json"], api_env, tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["data"]["task_status"] == "submitted"


def test_query_shows_a_task(
    api_env: dict[str, str], image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    person, garment = image_files
    created = run(
        ["submit", "--human", str(person), "--cloth", str(garment), "--json"], api_env, tmp_path
    )
    task_id = json.loads(created.stdout)["data"]["task_id"]
    result = run(["query", task_id, "--json"], api_env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["data"]["task_id"] == task_id


def test_bad_input_exits_2_with_a_clear_message(api_env: dict[str, str], tmp_path: Path) -> None:
    small = tmp_path / "small.jpg"
    small.write_bytes(pictures.small_image())
    result = run(
        ["submit", "--human", str(small), "--cloth", "https://a.example/c.jpg"], api_env, tmp_path
    )
    assert result.returncode == 2
    assert "Person image: it is 200 x 200 pixels" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_api_error_exits_1_with_the_request_id(api_env: dict[str, str], tmp_path: Path) -> None:
    result = run(["query", "no-such-task"], api_env, tmp_path)
    assert result.returncode == 1
    assert "No task with that id" in result.stderr
    assert "request_id" in result.stderr


def test_a_failed_task_exits_1(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    from tryon_demo.simulator import Faults

    server = start_simulator(
        task_seconds=0.2, faults=Faults(fail_share=1.0, fail_message="Pose not supported")
    )
    env = {
        "KLING_API_KEY": FAKE_KEY,
        "KLING_API_BASE": server.gateway_base,
        "TRYON_POLL_INTERVAL": "0.1",
    }
    person, garment = image_files
    result = run(
        ["submit", "--human", str(person), "--cloth", str(garment), "--wait"], env, tmp_path
    )
    assert result.returncode == 1
    assert "Pose not supported" in result.stdout


def test_prepare_prints_what_preparation_does_as_json(tmp_path: Path) -> None:
    photo = tmp_path / "photo.webp"
    photo.write_bytes(pictures.webp())
    result = run(["prepare", str(photo)], {}, tmp_path)
    report = json.loads(result.stdout)
    assert report["original_format"] == "WEBP"
    assert report["final_format"] == "JPEG"
    assert report["final_bytes"] > 0


def test_offline_mode_uses_the_built_in_simulator(
    image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    person, garment = image_files
    env = {"KLING_API_KEY": "", "TRYON_SIM_TASK_SECONDS": "0.3", "TRYON_POLL_INTERVAL": "0.1"}
    result = run(
        ["submit", "--human", str(person), "--cloth", str(garment), "--wait"], env, tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "Offline demo: simulated results" in result.stderr


def test_an_api_base_without_a_key_is_used_when_it_is_a_local_simulator(
    simulator: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    person, garment = image_files
    env = {"KLING_API_KEY": "", "KLING_API_BASE": simulator.gateway_base}
    result = run(
        ["submit", "--human", str(person), "--cloth", str(garment), "--json"], env, tmp_path
    )
    assert result.returncode == 0, result.stderr
    task_id = json.loads(result.stdout)["data"]["task_id"]
    assert task_id in simulator.simulator.tasks  # the simulator named, not a private one
    shown = run(["query", task_id], env, tmp_path)  # so the next command finds it too
    assert shown.returncode == 0, shown.stderr


def test_a_remote_api_base_without_a_key_stops_with_what_to_set(tmp_path: Path) -> None:
    # Refused before any connection is made: nothing is sent to this address.
    env = {"KLING_API_KEY": "", "KLING_API_BASE": "https://api.example.com/kling"}
    result = run(["query", "some-task"], env, tmp_path)
    assert result.returncode == 2
    assert "KLING_API_BASE is set (https://api.example.com/kling) but no API key is" in (
        result.stderr
    )
    assert "Set KLING_API_KEY" in result.stderr


def test_prepare_imports_neither_the_simulator_nor_fastapi(tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(pictures.person_jpeg())
    code = (
        "import sys\n"
        "from tryon_demo.cli import main\n"
        f"assert main(['prepare', {str(photo)!r}]) == 0\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'uvicorn')"
        " or m.startswith('tryon_demo.simulator'))\n"
        "print(loaded, file=sys.stderr)\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_simulate_help_lists_the_faults_it_can_inject(tmp_path: Path) -> None:
    result = run(["simulate", "--help"], {}, tmp_path)
    assert result.returncode == 0
    for option in (
        "--api-key",
        "--latency",
        "--rate-limit-share",
        "--server-error-share",
        "--malformed-share",
        "--drop-share",
        "--fail-share",
        "--never-finish",
        "--max-concurrent",
    ):
        assert option in result.stdout


ONLY_KEY = ["--api-key", "sk-only-this-one", "--task-seconds", "0.2"]


def test_simulate_with_an_api_key_accepts_only_that_key(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "tryon_demo", "simulate", "--port", str(port), *ONLY_KEY],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/kling/v1/images/kolors-virtual-try-on"
    body = {"human_image": "https://a.example/p.jpg", "cloth_image": "https://a.example/c.jpg"}
    try:
        deadline = time.monotonic() + 60
        while True:  # wait for it to listen (the condition, not a fixed sleep)
            try:
                requests.get(f"http://127.0.0.1:{port}/simulator/health", timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.1)

        def create(key: str) -> dict[str, object]:
            headers = {"Authorization": f"Bearer {key}"}
            reply: dict[str, object] = requests.post(
                url, json=body, headers=headers, timeout=10
            ).json()
            return reply

        assert create("sk-someone-else")["code"] == 1002
        assert create("sk-only-this-one")["code"] == 0
    finally:
        server.terminate()
        server.wait(timeout=30)

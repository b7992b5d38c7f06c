"""What the owner's view counts, through the real app and the simulator on loopback: good runs,
refused junk and API failures, in /metrics and /owner/usage.json, also after a restart, and
never a task id, an address or a key."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from prometheus_client.parser import text_string_to_metric_families

from tests import pictures
from tests.conftest import FAKE_KEY
from tests.owner_app import OwnerApp
from tests.test_app import free_port
from tryon_demo.settings import MODELS, Settings
from tryon_demo.simulator import Faults, SimulatorConfig, SimulatorServer

ROOT = Path(__file__).resolve().parent.parent
OWNER = "owner-pass-e2e-5"
#: The visitor's address, as the one trusted proxy in front of the app reports it.
VISITOR = "203.0.113.77"
V1, V15 = MODELS


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(
        SimulatorConfig(task_seconds=0.3, api_keys=frozenset({FAKE_KEY}))
    ) as server:
        yield server


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("pictures")
    made = {
        "person.jpg": pictures.person_jpeg(),
        "garment.png": pictures.garment_png(),
        "notes.jpg": pictures.text_file(),
        "small.jpg": pictures.small_image(),
    }
    for name, data in made.items():
        (folder / name).write_bytes(data)
    return {name.split(".")[0]: str(folder / name) for name in made}


def settings_for(simulator: SimulatorServer, state: Path, **options: Any) -> Settings:
    return Settings(
        api_key=FAKE_KEY,
        api_base=simulator.gateway_base,
        poll_interval=0.05,
        poll_max_interval=0.2,
        owner_password=OWNER,
        trusted_proxies=1,
        state_dir=state,
        **options,
    )


def visitor(app: OwnerApp) -> Client:
    return Client(app.url, headers={"X-Forwarded-For": VISITOR}, verbose=False)


def tryon(client: Client, files: dict[str, str], garment: str = "garment", model: str = V1) -> Any:
    return client.predict(
        handle_file(files["person"]), handle_file(files[garment]), model, "", api_name="/tryon"
    )


def owner_get(app: OwnerApp, path: str) -> requests.Response:
    reply = requests.get(app.url + path, headers={"Authorization": f"Bearer {OWNER}"}, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply


def samples(metrics_text: str, name: str) -> list[tuple[dict[str, str], float]]:
    """Every sample called ``name`` in Prometheus text, with its labels."""
    return [
        (dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
        if sample.name == name
    ]


def total(metrics_text: str, name: str, **labels: str) -> float:
    found = samples(metrics_text, name)
    assert found, f"{name} is not in /metrics"
    return sum(value for have, value in found if labels.items() <= have.items())


def test_two_runs_and_a_refused_picture_are_counted_also_after_a_restart(
    simulator: SimulatorServer, files: dict[str, str], tmp_path: Path
) -> None:
    settings = settings_for(simulator, tmp_path / "state")
    with OwnerApp(settings, tmp_path / "work") as app:
        client = visitor(app)
        tryon(client, files)
        tryon(client, files)
        with pytest.raises(AppError, match="not an image"):
            tryon(client, files, garment="notes")

        metrics = owner_get(app, "metrics").text
        assert total(metrics, "tryon_creates_total") == 2
        assert total(metrics, "tryon_results_total", outcome="succeed") == 2
        assert total(metrics, "tryon_results_total") == 2
        assert total(metrics, "tryon_refusals_total", reason="picture") == 1
        assert total(metrics, "tryon_refusals_total") == 1
        assert total(metrics, "tryon_result_seconds_count") == 2
        assert total(metrics, "tryon_queue_wait_seconds_count") == 0  # no line to wait in

        today = owner_get(app, "owner/usage.json").json()["today"]
        assert today["creates"] == 2
        assert today["results"] == {"succeed": 2, "failed": 0, "error": 0}
        assert {k: v for k, v in today["refusals"].items() if v} == {"picture": 1}
        assert today["result_seconds"]["count"] == 2

    with OwnerApp(settings, tmp_path / "work") as restarted:
        today = owner_get(restarted, "owner/usage.json").json()["today"]
        assert today["creates"] == 2
        assert today["results"]["succeed"] == 2
        assert today["refusals"]["picture"] == 1
        metrics = owner_get(restarted, "metrics").text
        assert total(metrics, "tryon_creates_total") == 0  # counters count since the start


def test_api_failures_are_counted_by_outcome_and_code(
    simulator: SimulatorServer, files: dict[str, str], tmp_path: Path
) -> None:
    config = simulator.simulator.config
    with OwnerApp(settings_for(simulator, tmp_path / "state"), tmp_path / "work") as app:
        client = visitor(app)
        tryon(client, files, model=V15)
        config.faults = Faults(fail_share=1.0, fail_message="No person found")
        with pytest.raises(AppError, match="No person found"):
            tryon(client, files)
        config.faults = Faults(error_code=1301, applies_to="create")
        with pytest.raises(AppError, match="content-safety"):
            tryon(client, files)
        config.faults = Faults()
        with pytest.raises(AppError, match="200 x 200"):
            tryon(client, files, garment="small")

        today = owner_get(app, "owner/usage.json").json()["today"]
        assert today["creates_by_model"] == {V1: 1, V15: 1}  # the refused create cost nothing
        assert today["results"] == {"succeed": 1, "failed": 1, "error": 0}
        assert today["errors_by_code"] == {"1301": 1}  # the API's refusal, by its code
        assert {k: v for k, v in today["refusals"].items() if v} == {"api": 1, "picture": 1}
        metrics = owner_get(app, "metrics").text
        assert total(metrics, "tryon_api_errors_total", code="1301") == 1
        assert total(metrics, "tryon_results_total", model=V1, outcome="failed") == 1


def test_a_submit_counts_its_create_and_no_result_yet(
    simulator: SimulatorServer, files: dict[str, str], tmp_path: Path
) -> None:
    with OwnerApp(settings_for(simulator, tmp_path / "state"), tmp_path / "work") as app:
        visitor(app).predict(
            handle_file(files["person"]), handle_file(files["garment"]), V1, "", api_name="/submit"
        )
        today = owner_get(app, "owner/usage.json").json()["today"]
        assert today["creates"] == 1
        assert sum(today["results"].values()) == 0


def test_limits_refusals_are_counted_under_their_reason(
    simulator: SimulatorServer, files: dict[str, str], tmp_path: Path
) -> None:
    settings = settings_for(simulator, tmp_path / "state", rate_per_session="1/hour")
    with OwnerApp(settings, tmp_path / "work") as app:
        client = visitor(app)
        tryon(client, files)
        with pytest.raises(AppError):
            tryon(client, files)
        today = owner_get(app, "owner/usage.json").json()["today"]
        assert today["creates"] == 1
        assert {k: v for k, v in today["refusals"].items() if v} == {"rate": 1}


def test_the_daily_cap_counts_what_the_owner_sees(
    simulator: SimulatorServer, files: dict[str, str], tmp_path: Path
) -> None:
    settings = settings_for(simulator, tmp_path / "state", daily_cap=3, daily_cap_per_address=0)
    with OwnerApp(settings, tmp_path / "work") as app:
        client = visitor(app)
        tryon(client, files)
        with pytest.raises(AppError):
            tryon(client, files, garment="notes")  # refused junk spends none of the cap
        tryon(client, files)
        today = owner_get(app, "owner/usage.json").json()["today"]
        assert (today["creates"], today["cap"], today["cap_left"]) == (2, 3, 1)
        assert total(owner_get(app, "metrics").text, "tryon_daily_cap_remaining") == 1
        tryon(client, files)  # the third of three
        with pytest.raises(AppError, match="limit of 3 try-ons for today"):
            tryon(client, files)
        today = owner_get(app, "owner/usage.json").json()["today"]
        assert (today["creates"], today["cap_left"], today["refusals"]["daily_cap"]) == (3, 0, 1)
    with (
        OwnerApp(settings, tmp_path / "work") as restarted,
        pytest.raises(AppError, match="limit of 3 try-ons for today"),
    ):
        tryon(visitor(restarted), files)  # the cap's count is the records': a restart keeps it


def test_no_task_id_address_or_key_reaches_the_metrics_the_json_or_the_records(
    simulator: SimulatorServer, files: dict[str, str], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    with OwnerApp(settings_for(simulator, state), tmp_path / "work") as app:
        client = visitor(app)
        _, task = tryon(client, files)
        with pytest.raises(AppError):
            tryon(client, files, garment="notes")
        outputs = [owner_get(app, "metrics").text, owner_get(app, "owner/usage.json").text]
    task_ids = [task["data"]["task_id"], *simulator.simulator.tasks]
    records = (state / "usage.sqlite3").read_bytes()
    for secret in [*task_ids, VISITOR, FAKE_KEY, OWNER, "notes.jpg", "person.jpg"]:
        assert all(secret not in output for output in outputs), secret
        assert secret.encode() not in records, secret


def test_the_records_are_on_disk_when_the_process_is_killed(
    simulator: SimulatorServer, files: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "KLING_API_KEY": FAKE_KEY,
        "KLING_API_BASE": simulator.gateway_base,
        "TRYON_OWNER_PASSWORD": OWNER,
        "TRYON_STATE_DIR": str(tmp_path / "state"),
        "TRYON_POLL_INTERVAL": "0.05",
        "GRADIO_SERVER_NAME": "127.0.0.1",
    }

    def serve() -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "app.py"],
            cwd=ROOT,
            env={**env, "GRADIO_SERVER_PORT": str(port)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "config", timeout=2).status_code == 200:
                    return process, url
            except requests.ConnectionError:
                time.sleep(0.3)
        process.kill()
        raise AssertionError("the app did not start")

    process, url = serve()
    try:
        client = Client(url, verbose=False)
        for _ in range(2):
            client.predict(
                handle_file(files["person"]),
                handle_file(files["garment"]),
                V1,
                "",
                api_name="/tryon",
            )
        bearer = {"Authorization": f"Bearer {OWNER}"}
        assert (
            requests.get(url + "owner/usage.json", headers=bearer).json()["today"]["creates"] == 2
        )
    finally:
        process.send_signal(signal.SIGKILL)  # no clean-up at all, as a crash or an OOM kill
        process.wait(30)
    process, url = serve()
    try:
        bearer = {"Authorization": f"Bearer {OWNER}"}
        assert (
            requests.get(url + "owner/usage.json", headers=bearer).json()["today"]["creates"] == 2
        )
    finally:
        process.terminate()
        process.wait(30)

"""The Gradio app, launched on a free port against the simulator and driven with gradio_client."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from tests import pictures
from tests.conftest import FAKE_KEY
from tryon_demo.errors import ConfigurationError
from tryon_demo.settings import Settings
from tryon_demo.simulator import Faults, SimulatorConfig, SimulatorServer
from tryon_demo.ui import build_demo, launch_options

SEED_HUMAN = "https://gw.alicdn.com/imgextra/i1/1860536677/O1CN012wEzZ11zC7RDNm0Jr_!!1860536677.jpg"
SEED_CLOTH = "https://gw.alicdn.com/imgextra/i4/3370044138/O1CN01p0Zl411gRFvj0NnwQ_!!3370044138.jpg"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningApp:
    def __init__(self, settings: Settings, workdir: Path) -> None:
        self.demo = build_demo(settings, workdir=workdir)
        _, self.url, _ = self.demo.launch(
            prevent_thread_lock=True,
            quiet=True,
            server_port=free_port(),
            **launch_options(workdir, settings),
        )
        self.client = Client(self.url, verbose=False)

    def close(self) -> None:
        self.demo.close()

    def __enter__(self) -> RunningApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(
        SimulatorConfig(task_seconds=0.5, api_keys=frozenset({FAKE_KEY}))
    ) as server:
        yield server


@pytest.fixture(scope="module")
def app(
    simulator: SimulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    settings = Settings(
        api_key=FAKE_KEY, api_base=simulator.gateway_base, poll_interval=0.05, poll_max_interval=0.2
    )
    running = RunningApp(settings, tmp_path_factory.mktemp("work"))
    yield running
    running.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("images")
    made = {
        "person": pictures.person_jpeg(),
        "garment": pictures.garment_png(),
        "small": pictures.small_image(),
        "text": pictures.text_file(),
        "bomb": pictures.decompression_bomb(),
        "webp": pictures.webp(),
    }
    paths = {}
    for name, data in made.items():
        path = folder / f"{name}.jpg"
        path.write_bytes(data)
        paths[name] = str(path)
    return paths


def submit(
    app: RunningApp,
    human: Any,
    cloth: Any,
    model: str = "kolors-virtual-try-on-v1",
    callback: str = "",
) -> Any:
    return app.client.predict(human, cloth, model, callback, api_name="/submit")


def test_submit_returns_the_task_json_of_the_create_call(
    app: RunningApp, files: dict[str, str]
) -> None:
    reply = submit(app, handle_file(files["person"]), handle_file(files["garment"]))
    assert (reply["code"], reply["message"]) == (0, "SUCCEED")
    assert reply["data"]["task_status"] == "submitted"
    assert set(reply["data"]) >= {"task_id", "created_at", "updated_at"}


def test_submit_accepts_links_and_passes_them_through_untouched(
    app: RunningApp, simulator: SimulatorServer
) -> None:
    reply = submit(app, SEED_HUMAN, SEED_CLOTH, "kolors-virtual-try-on-v1-5")
    task = simulator.simulator.tasks[reply["data"]["task_id"]]
    assert (
        task.human is None and task.cloth is None
    )  # links: nothing was downloaded or sent as data
    assert task.model_name == "kolors-virtual-try-on-v1-5"


def test_submit_converts_formats_the_api_refuses(app: RunningApp, files: dict[str, str]) -> None:
    reply = submit(app, handle_file(files["webp"]), handle_file(files["garment"]))
    assert reply["data"]["task_status"] == "submitted"


def test_tryon_waits_and_returns_the_result_image_and_final_task(
    app: RunningApp, files: dict[str, str]
) -> None:
    image, task = app.client.predict(
        handle_file(files["person"]),
        handle_file(files["garment"]),
        "kolors-virtual-try-on-v1",
        "",
        api_name="/tryon",
    )
    assert Path(image).read_bytes()[:4] == b"\x89PNG"
    assert task["data"]["task_status"] == "succeed"
    assert task["data"]["task_result"]["images"][0]["url"]


def test_query_returns_the_task_json(app: RunningApp, files: dict[str, str]) -> None:
    created = submit(app, handle_file(files["person"]), handle_file(files["garment"]))
    reply = app.client.predict(
        created["data"]["task_id"], created["owner_token"], api_name="/query"
    )
    assert reply["data"]["task_id"] == created["data"]["task_id"]


@pytest.mark.parametrize(
    ("human", "cloth", "model", "message"),
    [
        (
            "small",
            "garment",
            "kolors-virtual-try-on-v1",
            "Person image: it is 200 x 200 pixels; the API needs at least 300 x 300",
        ),
        ("person", "text", "kolors-virtual-try-on-v1", "Garment image: this file is not an image"),
        ("bomb", "garment", "kolors-virtual-try-on-v1", "decompression bomb"),
        ("person", "garment", "kolors-v9", "Unknown model 'kolors-v9'"),
        (
            "file:///etc/passwd",
            "garment",
            "kolors-virtual-try-on-v1",
            "only http:// and https:// links",
        ),
        (
            "/etc/passwd",
            "garment",
            "kolors-virtual-try-on-v1",
            "give an uploaded image or an http(s) link",
        ),
        ("person", "person", "kolors-virtual-try-on-v1", "same picture as the person image"),
        ("", "garment", "kolors-virtual-try-on-v1", "Person image: nothing was given"),
    ],
    ids=[
        "too-small",
        "not-an-image",
        "bomb",
        "unknown-model",
        "file-scheme",
        "server-path",
        "same-image",
        "empty",
    ],
)
def test_bad_input_is_a_readable_error_and_creates_no_task(
    app: RunningApp,
    simulator: SimulatorServer,
    files: dict[str, str],
    human: str,
    cloth: str,
    model: str,
    message: str,
) -> None:
    def value(name: str) -> Any:
        return handle_file(files[name]) if name in files else name

    before = len(simulator.simulator.tasks)
    with pytest.raises(AppError) as caught:
        submit(app, value(human), value(cloth), model)
    assert message in str(caught.value)
    assert "Traceback" not in str(caught.value)
    assert len(simulator.simulator.tasks) == before


def test_an_unknown_task_id_is_a_readable_error(app: RunningApp) -> None:
    with pytest.raises(AppError, match=r"No task with that id exists"):
        app.client.predict("no-such-task", api_name="/query")


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        (
            Faults(rate_limit_share=1.0, applies_to="create"),
            "Too many requests at once. Try again in 1 s",
        ),
        (Faults(error_code=1102, applies_to="create"), "Buy more credits"),
        (Faults(error_code=1301, applies_to="create"), "content-safety check refused these images"),
        (Faults(malformed_share=1.0, applies_to="create"), "body that is not JSON"),
    ],
    ids=["rate-limit", "out-of-credits", "content-blocked", "non-json"],
)
def test_api_errors_reach_the_caller_in_plain_words(
    faults: Faults, message: str, files: dict[str, str], tmp_path: Path
) -> None:
    with SimulatorServer(SimulatorConfig(task_seconds=0.3, faults=faults)) as server:
        settings = Settings(api_key=FAKE_KEY, api_base=server.gateway_base, get_retries=0)
        with RunningApp(settings, tmp_path) as running, pytest.raises(AppError) as caught:
            submit(running, handle_file(files["person"]), handle_file(files["garment"]))
    assert message in str(caught.value)


def test_a_failed_task_is_a_readable_error_from_tryon(
    files: dict[str, str], tmp_path: Path
) -> None:
    config = SimulatorConfig(
        task_seconds=0.2, faults=Faults(fail_share=1.0, fail_message="No person found")
    )
    with SimulatorServer(config) as server:
        settings = Settings(api_key=FAKE_KEY, api_base=server.gateway_base, poll_interval=0.05)
        with (
            RunningApp(settings, tmp_path) as running,
            pytest.raises(AppError, match="The task failed: API says: No person found"),
        ):
            running.client.predict(
                handle_file(files["person"]),
                handle_file(files["garment"]),
                "kolors-virtual-try-on-v1",
                "",
                api_name="/tryon",
            )


def test_the_key_never_appears_in_the_page_config_or_any_reply(
    app: RunningApp, files: dict[str, str]
) -> None:
    texts = [
        requests.get(app.url, timeout=10).text,
        requests.get(app.url + "config", timeout=10).text,
        requests.get(app.url + "gradio_api/info", timeout=10).text,
        str(submit(app, handle_file(files["person"]), handle_file(files["garment"]))),
    ]
    image, final = app.client.predict(
        handle_file(files["person"]),
        handle_file(files["garment"]),
        "kolors-virtual-try-on-v1",
        "",
        api_name="/tryon",
    )
    texts += [str(final), image, Path(image).read_bytes().decode("latin-1")]
    with pytest.raises(AppError) as caught:
        app.client.predict("no-such-task", api_name="/query")
    texts.append(str(caught.value))
    for text in texts:
        assert FAKE_KEY not in text


def test_the_browser_keeps_no_run_history(tmp_path: Path) -> None:
    # Gradio's run history would keep every run's inputs, the key field included, in the
    # browser's local storage.
    assert launch_options(tmp_path, Settings())["run_history"] is False


def test_the_page_says_it_is_connected_to_the_api_host(app: RunningApp) -> None:
    config = requests.get(app.url + "config", timeout=10).json()
    banner = next(
        c["props"]["value"]
        for c in config["components"]
        if "mode-banner" in str(c.get("props", {}).get("value", ""))
    )
    english = config["i18n_translations"]["en"]
    # The browser swaps the __i18n__ marker for the visitor's language.
    shown = re.sub(r'__i18n__\{[^}]*"key": "(\w+)"\}', lambda m: english[m.group(1)], banner)
    assert "Connected to 127.0.0.1" in shown


def test_the_ui_events_are_not_callable_as_api_endpoints(app: RunningApp) -> None:
    endpoints = set(app.client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert endpoints == {"/submit", "/tryon", "/query"}


def test_without_a_key_the_app_runs_offline_against_its_simulator(
    files: dict[str, str], tmp_path: Path
) -> None:
    with RunningApp(Settings(simulator_task_seconds=0.3, poll_interval=0.05), tmp_path) as running:
        assert (
            "Offline demo: simulated results"
            in requests.get(running.url + "config", timeout=10).text
        )
        image, task = running.client.predict(
            handle_file(files["person"]),
            handle_file(files["garment"]),
            "kolors-virtual-try-on-v1",
            "",
            api_name="/tryon",
        )
    assert task["data"]["task_status"] == "succeed"
    assert Path(image).is_file()


def test_an_unreachable_api_is_a_readable_network_error(
    files: dict[str, str], tmp_path: Path
) -> None:
    settings = Settings(
        api_key=FAKE_KEY, api_base=f"http://127.0.0.1:{free_port()}/kling", get_retries=0
    )
    with (
        RunningApp(settings, tmp_path) as running,
        pytest.raises(AppError, match="could not be reached"),
    ):
        submit(running, handle_file(files["person"]), handle_file(files["garment"]))


def test_concurrent_sessions_run_side_by_side_and_never_cross(tmp_path: Path) -> None:
    """Twenty visitors at once: none waits behind another's task, each gets its own result."""
    sessions = 20
    people = []
    for i in range(sessions):
        path = tmp_path / f"person-{i}.png"
        colour = (10 * i, 120, 250 - 10 * i)
        path.write_bytes(pictures.encode(Image.new("RGB", (400, 600), colour), "PNG"))
        people.append((path, colour))
    garment = tmp_path / "garment.png"
    garment.write_bytes(pictures.garment_png())
    with SimulatorServer(SimulatorConfig(task_seconds=0.5)) as server:
        # No task finishes before all twenty exist: sessions served one after another would
        # never get there (the first would wait out its wait limit). A condition, not a clock.
        simulator = server.simulator
        real_status = simulator.status

        def gated(task: Any, now_ms: int | None = None) -> tuple[str, int]:
            if len(simulator.tasks) < sessions:
                return "processing", task.created_at
            return real_status(task, now_ms)

        simulator.status = gated  # type: ignore[method-assign]
        settings = Settings(
            api_key=FAKE_KEY, api_base=server.gateway_base, poll_interval=0.1, wait_timeout=60
        )
        with RunningApp(settings, tmp_path / "work") as running:
            with ThreadPoolExecutor(sessions) as pool:
                clients = list(
                    pool.map(lambda _: Client(running.url, verbose=False), range(sessions))
                )

            def one(index: int) -> tuple[str, str]:
                image, task = clients[index].predict(
                    handle_file(str(people[index][0])),
                    handle_file(str(garment)),
                    "kolors-virtual-try-on-v1",
                    "",
                    api_name="/tryon",
                )
                return image, task["data"]["task_id"]

            with ThreadPoolExecutor(sessions) as pool:
                results = list(pool.map(one, range(sessions)))
        created = len(server.simulator.tasks)
    assert created == sessions  # nothing submitted twice
    assert len({task_id for _, task_id in results}) == sessions  # nothing lost or crossed
    for (image, _), (_, colour) in zip(results, people, strict=True):
        backdrop = Image.open(image).convert("RGB").getpixel((10, 300))  # this session's own person
        assert all(abs(a - b) <= 4 for a, b in zip(backdrop, colour, strict=True))


def test_a_session_over_the_submission_rate_gets_a_clear_message_and_no_task(
    simulator: SimulatorServer, files: dict[str, str], tmp_path: Path
) -> None:
    settings = Settings(
        api_key=FAKE_KEY, api_base=simulator.gateway_base, rate_per_session="2/minute"
    )
    with RunningApp(settings, tmp_path) as running:
        for _ in range(2):
            submit(running, handle_file(files["person"]), handle_file(files["garment"]))
        before = len(simulator.simulator.tasks)
        with pytest.raises(
            AppError, match=r"You have started 2 try-ons in the last 60 s.*Try again in"
        ):
            submit(running, handle_file(files["person"]), handle_file(files["garment"]))
        assert len(simulator.simulator.tasks) == before
        # A new session from the same address has no new allowance: see tests/test_access.py.


def test_with_an_access_password_the_app_asks_for_it(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = Settings(
        api_key=FAKE_KEY, api_base=simulator.gateway_base, access_password="open-sesame-123"
    )
    demo = build_demo(settings, workdir=tmp_path)
    _, url, _ = demo.launch(
        prevent_thread_lock=True,
        quiet=True,
        server_port=free_port(),
        **launch_options(tmp_path, settings),
    )
    try:
        assert requests.get(url + "config", timeout=10).status_code == 401
        with pytest.raises(ValueError, match="credentials were not provided"):
            Client(url, verbose=False)
        client = Client(url, auth=("demo", "open-sesame-123"), verbose=False)
        assert (
            "/submit" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        )
        login = requests.post(
            url + "login", data={"username": "demo", "password": "open-sesame-123"}, timeout=10
        )
        assert "open-sesame-123" not in login.text
    finally:
        demo.close()


# --- start-up ---------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def test_a_remote_api_base_without_a_key_stops_the_app_at_start_up(tmp_path: Path) -> None:
    # The page would otherwise start "offline" and fail only at the first Run.
    with pytest.raises(ConfigurationError, match=r"KLING_API_BASE is set .* but no API key"):
        build_demo(Settings(api_base="https://api.example.com/kling"), workdir=tmp_path)
    env = {
        **os.environ,
        "KLING_API_KEY": "",
        "KLING_API_BASE": "https://api.example.com/kling",
        "GRADIO_SERVER_PORT": str(free_port()),
    }
    started = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert started.returncode == 2
    assert "KLING_API_BASE is set (https://api.example.com/kling) but no API key is" in (
        started.stderr
    )
    assert "Traceback" not in started.stderr


def test_a_remote_api_base_starts_when_offline_is_asked_for_or_a_key_is_set(
    tmp_path: Path,
) -> None:
    for settings in (
        Settings(api_base="https://api.example.com/kling", force_offline=True),
        Settings(api_base="https://api.example.com/kling", api_key=FAKE_KEY),
    ):
        build_demo(settings, workdir=tmp_path)

"""Reliability through the app's own endpoints: bad input of every kind, and injected faults.

Each case ends in a specific, readable message or a finished task; input the app can reject
itself never creates a task at the API (the simulator's task list stays empty).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from tests import pictures
from tests.conftest import FAKE_KEY, fast_client
from tests.test_app import RunningApp
from tests.test_i18n import assert_chinese
from tryon_demo.settings import Settings
from tryon_demo.simulator import Faults, SimulatorConfig, SimulatorServer

GARMENT = "garment"

# name -> (maker of the person file, or a literal value; message, or None if it must succeed)
CATALOGUE: dict[str, tuple[Callable[[], bytes] | str, str | None]] = {
    "exif-rotated-jpeg": (pictures.exif_rotated_jpeg, None),
    "cmyk-jpeg": (pictures.cmyk_jpeg, None),
    "rgba-png": (pictures.rgba_png, None),
    "palette-png": (pictures.palette_png, None),
    "16-bit-png": (pictures.png_16bit, None),
    "webp": (pictures.webp, None),
    "gif": (pictures.gif, None),
    "bmp": (pictures.bmp, None),
    "tiff": (pictures.tiff, None),
    "greyscale-jpeg": (pictures.greyscale_jpeg, None),
    "12mp-jpeg-over-10mb": (pictures.noisy_jpeg_over_10mb, None),
    "24mp-phone-photo": (pictures.phone_photo_24mp, None),
    "200x200": (
        pictures.small_image,
        "Person image: it is 200 x 200 pixels; the API needs at least 300 x 300",
    ),
    "truncated-jpeg": (pictures.truncated_jpeg, "Person image: the file is damaged or cut off"),
    "text-named-jpg": (pictures.text_file, "Person image: this file is not an image"),
    "decompression-bomb": (pictures.decompression_bomb, "decompression bomb"),
    "50mb-upload": (
        lambda: b"\xff\xd8" + b"\0" * (50 * 2**20),
        "the file is 50.0 MB; this app accepts files up to 40.0 MB",
    ),
    "empty-file": (lambda: b"", "Person image: the file is empty"),
    "empty-input": ("", "Person image: nothing was given"),
    "file-url": ("file:///etc/passwd", "only http:// and https:// links"),
    "ftp-url": ("ftp://example.com/me.jpg", "not ftp: links"),
    "javascript-url": ("javascript:alert(1)", "not javascript: links"),
    "server-path": ("/etc/hostname", "give an uploaded image or an http(s) link"),
    "same-as-garment": (GARMENT, "same picture as the person image"),
}


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorConfig(task_seconds=0.3)) as server:
        yield server


@pytest.fixture(scope="module")
def app(
    simulator: SimulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    settings = Settings(api_key=FAKE_KEY, api_base=simulator.gateway_base, poll_interval=0.05)
    running = RunningApp(settings, tmp_path_factory.mktemp("work"))
    yield running
    running.close()


@pytest.fixture(scope="module")
def garment_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("garment") / "garment.png"
    path.write_bytes(pictures.garment_png())
    return str(path)


def task_ids(simulator: SimulatorServer) -> set[str]:
    with fast_client(simulator) as api:
        return {task.task_id for task in api.list(page_size=500)}


def person_input(case: str, garment_file: str, tmp_path: Path) -> Any:
    """The person argument of /submit for a catalogue case: a link, or an uploaded file."""
    source = CATALOGUE[case][0]
    if source == GARMENT:
        return handle_file(garment_file)
    if isinstance(source, str):
        return source
    path = tmp_path / f"{case}.jpg"
    path.write_bytes(source())
    return handle_file(str(path))


@pytest.mark.parametrize("case", list(CATALOGUE))
def test_every_catalogue_case_becomes_a_task_or_a_specific_message(
    case: str, app: RunningApp, simulator: SimulatorServer, garment_file: str, tmp_path: Path
) -> None:
    message = CATALOGUE[case][1]
    person = person_input(case, garment_file, tmp_path)
    before = task_ids(simulator)
    if message is None:
        reply = app.client.predict(
            person, handle_file(garment_file), "kolors-virtual-try-on-v1", "", api_name="/submit"
        )
        assert reply["data"]["task_status"] == "submitted"
        assert task_ids(simulator) - before == {reply["data"]["task_id"]}
    else:
        with pytest.raises(AppError) as caught:
            app.client.predict(
                person,
                handle_file(garment_file),
                "kolors-virtual-try-on-v1",
                "",
                api_name="/submit",
            )
        assert message in str(caught.value)
        assert task_ids(simulator) == before  # nothing reached the API


@pytest.mark.parametrize("case", [name for name, (_, message) in CATALOGUE.items() if message])
def test_every_refused_case_reads_in_chinese_for_a_chinese_browser(
    case: str, app: RunningApp, garment_file: str, tmp_path: Path
) -> None:
    chinese = Client(app.url, verbose=False, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    person = person_input(case, garment_file, tmp_path)
    with pytest.raises(AppError) as caught:
        chinese.predict(person, handle_file(garment_file), api_name="/submit")
    message = str(caught.value)
    assert message.startswith("人物图片") or "与人物图片是同一张图" in message, message
    assert_chinese(message)


def test_a_model_outside_the_enum_is_refused_and_creates_nothing(
    app: RunningApp, simulator: SimulatorServer, garment_file: str
) -> None:
    before = task_ids(simulator)
    with pytest.raises(AppError, match="Unknown model 'kolors-virtual-try-on-v2'"):
        app.client.predict(
            "https://example.com/p.jpg",
            handle_file(garment_file),
            "kolors-virtual-try-on-v2",
            "",
            api_name="/submit",
        )
    assert task_ids(simulator) == before


def run_tryon(
    faults: Faults, tmp_path: Path, garment_file: str, **settings: Any
) -> tuple[Any, SimulatorServer]:
    """One /tryon against a simulator with ``faults``; returns (result or AppError, server)."""
    person = tmp_path / "person.jpg"
    person.write_bytes(pictures.person_jpeg())
    server = SimulatorServer(SimulatorConfig(task_seconds=0.4, faults=faults)).start()
    options: dict[str, Any] = {"poll_interval": 0.05, "poll_max_interval": 0.1, "get_retries": 6}
    options.update(settings)
    running = RunningApp(
        Settings(api_key=FAKE_KEY, api_base=server.gateway_base, **options), tmp_path / "work"
    )
    try:
        try:
            outcome: Any = running.client.predict(
                handle_file(str(person)),
                handle_file(garment_file),
                "kolors-virtual-try-on-v1",
                "",
                api_name="/tryon",
            )
        except AppError as exc:
            outcome = exc
    finally:
        running.close()
        server.stop()
    return outcome, server


@pytest.mark.parametrize(
    "faults",
    [
        Faults(rate_limit_share=0.4, applies_to="query", seed=3),
        Faults(server_error_share=0.4, applies_to="query", seed=3),
        Faults(malformed_share=0.4, applies_to="query", seed=3),
        Faults(drop_share=0.4, applies_to="query", seed=3),
    ],
    ids=[
        "429-1302-on-queries",
        "500-5000-on-queries",
        "non-json-on-queries",
        "dropped-connections-on-queries",
    ],
)
def test_transient_query_faults_are_survived(
    faults: Faults, tmp_path: Path, garment_file: str
) -> None:
    outcome, server = run_tryon(faults, tmp_path, garment_file)
    assert not isinstance(outcome, AppError), outcome
    assert outcome[1]["data"]["task_status"] == "succeed"
    assert server.simulator.faults_fired >= 1
    assert server.simulator.creates_received == 1  # one try-on, one create


@pytest.mark.parametrize(
    ("faults", "settings", "message"),
    [
        (Faults(latency=1.0), {"read_timeout": 0.3}, "did not answer within 0.3 s"),
        (
            Faults(drop_share=1.0, applies_to="create"),
            {},
            "dropped the connection before answering. The task may have been created anyway",
        ),
        (Faults(error_code=5002, applies_to="create"), {}, "The task may have been created anyway"),
        (
            Faults(fail_share=1.0, fail_message="No person found"),
            {},
            "The task failed: API says: No person found",
        ),
        (
            Faults(never_finish=True),
            {"wait_timeout": 1.0},
            "was still processing after 1 s. It may still finish",
        ),
    ],
    ids=["slow-replies", "dropped-create", "create-timeout-5002", "failed-task", "never-finishes"],
)
def test_faults_that_end_a_run_give_a_clear_state_and_never_resubmit(
    faults: Faults, settings: dict[str, Any], message: str, tmp_path: Path, garment_file: str
) -> None:
    outcome, server = run_tryon(faults, tmp_path, garment_file, **settings)
    assert isinstance(outcome, AppError)
    assert message in str(outcome)
    assert server.simulator.creates_received == 1  # sent once, never again automatically


def test_the_app_recovers_on_the_next_run_after_a_fault(tmp_path: Path, garment_file: str) -> None:
    # Seed 3's first roll hits and its second misses: the first create fails, the next succeeds.
    faults = Faults(error_code=5000, error_share=0.5, applies_to="create", seed=3)
    person = tmp_path / "person.jpg"
    person.write_bytes(pictures.person_jpeg())
    with SimulatorServer(SimulatorConfig(task_seconds=0.3, faults=faults)) as server:
        settings = Settings(api_key=FAKE_KEY, api_base=server.gateway_base, poll_interval=0.05)
        with RunningApp(settings, tmp_path / "work") as running:
            with pytest.raises(AppError, match="internal error"):
                running.client.predict(
                    handle_file(str(person)),
                    handle_file(garment_file),
                    "kolors-virtual-try-on-v1",
                    "",
                    api_name="/tryon",
                )
            _, task = running.client.predict(
                handle_file(str(person)),
                handle_file(garment_file),
                "kolors-virtual-try-on-v1",
                "",
                api_name="/tryon",
            )
        assert task["data"]["task_status"] == "succeed"
        assert len(server.simulator.tasks) == 1

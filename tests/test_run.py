"""A run without Gradio: what it shows, step by step (and compare, submit, re-attach)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from tests import pictures
from tests.conftest import FAKE_KEY, StartSimulator
from tests.fake_api import FakeApi, Reply, Seen, envelope, task_data
from tests.flows import collect, make_pipeline
from tryon_demo.api.client import TryOnClient
from tryon_demo.errors import ImageError
from tryon_demo.flow import reattach
from tryon_demo.flow.admit import Visitor
from tryon_demo.flow.compare import compare
from tryon_demo.flow.pipeline import Pipeline
from tryon_demo.flow.prepare import api_image_source
from tryon_demo.flow.run import run, submit
from tryon_demo.flow.step import Step, guarded, json_dumps_safe
from tryon_demo.settings import Settings
from tryon_demo.simulator import Faults, SimulatorServer
from tryon_demo.ui import _history_entry


def test_a_run_shows_the_request_then_each_status_then_the_result(
    simulator: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    person, garment = image_files
    steps = collect(make_pipeline(simulator, tmp_path), person, garment)
    phases = [s.phase for s in steps]
    assert phases[0] == "preparing"
    assert phases[-1] == "succeed"
    assert "submitted" in phases and "processing" in phases
    with_request = next(s for s in steps if s.request)
    assert with_request.request["human_image"].endswith("KB)")  # type: ignore[index]
    first_task = next(s for s in steps if s.task)
    assert first_task.task_json["data"]["task_status"] == "submitted"  # type: ignore[index]
    final = steps[-1]
    assert final.result_path is not None and final.result_path.is_file()
    assert final.task is not None and final.task.task_status == "succeed"


def test_elapsed_time_grows_while_waiting(
    simulator: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    steps = collect(make_pipeline(simulator, tmp_path), *image_files)
    elapsed = [s.elapsed for s in steps]
    assert elapsed == sorted(elapsed)
    assert len([s for s in steps if s.phase in ("submitted", "processing")]) >= 3


def test_the_before_after_pair_has_equal_sizes(
    simulator: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    final = collect(make_pipeline(simulator, tmp_path), *image_files)[-1]
    assert final.comparison is not None
    before, after = (Image.open(p) for p in final.comparison)
    assert before.size == after.size


def test_bad_input_ends_in_an_error_step_that_names_the_image(
    simulator: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    small = tmp_path / "small.jpg"
    small.write_bytes(pictures.small_image())
    steps = collect(make_pipeline(simulator, tmp_path), small, image_files[1])
    assert steps[-1].phase == "error"
    assert "Person image: it is 200 x 200 pixels" in steps[-1].status_text()
    assert simulator.simulator.tasks == {}  # nothing reached the API


def test_a_failed_task_ends_in_a_failed_step_with_the_reason(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(faults=Faults(fail_share=1.0, fail_message="No person found"))
    final = collect(make_pipeline(server, tmp_path), *image_files)[-1]
    assert final.phase == "failed"
    assert "No person found" in final.status_text()


def test_a_task_past_the_wait_limit_ends_with_its_id_to_query_later(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(faults=Faults(never_finish=True))
    final = collect(make_pipeline(server, tmp_path, wait_timeout=0.5), *image_files)[-1]
    assert final.phase == "error"
    assert final.task is not None
    assert f"Task {final.task.task_id} was still processing" in final.status_text()


def test_follow_re_attaches_to_an_earlier_task(
    simulator: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pipeline = make_pipeline(simulator, tmp_path)
    task = asyncio.run(submit(pipeline, *image_files))

    async def follow() -> list[Step]:
        token = pipeline.owners.token(task.task_id)  # what submit's caller was given
        return [s async for s in reattach.follow(pipeline, task.task_id, owner_token=token)]

    final = asyncio.run(follow())[-1]
    assert final.phase == "succeed"
    assert final.task is not None and final.task.task_id == task.task_id


def test_a_visitors_key_serves_only_that_visitors_request(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(api_keys=frozenset({"sk-visitor"}), task_seconds=0.3)
    pipeline = make_pipeline(server, tmp_path)  # the owner's key is not accepted here
    with_key = collect(pipeline, *image_files, visitor=Visitor(own_key="sk-visitor"))[-1]
    without = collect(pipeline, *image_files)[-1]
    assert with_key.phase == "succeed"
    assert without.phase == "error"
    assert "API key is not valid" in without.status_text()
    assert "sk-visitor" not in without.status_text()


def test_stopping_a_run_midway_raises_nothing(
    simulator: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pipeline = make_pipeline(simulator, tmp_path)

    async def stop_after_submit() -> str:
        steps = run(pipeline, *image_files)
        async for step in steps:
            if step.task is not None:
                await steps.aclose()  # what Gradio does when Cancel is pressed
                return step.task.task_id
        return ""

    assert asyncio.run(stop_after_submit())


@pytest.mark.parametrize("text", ["/etc/passwd", "relative/photo.jpg", "C:\\\\photo.jpg"])
def test_text_from_a_visitor_is_never_read_as_a_server_path(text: str) -> None:
    with pytest.raises(ImageError, match="give an uploaded image or an http\\(s\\) link"):
        api_image_source(text, "Person image")


def test_an_uploaded_file_dict_becomes_its_path() -> None:
    assert api_image_source({"path": "/tmp/gradio/x.png"}, "Person image") == Path(
        "/tmp/gradio/x.png"
    )


def test_an_unexpected_bug_ends_the_run_in_a_plain_message() -> None:
    async def broken() -> AsyncIterator[Step]:
        yield Step("preparing", 0.0)
        raise KeyError("bug")

    async def gather() -> list[Step]:
        return [s async for s in guarded(broken())]

    steps = asyncio.run(gather())
    assert steps[-1].phase == "error"
    assert "Something went wrong inside the app" in steps[-1].status_text()
    assert "KeyError" not in steps[-1].status_text()


def test_the_key_never_reaches_a_log_line_a_step_or_a_repr(
    start_simulator: StartSimulator,
    image_files: tuple[Path, Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's request lines included
    server = start_simulator(api_keys=frozenset({FAKE_KEY}), task_seconds=0.3)
    pipeline = make_pipeline(server, tmp_path)
    good = collect(pipeline, *image_files)
    leaky = Visitor(own_key="sk-visitor-FAKE-0000-must-never-leak")
    refused = collect(pipeline, *image_files, visitor=leaky)
    texts = [
        caplog.text,
        repr(pipeline.settings),
        repr(pipeline.admission._clients.shared()),
        repr(leaky),
    ]
    for step in good + refused:
        texts += [
            repr(step),
            step.status_text(),
            json_dumps_safe(step.task_json),
            json_dumps_safe(step.request),
        ]
    assert good[-1].phase == "succeed"
    assert refused[-1].phase == "error"
    for text in texts:
        assert FAKE_KEY not in text
        assert "sk-visitor-FAKE-0000-must-never-leak" not in text


def test_compare_runs_both_models_at_once_and_shows_each_result(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=1.0)
    pipeline = make_pipeline(server, tmp_path)

    async def gather() -> list[dict[str, Step]]:
        return [dict(latest) async for latest in compare(pipeline, *image_files)]

    final = asyncio.run(gather())[-1]
    assert {model: step.phase for model, step in final.items()} == {
        "kolors-virtual-try-on-v1": "succeed",
        "kolors-virtual-try-on-v1-5": "succeed",
    }
    tasks = sorted(server.simulator.tasks.values(), key=lambda t: t.created_at)
    assert sorted(t.model_name for t in tasks) == [
        "kolors-virtual-try-on-v1",
        "kolors-virtual-try-on-v1-5",
    ]
    assert tasks[1].created_at - tasks[0].created_at < 1000  # side by side, not one after the other
    assert all(step.result_path and step.result_path.is_file() for step in final.values())


def test_compare_reports_an_input_error_for_both_models(
    simulator: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    small = tmp_path / "small.jpg"
    small.write_bytes(pictures.small_image())
    pipeline = make_pipeline(simulator, tmp_path)

    async def gather() -> list[dict[str, Step]]:
        return [dict(latest) async for latest in compare(pipeline, small, image_files[1])]

    final = asyncio.run(gather())[-1]
    assert all(step.phase == "error" for step in final.values())
    assert simulator.simulator.tasks == {}


def test_a_visitors_key_gets_a_client_of_its_own_that_is_closed_afterwards(
    start_simulator: StartSimulator,
    image_files: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed: list[TryOnClient] = []
    real_close = TryOnClient.close

    def recording_close(self: TryOnClient) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(TryOnClient, "close", recording_close)
    server = start_simulator(api_keys=frozenset({"sk-visitor"}), task_seconds=0.3)
    pipeline = make_pipeline(server, tmp_path)
    visitor = Visitor(own_key="sk-visitor")
    assert collect(pipeline, *image_files, visitor=visitor)[-1].phase == "succeed"
    assert len(closed) == 1  # the visitor's client, closed once the run ended
    assert pipeline.admission._clients._shared is None  # the owner's client was never made
    assert "sk-visitor" not in repr(pipeline) + repr(vars(pipeline.admission._clients))


def test_result_images_are_downloaded_without_the_key(
    image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    def answer(seen: Seen) -> Reply:
        if seen.path.startswith("/results/"):
            return Reply(200, pictures.garment_png(), {"Content-Type": "image/png"})
        if seen.method == "POST":
            return Reply.json(200, envelope(task_data("t-1")))
        result = {"images": [{"index": 0, "url": f"{api.url}/results/t-1.png"}]}
        return Reply.json(200, envelope(task_data("t-1", "succeed", task_result=result)))

    with FakeApi(answer) as api:
        settings = Settings(api_key=FAKE_KEY, api_base=api.url, poll_interval=0.05)
        final = collect(Pipeline.build(settings, tmp_path / "work"), *image_files)[-1]
    assert final.phase == "succeed", final.status_text()
    api_calls = [seen for seen in api.seen if not seen.path.startswith("/results/")]
    (download,) = [seen for seen in api.seen if seen.path.startswith("/results/")]
    assert all(seen.headers["authorization"] == f"Bearer {FAKE_KEY}" for seen in api_calls)
    assert "authorization" not in download.headers
    assert FAKE_KEY not in repr(download)


def test_the_session_history_never_holds_the_key(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(api_keys=frozenset({FAKE_KEY, "sk-visitor-FAKE-must-never-leak"}))
    pipeline = make_pipeline(server, tmp_path)
    runs = [
        collect(pipeline, *image_files),
        collect(pipeline, *image_files, visitor=Visitor(own_key="sk-visitor-FAKE-must-never-leak")),
    ]
    entries = [_history_entry(steps[-1], "kolors-virtual-try-on-v1") for steps in runs]
    assert all(entry and entry["status"] == "succeed" for entry in entries)
    text = repr(entries) + json_dumps_safe(entries)
    assert FAKE_KEY not in text
    assert "sk-visitor-FAKE-must-never-leak" not in text


def test_a_visitors_own_key_that_cannot_reach_the_api_is_told_what_they_can_do(
    image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    # The owner's KLING_API_BASE (here a port nobody listens on) is no business of a visitor.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    settings = Settings(api_base=f"http://127.0.0.1:{closed}/kling", get_retries=0)
    pipeline = Pipeline.build(settings, tmp_path / "work")
    final = collect(pipeline, *image_files, visitor=Visitor(own_key="sk-visitor-own-key-123"))[-1]
    assert final.phase == "error"
    for lang in ("en", "zh"):
        said = final.status_text(lang)
        assert "KLING_" not in said
    english = final.status_text("en")
    assert "your key" in english and "clear" in english.lower()
    assert "KLING_" not in json_dumps_safe(final.task_json)

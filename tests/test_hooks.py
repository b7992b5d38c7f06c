"""The pipeline's two hooks for other work: a usage recorder it tells of every create, end,
refusal and wait (the owner's view), and the schedule its follow step polls by."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests import pictures
from tests.conftest import FAKE_KEY, StartSimulator
from tests.flows import collect
from tryon_demo.api.models import Task
from tryon_demo.errors import ApiError, ImageError, TryOnError
from tryon_demo.flow import reattach
from tryon_demo.flow.admit import Door, Need, Visitor
from tryon_demo.flow.pipeline import Pipeline
from tryon_demo.flow.run import run
from tryon_demo.flow.schedule import GrowingPauses, schedule_for
from tryon_demo.flow.timing import TimedSchedule
from tryon_demo.flow.usage import NO_USAGE, Outcome
from tryon_demo.settings import Settings
from tryon_demo.simulator import Faults, SimulatorServer
from tryon_demo.text.messages import Msg

MODEL = "kolors-virtual-try-on-v1"


class Recorder:
    """Keeps what the pipeline tells a usage recorder."""

    def __init__(self) -> None:
        self.told: list[tuple[Any, ...]] = []
        #: The seconds of each end and wait told.
        self.seconds: list[float] = []

    def created(self, model: str) -> None:
        self.told.append(("created", model))

    def ended(self, model: str, outcome: Outcome, seconds: float, code: int | None = None) -> None:
        assert seconds > 0
        self.seconds.append(seconds)
        self.told.append(("ended", model, outcome))

    def refused(self, reason: str, code: int | None = None) -> None:
        self.told.append(("refused", reason))

    def waited(self, seconds: float) -> None:
        assert seconds >= 0
        self.seconds.append(seconds)
        self.told.append(("waited",))


def pipeline_on(server: SimulatorServer, tmp_path: Path, **kwargs: Any) -> Pipeline:
    options = {"poll_interval": 0.05, "poll_max_interval": 0.2, "state_dir": tmp_path / "state"}
    options.update({k: v for k, v in kwargs.items() if k not in ("usage", "schedule")})
    settings = Settings(api_key=FAKE_KEY, api_base=server.gateway_base, **options)
    hooks = {k: v for k, v in kwargs.items() if k in ("usage", "schedule")}
    return Pipeline.build(settings, tmp_path / "work", **hooks)


# --- the usage recorder ----------------------------------------------------------------------


def test_by_default_nothing_is_recorded(simulator: SimulatorServer, tmp_path: Path) -> None:
    assert pipeline_on(simulator, tmp_path).admission.usage is NO_USAGE


def test_a_run_tells_its_create_and_its_end(
    simulator: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    recorder = Recorder()
    final = collect(pipeline_on(simulator, tmp_path, usage=recorder), *image_files)[-1]
    assert final.phase == "succeed"
    assert recorder.told == [("created", MODEL), ("ended", MODEL, "succeed")]


def test_a_failed_task_ends_as_failed(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(faults=Faults(fail_share=1.0))
    recorder = Recorder()
    collect(pipeline_on(server, tmp_path, usage=recorder), *image_files)
    assert recorder.told == [("created", MODEL), ("ended", MODEL, "failed")]


def test_each_refusal_is_told_with_its_reason(
    simulator: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    recorder = Recorder()
    pipeline = pipeline_on(
        simulator, tmp_path, usage=recorder, rate_per_session="2/minute", daily_cap=10
    )
    notes = tmp_path / "notes.jpg"
    notes.write_bytes(pictures.text_file())
    me = Visitor("ip:me")
    collect(pipeline, notes, image_files[1], visitor=me)  # the picture
    collect(pipeline, *image_files, visitor=me)  # accepted: the address's share of 1 used
    collect(pipeline, *image_files, visitor=me)  # the rate (2 a minute)
    collect(pipeline, *image_files, visitor=Visitor("ip:other"))  # accepted
    collect(pipeline, *image_files, visitor=Visitor("ip:other"))  # the address's share
    assert recorder.told == [
        ("refused", "picture"),
        ("created", MODEL),
        ("ended", MODEL, "succeed"),
        ("refused", "rate"),
        ("created", MODEL),
        ("ended", MODEL, "succeed"),
        ("refused", "address_share"),
    ]
    assert simulator.simulator.creates_received == 2


class Timing(Recorder):
    """Keeps the seconds and the API code of each end as well."""

    def __init__(self) -> None:
        super().__init__()
        self.ends: list[tuple[float, int | None]] = []

    def ended(self, model: str, outcome: Outcome, seconds: float, code: int | None = None) -> None:
        super().ended(model, outcome, seconds, code)
        self.ends.append((seconds, code))


def test_a_pass_tells_a_refusal_once_and_none_once_its_create_was_accepted(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    recorder = Recorder()
    pipeline = pipeline_on(simulator, tmp_path, usage=recorder)
    task = Task(task_id="task-1", task_status="submitted")

    async def scenario() -> None:
        refused = await pipeline.admission.enter(Visitor("ip:a"), Door.RUN, Need.CREATE)
        for _ in range(2):  # the step that refused, then the pass's own exit
            refused.refused(ImageError("not an image"))
        refused.close()
        created = await pipeline.admission.enter(Visitor("ip:b"), Door.RUN, Need.CREATE)
        created.accepted(task, MODEL)
        created.refused(ApiError("the result could not be fetched"))  # after the create
        created.close()

    asyncio.run(scenario())
    assert recorder.told == [("refused", "picture"), ("created", MODEL)]


def test_a_pass_tells_its_tasks_end_once_with_the_time_since_the_create_and_the_apis_code(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    recorder = Timing()
    pipeline = pipeline_on(simulator, tmp_path, usage=recorder)
    task = Task(task_id="task-1", task_status="submitted")

    async def scenario() -> None:
        admitted = await pipeline.admission.enter(Visitor("ip:a"), Door.RUN, Need.CREATE)
        admitted.accepted(task, MODEL)
        await asyncio.sleep(0.2)
        for _ in range(2):
            admitted.ended("error", ApiError("the API failed", code=5000))
        admitted.close()

    started = time.monotonic()
    asyncio.run(scenario())
    took = time.monotonic() - started
    assert recorder.told == [("created", MODEL), ("ended", MODEL, "error")]
    [(seconds, code)] = recorder.ends
    assert 0.2 <= seconds <= took and code == 5000


def test_a_lookup_of_a_task_not_found_is_no_refusal(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    # The owner's view counted visitors' unknown ids as the API's refusals (code 1203).
    recorder = Recorder()
    pipeline = pipeline_on(simulator, tmp_path, usage=recorder)
    token = pipeline.owners.token("no-such-task")
    with pytest.raises(TryOnError):
        asyncio.run(reattach.query(pipeline, "no-such-task", token, visitor=Visitor("ip:me")))
    assert recorder.told == []


def test_a_wait_in_line_is_told(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.5)
    recorder = Recorder()
    pipeline = pipeline_on(server, tmp_path, usage=recorder, api_concurrency=1)

    async def scenario() -> None:
        first = asyncio.create_task(drain(run(pipeline, *image_files)))
        while not recorder.told:
            await asyncio.sleep(0.01)
        await drain(run(pipeline, *image_files))  # waits for the first's slot
        await first

    started = time.monotonic()
    asyncio.run(scenario())
    took = time.monotonic() - started
    assert recorder.told.count(("waited",)) == 2  # each create's turn (the first's at once)
    assert recorder.told.count(("created", MODEL)) == 2
    assert all(seconds <= took for seconds in recorder.seconds)  # times taken, not clock readings


async def drain(steps: Any) -> None:
    async for _ in steps:
        pass


# --- the poll schedule ---------------------------------------------------------------------


class Counting:
    """A schedule that says 0.01 s every time and remembers the tasks (and models) it was asked
    about and the ends it was told of."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None]] = []
        self.ends: list[str] = []

    def plan(self, task: Task, model: str | None) -> Counting:
        self.asked.append((task.task_id, model))
        return self

    def pause(self) -> float:
        return 0.01

    def backstop(self, every: float, heard: bool = False) -> float:
        return every

    def outlook(self) -> Msg | None:
        return Msg.verbatim("soon")

    def ended(self, task: Task) -> None:
        self.ends.append(task.task_status)


def test_the_follow_step_polls_by_the_schedule_it_is_given(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=1.0)
    schedule = Counting()
    pipeline = pipeline_on(server, tmp_path, schedule=schedule, poll_max_interval=5.0)
    steps = collect(pipeline, *image_files)
    final = steps[-1]
    assert final.phase == "succeed" and final.task is not None
    assert schedule.asked == [(final.task.task_id, MODEL)]
    # About 100 queries in 1 s at 0.01 s each; the settings' growing pauses would make 3 or 4.
    assert server.simulator.requests_seen - server.simulator.creates_received > 10
    # Told of the end, and what it says of the time left is in the status while the task runs.
    assert schedule.ends == ["succeed"]
    waiting = [s for s in steps if s.phase in ("submitted", "processing")]
    assert waiting and all("soon" in s.status_text() for s in waiting)
    assert "soon" not in final.status_text()


def test_the_growing_schedule_starts_fast_and_grows_to_the_most() -> None:
    plan = GrowingPauses(1.0, 5.0).plan(Task("t", "submitted"), MODEL)
    assert [round(plan.pause(), 4) for _ in range(9)] == [
        1.0,
        1.25,
        1.5625,
        1.9531,
        2.4414,
        3.0518,
        3.8147,
        4.7684,
        5.0,
    ]
    assert plan.backstop(15.0) == 15.0
    assert plan.outlook() is None


def test_the_settings_schedule_is_timed_to_the_task_at_their_pace(tmp_path: Path) -> None:
    settings = Settings(poll_interval=2.0, poll_max_interval=3.0, state_dir=tmp_path)
    from_settings = schedule_for(settings)
    assert isinstance(from_settings, TimedSchedule)
    assert from_settings.kind == "timed"
    assert (from_settings.pace.interval, from_settings.pace.max_interval) == (2.0, 3.0)
    growing = schedule_for(replace(settings, poll_schedule="growing"))
    assert isinstance(growing, TimedSchedule) and growing.kind == "growing"

"""Runs timed to the task: the pipeline's follow step against the simulator on loopback,
counting the status queries it received; what the waiting person is told; what is learnt and
kept."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.conftest import FAKE_KEY, StartSimulator
from tests.fake_api import FakeApi, Reply, Seen, envelope, task_data
from tests.flows import collect
from tests.test_callbacks import (
    LoopbackServer,
    callback_pipeline,
    inbox,  # noqa: F401 - a fixture
    queries,
    route,  # noqa: F401 - a fixture
    run_steps,
)
from tests.test_lookbook import garment_files, person_file, snapshots
from tryon_demo.api.models import Task
from tryon_demo.errors import ConfigurationError
from tryon_demo.flow import reattach
from tryon_demo.flow.admit import Visitor
from tryon_demo.flow.durations import FILE_NAME, KLING_WINDOW, Durations
from tryon_demo.flow.lookbook import table_rows
from tryon_demo.flow.pipeline import Pipeline
from tryon_demo.flow.run import run
from tryon_demo.flow.step import Step
from tryon_demo.flow.timetable import Pace
from tryon_demo.flow.timing import TimedSchedule, duration_of, task_age
from tryon_demo.hosting.callback_inbox import Inbox
from tryon_demo.settings import Settings, load_settings
from tryon_demo.simulator import Faults, SimulatorServer

V1 = "kolors-virtual-try-on-v1"
#: Any task: the timed plan reads only its ``created_at``, and only for a task looked up again.
NEW = Task("t", "submitted")


def pipeline_on(server: SimulatorServer, tmp_path: Path, **options: object) -> Pipeline:
    """A pipeline on the simulator with pauses a fifth of the defaults (0.2 s growing to 1 s),
    its durations kept in a state folder of its own."""
    settings = Settings(
        api_key=FAKE_KEY,
        api_base=server.gateway_base,
        poll_interval=0.2,
        poll_max_interval=1.0,
        state_dir=tmp_path / "state",
        **options,  # type: ignore[arg-type]
    )
    return Pipeline.build(settings, tmp_path / "work", inbox=Inbox())


def timing(pipeline: Pipeline) -> TimedSchedule:
    """The pipeline's schedule, the timed one by default."""
    schedule = pipeline.follower.schedule
    assert isinstance(schedule, TimedSchedule)
    return schedule


def one_run(pipeline: Pipeline, files: tuple[Path, Path], **options: object) -> list[Step]:
    return collect(pipeline, *files, compare=False, **options)


def queries_of_one_run(
    server: SimulatorServer, pipeline: Pipeline, files: tuple[Path, Path]
) -> int:
    before = queries(server)
    assert one_run(pipeline, files)[-1].phase == "succeed"
    return queries(server) - before


# --- the follow loop, counted at the simulator ----------------------------------------------


def test_after_two_tasks_to_learn_from_a_task_costs_fewer_queries(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=2.5)
    timed = pipeline_on(server, tmp_path / "timed")
    learning = [queries_of_one_run(server, timed, image_files) for _ in range(2)]
    learnt = queries_of_one_run(server, timed, image_files)
    old = queries_of_one_run(
        server, pipeline_on(server, tmp_path / "old", poll_schedule="growing"), image_files
    )
    # The growing pauses (0.2 s x1.25 up to 1 s) ask 7 times before a 2.5 s task is seen done;
    # timed, the third task is asked once on the way and then through the window around 2.5 s.
    assert old >= 7
    assert learnt <= 5 < old
    assert learning[0] >= 7  # an API nobody measured: its first task is polled as of old


def test_the_duration_learnt_is_the_apis_own_not_when_the_app_saw_the_end(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.7)
    pipeline = pipeline_on(server, tmp_path)
    one_run(pipeline, image_files)
    assert timing(pipeline).durations.recent(V1) == (0.7,)  # the simulator's 700 ms, exactly


def test_each_model_learns_its_own_duration(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.7)
    pipeline = pipeline_on(server, tmp_path)
    one_run(pipeline, image_files, model_name="kolors-virtual-try-on-v1-5")
    assert timing(pipeline).durations.recent("kolors-virtual-try-on-v1-5") == (0.7,)
    assert timing(pipeline).durations.recent(V1) == ()


def test_what_was_learnt_outlives_a_restart(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.7)
    first = pipeline_on(server, tmp_path)
    one_run(first, image_files)
    timing(first).durations.flush()
    assert (tmp_path / "state" / FILE_NAME).is_file()
    again = pipeline_on(server, tmp_path)
    assert timing(again).durations.recent(V1) == (0.7,)
    assert timing(again).plan(NEW, V1).window is not None


def test_a_failed_task_teaches_nothing(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.5, faults=Faults(fail_share=1.0))
    pipeline = pipeline_on(server, tmp_path)
    assert one_run(pipeline, image_files)[-1].phase == "failed"
    assert timing(pipeline).durations.recent(V1) == ()


def test_a_slow_page_does_not_make_the_queries_late(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=20.0)  # processing from 4 s
    pipeline = pipeline_on(server, tmp_path)
    for _ in range(2):  # the window is 9.6-14.4 s: one look at 4.8 s on the way
        timing(pipeline).durations.record(V1, 12.0)

    async def created_then_processing() -> tuple[Step, Step]:
        steps = run(pipeline, *image_files, compare=False)
        created: Step | None = None
        async for step in steps:
            created = created or (step if step.task is not None else None)
            if step.phase == "processing" and created is not None:
                await steps.aclose()
                return created, step
            await asyncio.sleep(0.4)  # a page that takes its time over every step
        raise AssertionError("the task was never seen processing")

    created, seen = asyncio.run(created_then_processing())
    # Waiting in half-second ticks that each also wait for the page, the look due 4.8 s after
    # the create would come about 8.5 s after it; aimed at its moment, it comes on time.
    assert seen.elapsed - created.elapsed < 6.5


# --- what the person waiting is told --------------------------------------------------------


def test_the_status_says_the_time_usually_left_then_that_it_takes_longer(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=3.0)
    pipeline = pipeline_on(server, tmp_path)
    for _ in range(2):  # this API's tasks usually take 1.5 s; this one will take 3 s
        timing(pipeline).durations.record(V1, 1.5)
    steps = one_run(pipeline, image_files)
    waiting = [s for s in steps if s.phase in ("submitted", "processing")]
    english = [s.status_text("en") for s in waiting]
    chinese = [s.status_text("zh") for s in waiting]
    assert "usually ready in about 2 s" in english[0]
    assert "通常约 2 秒后完成" in chinese[0]
    assert "taking longer than usual (usually about 2 s)" in english[-1]
    assert "比平时用时更长（通常约 2 秒）" in chinese[-1]
    said = [text.split(" · ")[-1] for text in english]
    assert said.index("taking longer than usual (usually about 2 s)") > said.index(
        "usually ready any moment now"
    )
    final = steps[-1].status_text("en")
    assert "usually" not in final and "longer" not in final


def test_an_api_nobody_measured_gets_no_guess(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.5)
    steps = one_run(pipeline_on(server, tmp_path), image_files)
    assert all(s.outlook is None for s in steps)
    assert not any("usually" in s.status_text() for s in steps)


def test_a_re_attached_task_counts_its_time_left_from_its_creation(tmp_path: Path) -> None:
    created = int(time.time() * 1000) - 4000  # four seconds before the re-attach

    def answer(seen: Seen) -> Reply:
        status = "processing" if len(api.seen) < 3 else "failed"
        return Reply.json(200, envelope(task_data("t-1", status, created_at=created)))

    with FakeApi(answer) as api:
        settings = Settings(
            api_key=FAKE_KEY, api_base=api.url, poll_interval=0.05, state_dir=tmp_path
        )
        pipeline = Pipeline.build(settings, tmp_path / "work", inbox=Inbox())
        for _ in range(2):
            timing(pipeline).durations.record(V1, 10.0)

        async def first_step() -> Step:
            visitor = Visitor("ip:me", own_key="sk-visitor")
            async for step in reattach.follow(pipeline, "t-1", visitor=visitor):
                return step
            raise AssertionError("no step")

        step = asyncio.run(first_step())
    assert step.outlook is not None
    assert step.outlook.render("en") == "usually ready in about 6 s"  # 10 s usually, 4 s gone


def test_each_lookbook_row_says_the_time_usually_left(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=1.5)
    pipeline = pipeline_on(server, tmp_path)
    for _ in range(2):
        timing(pipeline).durations.record(V1, 1.5)
    tables = snapshots(pipeline, person_file(tmp_path), garment_files(tmp_path, 2))
    notes = [row[4] for items in tables for row in table_rows(items, "en")]
    assert "usually ready in about 2 s" in notes
    notes_zh = [row[4] for items in tables for row in table_rows(items, "zh")]
    assert "通常约 2 秒后完成" in notes_zh
    assert [row[4] for row in table_rows(tables[-1], "en")] == ["", ""]


# --- with callbacks -------------------------------------------------------------------------


def test_with_callbacks_a_task_of_the_usual_length_costs_only_the_queries_its_callbacks_ask(
    start_simulator: StartSimulator,
    route: LoopbackServer,  # noqa: F811 - the fixture
    inbox: Inbox,  # noqa: F811 - the fixture
    image_files: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    server = start_simulator(task_seconds=2.0)  # processing from 0.4 s
    counts = {}
    for kind in ("timed", "growing"):
        pipeline = callback_pipeline(
            server, route, inbox, tmp_path / kind, callback_backstop=1.5, poll_schedule=kind
        )
        for _ in range(2):
            timing(pipeline).durations.record(V1, 2.0)
        before = queries(server)
        final = run_steps(pipeline, image_files)[-1]
        assert final.phase == "succeed" and final.callback is not None
        counts[kind] = queries(server) - before
    # Timed: the query confirming "processing" (0.4 s) shows the task alive, and a backstop
    # after it (1.9 s) would fall in the window, where the callback is due (and came): only the
    # queries that confirm the two callbacks. The plain backstop also asks at 1.9 s.
    assert counts == {"timed": 2, "growing": 3}


def test_a_lost_callback_is_caught_just_after_the_usual_time(
    start_simulator: StartSimulator,
    route: LoopbackServer,  # noqa: F811 - the fixture
    inbox: Inbox,  # noqa: F811 - the fixture
    image_files: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    server = start_simulator(task_seconds=1.0, faults=Faults(drop_callbacks=True))
    pipeline = callback_pipeline(server, route, inbox, tmp_path, callback_backstop=30.0)
    for _ in range(2):
        timing(pipeline).durations.record(V1, 1.0)
    final = run_steps(pipeline, image_files)[-1]
    assert final.phase == "succeed" and final.callback is None
    assert queries(server) == 1
    assert final.elapsed < 15  # asked at 2.2 s (window end + 1 s), not at the 30 s backstop


# --- the plan on its own ----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_growing_keeps_the_old_pauses_and_backstop_while_still_learning() -> None:
    clock = Clock()
    schedule = TimedSchedule(
        Durations(None, "api", KLING_WINDOW), Pace(), kind="growing", clock=clock
    )
    plan = schedule.plan(NEW, V1)
    assert [round(plan.pause(), 4) for _ in range(4)] == [1.0, 1.25, 1.5625, 1.9531]
    assert plan.backstop(15.0) == 15.0
    assert plan.outlook() is not None  # the time left is shown all the same


def test_the_timed_plan_counts_from_the_tasks_creation() -> None:
    clock = Clock()
    schedule = TimedSchedule(Durations(None, "api", KLING_WINDOW), Pace(), clock=clock)
    plan = schedule.plan(NEW, V1)
    assert plan.pause() == 6.0
    clock.now += 6.0
    assert plan.pause() == 6.0
    clock.now += 6.0
    assert plan.pause() == 1.0
    looked_up = Task("t", "processing", created_at=int((time.time() - 13.5) * 1000))
    assert 0.4 < schedule.plan(looked_up, None).pause() <= 0.5


def test_offline_the_simulators_task_time_is_the_guess_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    schedule = TimedSchedule.from_settings(Settings(simulator_task_seconds=5.0, state_dir=tmp_path))
    assert schedule.durations.path is None
    window = schedule.plan(NEW, V1).window
    assert window is not None and window.typical == 5.0


def test_the_kling_api_starts_from_its_documented_times(tmp_path: Path) -> None:
    schedule = TimedSchedule.from_settings(Settings(api_key=FAKE_KEY, state_dir=tmp_path))
    assert schedule.plan(NEW, V1).window == KLING_WINDOW


def test_a_duration_is_the_apis_timestamps_when_they_are_believable() -> None:
    task = Task("t", "succeed", created_at=1_000, updated_at=15_500)
    assert duration_of(task, seen_end=15.9) == 14.5
    assert duration_of(task, seen_end=3.0) == 3.0  # ended 14.5 s in, yet seen after 3 s?
    unstamped = Task("t", "succeed", created_at=1_000, updated_at=1_000)
    assert duration_of(unstamped, seen_end=12.2) == 12.2


def test_a_tasks_age_is_never_negative() -> None:
    assert task_age(Task("t", "processing", created_at=10_000), now=lambda: 14.0) == 4.0
    assert task_age(Task("t", "processing", created_at=20_000), now=lambda: 14.0) == 0.0
    assert task_age(Task("t", "processing"), now=lambda: 14.0) == 0.0


# --- the setting ----------------------------------------------------------------------------


def test_the_schedule_is_timed_unless_growing_is_asked_for() -> None:
    assert load_settings({}, dotenv_path=None).poll_schedule == "timed"
    growing = load_settings({"TRYON_POLL_SCHEDULE": "Growing"}, dotenv_path=None)
    assert growing.poll_schedule == "growing"


def test_an_unknown_schedule_is_refused_at_start() -> None:
    with pytest.raises(ConfigurationError, match="TRYON_POLL_SCHEDULE must be 'timed'") as caught:
        load_settings({"TRYON_POLL_SCHEDULE": "fast"}, dotenv_path=None)
    assert "TRYON_POLL_SCHEDULE 必须是 'timed'" in caught.value.render("zh")


def test_once_a_callback_was_heard_the_backstop_makes_no_extra_look_after_the_usual_time() -> None:
    # Callbacks reach the app for this task (its "processing" was confirmed): its end's will
    # too, so a task past its usual time costs no third query with callbacks.
    clock = Clock()
    schedule = TimedSchedule(Durations(None, "api", KLING_WINDOW), Pace(), clock=clock)
    plan = schedule.plan(NEW, V1)
    clock.now += 4.0  # the confirmed "processing" came 4 s after the create
    unheard = plan.backstop(15.0)
    assert unheard == 15.0  # a whole backstop while the task surely runs: 19 s
    clock.now += 12.0  # 16 s: a backstop later would fall past the window
    assert plan.backstop(15.0) < 15.0  # not heard: just after the window, in case it was lost
    assert plan.backstop(15.0, heard=True) > plan.backstop(15.0)  # past the window, not at it

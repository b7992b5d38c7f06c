"""Lookbook batches: one person, many garments, against the simulator on loopback."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests import pictures
from tests.conftest import StartSimulator, fast_client
from tests.flows import make_pipeline
from tryon_demo.api.models import Task
from tryon_demo.errors import InputError, RateLimitError, TryOnError
from tryon_demo.flow.batch import lookbook
from tryon_demo.flow.lookbook import (
    Backoff,
    Follow,
    Follower,
    Garment,
    LookItem,
    Submit,
    csv_cell,
    run_lookbook,
    summary,
    table_rows,
    write_zip,
)
from tryon_demo.flow.pipeline import Pipeline
from tryon_demo.hosting.limits import LimitExceededError
from tryon_demo.simulator import Faults, SimulatorConfig, SimulatorServer
from tryon_demo.text.messages import msg

QUICK = Backoff(base=0.05, cap=0.2, max_attempts=60)


def garment_files(tmp_path: Path, count: int) -> list[Garment]:
    """``count`` different garment pictures on disk, each a little different in size."""
    garments = []
    for n in range(count):
        path = tmp_path / f"garment-{n}.png"
        path.write_bytes(pictures.garment_png((400 + 10 * n, 420 + 10 * n)))
        garments.append(Garment(path.name, path))
    return garments


def person_file(tmp_path: Path) -> Path:
    path = tmp_path / "person.jpg"
    path.write_bytes(pictures.person_jpeg())
    return path


def snapshots(pipeline: Pipeline, *args: object, **kwargs: object) -> list[tuple[LookItem, ...]]:
    async def gather() -> list[tuple[LookItem, ...]]:
        batch = lookbook(pipeline, *args, **kwargs)  # type: ignore[arg-type]
        return [items async for items in batch]

    return asyncio.run(gather())


def test_every_garment_ends_with_a_result_of_its_own(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    garments = garment_files(tmp_path, 4)
    seen = snapshots(make_pipeline(simulator, tmp_path), person_file(tmp_path), garments)
    final = seen[-1]
    assert [item.garment for item in final] == [g.name for g in garments]
    assert all(item.state == "succeed" for item in final)
    assert len({item.task_id for item in final}) == 4
    assert all(item.result_path and item.result_path.is_file() for item in final)
    assert all(item.result_url for item in final)


def test_the_table_starts_queued_and_reports_progress_before_the_end(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    seen = snapshots(
        make_pipeline(simulator, tmp_path), person_file(tmp_path), garment_files(tmp_path, 2)
    )
    assert all(item.state == "queued" for item in seen[0])
    states = {item.state for items in seen[1:-1] for item in items}
    assert states & {"submitted", "processing"}


def test_no_more_than_the_configured_number_run_at_once(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.5)
    pipeline = make_pipeline(server, tmp_path, lookbook_concurrency=2)
    seen = snapshots(pipeline, person_file(tmp_path), garment_files(tmp_path, 5))
    busiest = max(
        sum(1 for item in items if item.state in ("submitted", "processing")) for items in seen
    )
    assert busiest == 2
    assert all(item.state == "succeed" for item in seen[-1])


def test_rate_limited_creates_are_retried_until_every_item_succeeds_once(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    # Half of all creates are refused with 429/1302: the API created nothing for those.
    server = start_simulator(
        SimulatorConfig(
            task_seconds=0.3, faults=Faults(rate_limit_share=0.5, applies_to="create", seed=7)
        )
    )
    garments = garment_files(tmp_path, 6)
    pipeline = make_pipeline(server, tmp_path, lookbook_concurrency=3)
    seen = snapshots(pipeline, person_file(tmp_path), garments, backoff=QUICK)
    final = seen[-1]
    assert all(item.state == "succeed" for item in final), table_rows(final)
    assert sum(item.rate_limited for item in final) > 0  # the faults really fired
    assert any(item.state == "waiting" for items in seen for item in items)
    tasks = list(server.simulator.tasks.values())
    assert len(tasks) == len(garments)  # nothing lost, nothing created twice
    assert len({task.cloth for task in tasks}) == len(garments)
    assert {item.task_id for item in final} == {task.task_id for task in tasks}


def test_the_api_concurrency_limit_is_waited_out(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    # The account allows 2 running tasks; the app is set to run 4 at once and must back off.
    server = start_simulator(SimulatorConfig(task_seconds=0.4, max_concurrent_tasks=2))
    pipeline = make_pipeline(server, tmp_path, lookbook_concurrency=4)
    final = snapshots(pipeline, person_file(tmp_path), garment_files(tmp_path, 5), backoff=QUICK)[
        -1
    ]
    assert all(item.state == "succeed" for item in final), table_rows(final)
    assert sum(item.rate_limited for item in final) > 0
    assert len(server.simulator.tasks) == 5


def test_a_bad_garment_ends_only_its_own_row(simulator: SimulatorServer, tmp_path: Path) -> None:
    garments = garment_files(tmp_path, 2)
    broken = tmp_path / "notes.png"
    broken.write_bytes(pictures.text_file())
    garments.insert(1, Garment(broken.name, broken))
    final = snapshots(make_pipeline(simulator, tmp_path), person_file(tmp_path), garments)[-1]
    assert [item.state for item in final] == ["succeed", "error", "succeed"]
    assert "notes.png" in final[1].message
    assert len(simulator.simulator.tasks) == 2


def test_a_failed_task_is_reported_with_the_api_reason(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    server = start_simulator(
        SimulatorConfig(task_seconds=0.2, faults=Faults(fail_share=1.0, fail_message="No person."))
    )
    final = snapshots(
        make_pipeline(server, tmp_path), person_file(tmp_path), garment_files(tmp_path, 2)
    )[-1]
    assert [item.state for item in final] == ["failed", "failed"]
    assert all(item.message == "No person." for item in final)
    assert all(item.task_id for item in final)


def test_an_unusable_person_image_stops_the_batch_before_anything_is_sent(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    small = tmp_path / "small.png"
    small.write_bytes(pictures.small_image())
    with pytest.raises(TryOnError, match="Person image"):
        snapshots(make_pipeline(simulator, tmp_path), small, garment_files(tmp_path, 2))
    assert simulator.simulator.creates_received == 0


def test_an_empty_or_oversized_batch_is_refused_with_a_reason(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    pipeline = make_pipeline(simulator, tmp_path, lookbook_max_items=3)
    with pytest.raises(InputError, match="at least one garment"):
        snapshots(pipeline, person_file(tmp_path), [])
    with pytest.raises(InputError, match=r"4 garments .* \(3\)"):
        snapshots(pipeline, person_file(tmp_path), garment_files(tmp_path, 4))


def test_a_rate_limit_that_never_clears_gives_up_after_the_last_attempt() -> None:
    calls = 0

    async def refuse(garment: Garment) -> Task:
        nonlocal calls
        calls += 1
        raise RateLimitError("Too many requests at once.", code=1302, retry_after=0.01)

    async def never(task: Task) -> AsyncIterator[Follow]:
        raise AssertionError("nothing was created, so nothing is followed")
        yield  # pragma: no cover

    async def gather() -> tuple[LookItem, ...]:
        last: tuple[LookItem, ...] = ()
        backoff = Backoff(base=0.001, cap=0.01, max_attempts=3)
        async for items in run_lookbook([Garment("a.png", None)], refuse, never, backoff=backoff):
            last = items
        return last

    final = asyncio.run(gather())
    assert calls == 3
    assert final[0].state == "error" and "Too many requests" in final[0].message


class RefuseFirstCreate:
    """A submit that refuses the first create of ``refused`` with a rate limit, and records the
    moment of every create."""

    def __init__(self, refused: str, retry_after: float | None = None) -> None:
        self.refused = refused
        self.retry_after = retry_after
        self.calls: list[tuple[str, float]] = []

    async def __call__(self, garment: Garment) -> Task:
        self.calls.append((garment.name, time.monotonic()))
        if garment.name == self.refused and len(self.calls) == 1:
            raise RateLimitError(
                "Too many requests at once.", code=1302, retry_after=self.retry_after
            )
        return Task(task_id=f"t-{garment.name}", task_status="submitted", raw={})


async def finish_at_once(task: Task) -> AsyncIterator[Follow]:
    yield Follow(Task(task_id=task.task_id, task_status="succeed", raw={}), Path("/r.png"))


def run_batch(
    names: list[str], submit: RefuseFirstCreate, backoff: Backoff, concurrency: int = 3
) -> tuple[LookItem, ...]:
    async def gather() -> tuple[LookItem, ...]:
        garments = [Garment(name, None) for name in names]
        snaps = [
            s
            async for s in run_lookbook(
                garments, submit, finish_at_once, concurrency=concurrency, backoff=backoff
            )
        ]
        return snaps[-1]

    return asyncio.run(gather())


def test_a_rate_limited_create_is_sent_again_only_after_the_pause() -> None:
    submit = RefuseFirstCreate("a.png")
    final = run_batch(["a.png"], submit, Backoff(base=0.3, cap=0.3, jitter=0.0))
    (first, refused_at), (again, resent_at) = submit.calls
    assert first == again == "a.png"
    # Sleeping can only take longer than asked: a lower bound is safe on a busy machine.
    assert resent_at - refused_at >= 0.3
    assert final[0].state == "succeed" and final[0].rate_limited == 1


def test_the_pause_is_never_shorter_than_the_apis_retry_after() -> None:
    submit = RefuseFirstCreate("a.png", retry_after=0.4)
    run_batch(["a.png"], submit, Backoff(base=0.01, cap=0.01, jitter=0.0))
    (_, refused_at), (_, resent_at) = submit.calls
    assert resent_at - refused_at >= 0.4


def test_one_rate_limit_pauses_every_garment() -> None:
    # a.png is submitted first and refused; b.png and c.png, whose turn comes after the refusal,
    # must wait out the same pause although their own creates were never refused.
    submit = RefuseFirstCreate("a.png")
    final = run_batch(["a.png", "b.png", "c.png"], submit, Backoff(base=0.3, cap=0.3, jitter=0.0))
    (first, refused_at), *later = submit.calls
    assert first == "a.png"
    assert sorted(name for name, _ in later) == ["a.png", "b.png", "c.png"]
    for name, moment in later:
        assert moment - refused_at >= 0.3, name
    assert [item.state for item in final] == ["succeed"] * 3
    assert [item.rate_limited for item in final] == [1, 0, 0]


def test_the_last_snapshot_shows_every_item_done_even_when_the_caller_is_slow() -> None:
    # Items finish while the caller is busy with the previous snapshot; the batch must still
    # hand out a final snapshot with all of them done.
    async def create(garment: Garment) -> Task:
        return Task(task_id=garment.name, task_status="submitted", raw={})

    async def finish(task: Task) -> AsyncIterator[Follow]:
        await asyncio.sleep(0.01 * len(task.task_id))
        done = Task(task_id=task.task_id, task_status="succeed", raw={})
        yield Follow(done, Path(f"/results/{task.task_id}.png"))

    async def gather() -> tuple[LookItem, ...]:
        last: tuple[LookItem, ...] = ()
        garments = [Garment("a" * n, None) for n in range(1, 6)]
        async for items in run_lookbook(garments, create, finish, concurrency=5):
            last = items
            await asyncio.sleep(0.03)  # a slow caller: the next items finish meanwhile
        return last

    for _ in range(5):
        assert [item.state for item in asyncio.run(gather())] == ["succeed"] * 5


def test_a_bug_in_one_item_ends_that_row_with_a_plain_message_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def create(garment: Garment) -> Task:
        if garment.name == "broken.png":
            raise RuntimeError("a bug")
        return Task(task_id=garment.name, task_status="submitted", raw={})

    async def finish(task: Task) -> AsyncIterator[Follow]:
        yield Follow(Task(task_id=task.task_id, task_status="succeed"), Path("/r.png"))

    async def gather() -> tuple[LookItem, ...]:
        garments = [Garment("ok.png", None), Garment("broken.png", None)]
        return [items async for items in run_lookbook(garments, create, finish)][-1]

    final = asyncio.run(gather())
    assert [item.state for item in final] == ["succeed", "error"]
    assert final[1].message == "Something went wrong inside the app for this garment."
    assert "lookbook item broken.png failed unexpectedly" in caplog.messages


def test_backoff_doubles_up_to_its_cap_and_honours_retry_after() -> None:
    backoff = Backoff(base=1.0, cap=8.0, jitter=0.0)
    assert [backoff.delay(n, None) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert backoff.delay(1, 5.0) == 5.0


def test_the_default_backoff_doubles_from_one_second_up_to_thirty() -> None:
    backoff = Backoff(jitter=0.0)
    assert [backoff.delay(n, None) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert Backoff().max_attempts == 8


def test_jitter_only_ever_lengthens_the_pause_by_up_to_a_quarter() -> None:
    backoff = Backoff()
    delays = [backoff.delay(3, None) for _ in range(200)]
    assert all(4.0 <= d <= 5.0 for d in delays)
    assert len(set(delays)) > 1  # workers do not come back in step


def test_the_zip_holds_every_result_and_a_manifest_of_every_garment(tmp_path: Path) -> None:
    result = tmp_path / "result-1.png"
    result.write_bytes(pictures.garment_png())
    items = (
        LookItem(1, "red shirt.png", "succeed", "t-1", "https://cdn/r1.png", result),
        LookItem(2, "jeans.jpg", "failed", "t-2", message="No person."),
        LookItem(3, "notes.png", "error", message="not an image"),
    )
    path = write_zip(items, "kolors-virtual-try-on-v1-5", tmp_path / "lookbook.zip")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert names == {"results/01-red_shirt.png", "manifest.json", "manifest.csv"}
        assert archive.read("results/01-red_shirt.png") == result.read_bytes()
        records = json.loads(archive.read("manifest.json"))
        rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert [r["garment_file"] for r in records] == ["red shirt.png", "jeans.jpg", "notes.png"]
    assert records[0] == {
        "index": 1,
        "garment_file": "red shirt.png",
        "task_id": "t-1",
        "model": "kolors-virtual-try-on-v1-5",
        "status": "succeed",
        "result_url": "https://cdn/r1.png",
        "message": "",
        "result_file": "results/01-red_shirt.png",
    }
    assert records[1]["status"] == "failed" and records[1]["result_file"] is None
    assert [row["status"] for row in rows] == ["succeed", "failed", "error"]


def test_the_summary_counts_done_failed_and_running() -> None:
    items = (
        LookItem(1, "a", "succeed"),
        LookItem(2, "b", "failed"),
        LookItem(3, "c", "processing"),
        LookItem(4, "d", "error"),
    )
    assert summary(items) == "1 of 4 done · 1 failed · 1 could not run · 1 running"


def test_the_summary_counts_exactly_what_the_table_shows() -> None:
    """Stop pressed with 3 done, 3 running and 1 waiting its turn: the line above the table
    and the table agree, whatever the mix."""
    states = ["succeed"] * 3 + ["submitted", "processing", "processing", "queued"]
    items = [LookItem(n, "g", state) for n, state in enumerate(states)]  # type: ignore[arg-type]
    shown = [row[2] for row in table_rows(items)]
    assert shown.count("done") == 3
    assert shown.count("submitted") + shown.count("processing") == 3
    assert shown.count("queued") == 1
    assert summary(items) == "3 of 7 done · 3 running · 1 queued"
    for mix in itertools.product([*states[3:], "waiting", "failed", "error"], repeat=3):
        items = [LookItem(n, "g", state) for n, state in enumerate(mix)]  # type: ignore[arg-type]
        said = summary(items)
        counted = sum(int(part.split()[0]) for part in said.split(" · ")[1:])
        assert counted + mix.count("succeed") == len(mix), said


def test_the_person_photo_given_as_a_garment_ends_only_that_row(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    person = person_file(tmp_path)
    garments = [*garment_files(tmp_path, 1), Garment("me-again.jpg", person)]
    final = snapshots(make_pipeline(simulator, tmp_path), person, garments)[-1]
    assert [item.state for item in final] == ["succeed", "error"]
    assert "same picture as the person image" in final[1].message


def test_stop_ends_the_batch_and_tasks_already_created_keep_running(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.5)
    pipeline = make_pipeline(server, tmp_path, lookbook_concurrency=1)
    garments = garment_files(tmp_path, 3)

    async def stop_once_one_is_created() -> tuple[LookItem, ...]:
        batch = lookbook(pipeline, person_file(tmp_path), garments)
        async for items in batch:
            if any(item.task_id for item in items):
                await batch.aclose()  # what Stop does
                return items
        raise AssertionError("no task was ever created")

    shown = asyncio.run(stop_once_one_is_created())
    # Nothing more is sent once stopped: one garment created, the other two never.
    assert server.simulator.creates_received == 1
    assert [item.state for item in shown][1:] == ["queued", "queued"]
    (task_id,) = [item.task_id for item in shown if item.task_id]
    # The created task was not cancelled at the API: it runs on to its result.
    with fast_client(server) as api:
        assert api.wait_for_result(task_id).task_status == "succeed"


def all_snapshots(
    garments: list[Garment],
    submit: Submit,
    follow: Follower,
    **options: object,
) -> list[tuple[LookItem, ...]]:
    async def gather() -> list[tuple[LookItem, ...]]:
        return [s async for s in run_lookbook(garments, submit, follow, **options)]  # type: ignore[arg-type]

    return asyncio.run(gather())


def test_a_waiting_garment_says_when_it_is_tried_again() -> None:
    submit = RefuseFirstCreate("a.png", retry_after=2.0)
    seen = all_snapshots(
        [Garment("a.png", None)], submit, finish_at_once, backoff=Backoff(base=0.01, jitter=0.0)
    )
    waiting = next(items[0] for items in seen if items[0].state == "waiting")
    assert waiting.message == "Rate limited; trying again in 2 s (attempt 2)"
    assert waiting.rate_limited == 1
    assert seen[-1][0].message == ""  # cleared once the create was accepted


def test_a_daily_cap_ends_the_garment_at_once_and_a_timed_limit_is_waited_out() -> None:
    calls: list[str] = []

    async def submit(garment: Garment) -> Task:
        calls.append(garment.name)
        if garment.name == "capped.png":
            raise LimitExceededError("This demo has reached its limit of 5 try-ons for today.")
        if calls.count(garment.name) == 1:
            raise LimitExceededError("Try again in 1 s.", retry_after=0.05)
        return Task(task_id=garment.name, task_status="submitted", raw={})

    final = all_snapshots(
        [Garment("capped.png", None), Garment("timed.png", None)],
        submit,
        finish_at_once,
        backoff=Backoff(base=0.01, cap=0.01, jitter=0.0),
    )[-1]
    assert calls.count("capped.png") == 1
    assert calls.count("timed.png") == 2
    assert [item.state for item in final] == ["error", "succeed"]
    assert final[0].message == "This demo has reached its limit of 5 try-ons for today."


def test_a_follow_that_reports_an_error_or_ends_early_ends_the_row_with_a_message() -> None:
    async def create(garment: Garment) -> Task:
        return Task(task_id=garment.name, task_status="submitted", raw={})

    async def follow(task: Task) -> AsyncIterator[Follow]:
        yield Follow(Task(task_id=task.task_id, task_status="processing", raw={}))
        if task.task_id == "download.png":
            yield Follow(task, error="The result image could not be downloaded.")

    final = all_snapshots(
        [Garment("download.png", None), Garment("vanished.png", None)], create, follow
    )[-1]
    assert [(item.state, item.message) for item in final] == [
        ("error", "The result image could not be downloaded."),
        ("error", "Following the task ended without a result."),
    ]
    assert [item.task_id for item in final] == ["download.png", "vanished.png"]


def test_a_failed_task_without_a_reason_says_so() -> None:
    async def create(garment: Garment) -> Task:
        return Task(task_id="t", task_status="submitted", raw={})

    async def follow(task: Task) -> AsyncIterator[Follow]:
        yield Follow(Task(task_id="t", task_status="failed", raw={}))

    final = all_snapshots([Garment("a.png", None)], create, follow)[-1]
    assert (final[0].state, final[0].message) == ("failed", "The API gave no reason.")


def test_a_concurrency_below_one_still_runs_one_at_a_time() -> None:
    async def create(garment: Garment) -> Task:
        return Task(task_id=garment.name, task_status="submitted", raw={})

    final = all_snapshots(
        [Garment("a", None), Garment("b", None)], create, finish_at_once, concurrency=0
    )[-1]
    assert [item.state for item in final] == ["succeed", "succeed"]


def test_the_table_shows_every_state_in_words() -> None:
    states = ["queued", "waiting", "submitted", "processing", "succeed", "failed", "error"]
    items = [
        LookItem(n, f"g{n}.png", state, f"t{n}", message=f"m{n}") for n, state in enumerate(states)
    ]  # type: ignore[arg-type]
    assert table_rows(items) == [
        ["0", "g0.png", "queued", "t0", "m0"],
        ["1", "g1.png", "waiting (rate limit)", "t1", "m1"],
        ["2", "g2.png", "submitted", "t2", "m2"],
        ["3", "g3.png", "processing", "t3", "m3"],
        ["4", "g4.png", "done", "t4", "m4"],
        ["5", "g5.png", "failed", "t5", "m5"],
        ["6", "g6.png", "error", "t6", "m6"],
    ]
    assert table_rows([LookItem(1, "a.png")]) == [["1", "a.png", "queued", "", ""]]


@pytest.mark.parametrize(
    ("states", "text"),
    [
        (["succeed", "succeed"], "2 of 2 done"),
        (["succeed", "failed"], "1 of 2 done · 1 failed"),
        (["error", "queued"], "0 of 2 done · 1 could not run · 1 queued"),
        (["waiting"], "0 of 1 done · 1 waiting (rate limit)"),
        (["submitted", "processing", "queued"], "0 of 3 done · 2 running · 1 queued"),
    ],
)
def test_the_summary_leaves_out_what_is_zero(states: list[str], text: str) -> None:
    items = [LookItem(n, "g", state) for n, state in enumerate(states)]  # type: ignore[arg-type]
    assert summary(items) == text


@pytest.mark.parametrize(
    ("garment", "name"),
    [
        ("red shirt (2).png", "01-red_shirt__2_.png"),
        ("t-shirt_blue.png", "01-t-shirt_blue.png"),
        (".png", "01-_png.png"),
        ("x" * 80 + ".png", "01-" + "x" * 60 + ".png"),
        ("", "01-garment.png"),
    ],
)
def test_zip_names_are_safe_and_short(tmp_path: Path, garment: str, name: str) -> None:
    result = tmp_path / "result.png"
    result.write_bytes(pictures.garment_png())
    item = LookItem(1, garment, "succeed", "t-1", "https://cdn/r.png", result)
    with zipfile.ZipFile(write_zip([item], "m", tmp_path / "z.zip")) as archive:
        assert f"results/{name}" in archive.namelist()


def test_a_result_file_that_has_gone_is_left_out_of_the_zip(tmp_path: Path) -> None:
    item = LookItem(1, "a.png", "succeed", "t-1", "https://cdn/r.png", tmp_path / "gone.png")
    with zipfile.ZipFile(write_zip([item], "m", tmp_path / "z.zip")) as archive:
        assert archive.namelist() == ["manifest.json", "manifest.csv"]
        assert json.loads(archive.read("manifest.json"))[0]["result_file"] is None


def test_the_zip_stores_pictures_as_they_are_and_compresses_a_readable_manifest(
    tmp_path: Path,
) -> None:
    result = tmp_path / "result.png"
    result.write_bytes(pictures.garment_png())
    items = [LookItem(1, "连衣裙.png", "succeed", "t-1", "https://cdn/r.png", result)]
    with zipfile.ZipFile(write_zip(items, "m", tmp_path / "z.zip")) as archive:
        assert archive.getinfo("results/01-连衣裙.png").compress_type == zipfile.ZIP_STORED
        assert archive.getinfo("manifest.json").compress_type == zipfile.ZIP_DEFLATED
        text = archive.read("manifest.json").decode()
    assert text.startswith('[\n  {\n    "index": 1,\n    "garment_file": "连衣裙.png",')


def test_the_table_and_summary_speak_the_readers_language() -> None:
    items = (
        LookItem(1, "a.png", "succeed", "t-1"),
        LookItem(2, "b.png", "waiting", note=msg("lookbook.not_sent"), message="not sent"),
        LookItem(3, "c.png", "processing", "t-3", message="plain words"),
    )
    assert table_rows(items, "zh") == [
        ["1", "a.png", "完成", "t-1", ""],
        ["2", "b.png", "等待中（限流）", "", "未发送"],
        ["3", "c.png", "处理中", "t-3", "plain words"],
    ]
    assert table_rows(items)[1][2:] == ["waiting (rate limit)", "", "not sent"]
    assert summary(items, "zh") == "已完成 1/3 · 1 个进行中 · 1 个等待中（限流）"


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx"])
def test_a_csv_cell_a_spreadsheet_would_run_starts_with_a_quote(value: str) -> None:
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["shirt.png", "", 3, None])
def test_other_csv_cells_are_written_as_they_are(value: object) -> None:
    assert csv_cell(value) == value


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("submitted", "submitted"),
        ("processing", "processing"),
        ("succeed", "succeed"),
        ("failed", "failed"),
        ("queued_upstream", "submitted"),  # a status the contract does not name: still waiting
    ],
)
def test_a_row_shows_the_status_the_api_answered_the_create_with(status: str, state: str) -> None:
    async def create(garment: Garment) -> Task:
        return Task(task_id="t-1", task_status=status, raw={})

    async def follow(task: Task) -> AsyncIterator[Follow]:
        await asyncio.sleep(0)
        yield Follow(Task(task_id="t-1", task_status="succeed", raw={}), Path("/r.png"))

    seen = all_snapshots([Garment("a.png", None)], create, follow)
    created = next(items[0] for items in seen if items[0].task_id)
    assert created.state == state


def test_a_row_follows_the_tasks_status_as_it_changes() -> None:
    async def create(garment: Garment) -> Task:
        return Task(task_id="t-1", task_status="submitted", raw={})

    async def follow(task: Task) -> AsyncIterator[Follow]:
        for status in ("submitted", "processing", "processing", "succeed"):
            await asyncio.sleep(0.001)  # the table is shown between changes
            yield Follow(Task(task_id="t-1", task_status=status, raw={}))
        yield Follow(Task(task_id="t-1", task_status="succeed", raw={}), Path("/r.png"))

    states = [items[0].state for items in all_snapshots([Garment("a.png", None)], create, follow)]
    assert [state for state, _ in itertools.groupby(states)] == [
        "queued",
        "submitted",
        "processing",
        "succeed",
    ]


def test_rows_are_numbered_from_one_in_the_order_the_garments_came() -> None:
    async def create(garment: Garment) -> Task:
        return Task(task_id=garment.name, task_status="submitted", raw={})

    garments = [Garment(name, None) for name in ("c.png", "a.png", "b.png")]
    final = all_snapshots(garments, create, finish_at_once)[-1]
    assert [(item.index, item.garment) for item in final] == [
        (1, "c.png"),
        (2, "a.png"),
        (3, "b.png"),
    ]
    assert [row[0] for row in table_rows(final)] == ["1", "2", "3"]


def test_a_rows_note_is_shown_in_the_readers_language_and_kept_in_english_for_the_manifest() -> (
    None
):
    seen = all_snapshots(
        [Garment("a.png", None)],
        RefuseFirstCreate("a.png", retry_after=0.01),
        finish_at_once,
        backoff=Backoff(base=0.01, cap=0.01, jitter=0.0),
    )
    waiting = next(items[0] for items in seen if items[0].state == "waiting")
    assert waiting.message == "Rate limited; trying again in 0 s (attempt 2)"
    assert table_rows([waiting], "zh")[0][4] == "被限流；0 秒后重试（第 2 次）"
    assert table_rows(seen[-1], "zh")[0][4] == ""  # cleared in every language once accepted


def test_by_default_three_garments_run_at_once() -> None:
    running = 0
    most = 0

    async def create(garment: Garment) -> Task:
        return Task(task_id=garment.name, task_status="submitted", raw={})

    async def follow(task: Task) -> AsyncIterator[Follow]:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        yield Follow(Task(task_id=task.task_id, task_status="succeed", raw={}), Path("/r.png"))

    final = all_snapshots([Garment(f"g{n}.png", None) for n in range(7)], create, follow)[-1]
    assert [item.state for item in final] == ["succeed"] * 7
    assert most == 3


def test_without_a_retry_after_the_backoff_starts_at_its_base_however_small() -> None:
    backoff = Backoff(base=0.25, cap=8.0, jitter=0.0)
    assert [backoff.delay(n, None) for n in range(1, 4)] == [0.25, 0.5, 1.0]


@pytest.mark.parametrize(
    ("reason", "zh_note", "manifest"),
    [
        ("图片不合规", "API 返回：图片不合规", "图片不合规"),
        ("", "API 未说明原因。", "The API gave no reason."),
    ],
)
def test_a_failed_rows_note_labels_the_apis_words_and_the_manifest_keeps_them(
    reason: str, zh_note: str, manifest: str
) -> None:
    async def create(garment: Garment) -> Task:
        return Task(task_id="t-1", task_status="submitted", raw={})

    async def follow(task: Task) -> AsyncIterator[Follow]:
        yield Follow(Task(task_id="t-1", task_status="failed", task_status_msg=reason, raw={}))

    final = all_snapshots([Garment("a.png", None)], create, follow)[-1]
    assert (final[0].state, final[0].message) == ("failed", manifest)
    assert table_rows(final, "zh")[0][4] == zh_note


def test_a_rate_limit_note_is_cleared_as_soon_as_the_create_is_accepted() -> None:
    async def follow(task: Task) -> AsyncIterator[Follow]:
        await asyncio.sleep(0.001)  # the table is shown while the task runs
        yield Follow(Task(task_id=task.task_id, task_status="processing", raw={}))
        await asyncio.sleep(0.001)
        yield Follow(Task(task_id=task.task_id, task_status="succeed", raw={}), Path("/r.png"))

    seen = all_snapshots(
        [Garment("a.png", None)],
        RefuseFirstCreate("a.png", retry_after=0.01),
        follow,
        backoff=Backoff(base=0.01, cap=0.01, jitter=0.0),
    )
    running = [items[0] for items in seen if items[0].task_id and not items[0].done]
    assert running, "no snapshot while the task ran"
    assert {(item.message, table_rows([item], "zh")[0][4]) for item in running} == {("", "")}

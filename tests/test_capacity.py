"""One fair queue against the account's concurrent-task limit (TRYON_API_CONCURRENCY), through
whole visitors (the queue's own bookkeeping, in virtual time, is ``test_capacity_queue.py``).

The flow tests run against the simulator with its own limit (``max_concurrent_tasks``): a
create over it is answered 429/1303 and creates nothing, so the simulator's count of create
requests against its task list shows whether any 1303 reached the API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from tests.conftest import FAKE_KEY, StartSimulator, fast_client
from tests.flows import make_pipeline
from tryon_demo.flow.batch import lookbook
from tryon_demo.flow.compare import compare
from tryon_demo.flow.lookbook import Garment, LookItem
from tryon_demo.flow.pipeline import Pipeline
from tryon_demo.flow.run import run, submit
from tryon_demo.flow.step import Step
from tryon_demo.settings import Settings, load_settings
from tryon_demo.simulator import SimulatorServer

LINKS = ("https://example.com/person.jpg", "https://example.com/garment.jpg")


async def run_all(pipeline: Pipeline, files: tuple[Path, Path]) -> list[Step]:
    return [step async for step in run(pipeline, *files)]


async def run_all_of(steps: AsyncIterator[Step]) -> None:
    async for _ in steps:
        pass


async def run_all_of_steps(steps: AsyncIterator[Step]) -> list[Step]:
    return [step async for step in steps]


def creates_refused(server: SimulatorServer) -> int:
    """Create requests the simulator answered without creating a task."""
    sim = server.simulator
    return sim.creates_received - len(sim.tasks)


async def first_queued(steps: AsyncIterator[Step]) -> Step:
    async for step in steps:
        if step.phase == "queued":
            return step
    raise AssertionError("the run never waited in the queue")


# --- through whole runs, against the simulator's limit ----------------------------------------


def test_eight_visitors_through_a_limit_of_two_all_get_results_with_eight_creates(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.3, max_concurrent_tasks=2)
    pipeline = make_pipeline(server, tmp_path, api_concurrency=2)

    async def crowd() -> list[list[Step]]:
        return list(await asyncio.gather(*(run_all(pipeline, image_files) for _ in range(8))))

    runs = asyncio.run(crowd())
    assert [steps[-1].phase for steps in runs] == ["succeed"] * 8
    assert len({steps[-1].task.task_id for steps in runs if steps[-1].task}) == 8
    assert server.simulator.creates_received == 8
    assert creates_refused(server) == 0


def test_a_visitor_sees_their_place_in_line_as_it_changes(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.3)
    pipeline = make_pipeline(server, tmp_path, api_concurrency=1)

    async def scenario() -> list[Step]:
        first, second, third = (run(pipeline, *image_files) for _ in range(3))
        async for step in first:
            if step.task is not None:  # created: the only slot is taken
                break
        await first_queued(second)
        seen = [await first_queued(third)]
        rest = asyncio.gather(run_all_of(first), run_all_of(second))
        seen += [step async for step in third]
        await rest
        return seen

    steps = asyncio.run(scenario())
    places = [s.status_text() for s in steps if s.phase == "queued"]
    assert places[0].startswith("**Waiting for a free slot at the API: 1 ahead of you (about ")
    assert any("you are next" in text for text in places[1:])  # moved up as the first ended
    assert steps[-1].phase == "succeed"


def test_cancel_while_queued_leaves_the_queue_and_creates_nothing(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.3)
    pipeline = make_pipeline(server, tmp_path, api_concurrency=1)

    async def scenario() -> int:
        holder = run(pipeline, *image_files)
        async for step in holder:
            if step.task is not None:  # created: the only slot is taken
                break
        waiting = run(pipeline, *image_files)
        await first_queued(waiting)
        assert pipeline.capacity.waiting == 1
        await waiting.aclose()  # what Cancel does to the page's run
        assert pipeline.capacity.waiting == 0
        await run_all_of(holder)
        await run_all(pipeline, image_files)  # the freed slot goes to the next visitor instead
        return server.simulator.creates_received

    assert asyncio.run(scenario()) == 2


def test_a_submitted_task_holds_its_slot_until_it_ends_at_the_api(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.5, max_concurrent_tasks=1)
    pipeline = make_pipeline(server, tmp_path, api_concurrency=1)

    async def scenario() -> tuple[str, list[Step]]:
        submitted = await submit(pipeline, *image_files)
        return submitted.task_id, await run_all(pipeline, image_files)

    submitted_id, steps = asyncio.run(scenario())
    assert "queued" in [s.phase for s in steps]  # waited for the /submit task
    assert steps[-1].phase == "succeed" and steps[-1].task is not None
    sim = server.simulator
    first, second = sim.tasks[submitted_id], sim.tasks[steps[-1].task.task_id]
    assert second.created_at >= first.created_at + 500  # created only once the first ended
    assert creates_refused(server) == 0


def test_a_1303_from_another_client_of_the_account_is_absorbed(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.5, max_concurrent_tasks=2)
    pipeline = make_pipeline(server, tmp_path, api_concurrency=2)

    async def scenario() -> list[Step]:
        await run_all(pipeline, image_files)  # the app is up and has counted what was running
        with fast_client(server) as other_app:  # then another app takes every slot directly
            for _ in range(2):
                await asyncio.to_thread(other_app.submit, *LINKS)
        return await run_all(pipeline, image_files)

    steps = asyncio.run(scenario())
    assert [s.phase for s in steps if s.phase in ("error", "failed")] == []
    assert steps[-1].phase == "succeed"
    assert pipeline.capacity.refusals >= 1  # the API did refuse, and the visitor never saw it
    assert creates_refused(server) == pipeline.capacity.refusals


def test_tasks_already_running_at_the_api_count_before_the_first_create(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.5, max_concurrent_tasks=1)
    with fast_client(server) as earlier_run_of_the_app:
        earlier_run_of_the_app.submit(*LINKS)
    pipeline = make_pipeline(server, tmp_path, api_concurrency=1)
    steps = asyncio.run(run_all(pipeline, image_files))
    assert "queued" in [s.phase for s in steps]
    assert steps[-1].phase == "succeed"
    assert creates_refused(server) == 0


def test_a_lookbook_takes_its_turn_garment_by_garment(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.3, max_concurrent_tasks=1)
    pipeline = make_pipeline(server, tmp_path, api_concurrency=1, lookbook_concurrency=1)
    garments = [Garment(f"g{n}.png", image_files[1]) for n in range(3)]

    async def scenario() -> tuple[list[str], str]:
        batch = lookbook(pipeline, image_files[0], garments)
        async for items in batch:
            if items[0].task_id:  # the first garment runs; the others wait their turn
                break
        visitor = run(pipeline, *image_files)  # someone comes after the batch started
        await first_queued(visitor)
        visitor_steps = asyncio.create_task(run_all_of_steps(visitor))
        final: tuple[LookItem, ...] = [items async for items in batch][-1]
        steps = await visitor_steps
        assert steps[-1].task is not None
        return [item.task_id or "" for item in final], steps[-1].task.task_id

    garment_ids, visitor_id = asyncio.run(scenario())
    created = list(server.simulator.tasks)  # in the order the API created them
    assert created.index(visitor_id) == 1  # after the first garment, before the second
    assert [created.index(task_id) for task_id in garment_ids] == [0, 2, 3]


def test_a_run_cancelled_while_queued_by_the_page_creates_nothing(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.3)
    pipeline = make_pipeline(server, tmp_path, api_concurrency=1)

    async def scenario() -> int:
        holder = run(pipeline, *image_files)
        async for step in holder:
            if step.task is not None:
                break
        event = asyncio.create_task(run_all(pipeline, image_files))  # as Gradio runs an event
        while pipeline.capacity.waiting == 0:
            await asyncio.sleep(0.01)
        event.cancel()  # what Gradio does when Cancel is pressed
        await asyncio.gather(event, return_exceptions=True)
        assert pipeline.capacity.waiting == 0
        await run_all_of(holder)
        await run_all(pipeline, image_files)
        return server.simulator.creates_received

    assert asyncio.run(scenario()) == 2


def test_a_cancelled_run_keeps_its_slot_until_its_task_ends_at_the_api(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.5, max_concurrent_tasks=1)
    pipeline = make_pipeline(server, tmp_path, api_concurrency=1)

    async def scenario() -> tuple[str, str]:
        cancelled = run(pipeline, *image_files)
        async for step in cancelled:
            if step.task is not None:
                break
        await cancelled.aclose()  # the visitor pressed Cancel: the task runs on at the API
        steps = await run_all(pipeline, image_files)
        assert step.task is not None and steps[-1].task is not None
        return step.task.task_id, steps[-1].task.task_id

    first_id, second_id = asyncio.run(scenario())
    first, second = server.simulator.tasks[first_id], server.simulator.tasks[second_id]
    assert second.created_at >= first.created_at + 500
    assert creates_refused(server) == 0


def test_while_visitors_wait_an_unfollowed_task_is_checked_at_the_short_interval(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.3)
    # Idle, a /submit task is checked only every minute; a waiting visitor must not wait that.
    settings = Settings(
        api_key=FAKE_KEY,
        api_base=server.gateway_base,
        poll_interval=0.05,
        poll_max_interval=60.0,
        api_concurrency=1,
    )
    pipeline = Pipeline.build(settings, tmp_path / "work")

    async def scenario() -> list[Step]:
        await submit(pipeline, *image_files)
        return await asyncio.wait_for(run_all(pipeline, image_files), timeout=30)

    assert asyncio.run(scenario())[-1].phase == "succeed"


def test_the_limit_is_read_from_tryon_api_concurrency_and_is_off_by_default(
    tmp_path: Path,
) -> None:
    default = Pipeline.build(load_settings(env={}, dotenv_path=None), tmp_path / "a").capacity
    assert (default.limit, default.limited) == (0, False)
    env = {
        "TRYON_API_CONCURRENCY": "5",
        "TRYON_WAIT_TIMEOUT": "200",
        "TRYON_POLL_INTERVAL": "2",
        "TRYON_POLL_MAX_INTERVAL": "8",
    }
    capacity = Pipeline.build(load_settings(env=env, dotenv_path=None), tmp_path / "b").capacity
    # A slot is held at most the wait limit; an unfollowed task is asked about at the poll
    # pauses: the longest when idle, the first while creates wait.
    assert (capacity.limit, capacity.hold_limit) == (5, 200.0)
    assert (capacity.check_every, capacity.busy_check_every) == (8.0, 2.0)


def test_compares_two_tasks_take_two_turns_in_the_queue(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.3, max_concurrent_tasks=1)
    pipeline = make_pipeline(server, tmp_path, api_concurrency=1)

    async def scenario() -> list[dict[str, Step]]:
        return [latest async for latest in compare(pipeline, *image_files)]

    updates = asyncio.run(scenario())
    assert {step.phase for step in updates[-1].values()} == {"succeed"}
    assert any(step.phase == "queued" for latest in updates for step in latest.values())
    assert server.simulator.creates_received == 2
    assert creates_refused(server) == 0

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

from tests import pictures
from tests.conftest import FAKE_KEY, StartSimulator, fast_client
from tests.flows import make_pipeline
from tryon_demo.errors import TryOnError
from tryon_demo.flow.admit import Visitor
from tryon_demo.flow.batch import lookbook
from tryon_demo.flow.compare import compare
from tryon_demo.flow.lookbook import Garment, LookItem
from tryon_demo.flow.pipeline import Pipeline
from tryon_demo.flow.run import run, submit
from tryon_demo.flow.step import Step
from tryon_demo.settings import Settings, load_settings
from tryon_demo.simulator import SimulatorServer

LINKS = ("https://example.com/person.jpg", "https://example.com/garment.jpg")
MODEL = "kolors-virtual-try-on-v1"


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


async def phases_until_created(pipeline: Pipeline, files: tuple[Path, Path]) -> list[str]:
    """The phases of one run up to its create (the task is left to run at the API)."""
    phases = []
    steps = run(pipeline, *files)
    try:
        async for step in steps:
            phases.append(step.phase)
            if step.phase == "submitted":
                break
    finally:
        await steps.aclose()
    return phases


def test_a_task_running_at_the_api_past_the_wait_limit_holds_no_slot_at_start(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=60, max_concurrent_tasks=2)
    with fast_client(server) as earlier_run_of_the_app:
        earlier = earlier_run_of_the_app.submit(*LINKS)
    server.simulator.tasks[earlier.task_id].created_at -= 5_000  # it began 5 s ago
    pipeline = make_pipeline(server, tmp_path, api_concurrency=1, wait_timeout=3)
    phases = asyncio.run(phases_until_created(pipeline, image_files))
    assert phases[-1] == "submitted"
    assert "queued" not in phases  # its age is counted: past the 3 s its slot is let go


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


# --- bounded waiting, through whole runs -------------------------------------------------------


def test_a_fifth_waiting_run_from_one_address_is_refused_at_once_and_creates_nothing(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.5)
    pipeline = make_pipeline(server, tmp_path, api_concurrency=1)
    me, other = Visitor("ip:me"), Visitor("ip:other")

    async def scenario() -> tuple[list[Step], Step]:
        holder = run(pipeline, *image_files, visitor=me)
        async for step in holder:
            if step.task is not None:  # the only slot is taken
                break
        waiting = [run(pipeline, *image_files, visitor=me) for _ in range(4)]
        for each in waiting:
            await first_queued(each)
        fifth = [step async for step in run(pipeline, *image_files, visitor=me)]
        elsewhere = await first_queued(run(pipeline, *image_files, visitor=other))
        for each in [holder, *waiting]:
            await each.aclose()
        return fifth, elsewhere

    fifth, elsewhere = asyncio.run(scenario())
    assert [step.phase for step in fifth] == ["preparing", "error"]
    assert "You already have 4 try-ons waiting for a free slot" in fifth[-1].status_text()
    assert fifth[-1].request is None  # refused before its pictures were read
    assert elsewhere.phase == "queued"  # another address still gets in line
    assert server.simulator.creates_received == 1


def test_a_waiting_run_reads_its_pictures_only_once_its_turn_comes(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.5)
    pipeline = make_pipeline(server, tmp_path, api_concurrency=1)
    # Each picture is fine on its own: only preparing the pair finds the garment to be the
    # person photo again, so the refusal shows when the pictures were prepared.
    person = image_files[0]

    async def scenario() -> list[Step]:
        holder = run(pipeline, *image_files)
        async for step in holder:
            if step.task is not None:
                break
        waiting = asyncio.create_task(run_all_of_steps(run(pipeline, person, person)))
        await run_all_of(holder)
        return await waiting

    steps = asyncio.run(scenario())
    queued = [step for step in steps if step.phase == "queued"]
    assert queued and all(step.request is None for step in queued)  # nothing prepared yet
    assert steps[-1].phase == "error" and "same picture" in steps[-1].status_text()
    assert server.simulator.creates_received == 1


def test_a_picture_its_header_already_refuses_is_refused_before_the_wait(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.5)
    pipeline = make_pipeline(server, tmp_path, api_concurrency=1)
    notes = tmp_path / "notes.jpg"
    notes.write_bytes(pictures.text_file())

    async def scenario() -> list[Step]:
        holder = run(pipeline, *image_files)
        async for step in holder:
            if step.task is not None:
                break
        steps = [step async for step in run(pipeline, notes, image_files[1])]
        await holder.aclose()
        return steps

    steps = asyncio.run(scenario())
    assert "queued" not in [step.phase for step in steps]  # told at once, not after the wait
    assert "not an image" in steps[-1].status_text()
    assert pipeline.capacity.waiting == 0


def test_a_caller_who_left_while_waiting_leaves_the_line_and_nothing_is_created(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=0.5)
    pipeline = make_pipeline(server, tmp_path, api_concurrency=1)
    left = asyncio.Event()

    async def gone() -> bool:
        return left.is_set()

    async def scenario() -> str:
        holder = run(pipeline, *image_files)
        async for step in holder:
            if step.task is not None:
                break
        leaving = submit(pipeline, *image_files, visitor=Visitor("ip:me", gone=gone))
        waiting = asyncio.create_task(leaving)
        while pipeline.capacity.waiting == 0:
            await asyncio.sleep(0.01)
        left.set()
        try:
            await waiting
        except TryOnError as exc:
            said = exc.render("en")
        assert pipeline.capacity.waiting == 0
        await run_all_of(holder)
        await asyncio.sleep(0.3)
        return said

    said = asyncio.run(scenario())
    assert "nothing was created" in said
    assert server.simulator.creates_received == 1


def test_the_bounds_are_read_from_the_settings_with_their_defaults(tmp_path: Path) -> None:
    default = load_settings(env={}, dotenv_path=None)
    assert (default.queue_per_address, default.queue_max, default.queue_max_wait) == (4, 50, 300)
    env = {
        "TRYON_API_CONCURRENCY": "2",
        "TRYON_QUEUE_PER_ADDRESS": "2",
        "TRYON_QUEUE_MAX": "10",
        "TRYON_QUEUE_MAX_WAIT": "60",
    }
    capacity = Pipeline.build(load_settings(env=env, dotenv_path=None), tmp_path).capacity
    assert (capacity.per_address, capacity.most, capacity.max_wait) == (2, 10, 60.0)


def test_api_callers_who_hang_up_while_waiting_leave_the_line_and_get_no_task(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    import base64
    import json
    import socket
    import subprocess
    import sys
    import time

    from gradio_client import handle_file

    from tests.test_app import RunningApp

    server = start_simulator(task_seconds=3.0)
    settings = Settings(
        api_key=FAKE_KEY,
        api_base=server.gateway_base,
        poll_interval=0.05,
        poll_max_interval=0.2,
        api_concurrency=1,
        state_dir=tmp_path / "state",
    )
    person, garment = image_files
    pair = [
        f"data:image/jpeg;base64,{base64.b64encode(person.read_bytes()).decode()}",
        f"data:image/png;base64,{base64.b64encode(garment.read_bytes()).decode()}",
    ]
    with RunningApp(settings, tmp_path / "work") as app:
        held = app.client.predict(
            handle_file(str(person)), handle_file(str(garment)), MODEL, "", api_name="/submit"
        )  # the only slot, for 3 s
        # A plain HTTP caller of /submit (outside Gradio's queue) that hangs up while waiting.
        body = json.dumps({"data": [*pair, MODEL, ""]}).encode()
        port = int(app.url.rstrip("/").rsplit(":", 1)[1])
        caller = socket.create_connection(("127.0.0.1", port))
        caller.sendall(
            b"POST /gradio_api/run/submit HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        )
        # A gradio_client caller (its call goes through Gradio's event stream), killed.
        script = (
            "import sys; from gradio_client import Client\n"
            f"Client({app.url!r}, verbose=False).predict(*sys.argv[1:], api_name='/submit')"
        )
        client = subprocess.Popen([sys.executable, "-c", script, *pair, MODEL, ""])
        time.sleep(1.5)  # both are in line behind the task holding the slot
        caller.close()
        client.kill()
        client.wait()
        with fast_client(server) as api:  # the slot's task ends, and the line moves on
            api.wait_for_result(held["data"]["task_id"])
        time.sleep(2.0)  # long enough for a waiter still in line to have been sent
    assert server.simulator.creates_received == 1

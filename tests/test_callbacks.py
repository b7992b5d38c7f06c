"""The API's callbacks: a run ends the moment its task does, and the callback door trusts nothing.

Runs go against the simulator on loopback, which calls back the app's callback route served by a
real server on loopback; hostile callbacks are real HTTP requests to that route.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp

from tests.conftest import FAKE_KEY, StartSimulator
from tests.test_app import RunningApp
from tryon_demo.errors import ConfigurationError
from tryon_demo.flow import clients
from tryon_demo.flow.pipeline import Pipeline
from tryon_demo.flow.run import run
from tryon_demo.flow.step import Step
from tryon_demo.hosting.access import AccessGuard
from tryon_demo.hosting.callback_inbox import Inbox
from tryon_demo.hosting.callback_route import CallbackEndpoint, callback_routes, loopback_url
from tryon_demo.settings import Rate, Settings, load_settings
from tryon_demo.simulator import Faults, SimulatorServer


class LoopbackServer:
    """Any ASGI app on a free loopback port, in a thread (as the app serves its route)."""

    def __init__(self, app: ASGIApp) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._socket.close()


def route_app(inbox: Inbox, **options: Any) -> FastAPI:
    """A FastAPI app with only the callback route, mounted as the Gradio app mounts it."""
    if options:
        from starlette.routing import Route

        return FastAPI(routes=[Route("/callbacks/{token}", CallbackEndpoint(inbox, **options))])
    return FastAPI(routes=callback_routes(inbox))


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def route(inbox: Inbox) -> Iterator[LoopbackServer]:
    with LoopbackServer(route_app(inbox)) as server:
        yield server


def callback_pipeline(
    simulator: SimulatorServer, route: LoopbackServer, inbox: Inbox, tmp_path: Path, **options: Any
) -> Pipeline:
    """A pipeline on the simulator whose public address is the route's server."""
    options.setdefault("callback_backstop", 10.0)
    settings = Settings(
        api_key=FAKE_KEY,
        api_base=simulator.gateway_base,
        public_url=route.url,
        poll_interval=0.05,
        poll_max_interval=0.2,
        **options,
    )
    return Pipeline.build(settings, tmp_path / "work", inbox=inbox)


def run_steps(
    pipeline: Pipeline, files: tuple[Path, Path], callback_url: str | None = None
) -> list[Step]:
    async def gather() -> list[Step]:
        steps = []
        async for step in run(pipeline, *files, callback_url=callback_url, compare=False):
            steps.append(step)
        return steps

    return asyncio.run(gather())


def queries(simulator: SimulatorServer) -> int:
    """Status queries the simulator answered (every request but the one create)."""
    return simulator.simulator.requests_seen - simulator.simulator.creates_received


def post(url: str, body: Any, **options: Any) -> requests.Response:
    return requests.post(url, json=body, timeout=5, **options)


def expected(inbox: Inbox, route: LoopbackServer, task_id: str = "task-1") -> tuple[str, str]:
    token, url = inbox.expect(route.url)
    inbox.bind(token, task_id)
    return token, url


def nothing_delivered(inbox: Inbox, token: str) -> bool:
    return asyncio.run(inbox.wait(token, 0.05)) is None


# --- a run with callbacks -------------------------------------------------------------------


def test_a_run_with_callbacks_ends_right_after_its_task_with_at_most_two_queries(
    start_simulator: StartSimulator,
    route: LoopbackServer,
    inbox: Inbox,
    image_files: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    simulator = start_simulator(task_seconds=1.0)
    steps = run_steps(callback_pipeline(simulator, route, inbox, tmp_path), image_files)
    ended = time.time()
    final = steps[-1]
    assert final.phase == "succeed" and final.result_path is not None
    assert final.task is not None
    finished_at = final.task.raw["data"]["updated_at"] / 1000  # the simulator's end time
    # Target 0.3 s; the bound leaves room for a busy machine, far below the 10 s backstop.
    assert ended - finished_at < 2.0
    assert queries(simulator) <= 2


def test_the_status_says_the_callback_arrived_and_the_panel_shows_its_body(
    start_simulator: StartSimulator,
    route: LoopbackServer,
    inbox: Inbox,
    image_files: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    simulator = start_simulator(task_seconds=0.6)
    final = run_steps(callback_pipeline(simulator, route, inbox, tmp_path), image_files)[-1]
    assert "Callback received: done (API: succeed)" in final.status_text()
    panel = final.task_json
    assert panel is not None
    assert panel["callback"]["task_status"] == "succeed"
    assert panel["callback"]["task_id"] == final.task.task_id  # type: ignore[union-attr]
    assert panel["last_query"]["data"]["task_status"] == "succeed"


def test_the_callback_body_on_the_page_is_redacted(
    start_simulator: StartSimulator,
    route: LoopbackServer,
    inbox: Inbox,
    image_files: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    simulator = start_simulator(
        task_seconds=0.6, faults=Faults(fail_share=1.0, fail_message=f"echo {FAKE_KEY}")
    )
    steps = run_steps(callback_pipeline(simulator, route, inbox, tmp_path), image_files)
    final = steps[-1]
    assert final.phase == "failed" and final.callback is not None
    assert final.callback["task_status"] == "failed"
    assert FAKE_KEY not in json.dumps([s.task_json for s in steps])
    assert "***" in final.callback["task_status_msg"]


def test_a_lost_callback_is_caught_by_the_backstop(
    start_simulator: StartSimulator,
    route: LoopbackServer,
    inbox: Inbox,
    image_files: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    simulator = start_simulator(task_seconds=0.5, faults=Faults(drop_callbacks=True))
    pipeline = callback_pipeline(simulator, route, inbox, tmp_path, callback_backstop=0.4)
    final = run_steps(pipeline, image_files)[-1]
    assert final.phase == "succeed" and final.result_path is not None
    assert simulator.simulator.callbacks_sent == []
    assert final.callback is None


def test_the_token_is_forgotten_when_the_run_ends(
    start_simulator: StartSimulator,
    route: LoopbackServer,
    inbox: Inbox,
    image_files: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    simulator = start_simulator(task_seconds=0.4)
    final = run_steps(callback_pipeline(simulator, route, inbox, tmp_path), image_files)[-1]
    assert len(inbox) == 0
    task = simulator.simulator.tasks[final.task.task_id]  # type: ignore[union-attr]
    assert task.callback_url is not None and task.callback_url.startswith(route.url)
    late = post(task.callback_url, {"task_id": task.task_id, "task_status": "failed"})
    assert late.status_code == 404


def test_the_page_shows_the_callback_url_without_its_token(
    start_simulator: StartSimulator,
    route: LoopbackServer,
    inbox: Inbox,
    image_files: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    simulator = start_simulator(task_seconds=0.3)
    steps = run_steps(callback_pipeline(simulator, route, inbox, tmp_path), image_files)
    task = simulator.simulator.tasks[steps[-1].task.task_id]  # type: ignore[union-attr]
    token = (task.callback_url or "").rsplit("/", 1)[1]
    shown = json.dumps([s.request for s in steps], ensure_ascii=False)
    assert token not in shown
    assert route.url + "/callbacks/" in shown


def test_a_forged_callback_cannot_end_the_run_with_its_own_result(
    start_simulator: StartSimulator,
    route: LoopbackServer,
    inbox: Inbox,
    image_files: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    simulator = start_simulator(task_seconds=1.2)
    pipeline = callback_pipeline(simulator, route, inbox, tmp_path, callback_backstop=0.5)
    forged_url = "http://127.0.0.1:9/forged.png"
    answers: list[int] = []

    def forge() -> None:  # someone who learned the callback URL claims the task is done
        while not simulator.simulator.tasks:
            time.sleep(0.01)
        task = next(iter(simulator.simulator.tasks.values()))
        body = {
            "task_id": task.task_id,
            "task_status": "succeed",
            "task_result": {"images": [{"index": 0, "url": forged_url}]},
        }
        answers.append(post(task.callback_url or "", body).status_code)

    forger = threading.Thread(target=forge)
    forger.start()
    started = time.time()
    final = run_steps(pipeline, image_files)[-1]
    forger.join()
    assert answers == [204]  # the token was right, so the door took it
    assert final.phase == "succeed" and final.task is not None
    assert final.task.result_url != forged_url  # the result came from the run's own query
    assert final.task.result_url.startswith(simulator.url)  # type: ignore[union-attr]
    assert time.time() - started >= 1.2  # it did not end before the task did


def forge_end_claims(simulator: SimulatorServer, count: int) -> list[int]:
    """What someone who learned a running task's callback URL can do: claim, ``count`` times,
    that it succeeded. The door's answers."""
    while not simulator.simulator.tasks:
        time.sleep(0.01)
    task = next(iter(simulator.simulator.tasks.values()))
    body = {
        "task_id": task.task_id,
        "task_status": "succeed",
        "task_result": {"images": [{"index": 0, "url": "http://127.0.0.1:9/forged.png"}]},
    }
    return [post(task.callback_url or "", body).status_code for _ in range(count)]


def settled(count: Any, quiet: float = 0.6) -> int:
    """``count()`` once it has stopped changing for ``quiet`` seconds."""
    last, since = count(), time.monotonic()
    while time.monotonic() - since < quiet:
        time.sleep(0.05)
        now = count()
        if now != last:
            last, since = now, time.monotonic()
    return int(last)


def test_forty_forged_end_callbacks_cause_at_most_three_queries(
    start_simulator: StartSimulator,
    route: LoopbackServer,
    inbox: Inbox,
    image_files: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    simulator = start_simulator(task_seconds=30.0)
    pipeline = callback_pipeline(simulator, route, inbox, tmp_path, callback_backstop=60.0)
    shown: list[Step] = []

    async def scenario() -> int:
        steps = run(pipeline, *image_files, compare=False)
        async for step in steps:
            shown.append(step)
            if step.task is not None:
                break
        following = asyncio.create_task(collect_into(steps, shown))
        answers = await asyncio.to_thread(forge_end_claims, simulator, 40)
        made = await asyncio.to_thread(settled, lambda: queries(simulator))
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        await steps.aclose()
        assert answers.count(204) <= 3  # the door takes a few claims, then no more
        return made

    assert asyncio.run(scenario()) <= 3
    assert all(step.phase != "succeed" for step in shown)  # the task never ended


async def collect_into(steps: Any, into: list[Step]) -> None:
    async for step in steps:
        into.append(step)


def test_a_processing_callback_is_confirmed_and_shown_before_the_end(
    start_simulator: StartSimulator,
    route: LoopbackServer,
    inbox: Inbox,
    image_files: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    # The page says "processing" when the API does, not "submitted" until the end.
    simulator = start_simulator(task_seconds=3.0)
    pipeline = callback_pipeline(simulator, route, inbox, tmp_path, callback_backstop=60.0)
    steps = run_steps(pipeline, image_files)
    assert steps[-1].phase == "succeed"
    assert any(step.phase == "processing" for step in steps if not step.done)


def test_an_unconfirmed_callback_is_never_shown_in_the_panel_or_the_status(
    start_simulator: StartSimulator,
    route: LoopbackServer,
    inbox: Inbox,
    image_files: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    simulator = start_simulator(task_seconds=2.0)
    pipeline = callback_pipeline(simulator, route, inbox, tmp_path, callback_backstop=5.0)
    forger = threading.Thread(target=forge_end_claims, args=(simulator, 2))
    forger.start()
    steps = run_steps(pipeline, image_files)
    forger.join()
    final = steps[-1]
    before_the_end = [step for step in steps if not step.done]
    assert final.phase == "succeed" and final.task is not None
    for step in before_the_end:
        # Only the API's own "processing", confirmed by a query, may be shown before the end.
        assert step.callback is None or step.callback["task_status"] == "processing"
        assert "Callback received: done" not in step.status_text()
        assert "forged" not in json.dumps(step.task_json)
    assert final.task.result_url != "http://127.0.0.1:9/forged.png"


def test_the_visitors_own_callback_url_passes_through_untouched_and_the_run_polls(
    start_simulator: StartSimulator,
    route: LoopbackServer,
    inbox: Inbox,
    image_files: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    simulator = start_simulator(task_seconds=0.4)
    own = route.url + "/my-hook/?source=tryon&x=%2F"
    steps = run_steps(callback_pipeline(simulator, route, inbox, tmp_path), image_files, own)
    final = steps[-1]
    assert final.phase == "succeed"
    assert simulator.simulator.tasks[final.task.task_id].callback_url == own  # type: ignore[union-attr]
    assert final.request is not None and final.request["callback_url"] == own
    assert any("polling" in str(note) for note in final.notes)
    assert final.callback is None and len(inbox) == 0


def test_each_lookbook_garment_is_woken_by_its_own_callback(
    start_simulator: StartSimulator, route: LoopbackServer, inbox: Inbox, tmp_path: Path
) -> None:
    from tests.test_lookbook import garment_files, person_file, snapshots

    simulator = start_simulator(task_seconds=0.6)
    pipeline = callback_pipeline(simulator, route, inbox, tmp_path)  # a 10 s backstop
    started = time.monotonic()
    final = snapshots(pipeline, person_file(tmp_path), garment_files(tmp_path, 3))[-1]
    assert [item.state for item in final] == ["succeed"] * 3
    assert time.monotonic() - started < 8  # none waited for the backstop
    assert queries(simulator) <= 2 * 3
    tasks = simulator.simulator.tasks.values()
    assert len({task.callback_url for task in tasks}) == 3  # a token per garment
    assert len(inbox) == 0


def test_without_a_public_address_creates_carry_no_callback(
    simulator: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    settings = Settings(api_key=FAKE_KEY, api_base=simulator.gateway_base, poll_interval=0.05)
    final = run_steps(Pipeline.build(settings, tmp_path / "work", inbox=Inbox()), image_files)[-1]
    assert final.phase == "succeed"
    assert simulator.simulator.tasks[final.task.task_id].callback_url is None  # type: ignore[union-attr]


# --- the door: anything but one well-formed POST per state changes nothing ------------------


def test_a_callback_for_a_known_token_is_accepted_once(route: LoopbackServer, inbox: Inbox) -> None:
    token, url = expected(inbox, route)
    body = {"task_id": "task-1", "task_status": "processing"}
    assert post(url, body).status_code == 204
    assert asyncio.run(inbox.wait(token, 1.0)) == body


def test_a_repeated_callback_changes_nothing(route: LoopbackServer, inbox: Inbox) -> None:
    token, url = expected(inbox, route)
    body = {"task_id": "task-1", "task_status": "succeed"}
    assert post(url, body).status_code == 204
    assert asyncio.run(inbox.wait(token, 1.0)) == body
    again = post(url, body)
    assert (again.status_code, again.content) == (404, b"")
    assert nothing_delivered(inbox, token)


def test_an_unknown_token_changes_nothing(route: LoopbackServer, inbox: Inbox) -> None:
    token, _ = expected(inbox, route)
    for guess in ("A" * 43, token[:-1] + ("A" if token[-1] != "A" else "B"), "short", token + "A"):
        reply = post(
            f"{route.url}/callbacks/{guess}", {"task_id": "task-1", "task_status": "succeed"}
        )
        assert (reply.status_code, reply.content) == (404, b"")
    assert nothing_delivered(inbox, token)


def test_an_oversized_callback_changes_nothing(route: LoopbackServer, inbox: Inbox) -> None:
    token, url = expected(inbox, route)
    big = {"task_id": "task-1", "task_status": "succeed", "pad": "x" * (64 * 1024)}
    reply = post(url, big)
    assert (reply.status_code, reply.content) == (404, b"")
    chunked = requests.post(
        url,
        data=iter([json.dumps(big).encode()]),  # no Content-Length: the size is counted as read
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert chunked.status_code == 404
    assert nothing_delivered(inbox, token)
    # The state was not used up: the real callback still gets through.
    assert post(url, {"task_id": "task-1", "task_status": "succeed"}).status_code == 204


def test_a_callback_by_any_method_but_post_changes_nothing(
    route: LoopbackServer, inbox: Inbox
) -> None:
    token, url = expected(inbox, route)
    body = json.dumps({"task_id": "task-1", "task_status": "succeed"})
    for method in ("GET", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"):
        reply = requests.request(
            method, url, data=body, headers={"Content-Type": "application/json"}, timeout=5
        )
        assert (method, reply.status_code, reply.content) == (method, 404, b"")
    assert nothing_delivered(inbox, token)


def test_a_callback_that_is_not_a_json_object_changes_nothing(
    route: LoopbackServer, inbox: Inbox
) -> None:
    token, url = expected(inbox, route)
    text = json.dumps({"task_id": "task-1", "task_status": "succeed"})
    refused = [
        requests.post(url, data=text, headers={"Content-Type": "text/plain"}, timeout=5),
        requests.post(url, data=text.encode(), timeout=5),  # no content type at all
        requests.post(
            url, data="{not json", headers={"Content-Type": "application/json"}, timeout=5
        ),
        post(url, ["task-1", "succeed"]),
        post(url, {"task_id": "task-1", "task_status": "done, trust me"}),
        post(url, {"task_id": "another-task", "task_status": "succeed"}),
        requests.post(
            url, data="[" * 5000 + "]" * 5000, headers={"Content-Type": "application/json"}
        ),
    ]
    assert [r.status_code for r in refused] == [404] * len(refused)
    assert nothing_delivered(inbox, token)


def test_an_address_refused_too_often_is_told_to_wait(inbox: Inbox) -> None:
    token, _ = inbox.expect("http://127.0.0.1")
    with LoopbackServer(route_app(inbox, refusals=Rate(3, 60))) as server:
        codes = [
            post(f"{server.url}/callbacks/{'A' * 43}", {"task_status": "succeed"}).status_code
            for _ in range(5)
        ]
        guess = post(f"{server.url}/callbacks/{'B' * 43}", {"task_status": "succeed"})
        # The API sends everyone's callbacks from one address: the genuine one still gets in,
        # or strangers with API accounts of their own could shut the door on it.
        right = post(f"{server.url}/callbacks/{token}", {"task_status": "succeed"})
    assert codes == [404, 404, 404, 429, 429]
    assert guess.status_code == 429 and guess.headers["Retry-After"]
    assert right.status_code == 204


def test_a_forged_end_the_query_disproves_leaves_the_door_open_for_the_real_one(
    route: LoopbackServer, inbox: Inbox
) -> None:
    token, url = expected(inbox, route)
    forged = {"task_id": "task-1", "task_status": "succeed"}
    assert post(url, forged).status_code == 204
    assert asyncio.run(inbox.wait(token, 1.0)) == forged
    inbox.disproved(token, "succeed")  # what a run does when its query finds it still running
    real = {"task_id": "task-1", "task_status": "succeed", "task_result": {"images": []}}
    assert post(url, real).status_code == 204
    assert asyncio.run(inbox.wait(token, 1.0)) == real


# --- the password leaves this one door open, and only it -------------------------------------


def test_a_token_takes_three_end_claims_at_most_disproved_or_not(
    route: LoopbackServer, inbox: Inbox
) -> None:
    token, url = expected(inbox, route)
    forged = {"task_id": "task-1", "task_status": "succeed"}
    answers = []
    for _ in range(10):
        answers.append(post(url, forged).status_code)
        asyncio.run(inbox.wait(token, 1.0))
        inbox.disproved(token, "succeed")  # the run's query found the task still running
    assert answers == [204, 204, 204] + [404] * 7
    # A state that is not an end claims nothing: it wakes no query.
    assert post(url, {"task_id": "task-1", "task_status": "processing"}).status_code == 204


def test_the_password_lets_callbacks_through_and_keeps_every_other_path_locked(
    inbox: Inbox,
) -> None:
    token, _ = inbox.expect("http://127.0.0.1")
    app = FastAPI(routes=callback_routes(inbox))

    @app.post("/gradio_api/queue/join")
    @app.post("/callbacks/{token}/more")
    @app.post("/callbacksx/{token}")
    async def private() -> dict[str, str]:
        return {"secret": "yes"}

    guard = AccessGuard(
        app, user="demo", password="open-sesame-123", trusted_proxies=0, auth_message="private"
    )
    body = {"task_status": "submitted"}
    with LoopbackServer(guard) as server:
        through = post(f"{server.url}/callbacks/{token}", body)
        locked = {
            path: post(server.url + path, body).status_code
            for path in (
                "/gradio_api/queue/join",
                f"/callbacks/{token}/more",
                f"/callbacksx/{token}",
                f"/callbacks/{token}/../../gradio_api/queue/join",
                f"/callbacks/%2e%2e/gradio_api/queue/join{token[:30]}",
            )
        }
        read = requests.get(f"{server.url}/callbacks/{token}", timeout=5)
    assert through.status_code == 204
    assert set(locked.values()) == {401}, locked
    assert read.status_code == 401  # only a POST is let through without the password


# --- the whole app, offline: the simulator calls the app back on loopback --------------------


def test_the_app_offline_receives_the_simulators_callbacks(
    image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    from gradio_client import handle_file

    settings = Settings(simulator_task_seconds=1.0, state_dir=tmp_path / "state")
    with RunningApp(settings, tmp_path / "work") as app:
        sim = clients.shared_simulator(settings).simulator
        before = sim.requests_seen - sim.creates_received
        _, final = app.client.predict(
            handle_file(str(image_files[0])),
            handle_file(str(image_files[1])),
            "kolors-virtual-try-on-v1",
            "",
            api_name="/tryon",
        )
        task = sim.tasks[final["data"]["task_id"]]
        used = sim.requests_seen - sim.creates_received - before
    assert final["data"]["task_status"] == "succeed"
    assert task.callback_url is not None
    assert task.callback_url.startswith(app.url.rstrip("/") + "/callbacks/")
    assert any(sent["task_id"] == task.task_id for sent in sim.callbacks_sent)
    assert used <= 2


# --- settings ------------------------------------------------------------------------------


def test_on_a_space_the_public_address_defaults_to_its_host() -> None:
    settings = load_settings({"SPACE_HOST": "me-tryon.hf.space"}, dotenv_path=None)
    assert settings.public_url == "https://me-tryon.hf.space"
    assert load_settings({}, dotenv_path=None).public_url is None


def test_tryon_public_url_wins_and_off_turns_callbacks_off() -> None:
    env = {"SPACE_HOST": "me-tryon.hf.space", "TRYON_PUBLIC_URL": "https://tryon.example.org/"}
    assert load_settings(env, dotenv_path=None).public_url == "https://tryon.example.org"
    off = load_settings({**env, "TRYON_PUBLIC_URL": "off"}, dotenv_path=None)
    assert (off.public_url, off.callbacks) == (None, False)


def test_a_public_url_that_is_not_http_is_refused_at_start() -> None:
    with pytest.raises(ConfigurationError, match="TRYON_PUBLIC_URL"):
        load_settings({"TRYON_PUBLIC_URL": "ftp://example.org"}, dotenv_path=None)


def test_offline_callbacks_go_to_a_loopback_address_whatever_the_server_listens_on() -> None:
    assert loopback_url("0.0.0.0", 7860) == "http://127.0.0.1:7860"
    assert loopback_url("127.0.0.1", 7860) == "http://127.0.0.1:7860"
    assert loopback_url("::", 7860) == "http://[::1]:7860"
    assert loopback_url("my-host.example", 7860) == "http://127.0.0.1:7860"

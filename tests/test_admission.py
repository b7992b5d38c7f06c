"""One admission path: every door passes the same guard, in one declared order, before any
work is done for the visitor (password -> rate -> quota -> queue -> pictures -> create).

The doors are driven for real against the simulator on loopback, whose own count of requests
shows whether anything reached the API; the pictures given are text files, so a decode before
the guard would answer "not an image" instead of the limit. The code's own shape is checked too:
only the prepare step decodes a visitor's picture, only admission hands out a client of the API,
so a new feature cannot skip the guard.
"""

from __future__ import annotations

import ast
import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from tests import pictures
from tests.flows import make_pipeline
from tests.test_access import RunningApp, mcp_call, online
from tryon_demo.errors import TryOnError
from tryon_demo.flow import outfit, reattach
from tryon_demo.flow.admit import ORDER, Door, Need, Pass, Visitor
from tryon_demo.flow.batch import lookbook
from tryon_demo.flow.check import check_picture
from tryon_demo.flow.compare import compare
from tryon_demo.flow.lookbook import Garment
from tryon_demo.flow.pipeline import Pipeline
from tryon_demo.flow.run import run, submit
from tryon_demo.flow.step import Step
from tryon_demo.hosting.limits import LimitExceededError
from tryon_demo.hosting.usage import usage_for
from tryon_demo.settings import Settings
from tryon_demo.simulator import SimulatorServer

PACKAGE = Path(__file__).resolve().parent.parent / "tryon_demo"
ME = Visitor("ip:me")


# --- the order, and the shape that keeps it -------------------------------------------------


def test_the_order_every_door_passes_is_declared_in_one_place() -> None:
    assert ORDER == ("password", "rate", "quota", "queue", "pictures", "create")


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield str(path.relative_to(PACKAGE)), ast.parse(path.read_text(encoding="utf-8"))


def names_used(tree: ast.Module) -> set[str]:
    """Every name a module reads, imports or reaches as an attribute."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.ImportFrom):
            found.update(alias.name for alias in node.names)
    return found


def calls_of(tree: ast.Module) -> set[str]:
    """``Name(...)`` and ``Name.attr(...)`` calls, as ``Name`` and ``Name.attr``."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name):
            found.add(node.func.id)
        elif isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            found.add(f"{node.func.value.id}.{node.func.attr}")
    return found


#: Who may use what decodes a visitor's pictures, creates a task or hands out a client.
ALLOWED_NAMES = {
    # Decoding a picture: the prepare step only. The command line's ``prepare`` command reads
    # the owner's own file and creates nothing; the pictures package (a folder) defines them.
    "prepare_image": {"flow/prepare.py", "cli.py", "pictures/"},
    "prepare_submission": {"flow/prepare.py"},
    "compose_outfit": {"flow/prepare.py", "pictures/"},
    # Proving a chosen picture whole for its note (a decode at 1/8 scale): the same step.
    "quick_check": {"flow/prepare.py", "pictures/"},
    # Sending a create: the create step only (the client defines it).
    "submit_body": {"flow/create.py", "api/client.py"},
    # The clients of the API: made in one module, handed out by admission only.
    "make_client": {"flow/clients.py"},
    "Clients": {"flow/clients.py", "flow/admit.py", "flow/pipeline.py"},
    "_clients": {"flow/admit.py"},
}
ALLOWED_CALLS = {
    "TryOnClient": {"flow/clients.py"},
    "TryOnClient.from_settings": {"flow/clients.py"},
    "Pass": {"flow/admit.py"},
}


@pytest.mark.parametrize("name", sorted(ALLOWED_NAMES))
def test_only_the_guarded_steps_reach_what_decodes_creates_or_calls_the_api(name: str) -> None:
    users = {module for module, tree in modules() if name in names_used(tree)}
    outside = {m for m in users if not allowed(m, ALLOWED_NAMES[name])}
    assert not outside, f"{name} used outside the admission path: {outside}"


@pytest.mark.parametrize("call", sorted(ALLOWED_CALLS))
def test_only_the_clients_module_makes_a_client_and_only_admission_a_pass(call: str) -> None:
    callers = {module for module, tree in modules() if call in calls_of(tree)}
    outside = {m for m in callers if not allowed(m, ALLOWED_CALLS[call])}
    assert not outside, f"{call}(...) outside the admission path: {outside}"


def allowed(module: str, places: set[str]) -> bool:
    """Whether ``module`` is one of ``places`` (a path ending in ``/`` is a whole folder)."""
    return any(
        module == place or (place.endswith("/") and module.startswith(place)) for place in places
    )


def test_a_pass_is_made_by_admission_only(simulator: SimulatorServer, tmp_path: Path) -> None:
    pipeline = make_pipeline(simulator, tmp_path)
    with pytest.raises(TypeError, match=r"Admission\.enter"):
        Pass(object(), pipeline.admission, ME, Door.RUN, Need.CREATE, None, None)


def test_a_lookup_pass_decodes_nothing_and_a_pictures_pass_sends_nothing(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    pipeline = make_pipeline(simulator, tmp_path)

    async def passes() -> tuple[Pass, Pass]:
        lookup = await pipeline.admission.enter(ME, Door.QUERY, Need.LOOKUP)
        composer = await pipeline.admission.enter(ME, Door.OUTFIT, Need.PICTURES)
        return lookup, composer

    lookup, composer = asyncio.run(passes())
    with pytest.raises(PermissionError):
        lookup.check_pictures()
    with pytest.raises(PermissionError):
        _ = composer.client
    lookup.close()
    with pytest.raises(PermissionError):  # a closed pass opens nothing any more
        _ = lookup.client
    assert simulator.simulator.requests_seen == 0


def test_an_own_key_of_blanks_is_no_own_key_and_spaces_around_one_are_dropped() -> None:
    assert Visitor("ip:me", own_key="  \n").own_key is None
    assert Visitor("ip:me", own_key="").own_key is None
    assert Visitor("ip:me", own_key=" sk-mine\n").own_key == "sk-mine"


def test_the_machines_owner_at_the_command_line_passes_limits_its_address_has_spent(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    pipeline = make_pipeline(simulator, tmp_path, rate_per_session="1/minute")
    owner = Visitor.local_owner()
    assert owner.owner and owner.own_key is None
    pipeline.limiter.acquire(owner.address)  # the address's one create of the minute is spent

    async def enter(visitor: Visitor) -> Pass:
        return await pipeline.admission.enter(visitor, Door.CLI, Need.CREATE)

    for _ in range(2):
        asyncio.run(enter(owner)).close()
    with pytest.raises(LimitExceededError):  # anyone else at that address is a visitor
        asyncio.run(enter(Visitor(owner.address)))


# --- every door, over the limit: refused before any picture or request ------------------------


def text_file(tmp_path: Path, name: str = "notes.jpg") -> Path:
    path = tmp_path / name
    path.write_bytes(pictures.text_file())
    return path


def exhausted(simulator: SimulatorServer, tmp_path: Path) -> Pipeline:
    """A pipeline whose visitor ``ME`` has used up its submissions and its lookups."""
    pipeline = make_pipeline(
        simulator, tmp_path, rate_per_session="1/minute", rate_query="1/minute"
    )
    pipeline.limiter.acquire(ME.address)
    pipeline.limiter.acquire_query(ME.address)
    return pipeline


async def last(steps: AsyncIterator[Any]) -> Any:
    """The last item of ``steps``."""
    items = [item async for item in steps]
    return items[-1] if items else None


def through_run(pipeline: Pipeline, junk: Path) -> Any:
    final: Step = asyncio.run(last(run(pipeline, junk, junk, visitor=ME)))
    return final.error


def through_tryon(pipeline: Pipeline, junk: Path) -> Any:
    steps = run(pipeline, junk, junk, visitor=ME, compare=False, door=Door.TRYON)
    final: Step = asyncio.run(last(steps))
    return final.error


def through_compare(pipeline: Pipeline, junk: Path) -> Any:
    final: dict[str, Step] = asyncio.run(last(compare(pipeline, junk, junk, visitor=ME)))
    errors = {type(step.error) for step in final.values()}
    assert len(errors) == 1, errors  # both sides refused the same way
    return next(iter(final.values())).error


def through_lookbook(pipeline: Pipeline, junk: Path) -> Any:
    garments = [Garment("shirt.jpg", junk)]
    try:
        asyncio.run(last(lookbook(pipeline, junk, garments, visitor=ME)))
    except LimitExceededError as exc:
        return exc
    return None


def through_outfit(pipeline: Pipeline, junk: Path) -> Any:
    try:
        asyncio.run(outfit.compose(pipeline, junk, junk, ("top", "bottom"), visitor=ME))
    except LimitExceededError as exc:
        return exc
    return None


def through_check(pipeline: Pipeline, junk: Path) -> Any:
    try:
        asyncio.run(check_picture(pipeline, junk, "Person image", visitor=ME))
    except LimitExceededError as exc:
        return exc
    return None


def through_reattach(pipeline: Pipeline, junk: Path) -> Any:
    token = pipeline.owners.token("task-1")  # the creator's own: ownership is no obstacle
    steps = reattach.follow(pipeline, "task-1", owner_token=token, visitor=ME)
    final: Step = asyncio.run(last(steps))
    return final.error


def through_submit(pipeline: Pipeline, junk: Path) -> Any:
    try:
        asyncio.run(submit(pipeline, junk, junk, visitor=ME))
    except LimitExceededError as exc:
        return exc
    return None


def through_query(pipeline: Pipeline, junk: Path) -> Any:
    token = pipeline.owners.token("task-1")
    try:
        asyncio.run(reattach.query(pipeline, "task-1", token, visitor=ME))
    except LimitExceededError as exc:
        return exc
    return None


OWN_KEY = Visitor("ip:me", own_key="sk-visitor-own-FAKE")


def through_own_key_run(pipeline: Pipeline, junk: Path) -> Any:
    final: Step = asyncio.run(last(run(pipeline, junk, junk, visitor=OWN_KEY)))
    return final.error


def through_own_key_lookbook(pipeline: Pipeline, junk: Path) -> Any:
    try:
        asyncio.run(last(lookbook(pipeline, junk, [Garment("shirt.jpg", junk)], visitor=OWN_KEY)))
    except LimitExceededError as exc:
        return exc
    return None


def through_own_key_reattach(pipeline: Pipeline, junk: Path) -> Any:
    final: Step = asyncio.run(last(reattach.follow(pipeline, "task-1", visitor=OWN_KEY)))
    return final.error


FLOW_DOORS: dict[str, Callable[[Pipeline, Path], Any]] = {
    "own key: page run": through_own_key_run,
    "own key: page lookbook": through_own_key_lookbook,
    "own key: page re-attach": through_own_key_reattach,
    "page run": through_run,
    "page compare": through_compare,
    "page lookbook": through_lookbook,
    "page outfit composer": through_outfit,
    "page picture check": through_check,
    "page re-attach": through_reattach,
    "/submit": through_submit,
    "/tryon": through_tryon,
    "/query": through_query,
}


@pytest.mark.parametrize("door", sorted(FLOW_DOORS))
def test_each_door_refuses_a_visitor_over_the_limit_before_any_picture_or_request(
    door: str, simulator: SimulatorServer, tmp_path: Path
) -> None:
    pipeline = exhausted(simulator, tmp_path)
    refusal = FLOW_DOORS[door](pipeline, text_file(tmp_path))
    assert isinstance(refusal, LimitExceededError), refusal  # not "not an image": no decode
    assert simulator.simulator.requests_seen == 0  # nothing reached the API


# --- the same doors over HTTP, as a caller elsewhere would use them ---------------------------


@pytest.fixture(scope="module")
def api_simulator() -> Iterator[SimulatorServer]:
    from tests.conftest import FAKE_KEY
    from tryon_demo.simulator import SimulatorConfig

    with SimulatorServer(
        SimulatorConfig(task_seconds=0.3, api_keys=frozenset({FAKE_KEY}))
    ) as server:
        yield server


def http_calls(url: str, junk: str) -> dict[str, Callable[[], str]]:
    """Each HTTP door called once with junk pictures; returns what it answered."""

    def gradio(api_name: str, *args: Any) -> Callable[[], str]:
        def call() -> str:
            try:
                Client(url, verbose=False).predict(*args, api_name=api_name)
            except AppError as exc:
                return str(exc)
            return "accepted"

        return call

    def mcp(tool: str, arguments: dict[str, Any]) -> Callable[[], str]:
        def call() -> str:
            result = mcp_call(f"{url.rstrip('/')}/gradio_api/mcp/", tool, arguments, {})
            return " ".join(getattr(c, "text", "") for c in result.content)

        return call

    junk_url = "data:image/jpeg;base64,bm90IGEgcGljdHVyZQ=="
    pair = {"human_image": junk_url, "cloth_image": junk_url}
    files = (handle_file(junk), handle_file(junk), "kolors-virtual-try-on-v1", "")
    return {
        "/submit": gradio("/submit", *files),
        "/tryon": gradio("/tryon", *files),
        "/query": gradio("/query", "task-1", ""),
        "MCP submit": mcp("submit", pair),
        "MCP tryon": mcp("tryon", pair),
        "MCP query": mcp("query", {"task_id": "task-1"}),
    }


def test_every_http_and_mcp_door_refuses_a_visitor_over_the_limit_before_any_work(
    api_simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = online(
        api_simulator,
        tmp_path,
        rate_per_session="1/minute",
        rate_query="1/minute",
        mcp_server=True,
    )
    junk = str(text_file(tmp_path))
    with RunningApp(settings, tmp_path / "work") as running:
        calls = http_calls(running.url, junk)
        # The visitor's allowance, used up: one submission, one lookup.
        calls["/submit"]()
        calls["/query"]()
        before = api_simulator.simulator.requests_seen
        answers = {door: call() for door, call in calls.items()}
    assert api_simulator.simulator.requests_seen == before  # nothing more reached the API
    for door, answer in answers.items():
        assert "You have" in answer and "not an image" not in answer, (door, answer)


def test_the_command_line_is_refused_past_the_days_cap_before_any_picture_or_request(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    state = tmp_path / "state"
    used = usage_for(Settings(state_dir=state))  # the day's one create, made by the app
    used.created("kolors-virtual-try-on-v1")
    used.close()
    junk = str(text_file(tmp_path))
    env = {
        **os.environ,
        "PYTHONPATH": str(PACKAGE.parent),
        "KLING_API_KEY": "sk-FAKE-cli",
        "KLING_API_BASE": simulator.gateway_base,
        "TRYON_DAILY_CAP": "1",
        "TRYON_STATE_DIR": str(state),
    }
    result = subprocess.run(
        [sys.executable, "-m", "tryon_demo", "submit", "--human", junk, "--cloth", junk],
        capture_output=True,
        text=True,
        env=env,
        # Refused before anything is written; from the project's folder, a mutation run's
        # child process finds mutmut's settings (tests/test_cli.py runs it from elsewhere).
        cwd=PACKAGE.parent,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "limit of 1 try-ons for today" in result.stderr
    assert "not an image" not in result.stderr
    assert simulator.simulator.requests_seen == 0


#: Where each door is driven over its limit in this file.
DRIVEN = {
    Door.RUN: "page run",
    Door.COMPARE: "page compare",
    Door.LOOKBOOK: "page lookbook",
    Door.OUTFIT: "page outfit composer",
    Door.CHECK: "page picture check",
    Door.REATTACH: "page re-attach",
    Door.SUBMIT: "/submit",
    Door.TRYON: "/tryon",
    Door.QUERY: "/query",
    Door.CLI: "the command line",
}


def test_a_lookbook_is_refused_at_the_door_once_the_days_cap_is_spent(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    pipeline = make_pipeline(simulator, tmp_path, daily_cap=1)
    pipeline.admission.quota.reserve("ip:someone-else").commit()  # the day's one create
    refusal = through_lookbook(pipeline, text_file(tmp_path))
    assert isinstance(refusal, LimitExceededError) and refusal.reason == "daily_cap"
    assert simulator.simulator.requests_seen == 0


def test_the_days_cap_counts_the_creates_in_the_owners_usage_records(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    earlier = usage_for(Settings(state_dir=state))  # the day's one create, before a restart
    earlier.created("kolors-virtual-try-on-v1")
    earlier.close()
    settings = Settings(
        api_key="sk-FAKE", api_base=simulator.gateway_base, daily_cap=1, state_dir=state
    )
    usage = usage_for(settings)
    try:
        pipeline = Pipeline.build(settings, tmp_path / "work", usage=usage)
        refusal = through_run(pipeline, text_file(tmp_path))
    finally:
        usage.close()
    assert isinstance(refusal, LimitExceededError) and refusal.reason == "daily_cap"
    assert simulator.simulator.requests_seen == 0


def test_every_door_is_driven_over_its_limit_here() -> None:
    assert set(DRIVEN) == set(Door)  # a new door must be added to these tests
    assert {name for door, name in DRIVEN.items() if door is not Door.CLI} <= set(FLOW_DOORS)


def test_a_lookbooks_person_picture_counts_on_the_picture_rate_refused_or_not(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    # The attacker's lookbooks of a damaged person picture: each was decoded, none counted.
    pipeline = make_pipeline(
        simulator, tmp_path, rate_per_session="3/minute", rate_query="2/minute"
    )
    damaged = tmp_path / "person.jpg"
    damaged.write_bytes(pictures.truncated_jpeg())
    garments = [Garment("shirt.png", damaged)]
    refusals = []
    for _ in range(3):
        try:
            asyncio.run(last(lookbook(pipeline, damaged, garments, visitor=ME)))
        except TryOnError as exc:
            refusals.append(exc)
    assert [type(e).__name__ for e in refusals[:2]] == ["ImageError", "ImageError"]
    assert isinstance(refusals[2], LimitExceededError)  # not decoded a third time
    assert simulator.simulator.requests_seen == 0

"""A visitor's own API key (the page's *Advanced* field): still a visitor on this server.

Rate limits and the decode budget apply to it (only the daily cap and the owner's queue do not,
since the visitor's own account pays and has limits of its own); the key goes to this app's API
only (offline: to the simulator on loopback, never to the real gateway); and where the API is
the simulator, one shared account, a key of one's own opens no one else's task.
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import pictures
from tests.flows import collect, make_pipeline
from tryon_demo.flow import reattach
from tryon_demo.flow.admit import Door, Need, Visitor
from tryon_demo.flow.pipeline import Pipeline
from tryon_demo.hosting.limits import LimitExceededError, Shares
from tryon_demo.settings import Settings
from tryon_demo.simulator import SimulatorServer

OWN = "sk-visitor-own-key-FAKE"
NOT_FOUND = "No task with that id exists"

# --- a guard on this process's sockets: any address but loopback is refused before it opens --

_watching: list[list[tuple[str, str]]] = []


def _loopback(host: object) -> bool:
    text = host.decode() if isinstance(host, bytes) else str(host)
    if text in ("localhost", "", "None"):
        return True
    try:
        return ipaddress.ip_address(text.strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _watching:
        return
    if event == "socket.getaddrinfo":
        host = args[0]
    elif event == "socket.connect" and isinstance(args[1], tuple):
        host = args[1][0]
    else:
        return
    if not _loopback(host):
        _watching[-1].append((event, str(host)))
        raise ConnectionRefusedError(f"the test refuses {host}: not loopback")


sys.addaudithook(_audit)


@pytest.fixture
def beyond_loopback() -> Iterator[list[tuple[str, str]]]:
    """Every attempt, while the test runs, to resolve or connect to anything but loopback:
    checked by the interpreter's audit hook before the socket is opened, and refused."""
    attempts: list[tuple[str, str]] = []
    _watching.append(attempts)
    yield attempts
    _watching.remove(attempts)


def offline(tmp_path: Path, **options: Any) -> Pipeline:
    settings = Settings(
        state_dir=tmp_path / "state",
        simulator_task_seconds=0.2,
        poll_interval=0.05,
        poll_max_interval=0.2,
        **options,
    )
    assert settings.mode == "offline"
    return Pipeline.build(settings, tmp_path / "work")


# --- the limits of this server apply ---------------------------------------------------------


def test_an_own_key_is_counted_against_the_visitors_rate_like_any_other_run(
    simulator: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pipeline = make_pipeline(simulator, tmp_path, rate_per_session="1/minute")
    visitor = Visitor("ip:me", own_key=OWN)
    notes = tmp_path / "notes.jpg"
    notes.write_bytes(pictures.text_file())
    first = collect(pipeline, *image_files, visitor=visitor)[-1]
    refused = collect(pipeline, notes, notes, visitor=visitor)[-1]
    assert first.phase == "succeed"
    assert isinstance(refused.error, LimitExceededError)  # not "not an image": nothing decoded
    assert simulator.simulator.creates_received == 1


def test_an_own_key_is_counted_against_the_lookup_rate_too(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    pipeline = make_pipeline(simulator, tmp_path, rate_query="1/minute")
    visitor = Visitor("ip:me", own_key=OWN)

    async def re_attach() -> Any:
        return [step async for step in reattach.follow(pipeline, "task-1", visitor=visitor)][-1]

    asyncio.run(re_attach())
    seen = simulator.simulator.requests_seen
    assert isinstance(asyncio.run(re_attach()).error, LimitExceededError)
    assert simulator.simulator.requests_seen == seen


def test_an_own_key_skips_the_daily_cap_and_the_owners_queue(
    start_simulator: Any, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(task_seconds=1.0)
    pipeline = make_pipeline(
        server, tmp_path, daily_cap=1, api_concurrency=1, state_dir=tmp_path / "state"
    )

    async def scenario() -> list[Any]:
        holder = pipeline_run(pipeline, Visitor("ip:owner"), image_files)
        async for step in holder:
            if step.task is not None:  # the day's one create, and the only slot, taken
                break
        steps = [
            s async for s in pipeline_run(pipeline, Visitor("ip:me", own_key=OWN), image_files)
        ]
        await holder.aclose()
        return steps

    steps = asyncio.run(scenario())
    assert "queued" not in [step.phase for step in steps]
    assert steps[-1].phase == "succeed"


def pipeline_run(pipeline: Pipeline, visitor: Visitor, files: tuple[Path, Path]) -> Any:
    from tryon_demo.flow.run import run

    return run(pipeline, *files, visitor=visitor)


def test_one_address_decodes_at_most_two_pictures_at_once_and_others_are_not_held_up() -> None:
    async def scenario() -> None:
        shares = Shares(2)
        async with shares.of("ip:a"), shares.of("ip:a"):
            third = asyncio.create_task(shares.of("ip:a").__aenter__())
            await asyncio.sleep(0.05)
            assert not third.done()  # the address's third waits
            async with shares.of("ip:b"):  # another address does not
                pass
        await asyncio.wait_for(third, 1)  # and goes once one of the two is done
        await shares.of("ip:a").__aexit__(None, None, None)
        assert len(shares) == 0  # nothing kept for an address that is done

    asyncio.run(scenario())


# --- the key goes to this app's API only -----------------------------------------------------


def test_offline_an_own_key_goes_to_the_simulator_and_never_beyond_loopback(
    image_files: tuple[Path, Path], tmp_path: Path, beyond_loopback: list[tuple[str, str]]
) -> None:
    pipeline = offline(tmp_path)

    async def own_client_base() -> str:
        passed = await pipeline.admission.enter(Visitor(own_key=OWN), Door.RUN)
        async with passed:
            return passed.client.base_url

    base = asyncio.run(own_client_base())
    final = collect(pipeline, *image_files, visitor=Visitor("ip:me", own_key=OWN))[-1]
    assert _loopback(base.split("//", 1)[1].rsplit(":", 1)[0])
    assert beyond_loopback == []  # nothing was even resolved elsewhere
    assert final.phase == "succeed"


def test_offline_with_a_loopback_api_base_an_own_key_goes_there(
    simulator: SimulatorServer, tmp_path: Path, beyond_loopback: list[tuple[str, str]]
) -> None:
    pipeline = offline(tmp_path, api_base=simulator.gateway_base)

    async def own_client_base() -> str:
        passed = await pipeline.admission.enter(Visitor(own_key=OWN), Door.REATTACH, Need.LOOKUP)
        async with passed:
            return passed.client.base_url

    assert asyncio.run(own_client_base()) == simulator.gateway_base
    assert beyond_loopback == []


# --- on the simulator, one shared account, an own key opens nobody else's task ---------------


def test_offline_an_own_key_cannot_re_attach_to_another_visitors_task(
    image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pipeline = offline(tmp_path)
    created = collect(pipeline, *image_files, visitor=Visitor("ip:creator"))[-1]
    assert created.task is not None

    async def re_attach(visitor: Visitor, token: str | None) -> Any:
        steps = reattach.follow(pipeline, created.task.task_id, owner_token=token, visitor=visitor)  # type: ignore[union-attr]
        return [step async for step in steps][-1]

    stranger = asyncio.run(re_attach(Visitor("ip:stranger", own_key="sk-anything"), None))
    creator = asyncio.run(re_attach(Visitor("ip:creator"), created.owner_token))
    assert NOT_FOUND in stranger.status_text()
    assert creator.phase == "succeed"


def test_offline_an_own_key_re_attaches_to_its_own_task_with_the_token_it_was_given(
    image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pipeline = offline(tmp_path)
    mine = Visitor("ip:me", own_key=OWN)
    created = collect(pipeline, *image_files, visitor=mine)[-1]
    assert created.task is not None and created.owner_token

    async def re_attach(token: str | None) -> Any:
        steps = reattach.follow(pipeline, created.task.task_id, owner_token=token, visitor=mine)  # type: ignore[union-attr]
        return [step async for step in steps][-1]

    assert asyncio.run(re_attach(created.owner_token)).phase == "succeed"
    assert NOT_FOUND in asyncio.run(re_attach(None)).status_text()

"""Every door that spends the owner's credits is counted in the owner's usage records, and the
day's cap counts from those records: one count for the cap and the owner's figures."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAKE_KEY, StartSimulator
from tests.flows import collect
from tryon_demo.flow.admit import Visitor
from tryon_demo.flow.batch import lookbook
from tryon_demo.flow.compare import compare
from tryon_demo.flow.lookbook import Garment
from tryon_demo.flow.pipeline import Pipeline
from tryon_demo.flow.run import run, submit
from tryon_demo.hosting.usage import Usage, usage_for
from tryon_demo.hosting.usage_store import UsageStore, day_of
from tryon_demo.settings import MODELS, Settings
from tryon_demo.simulator import SimulatorServer

ROOT = Path(__file__).resolve().parent.parent
V1 = MODELS[0]
OWN_KEY = "sk-visitor-own-FAKE-77"


@pytest.fixture
def server(start_simulator: StartSimulator) -> SimulatorServer:
    return start_simulator(task_seconds=0.3, api_keys=frozenset({FAKE_KEY, OWN_KEY}))


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Usage]:
    (tmp_path / "state").mkdir()
    usage = Usage(UsageStore(tmp_path / "state" / "usage.sqlite3"))
    yield usage
    usage.close()


def pipeline_with(
    server: SimulatorServer, tmp_path: Path, usage: Usage, **options: Any
) -> Pipeline:
    settings = Settings(
        api_key=FAKE_KEY,
        api_base=server.gateway_base,
        poll_interval=0.05,
        poll_max_interval=0.2,
        state_dir=tmp_path / "state",
        **options,
    )
    return Pipeline.build(settings, tmp_path / "work", usage=usage)


def today() -> str:
    return day_of(time.time())


def counted(usage: Usage, kind: str) -> dict[str | None, int]:
    """Today's ``kind`` records by their detail (outcome or reason), every model together."""
    usage.store.flush()
    totals: dict[str | None, int] = {}
    for count in usage.store.counts(today()):
        if count.kind == kind:
            totals[count.detail] = totals.get(count.detail, 0) + count.count
    return totals


async def drain(steps: AsyncIterator[Any]) -> None:
    async for _ in steps:
        pass


def test_every_flow_that_creates_is_counted_once_per_create(
    server: SimulatorServer, ledger: Usage, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pipeline = pipeline_with(server, tmp_path, ledger)
    person, garment = image_files

    async def every_flow() -> None:
        await drain(run(pipeline, person, garment))  # the page's Run: 1
        await drain(compare(pipeline, person, garment))  # one per model: 2
        garments = [Garment("a.png", garment), Garment("b.png", garment)]
        await drain(lookbook(pipeline, person, garments))  # one per garment: 2
        await submit(pipeline, person, garment)  # /submit and MCP submit: 1

    asyncio.run(every_flow())
    assert server.simulator.creates_received == 6
    assert ledger.creates_on(today()) == 6
    ended = counted(ledger, "result")
    assert ended == {"succeed": 5}  # the submitted task is nobody's to follow here


def test_a_visitors_own_key_spends_nothing_of_the_owners(
    server: SimulatorServer, ledger: Usage, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pipeline = pipeline_with(server, tmp_path, ledger, daily_cap=1, daily_cap_per_address=0)
    final = collect(pipeline, *image_files, visitor=Visitor("ip:own", own_key=OWN_KEY))[-1]
    assert final.phase == "succeed"
    assert ledger.creates_on(today()) == 0
    ledger.store.flush()
    assert [c.kind for c in ledger.store.counts(today())] == []  # no create, end or wait
    assert collect(pipeline, *image_files, visitor=Visitor("ip:b"))[-1].phase == "succeed"


def test_the_days_cap_counts_the_creates_already_recorded(
    server: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    earlier = usage_for(Settings(state_dir=tmp_path / "state"))  # before a restart
    earlier.created(V1)
    earlier.created(V1)
    earlier.close()
    restarted = Usage(UsageStore(tmp_path / "state" / "usage.sqlite3"))
    pipeline = pipeline_with(server, tmp_path, restarted, daily_cap=2, daily_cap_per_address=0)
    final = collect(pipeline, *image_files)[-1]
    assert "limit of 2 try-ons for today" in final.status_text()
    assert server.simulator.requests_seen == 0
    assert counted(restarted, "refusal") == {"daily_cap": 1}
    restarted.close()


def test_time_in_line_is_counted_for_each_create_that_waited_for_a_slot(
    server: SimulatorServer, ledger: Usage, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pipeline = pipeline_with(server, tmp_path, ledger, api_concurrency=1)

    async def two_at_once() -> None:
        await asyncio.gather(drain(run(pipeline, *image_files)), drain(run(pipeline, *image_files)))

    asyncio.run(two_at_once())
    ledger.store.flush()
    waits = ledger.store.durations("wait", today())
    assert len(waits) == 2
    assert max(waits) > 0.2  # the second waited for the first's task (0.3 s) to end


def test_the_command_line_counts_into_the_same_records(
    server: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KLING_API_KEY": FAKE_KEY,
        "KLING_API_BASE": server.gateway_base,
        "TRYON_STATE_DIR": str(state),
    }
    person, garment = image_files
    command = [sys.executable, "-m", "tryon_demo", "submit", "--human", str(person)]
    result = subprocess.run(
        [*command, "--cloth", str(garment), "--wait"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    usage = Usage(UsageStore(state / "usage.sqlite3"))  # the app, started afterwards
    try:
        assert usage.creates_on(today()) == 1
        assert counted(usage, "result") == {"succeed": 1}
    finally:
        usage.close()

"""Helpers for the flow tests: a pipeline on a simulator, and a run's steps collected."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tests.conftest import FAKE_KEY
from tryon_demo.flow.pipeline import Pipeline
from tryon_demo.flow.run import run
from tryon_demo.flow.step import Step
from tryon_demo.settings import Settings
from tryon_demo.simulator import SimulatorServer


def make_pipeline(server: SimulatorServer, tmp_path: Path, **options: Any) -> Pipeline:
    """A pipeline on ``server`` with the owner's key and quick polls; ``options`` are settings."""
    settings = Settings(
        api_key=FAKE_KEY,
        api_base=server.gateway_base,
        poll_interval=0.05,
        poll_max_interval=0.2,
        **options,
    )
    return Pipeline.build(settings, tmp_path / "work")


def all_of(steps: AsyncIterator[Step]) -> list[Step]:
    """Every step of a flow, run to its end."""

    async def gather() -> list[Step]:
        return [step async for step in steps]

    return asyncio.run(gather())


def collect(pipeline: Pipeline, *args: Any, **kwargs: Any) -> list[Step]:
    """Every step of one run (:func:`tryon_demo.flow.run.run`) with these arguments."""

    async def gather() -> list[Step]:
        return [step async for step in run(pipeline, *args, **kwargs)]

    return asyncio.run(gather())

"""Compare: the same two pictures run on every model at once, side by side."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from ..pictures import ImageSource
from ..settings import MODELS
from .admit import ANYONE, Door, Visitor
from .pipeline import Pipeline
from .run import run
from .step import Step, guarded


async def compare(
    pipeline: Pipeline,
    human: ImageSource | None,
    cloth: ImageSource | None,
    *,
    visitor: Visitor = ANYONE,
) -> AsyncIterator[dict[str, Step]]:
    """Run the same pictures on every model at once; yield the latest step of each."""
    updates: asyncio.Queue[tuple[str, Step | None]] = asyncio.Queue()

    async def pump(model: str) -> None:
        try:
            steps = run(
                pipeline, human, cloth, model, visitor=visitor, compare=False, door=Door.COMPARE
            )
            async for step in guarded(steps):
                await updates.put((model, step))
        finally:
            await updates.put((model, None))

    runs = [asyncio.create_task(pump(model)) for model in MODELS]
    latest: dict[str, Step] = {}
    finished = 0
    try:
        while finished < len(runs):
            model, step = await updates.get()
            if step is None:
                finished += 1
                continue
            latest[model] = step
            yield dict(latest)
    finally:
        for each in runs:  # stopped early (Cancel): stop following both
            each.cancel()

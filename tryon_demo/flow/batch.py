"""The lookbook as pipeline steps: one person in every garment, each garment admitted,
prepared, created and followed like a run (the batch's own logic, a few at a time, is
:mod:`.lookbook`)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from ..api.models import Task
from ..errors import InputError, TryOnError
from ..pictures import ImageSource
from ..settings import DEFAULT_MODEL
from ..text.messages import msg
from . import prepare
from .admit import ANYONE, Door, Need, Pass, Visitor
from .create import create_task
from .lookbook import Backoff, Follow, Garment, LookItem, run_lookbook, write_zip
from .pipeline import Pipeline


async def lookbook(
    pipeline: Pipeline,
    human: ImageSource | None,
    garments: Sequence[Garment],
    model_name: str = DEFAULT_MODEL,
    *,
    visitor: Visitor = ANYONE,
    backoff: Backoff | None = None,
) -> AsyncIterator[tuple[LookItem, ...]]:
    """One person in every garment, a few at a time; yields the whole table at each change.

    Raises :class:`TryOnError` before anything is sent when the person image or the number
    of garments is wrong; a garment's own problem only ends that garment's row.
    """
    settings = pipeline.settings
    if not garments:
        raise InputError(msg("lookbook.empty"))
    most = settings.lookbook_max_items
    if len(garments) > most:
        raise InputError(msg("lookbook.too_many", count=len(garments), most=most))
    field = msg("field.person")
    async with await pipeline.admission.enter(visitor, Door.LOOKBOOK, Need.BATCH) as passed:
        person = await prepare.picture(passed, human, field)
    passes: dict[str, Pass] = {}  # task id -> its garment's pass, until it is followed
    callbacks: dict[str, str] = {}  # task id -> its callback token, until it ends

    async def submit(garment: Garment) -> Task:
        passed = await pipeline.admission.enter(visitor, Door.LOOKBOOK)
        token: str | None = None
        try:
            named = msg("field.garment_named", name=garment.name)
            await prepare.precheck(passed, (garment.source, named))
            async for _ in passed.turn():  # holding the garment as it came, undecoded
                pass
            cloth = await prepare.picture(passed, garment.source, named)
            callback = pipeline.callbacks.for_create(None)
            token = callback.token
            submission = prepare.submission_of(person, cloth, model_name, callback.url)
            task = await create_task(passed, submission.body)
        except BaseException as exc:
            if isinstance(exc, TryOnError):
                passed.refused(exc)
            pipeline.inbox.forget(token)
            passed.close()
            raise
        passes[task.task_id] = passed
        if token is not None:
            pipeline.inbox.bind(token, task.task_id)
            callbacks[task.task_id] = token
        return task

    async def follow(task: Task) -> AsyncIterator[Follow]:
        token = callbacks.get(task.task_id)
        passed = passes[task.task_id]
        try:
            following = pipeline.follower.follow(
                passed.client, task, time.monotonic(), None, token, model=model_name
            )
            async for step in following:
                if step.outcome is not None:
                    passed.ended(step.outcome, step.error)
                yield Follow(
                    step.task or task,
                    step.result_path,
                    str(step.error) if step.error is not None else "",
                    step.error.as_msg() if step.error is not None else None,
                    step.outlook,
                )
        finally:
            pipeline.inbox.forget(callbacks.pop(task.task_id, None))
            passes.pop(task.task_id).close()

    try:
        async for items in run_lookbook(
            garments,
            submit,
            follow,
            concurrency=settings.lookbook_concurrency,
            backoff=backoff,
        ):
            yield items
    finally:
        for token in callbacks.values():  # stopped early: garments never followed
            pipeline.inbox.forget(token)
        for passed in passes.values():
            passed.close()


def lookbook_zip(pipeline: Pipeline, items: Sequence[LookItem], model_name: str) -> Path:
    """A zip of the batch's results with its manifest, in the work folder."""
    path = pipeline.files.path(f"lookbook-{time.strftime('%Y%m%d-%H%M%S')}.zip")
    return write_zip(items, model_name, path)

"""A try-on from two pictures, the steps in their order: admit, prepare, create, follow, fetch.

:func:`run` is the page's Run, each side of Compare and ``/tryon`` (to the result);
:func:`submit` is ``/submit`` and the command line's (created, not waited for).
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import replace
from pathlib import Path

from ..api.models import Task
from ..errors import TryOnError
from ..hosting.capacity import Place
from ..pictures import ImageSource
from ..settings import DEFAULT_MODEL
from ..text.messages import msg
from . import prepare
from .admit import ANYONE, Door, Pass, Visitor
from .create import create, create_task
from .pipeline import Pipeline
from .step import Step

PERSON, GARMENT = msg("field.person"), msg("field.garment")


async def run(
    pipeline: Pipeline,
    human: ImageSource | None,
    cloth: ImageSource | None,
    model_name: str = DEFAULT_MODEL,
    callback_url: str | None = None,
    *,
    visitor: Visitor = ANYONE,
    compare: bool = True,
    door: Door = Door.RUN,
) -> AsyncIterator[Step]:
    """Admit, prepare, create and follow one try-on, yielding a :class:`Step` at every change.

    With ``compare`` the last step carries the before/after pair (when the person picture is
    a file on this server).
    """
    started = time.monotonic()

    def elapsed() -> float:
        return time.monotonic() - started

    yield Step("preparing", 0.0)
    token: str | None = None  # the app's own callback token, forgotten however the run ends
    try:
        try:
            passed = await pipeline.admission.enter(visitor, door)
        except TryOnError as exc:
            yield Step("error", elapsed(), error=exc)
            return
        async with passed:
            try:
                await pipeline.callbacks.check(callback_url)
                await prepare.precheck(passed, (human, PERSON), (cloth, GARMENT))
                # In line the run holds its pictures as they came, decoded only once its turn
                # came; closed (Cancel, a page closed) it leaves the line at once.
                async for place in passed.turn():
                    yield Step("queued", elapsed(), place=place)
                callback = pipeline.callbacks.for_create(callback_url)
                token = callback.token
                submission = await prepare.submission(
                    passed, human, cloth, model_name, callback.url
                )
            except TryOnError as exc:
                passed.refused(exc)
                yield Step("error", elapsed(), error=exc)
                return
            preview = submission.preview()
            if "callback_url" in preview:  # the token is the callback's credential: not shown
                preview["callback_url"] = callback.masked(preview["callback_url"])
            notes = (*submission.notes(), *((callback.note,) if callback.note else ()))
            yield Step("preparing", elapsed(), request=preview, notes=notes)
            person = prepare.local_path(human) if compare else None
            inner = _create_and_follow(pipeline, passed, submission.body, started, person, token)
            async with aclosing(inner):  # stopped early, it hands its slot on at once
                async for step in inner:
                    yield replace(step, request=preview, notes=notes)
    finally:
        pipeline.inbox.forget(token)


async def _create_and_follow(
    pipeline: Pipeline,
    passed: Pass,
    body: dict[str, str],
    started: float,
    person: Path | None,
    callback: str | None,
) -> AsyncGenerator[Step, None]:
    """Create the task (waiting in the capacity queue when there is one) and follow it."""
    try:
        made: Place | Task | None = None
        creating = create(passed, body)
        async with aclosing(creating):  # a visitor who leaves leaves the queue at once
            async for made in creating:
                if isinstance(made, Place):
                    yield Step("queued", time.monotonic() - started, place=made)
        assert isinstance(made, Task)
        task = made
    except TryOnError as exc:
        passed.refused(exc)  # the API's own refusal of the create
        yield Step("error", time.monotonic() - started, error=exc)
        return
    token = pipeline.owners.token(task.task_id)
    if callback is not None:
        pipeline.inbox.bind(callback, task.task_id)
    following = pipeline.follower.follow(
        passed.client, task, started, person, callback, model=body.get("model_name")
    )
    async with aclosing(following):  # a run stopped early hands its slot on at once
        async for step in following:
            if step.outcome is not None:
                passed.ended(step.outcome, step.error)
            yield replace(step, owner_token=token)


async def submit(
    pipeline: Pipeline,
    human: ImageSource | None,
    cloth: ImageSource | None,
    model_name: str = DEFAULT_MODEL,
    callback_url: str | None = None,
    *,
    visitor: Visitor = ANYONE,
    door: Door = Door.SUBMIT,
) -> Task:
    """Admit, prepare and create one task (no waiting); raises :class:`TryOnError`.

    The creator's ownership token is ``pipeline.owners.token`` of the task's id.
    """
    async with await pipeline.admission.enter(visitor, door) as passed:
        await pipeline.callbacks.check(callback_url)
        await prepare.precheck(passed, (human, PERSON), (cloth, GARMENT))
        async for _ in passed.turn():  # holding the pictures as they came, undecoded
            pass
        submission = await prepare.submission(passed, human, cloth, model_name, callback_url)
        task = await create_task(passed, submission.body)
    pipeline.capacity.release_when_done(task.task_id)  # nobody follows it: it keeps its slot
    return task

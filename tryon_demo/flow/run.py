"""A try-on from two pictures: the run the page's Run button and ``/tryon`` start (to the
result), and ``/submit`` (created, not waited for)."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import replace
from functools import partial
from pathlib import Path

from ..api.models import Task
from ..errors import TryOnError
from ..hosting.capacity import Place
from ..pictures.images import ImageSource
from ..settings import DEFAULT_MODEL
from .admit import ANYONE, Visitor
from .pipeline import Pipeline
from .pools import off_loop
from .prepare import local_path, prepare_submission
from .step import Step


async def run(
    pipeline: Pipeline,
    human: ImageSource | None,
    cloth: ImageSource | None,
    model_name: str = DEFAULT_MODEL,
    callback_url: str | None = None,
    *,
    visitor: Visitor = ANYONE,
    compare: bool = True,
) -> AsyncIterator[Step]:
    """Prepare, submit and follow one try-on, yielding a :class:`Step` at every change."""
    started = time.monotonic()

    def elapsed() -> float:
        return time.monotonic() - started

    yield Step("preparing", 0.0)
    callback = None  # the app's own token, forgotten however the run ends
    try:
        try:
            if visitor.own_key is None:  # the owner's key (or the shared simulator) pays
                pipeline.limiter.acquire(visitor.address)  # before any image work
            await pipeline.callbacks.check(callback_url)
            callback = pipeline.callbacks.for_create(callback_url)
            submission = await off_loop(
                partial(
                    prepare_submission,
                    human,
                    cloth,
                    model_name,
                    callback.url,
                    limits=pipeline.limits,
                )
            )
        except TryOnError as exc:
            yield Step("error", elapsed(), error=exc)
            return
        preview = submission.preview()
        if "callback_url" in preview:  # the token is the callback's credential: not for screens
            preview["callback_url"] = callback.masked(preview["callback_url"])
        notes = (*submission.notes(), *((callback.note,) if callback.note else ()))
        yield Step("preparing", elapsed(), request=preview, notes=notes)
        inner = _create_and_follow(
            pipeline,
            submission.body,
            visitor,
            started,
            local_path(human) if compare else None,
            callback.token,
        )
        # Closed with the run (Cancel, a page closed): it then leaves the queue at once.
        async with aclosing(inner):
            async for step in inner:
                yield replace(step, request=preview, notes=notes)
    finally:
        pipeline.inbox.forget(callback.token if callback is not None else None)


async def _create_and_follow(
    pipeline: Pipeline,
    body: dict[str, str],
    visitor: Visitor,
    started: float,
    person: Path | None,
    callback: str | None,
) -> AsyncGenerator[Step, None]:
    """Create the task (waiting in the capacity queue when there is one) and follow it."""
    owned = visitor.own_key is not None
    client = pipeline.clients.own(visitor.own_key) if visitor.own_key else pipeline.clients.shared()
    try:
        try:
            made: Place | Task | None = None
            creating = pipeline.creates.create(client, body, owned=owned)
            async with aclosing(creating):  # a visitor who leaves leaves the queue at once
                async for made in creating:
                    if isinstance(made, Place):
                        yield Step("queued", time.monotonic() - started, place=made)
            assert isinstance(made, Task)
            task = made
        except TryOnError as exc:
            yield Step("error", time.monotonic() - started, error=exc)
            return
        token = pipeline.owners.token(task.task_id)
        if callback is not None:
            pipeline.inbox.bind(callback, task.task_id)
        following = pipeline.follower.follow(client, task, started, person, callback)
        async with aclosing(following):  # a run stopped early hands its slot on at once
            async for step in following:
                yield replace(step, owner_token=token)
    finally:
        if owned:
            client.close()


async def submit(
    pipeline: Pipeline,
    human: ImageSource | None,
    cloth: ImageSource | None,
    model_name: str = DEFAULT_MODEL,
    callback_url: str | None = None,
    *,
    visitor: Visitor = ANYONE,
) -> Task:
    """Prepare and create one task (no waiting); raises :class:`TryOnError`.

    The creator's ownership token is ``pipeline.owners.token`` of the task's id.
    """
    pipeline.limiter.acquire(visitor.address)  # before any image work: a refusal costs nothing
    await pipeline.callbacks.check(callback_url)
    submission = await off_loop(
        partial(prepare_submission, human, cloth, model_name, callback_url, limits=pipeline.limits)
    )
    client = pipeline.clients.shared()
    task = await pipeline.creates.create_task(client, submission.body, owned=False)
    pipeline.capacity.release_when_done(task.task_id)  # nobody follows it: it keeps its slot
    return task

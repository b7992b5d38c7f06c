"""Looking a task up again by its id: re-attach on the page (followed to its end) and
``/query`` (one answer). With the owner's key only the task's creator may."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from functools import partial

from ..api.models import Task
from ..errors import TryOnError
from .admit import ANYONE, Door, Need, Visitor
from .owners import not_found
from .pipeline import Pipeline
from .pools import off_loop
from .step import Step


async def follow(
    pipeline: Pipeline,
    task_id: str,
    *,
    owner_token: str | None = None,
    visitor: Visitor = ANYONE,
) -> AsyncIterator[Step]:
    """Re-attach to a task submitted earlier: query it, then follow it to its end.

    With the owner's key only the task's creator may (``owner_token``); anyone else is told
    the task does not exist, as for an unknown id, and the API is not asked at all.
    """
    started = time.monotonic()
    owners = pipeline.owners
    try:
        passed = await pipeline.admission.enter(visitor, Door.REATTACH, Need.LOOKUP)
    except TryOnError as exc:
        yield Step("error", time.monotonic() - started, error=exc)
        return
    async with passed:
        if not owners.may_look_up(task_id, owner_token, visitor.own_key):
            yield Step("error", time.monotonic() - started, error=not_found())
            return
        # Passed on only when it is valid: a token is issued when a task is created, never for
        # looking one up (a key of one's own must not turn into a right on the owner's key).
        token = owner_token if owners.valid(task_id, owner_token) else None
        try:
            task = await off_loop(partial(passed.client.get, task_id))
        except TryOnError as exc:
            yield Step("error", time.monotonic() - started, error=exc)
            return
        async for step in pipeline.follower.follow(passed.client, task, started, None):
            yield replace(step, owner_token=token)


async def query(
    pipeline: Pipeline,
    task_id: str,
    owner_token: str | None = None,
    *,
    visitor: Visitor = ANYONE,
    door: Door = Door.QUERY,
) -> Task:
    """Query one task its creator asks for (``owner_token``); raises :class:`TryOnError`,
    :class:`TaskNotFoundError` for anyone else, as for an unknown id."""
    async with await pipeline.admission.enter(visitor, door, Need.LOOKUP) as passed:
        if not pipeline.owners.may_look_up(task_id, owner_token, visitor.own_key):
            raise not_found()
        return await off_loop(partial(passed.client.get, task_id))

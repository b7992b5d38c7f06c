"""Looking a task up again by its id: re-attach on the page (followed to its end) and
``/query`` (one answer). With the owner's key only the task's creator may."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from functools import partial

from ..api.models import Task
from ..errors import TryOnError
from .admit import ANYONE, Visitor
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
    if not owners.may_look_up(task_id, owner_token, visitor.own_key):
        yield Step("error", time.monotonic() - started, error=not_found())
        return
    # Passed on only when it is valid: a token is issued when a task is created, never for
    # looking one up (a key of one's own must not turn into a right on the owner's key).
    token = owner_token if owners.valid(task_id, owner_token) else None
    owned = visitor.own_key is not None
    client = pipeline.clients.own(visitor.own_key) if visitor.own_key else pipeline.clients.shared()
    try:
        try:
            if not owned:  # lookups on the owner's key use the account's request rate
                pipeline.limiter.acquire_query(visitor.address)
            task = await off_loop(partial(client.get, task_id))
        except TryOnError as exc:
            yield Step("error", time.monotonic() - started, error=exc)
            return
        async for step in pipeline.follower.follow(client, task, started, None):
            yield replace(step, owner_token=token)
    finally:
        if owned:
            client.close()


async def query(
    pipeline: Pipeline,
    task_id: str,
    owner_token: str | None = None,
    *,
    visitor: Visitor = ANYONE,
) -> Task:
    """Query one task its creator asks for (``owner_token``); raises :class:`TryOnError`,
    :class:`TaskNotFoundError` for anyone else, as for an unknown id."""
    pipeline.limiter.acquire_query(visitor.address)
    if not pipeline.owners.may_look_up(task_id, owner_token, None):
        raise not_found()
    return await off_loop(partial(pipeline.clients.shared().get, task_id))

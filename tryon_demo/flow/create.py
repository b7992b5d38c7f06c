"""The create step: one task created at the API with an admission :class:`~.admit.Pass`.

A create is sent once, never retried once it may have reached the API (a second create would
bill twice); a 1303 from the API means nothing was created, so that one goes back to the head of
the capacity queue and is sent again after a pause, without the visitor seeing an error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from functools import partial

from ..api.models import Task
from ..errors import RateLimitError
from ..hosting.capacity import Capacity, Place, Ticket
from .admit import Pass
from .pools import HTTP_POOL, off_loop


async def create(passed: Pass, body: dict[str, str]) -> AsyncGenerator[Place | Task, None]:
    """Create one task: yields the :class:`Place` while the pass waits for a free slot at the
    API, then the created :class:`Task` (the last item).

    A visitor's own key is another account, with a concurrent-task limit of its own, so its
    pass holds no place in line and its create is sent at once.
    """
    client, ticket = passed.client, passed.ticket
    if ticket is None:
        task = await off_loop(partial(client.submit_body, body))
        passed.accepted(task)
        yield task
        return
    first_refusal: float | None = None
    while True:
        async for place in passed.turn():
            yield place
        try:
            task = await _send(passed, body, ticket)
        except RateLimitError as exc:
            now = time.monotonic()
            first_refusal = now if first_refusal is None else first_refusal
            if exc.code != 1303 or now - first_refusal > passed.admission.settings.wait_timeout:
                raise
            ticket.refused(exc.retry_after)
            continue
        passed.accepted(task)
        yield task
        return


async def create_task(passed: Pass, body: dict[str, str]) -> Task:
    """:func:`create` for callers that show no place in line: the created task."""
    async with aclosing(create(passed, body)) as making:
        async for made in making:
            if isinstance(made, Task):
                return made
    raise AssertionError("create ends with the created task")


async def _send(passed: Pass, body: dict[str, str], ticket: Ticket) -> Task:
    """Send the create holding ``ticket``'s slot. A visitor who leaves while it is on its way
    does not stop it: the slot then follows whatever the API answers."""
    sending = asyncio.get_running_loop().run_in_executor(
        HTTP_POOL, partial(passed.client.submit_body, body)
    )
    ticket.sending = True
    try:
        task = await asyncio.shield(sending)
    except asyncio.CancelledError:
        sending.add_done_callback(partial(_settle_abandoned, passed.capacity, ticket))
        raise
    except BaseException:
        ticket.sending = False
        raise
    ticket.sending = False
    ticket.created(task.task_id)
    return task


def _settle_abandoned(capacity: Capacity, ticket: Ticket, sending: asyncio.Future[Task]) -> None:
    ticket.sending = False
    task = None if sending.cancelled() or sending.exception() else sending.result()
    if task is None:
        ticket.close()
        return
    ticket.created(task.task_id)
    capacity.release_when_done(task.task_id)

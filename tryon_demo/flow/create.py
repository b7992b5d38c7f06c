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
from ..hosting.capacity import Place
from .admit import Pass
from .pools import HTTP_POOL


async def create(passed: Pass, body: dict[str, str]) -> AsyncGenerator[Place | Task, None]:
    """Create one task: yields the :class:`Place` while the pass waits for a free slot at the
    API, then the created :class:`Task` (the last item).

    A visitor's own key is another account, with a concurrent-task limit of its own, so its
    pass holds no place in line and its create is sent at once.
    """
    first_refusal: float | None = None
    while True:
        async for place in passed.turn():
            yield place
        try:
            task = await _send(passed, body)
        except RateLimitError as exc:
            now = time.monotonic()
            first_refusal = now if first_refusal is None else first_refusal
            limit = passed.admission.settings.wait_timeout
            if passed.ticket is None or exc.code != 1303 or now - first_refusal > limit:
                raise
            passed.ticket.refused(exc.retry_after)
            continue
        yield task
        return


async def create_task(passed: Pass, body: dict[str, str]) -> Task:
    """:func:`create` for callers that show no place in line: the created task."""
    async with aclosing(create(passed, body)) as making:
        async for made in making:
            if isinstance(made, Task):
                return made
    raise AssertionError("create ends with the created task")


async def _send(passed: Pass, body: dict[str, str]) -> Task:
    """Send the create. A caller who leaves while it is on its way does not stop it: what the
    pass holds (its slot, its quota reservation) then follows whatever the API answers."""
    sending = asyncio.get_running_loop().run_in_executor(
        HTTP_POOL, partial(passed.client.submit_body, body)
    )
    _sending(passed, True)
    try:
        task = await asyncio.shield(sending)
    except asyncio.CancelledError:
        sending.add_done_callback(partial(_settle_abandoned, passed, body.get("model_name", "")))
        raise
    except BaseException:
        _sending(passed, False)
        raise
    _sending(passed, False)
    passed.accepted(task, body.get("model_name", ""))
    return task


def _sending(passed: Pass, on: bool) -> None:
    passed.sending = on
    if passed.ticket is not None:
        passed.ticket.sending = on


def _settle_abandoned(passed: Pass, model: str, sending: asyncio.Future[Task]) -> None:
    _sending(passed, False)
    task = None if sending.cancelled() or sending.exception() else sending.result()
    if task is not None:
        passed.accepted(task, model)
        passed.capacity.release_when_done(task.task_id)
    passed.close()

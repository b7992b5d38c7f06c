"""The create step: one task created at the API, through the app's capacity queue.

A create is sent once, never retried once it may have reached the API (a second create would
bill twice); a 1303 from the API means nothing was created, so that one goes back to the head of
the queue and is sent again after a pause, without the visitor seeing an error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from functools import partial

from ..api.client import TryOnClient
from ..api.models import Task
from ..errors import RateLimitError, TryOnError
from ..hosting.capacity import Capacity, Place, Ticket
from ..settings import Settings
from .clients import Clients
from .pools import HTTP_POOL, off_loop
from .step import TICK

log = logging.getLogger(__name__)


class Creates:
    """Creates tasks for one app: the owner's key (or the shared simulator) through its queue."""

    def __init__(self, settings: Settings, capacity: Capacity, clients: Clients) -> None:
        self.settings = settings
        self.capacity = capacity
        self.clients = clients
        self._adopted = False

    async def create(
        self, client: TryOnClient, body: dict[str, str], *, owned: bool
    ) -> AsyncGenerator[Place | Task, None]:
        """Create one task through the app's queue: yields the :class:`Place` while waiting
        for a free slot at the API, then the created :class:`Task` (the last item).

        The owner's key (or the shared simulator) waits in the queue; a visitor's own key is
        another account, with a concurrent-task limit of its own, so its create is sent at once.
        """
        if owned or not self.capacity.limited:
            yield await off_loop(partial(client.submit_body, body))
            return
        await self._adopt_running()
        ticket = self.capacity.join()
        first_refusal: float | None = None
        try:
            while True:
                async for place in ticket.wait(tick=TICK):
                    yield place
                try:
                    task = await self._send(client, body, ticket)
                except RateLimitError as exc:
                    now = time.monotonic()
                    first_refusal = now if first_refusal is None else first_refusal
                    if exc.code != 1303 or now - first_refusal > self.settings.wait_timeout:
                        raise
                    ticket.refused(exc.retry_after)
                    continue
                yield task
                return
        finally:
            ticket.close()

    async def create_task(self, client: TryOnClient, body: dict[str, str], *, owned: bool) -> Task:
        """:meth:`create` for callers that show no place in line: the created task."""
        async with aclosing(self.create(client, body, owned=owned)) as making:
            async for made in making:
                if isinstance(made, Task):
                    return made
        raise AssertionError("create ends with the created task")

    async def _send(self, client: TryOnClient, body: dict[str, str], ticket: Ticket) -> Task:
        """Send the create holding ``ticket``'s slot. A visitor who leaves while it is on its
        way does not stop it: the slot then follows whatever the API answers."""
        sending = asyncio.get_running_loop().run_in_executor(
            HTTP_POOL, partial(client.submit_body, body)
        )
        ticket.sending = True
        try:
            task = await asyncio.shield(sending)
        except asyncio.CancelledError:
            sending.add_done_callback(partial(self._settle_abandoned, ticket))
            raise
        except BaseException:
            ticket.sending = False
            raise
        ticket.sending = False
        ticket.created(task.task_id)
        return task

    def _settle_abandoned(self, ticket: Ticket, sending: asyncio.Future[Task]) -> None:
        ticket.sending = False
        task = None if sending.cancelled() or sending.exception() else sending.result()
        if task is None:
            ticket.close()
            return
        ticket.created(task.task_id)
        self.capacity.release_when_done(task.task_id)

    async def _adopt_running(self) -> None:
        """Once, before the first create: tasks already running at the API hold slots too."""
        if self._adopted:
            return
        self._adopted = True
        try:
            tasks = await off_loop(partial(self.clients.shared().list, 1, 100))
        except TryOnError as exc:
            log.warning("could not list the tasks running at the API: %s", exc)
            return
        now_ms = time.time() * 1000
        for task in tasks:
            if not task.is_terminal:
                age = (now_ms - task.created_at) / 1000 if task.created_at else 0.0
                self.capacity.adopt(task.task_id, age)

"""The follow step: a created task watched to its end, then handed to the fetch step.

With a callback token a callback claiming a change (processing, the end) wakes the run at once
and polling is only a slow backstop; without one it polls, when the task's plan from the
pipeline's :mod:`.schedule` says (timed to how long the model's tasks usually take, by
default). A callback body
is never the result: the run confirms every claim with its own status query, and shows a
callback (in the status and beside the task JSON) only once that query confirmed it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from functools import partial
from pathlib import Path
from typing import Any

from ..api.client import TryOnClient, wait_timeout_error
from ..api.models import Task
from ..errors import NetworkError, TryOnError, redact_json
from ..hosting.callback_inbox import ENDS, Inbox
from ..hosting.capacity import Capacity
from ..settings import Settings
from .fetch import Results
from .pools import off_loop
from .schedule import PollSchedule, schedule_for
from .step import TICK, Phase, Step, later, phase_of


class Follower:
    """Follows tasks for one app: its capacity queue learns when each task ends."""

    def __init__(
        self,
        settings: Settings,
        capacity: Capacity,
        inbox: Inbox,
        results: Results,
        schedule: PollSchedule | None = None,
    ) -> None:
        self.settings = settings
        self.capacity = capacity
        self.inbox = inbox
        self.results = results
        #: When to ask the API about a task (see :mod:`.schedule`).
        self.schedule = schedule if schedule is not None else schedule_for(settings)

    async def follow(
        self,
        client: TryOnClient,
        task: Task,
        started: float,
        person: Path | None,
        callback: str | None = None,
        model: str | None = None,
    ) -> AsyncGenerator[Step, None]:
        """Follow ``task`` to its end, then fetch its result (and the before/after pair when
        ``person`` is given). ``callback`` is a token of :attr:`inbox`; ``model`` the model
        this app just created ``task`` with (``None`` for a task looked up again)."""
        # Counted from here, not from ``started``: time spent in the queue is not the task's.
        deadline = time.monotonic() + client.wait_timeout
        plan = self.schedule.plan(task, model)
        received: dict[str, Any] | None = None  # the callback the API confirmed, for the page
        phase: Phase = phase_of(task)

        def now(shown: Phase, **fields: Any) -> Step:
            """The step shown at this moment: elapsed time, the task, the latest callback and,
            while the task runs, the time usually left."""
            ahead = plan.outlook() if shown in ("submitted", "processing") else None
            return Step(
                shown,
                time.monotonic() - started,
                task=task,
                callback=received,
                outlook=ahead,
                **fields,
            )

        try:
            while not task.is_terminal:
                phase = later(phase, phase_of(task))
                yield now(phase)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    error = wait_timeout_error(task.task_id, task.task_status, client.wait_timeout)
                    yield now("error", error=error)
                    return
                claim: dict[str, Any] | None = None  # a callback that claimed an end
                if callback is None:
                    pause = min(plan.pause(), remaining)
                    if self.capacity.waiting:  # others wait for this slot: notice the end soon
                        pause = min(pause, client.poll_interval)
                    # Tick the elapsed time on screen between polls without asking the API more
                    # often; the query is aimed at its moment, however long the page takes over
                    # each tick.
                    due = time.monotonic() + pause
                    while due - time.monotonic() > TICK:
                        await asyncio.sleep(TICK)
                        yield now(phase_of(task))
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                else:
                    backstop = plan.backstop(
                        self.settings.callback_backstop, heard=received is not None
                    )
                    until = time.monotonic() + min(backstop, remaining)
                    while (left := until - time.monotonic()) > 0:
                        body = await self.inbox.wait(callback, min(TICK, left))
                        # A claimed change is worth a query to confirm: the inbox passes each
                        # state once per token and only a few claims of an end, so forgeries
                        # cost a few queries at most, and the page shows "processing" when the
                        # API says so rather than "submitted" to the end.
                        if body is not None and str(body.get("task_status")) != task.task_status:
                            claim = body
                            break
                        yield now(phase)
                try:
                    # Bounded by the wait limit too: a query still in flight cannot outlast it.
                    task = await off_loop(partial(client.get, task.task_id, deadline=deadline))
                    if claim is not None and task.task_status == claim.get("task_status"):
                        # Confirmed by the API itself: shown beside the task JSON, redacted
                        # like every reply (the key and recent JWTs, in any form).
                        received = redact_json(claim, client._secret_values())
                    elif claim is not None and str(claim.get("task_status")) in ENDS:
                        self.inbox.disproved(callback, str(claim.get("task_status")))
                except TryOnError as exc:
                    failure: TryOnError = exc
                    if isinstance(exc, NetworkError) and time.monotonic() >= deadline:
                        failure = wait_timeout_error(
                            task.task_id, task.task_status, client.wait_timeout
                        )
                    # The task exists (and may be billed): every error names it, so nobody pays
                    # twice.
                    failure = failure.with_task_id(task.task_id)
                    yield now("error", error=failure)
                    return
        finally:
            if task.is_terminal:
                self.capacity.ended(task.task_id)  # before the download: the slot is free now
                plan.ended(task)  # how long it took, for the next tasks' schedule
            else:  # cancelled, closed or timed out: it keeps its slot until the API says so
                self.capacity.release_when_done(task.task_id)
        if task.task_status == "failed":
            yield now("failed")
            return
        try:
            result = await off_loop(partial(self.results.fetch, task))
            comparison = (
                await off_loop(partial(self.results.before_after, person, result))
                if person
                else None
            )
        except TryOnError as exc:
            yield now("error", error=exc.with_task_id(task.task_id))
            return
        yield now("succeed", result_path=result, comparison=comparison)

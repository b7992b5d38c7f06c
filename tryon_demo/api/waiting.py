"""Waiting for a task's end by polling: what :class:`~tryon_demo.api.client.TryOnClient` adds
to its queries, for the command line and any caller without an event loop (the app's own
follow step paces its queries itself)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from ..errors import (
    CancelledError,
    InputError,
    NetworkError,
    TaskFailedError,
    TryOnError,
    WaitTimeoutError,
    api_says,
)
from ..text.messages import Msg, msg
from .models import Task

#: Task states with a name in the catalogues (``state.<name>``).
_STATES = frozenset({"submitted", "processing", "succeed", "failed"})


class Waiting:
    """Polling to the end, on top of a client's :meth:`get`."""

    wait_timeout: float
    poll_interval: float
    poll_max_interval: float
    _sleep: Callable[[float], None]

    def get(self, task_id: str, *, deadline: float | None = None) -> Task:
        raise NotImplementedError

    def wait(
        self,
        task_id: str,
        *,
        timeout: float | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Task]:
        """Poll until the task ends, yielding the task each time its status changes.

        The last task yielded is terminal (``succeed`` or ``failed``). Raises
        :class:`WaitTimeoutError` after ``timeout`` seconds (default: the wait limit) and
        :class:`CancelledError` when ``cancel`` is set; the task itself keeps running.
        """
        limit = self.wait_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        pauses = self.poll_pauses()
        last_status: str | None = None
        while True:
            if cancel is not None and cancel.is_set():
                raise CancelledError(
                    msg("client.stopped_waiting", task_id=task_id), task_id=task_id
                )
            try:
                task = self.get(task_id, deadline=deadline)
            except NetworkError as exc:
                if time.monotonic() >= deadline:  # cut off by the wait limit, not the network
                    raise wait_timeout_error(task_id, last_status, limit) from None
                raise exc.with_task_id(task_id) from None
            except InputError:
                raise  # the id itself was refused: not one to repeat
            except TryOnError as exc:
                raise exc.with_task_id(task_id) from None
            if task.task_status != last_status:
                last_status = task.task_status
                yield task
            if task.is_terminal:
                return
            # Never pause past the limit, and end there: a query sent after it could only be
            # cut off by its deadline, and might reach the API for nothing.
            pause = min(next(pauses), max(0.0, deadline - time.monotonic()))
            if cancel is None:
                self._sleep(pause)
            elif cancel.wait(pause):
                continue  # cancelled during the pause: the first check of the loop says so
            if time.monotonic() >= deadline:
                raise wait_timeout_error(task_id, last_status, limit)

    def poll_pauses(self) -> Iterator[float]:
        """Pauses between polls: fast at first (short tasks end early), then backing off."""
        interval = self.poll_interval
        while True:
            yield interval
            interval = min(interval * 1.25, self.poll_max_interval)

    def wait_for_result(
        self, task_id: str, *, timeout: float | None = None, cancel: threading.Event | None = None
    ) -> Task:
        """Wait for the end: the task if it succeeded, else :class:`TaskFailedError`."""
        updates = list(self.wait(task_id, timeout=timeout, cancel=cancel))
        task = updates[-1]  # wait() yields at least once or raises
        raise_for_failed(task)
        return task


def wait_timeout_error(task_id: str, last_status: str | None, limit: float) -> WaitTimeoutError:
    """The error for a task still running when the wait limit is reached."""
    status = msg(f"state.{last_status}") if last_status in _STATES else str(last_status)
    return WaitTimeoutError(
        msg("task.wait_timeout", task_id=task_id, status=status, seconds=limit),
        task_id=task_id,
        last_status=last_status,
    )


def raise_for_failed(task: Task) -> None:
    """Raise :class:`TaskFailedError` for a failed task; do nothing otherwise."""
    if task.task_status == "failed":
        raise TaskFailedError(
            msg("task.failed", task_id=task.task_id, reason=failure_reason(task)),
            task_id=task.task_id,
            request_id=task.request_id,
        )


def failure_reason(task: Task) -> Msg:
    """Why a task failed: the API's own words, labelled as such, or that it gave none."""
    if task.task_status_msg:
        return api_says(task.task_status_msg)
    return msg("status.no_reason")

"""Polls timed to the task: the default :class:`~.schedule.PollSchedule` of the pipeline.

The follow step takes a :class:`TimedPlan` per task (:meth:`TimedSchedule.plan`) and only asks
it for pauses and the time left: the moments themselves are in :mod:`.timetable`, the learning
in :mod:`.durations`. ``TRYON_POLL_SCHEDULE=growing`` keeps the old pauses (1 s growing x1.25
up to 5 s, a callback's backstop every ``TRYON_CALLBACK_BACKSTOP`` seconds) while still
learning and showing the time left.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from ..api.models import Task
from ..settings import Settings
from ..text.messages import Msg
from . import timetable
from .durations import FILE_NAME, OFFLINE_SOURCE, Durations, plausible, prior_for
from .timetable import Pace, Window

Kind = Literal["timed", "growing"]
#: A duration the API's own timestamps give is believed if it is no longer than what the app
#: saw plus this much (the create's and the query's way over the network, a clock's step).
TIMESTAMP_SLACK = 5.0


class TimedSchedule:
    """Plans for every task of one app: the pace, the schedule's kind and the durations."""

    def __init__(
        self,
        durations: Durations,
        pace: Pace | None = None,
        *,
        kind: Kind = "timed",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.durations = durations
        self.pace = pace or Pace()
        self.kind = kind
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Settings) -> TimedSchedule:
        """Offline the simulator's task time is the prior and nothing is written to disk (a
        changed ``TRYON_SIM_TASK_SECONDS`` counts at once); otherwise durations are kept per
        API address in the state folder."""
        if settings.mode == "offline":
            prior = prior_for(None, settings.simulator_task_seconds)
            durations = Durations(None, OFFLINE_SOURCE, prior)
        else:
            path = settings.state_dir / FILE_NAME
            durations = Durations(path, settings.base_url or "", prior_for(settings.base_url))
        pace = Pace(settings.poll_interval, settings.poll_max_interval)
        return cls(durations, pace, kind=settings.poll_schedule)

    def plan(self, task: Task, model: str | None) -> TimedPlan:
        """The plan for ``task``: one this app just created with ``model`` counts from now
        (the API's clock may differ from ours); one looked up again (``model`` ``None``, so
        every model's durations give its window) from its ``created_at``."""
        age = 0.0 if model is not None else task_age(task)
        return TimedPlan(self, model, self.durations.window(model), self.clock() - age)


class TimedPlan:
    """The timing of one task, from the moment it was created (``begun``, on ``clock``)."""

    def __init__(
        self, timing: TimedSchedule, model: str | None, window: Window | None, begun: float
    ):
        self.timing = timing
        self.model = model
        #: The window expected when the task began (``None``: nothing known, polled as of old).
        self.window = window
        self.begun = begun
        self._growing = timetable.growing_pauses(timing.pace)

    def elapsed(self) -> float:
        """Seconds since the task was created."""
        return self.timing.clock() - self.begun

    def pause(self) -> float:
        """Seconds until the next status query of a task followed without a callback."""
        if self.timing.kind == "growing" or self.window is None:
            return next(self._growing)
        return timetable.next_poll(self.elapsed(), self.window, self.timing.pace)

    def backstop(self, every: float, heard: bool = False) -> float:
        """Seconds until the next query of a task whose callback is awaited; ``every`` is the
        longest the backstop waits (``TRYON_CALLBACK_BACKSTOP``). Once a callback of the task
        was ``heard`` (and confirmed), callbacks reach the app: the end's will too, so no extra
        look just after the usual time."""
        if self.timing.kind == "growing" or self.window is None:
            return every
        return timetable.next_backstop(self.elapsed(), self.window, every, heard)

    def outlook(self) -> Msg | None:
        """The time left as the person waiting is told it (``None`` when nothing is known)."""
        if self.window is None:
            return None
        return timetable.outlook(self.elapsed(), self.window)

    def ended(self, task: Task) -> None:
        """The task has ended: learn how long it took if it succeeded (a failure may come at
        any moment) and its model is known."""
        self.learn(task)

    def learn(self, task: Task) -> float | None:
        """What :meth:`ended` learns: the duration recorded, or ``None``."""
        if task.task_status != "succeed" or self.model is None:
            return None
        seconds = duration_of(task, seen_end=self.elapsed())
        return seconds if self.timing.durations.record(self.model, seconds) else None


def duration_of(task: Task, *, seen_end: float) -> float:
    """How long ``task`` ran: the API's own timestamps (creation to last change) when they are
    believable, else ``seen_end``, when the app saw it end (seconds since its creation; late
    by up to one pause, so only a fallback)."""
    if task.created_at is not None and task.updated_at is not None:
        stamped = (task.updated_at - task.created_at) / 1000
        if plausible(stamped) and stamped <= seen_end + TIMESTAMP_SLACK:
            return stamped
    return seen_end


def task_age(task: Task, now: Callable[[], float] = time.time) -> float:
    """Seconds since the API created ``task`` (by its ``created_at``; 0 when it has none or the
    clocks disagree so much that it would lie in the future)."""
    if not task.created_at:
        return 0.0
    return max(0.0, now() - task.created_at / 1000)

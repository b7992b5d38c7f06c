"""When the follow step asks the API about a task, and what it tells the person waiting: the
pipeline's schedule hook.

The follow step takes a :class:`TaskPlan` per task from whatever :class:`PollSchedule` the
pipeline was built with (``Pipeline.build(schedule=...)``) and only asks it for pauses, the time
left, and, at the end, tells it how the task ended. By default (:func:`schedule_for`) that is
:class:`~.timing.TimedSchedule`: polls timed to how long the model's tasks usually take, learnt
as they end (``TRYON_POLL_SCHEDULE``). :class:`GrowingPauses` is the plain schedule of old, for
a pipeline that wants nothing learnt.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from ..api.models import Task
from ..settings import Settings
from ..text.messages import Msg
from .timetable import Pace, growing_pauses
from .timing import TimedSchedule


class TaskPlan(Protocol):
    """The timing of one task, from the moment the follow step takes it on."""

    def pause(self) -> float:
        """Seconds to wait before the next status query of a task followed without a callback
        (the follow step never waits past the wait limit, whatever it says)."""

    def backstop(self, every: float, heard: bool = False) -> float:
        """Seconds to wait for a callback before asking anyway; ``every`` is the settings'
        backstop (``TRYON_CALLBACK_BACKSTOP``); ``heard``: a callback of this task has been
        confirmed, so callbacks reach the app."""

    def outlook(self) -> Msg | None:
        """The time left as the person waiting is told it; ``None`` when nothing is known."""

    def ended(self, task: Task) -> None:
        """``task`` has ended at the API (succeeded or failed): learn from it if it can."""


class PollSchedule(Protocol):
    """Makes the plan of each task the follow step takes on."""

    def plan(self, task: Task, model: str | None) -> TaskPlan:
        """The plan for ``task``: ``model`` is the model this app just created it with, or
        ``None`` for a task looked up again (its age then counts from its ``created_at``)."""


class GrowingPauses:
    """``first`` seconds, growing x1.25 each time up to ``most`` (``TRYON_POLL_INTERVAL``,
    ``TRYON_POLL_MAX_INTERVAL``), the backstop as the settings say, no time left shown and
    nothing learnt: short tasks end early, long ones are not asked too often."""

    def __init__(self, first: float = 1.0, most: float = 5.0, factor: float = 1.25) -> None:
        self.first = first
        self.most = most
        self.factor = factor

    def plan(self, task: Task, model: str | None) -> TaskPlan:
        del task, model  # the same for every task
        return _Growing(growing_pauses(Pace(self.first, self.most, self.factor)))


class _Growing:
    def __init__(self, pauses: Iterator[float]) -> None:
        self._pauses = pauses

    def pause(self) -> float:
        return next(self._pauses)

    def backstop(self, every: float, heard: bool = False) -> float:
        return every

    def outlook(self) -> Msg | None:
        return None

    def ended(self, task: Task) -> None:
        del task


def schedule_for(settings: Settings) -> PollSchedule:
    """The settings' schedule: polls timed to the task, learning from each one's end (with
    ``TRYON_POLL_SCHEDULE=growing`` at the plain growing pauses, still learning and telling
    the time left)."""
    return TimedSchedule.from_settings(settings)

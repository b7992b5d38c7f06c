"""When the follow step asks the API about a task: a schedule of pauses between status queries.

A hook: the follow step takes its pauses from whatever :class:`PollSchedule` the pipeline was
built with (``Pipeline.build(schedule=...)``), so a schedule timed to the task (issue 29: fast
near the end the task's kind usually takes, slow before) can replace today's, which starts
fast for short tasks and backs off.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from ..api.models import Task
from ..settings import Settings


class PollSchedule(Protocol):
    """The pauses before each status query of one task."""

    def pauses(self, task: Task) -> Iterator[float]:
        """Seconds to wait before each next query of ``task`` (as created or re-attached to),
        without end; the follow step never waits past the wait limit whatever it says."""


class GrowingPauses:
    """``first`` seconds, growing x1.25 each time up to ``most`` (``TRYON_POLL_INTERVAL``,
    ``TRYON_POLL_MAX_INTERVAL``): short tasks end early, long ones are not asked too often."""

    def __init__(self, first: float = 1.0, most: float = 5.0, factor: float = 1.25) -> None:
        self.first = first
        self.most = most
        self.factor = factor

    def pauses(self, task: Task) -> Iterator[float]:
        del task  # the same for every task
        pause = self.first
        while True:
            yield pause
            pause = min(pause * self.factor, self.most)


def schedule_for(settings: Settings) -> PollSchedule:
    """Today's schedule, from the settings."""
    return GrowingPauses(settings.poll_interval, settings.poll_max_interval)

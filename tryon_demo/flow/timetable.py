"""When to ask the API about a running task, and what to tell the person waiting: pure functions
of the time since the task was created and how long such tasks usually take.

Without a callback the only way to see a task end is to ask. Asking often wastes the account's
request rate while the task surely runs; asking rarely shows the result late. So the schedule
follows the estimate (a :class:`Window`, learnt in :mod:`.durations`): one query half-way to the
window (the task is alive, and a quick failure is not missed for long), then about one a
second through the window where tasks usually end (one on the typical time), then, for a task
running past it, the growing pauses of old (``TRYON_POLL_INTERVAL`` x1.25 up to
``TRYON_POLL_MAX_INTERVAL``).

With a callback the end comes by itself; the slow backstop query that catches a lost callback
is timed just after the window, where a lost one would have arrived, and while the task surely
runs comes a whole backstop after the API's last answer.

Everything here is a function of numbers: tests run it under virtual time, and the follow loop
only asks for the next pause.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from ..text.messages import Msg, msg

#: The shortest step of a schedule, whatever the settings say: polling never becomes a busy loop.
MIN_PAUSE = 0.05
#: A moment this close behind the present has just been asked (clocks wake a hair early).
_JUST_ASKED = 0.001
#: At most this many queries through the window, however wide it is: a task that usually takes
#: a minute is asked every few seconds, not 24 times.
MAX_WINDOW_QUERIES = 10


@dataclass(frozen=True)
class Window:
    """How long tasks usually take, in seconds from their creation: they rarely end before
    ``start``, typically at ``typical``, and rarely after ``end``."""

    start: float
    typical: float
    end: float

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.typical <= self.end or not math.isfinite(self.end):
            raise ValueError(f"not a window: {self}")


@dataclass(frozen=True)
class Pace:
    """The settings' pauses: ``interval`` (``TRYON_POLL_INTERVAL``) through the window and at
    first past it, growing by ``growth`` up to ``max_interval`` (``TRYON_POLL_MAX_INTERVAL``)."""

    interval: float = 1.0
    max_interval: float = 5.0
    growth: float = 1.25

    @property
    def step(self) -> float:
        """The interval, never so small that polling becomes a busy loop."""
        return max(self.interval, MIN_PAUSE)


def growing_pauses(pace: Pace) -> Iterator[float]:
    """The old schedule, pause by pause: ``interval``, then x``growth`` up to the maximum."""
    pause = pace.step
    while True:
        yield pause
        pause = min(pause * pace.growth, max(pace.max_interval, pace.step))


def poll_moments(window: Window, pace: Pace) -> Iterator[float]:
    """Every moment (seconds since the task was created) a status query is due, in order."""
    step = pace.step
    if window.start / 2 >= step:
        yield window.start / 2  # surely running: one look, half-way to the window
    # In step with the typical time, so that one query falls on it (tasks of a steady length
    # are seen at once), from the first step in the window to the first at or past its end.
    through = max(step, (window.end - window.start) / MAX_WINDOW_QUERIES)
    moment = window.typical - math.floor((window.typical - window.start) / through + 1e-9) * through
    yield moment
    while moment < window.end - 1e-9:
        moment += through
        yield moment
    for pause in growing_pauses(pace):  # running past the window: the old schedule, afresh
        moment += pause
        yield moment


def next_poll(elapsed: float, window: Window, pace: Pace) -> float:
    """Seconds from ``elapsed`` (since the task was created) until the next status query."""
    return _until_next(elapsed, poll_moments(window, pace))


def next_backstop(elapsed: float, window: Window, every: float, heard: bool = False) -> float:
    """Seconds from ``elapsed`` (when the API last answered about the task: its create, or a
    query) until a run that expects a callback asks for itself: ``every`` seconds after that
    answer while the task surely runs (an answer proves it alive: a confirmed "processing"
    puts the next look off), else just after the window, where a callback that never came
    would have, then every ``every`` seconds again. Once a callback of the task was ``heard``
    (confirmed), the looks skip the window and the moment after it: a whole ``every`` after the
    window's end at the soonest."""
    every = max(every, MIN_PAUSE)
    if heard:  # callbacks reach the app: none is due to be lost, no look just after the window
        if elapsed + every < window.start:
            return every
        return max(every, window.end + every - elapsed)
    after = window.end + min(every, 1.0)
    if elapsed + every < window.start or elapsed >= after - _JUST_ASKED:
        return every
    return after - elapsed


def _until_next(elapsed: float, moments: Iterator[float]) -> float:
    earliest = elapsed + _JUST_ASKED
    for moment in moments:  # the moments grow without bound, so this ends
        if moment >= earliest:
            return moment - elapsed
    raise AssertionError("a schedule never runs out of moments")


def about_seconds(seconds: float) -> int:
    """An estimate as a person reads it: whole seconds under 10, else to the nearest 5."""
    if seconds < 10:
        return max(1, math.ceil(seconds))
    return int(5 * round(seconds / 5))


def outlook(elapsed: float, window: Window) -> Msg:
    """What the person waiting is told: the time usually left, "any moment now" through the
    window, then that this task is taking longer than usual. Never a percentage: the task's
    progress is unknown, only how long others took."""
    if elapsed < window.typical:
        return msg("eta.left", seconds=about_seconds(window.typical - elapsed))
    if elapsed <= window.end:
        return msg("eta.any_moment")
    return msg("eta.longer", seconds=about_seconds(window.typical))

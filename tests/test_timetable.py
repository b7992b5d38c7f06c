"""The poll schedule on its own: a pure function of (time since the task began, the window).

Each test follows a pretend task on an event loop with a virtual clock (``tests/virtual_time.py``):
it sleeps the pause the schedule asks for, "queries" (optionally taking some time to answer),
and stops at the first query after the task's end. Every moment is exact, so a test says
*when* each query is sent; the defaults (1 s, x1.25 up to 5 s) are tested as they are.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics

import pytest

from tests.virtual_time import now, run_virtual
from tryon_demo.flow.timetable import (
    MAX_WINDOW_QUERIES,
    MIN_PAUSE,
    Pace,
    Window,
    about_seconds,
    growing_pauses,
    next_backstop,
    next_poll,
    outlook,
)

KLING = Window(12.0, 15.0, 18.0)


DEFAULT_PACE = Pace()


def follow(
    ends: float, window: Window | None, pace: Pace = DEFAULT_PACE, latency: float = 0.0
) -> list[float]:
    """The moments (since the task began) of every query until one sees the task ended;
    ``window=None`` follows with the growing pauses of old."""

    async def scenario() -> list[float]:
        began = now()
        pauses = growing_pauses(pace)
        asked: list[float] = []
        while not asked or asked[-1] < ends:
            elapsed = now() - began
            pause = next(pauses) if window is None else next_poll(elapsed, window, pace)
            await asyncio.sleep(pause)
            asked.append(round(now() - began, 6))
            await asyncio.sleep(latency)  # the answer's way back
        return asked

    return run_virtual(scenario)


def test_a_task_that_surely_runs_is_asked_once_half_way_to_the_window() -> None:
    asked = follow(14.5, KLING)
    assert [t for t in asked if t < KLING.start] == [6.0]


def test_through_the_window_it_is_asked_once_a_second_up_to_its_end() -> None:
    assert follow(17.9, KLING) == [6.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0]


def test_a_task_ending_in_the_window_is_seen_within_a_second() -> None:
    for ends in (12.0, 12.5, 13.01, 15.3, 17.99):
        assert 0 <= follow(ends, KLING)[-1] - ends <= 1.0


def test_past_the_window_the_pauses_grow_as_before_from_one_second_to_five() -> None:
    asked = follow(60.0, KLING)
    after = [round(b - a, 4) for a, b in itertools.pairwise(asked) if a >= KLING.end]
    assert after[:4] == [1.0, 1.25, 1.5625, 1.9531]
    assert max(after) == 5.0 and after[-1] == 5.0


def test_the_pace_comes_from_the_settings() -> None:
    pace = Pace(interval=2.0, max_interval=4.0)
    assert follow(30.0, KLING, pace) == [6.0, 13.0, 15.0, 17.0, 19.0, 21.0, 23.5, 26.625, 30.53125]


def test_a_query_falls_on_the_typical_time_whatever_the_window() -> None:
    for window in (Window(17.2, 20.0, 22.8), Window(16.3, 20.0, 24.1), Window(19.8, 20.0, 20.3)):
        assert 20.0 in follow(20.0, window)


def test_a_window_narrower_than_a_step_is_asked_on_its_typical_time_and_a_step_after() -> None:
    narrow = Window(19.8, 20.0, 20.3)
    assert follow(20.1, narrow) == [9.9, 20.0, 21.0]


def test_a_wide_window_gets_no_more_than_the_most_queries_through_it() -> None:
    wide = Window(48.0, 60.0, 72.0)
    inside = [t for t in follow(71.0, wide) if wide.start <= t <= wide.end]
    assert len(inside) == MAX_WINDOW_QUERIES + 1
    assert inside[-1] == 72.0


def test_a_slow_answer_is_followed_by_the_next_moment_not_a_burst() -> None:
    asked = follow(16.5, KLING, latency=0.97)
    gaps = [b - a for a, b in itertools.pairwise(asked)]
    assert min(gaps) >= 1.0  # each query waits for its moment, counted from the task's start
    assert asked[1:] == [12.0, 13.0, 14.0, 15.0, 16.0, 17.0]


def test_an_answer_slower_than_a_step_skips_the_moment_it_missed() -> None:
    asked = follow(16.5, KLING, latency=1.2)
    assert asked == [6.0, 12.0, 14.0, 16.0, 18.0]


def test_the_moment_just_asked_is_never_asked_again() -> None:
    for moment in (6.0, 12.0, 13.0, 18.0, 19.0):
        for noise in (-1e-9, 0.0, 1e-9):
            assert next_poll(moment + noise, KLING, Pace()) > 0.5


def test_tasks_of_12_to_18_s_end_within_a_second_of_being_seen_for_fewer_queries() -> None:
    ends = [12 + 6 * (i + 0.5) / 40 for i in range(40)]  # evenly through 12-18 s
    timed = [follow(end, KLING) for end in ends]
    old = [follow(end, None) for end in ends]
    lag = statistics.median(q[-1] - end for q, end in zip(timed, ends, strict=True))
    old_lag = statistics.median(q[-1] - end for q, end in zip(old, ends, strict=True))
    assert lag <= 0.6 < 1.0 < old_lag
    assert statistics.median(len(q) for q in timed) <= 6 < statistics.median(len(q) for q in old)


def test_the_growing_pauses_are_those_of_old() -> None:
    pauses = growing_pauses(Pace(interval=1.0, max_interval=5.0))
    assert [round(next(pauses), 4) for _ in range(10)] == [
        1.0, 1.25, 1.5625, 1.9531, 2.4414, 3.0518, 3.8147, 4.7684, 5.0, 5.0,
    ]  # fmt: skip


def test_a_zero_interval_does_not_become_a_busy_loop() -> None:
    pauses = growing_pauses(Pace(interval=0.0, max_interval=0.0))
    assert next(pauses) == next(pauses) == MIN_PAUSE
    assert next_poll(0.0, Window(0.0, 0.0, 0.0), Pace(interval=0.0)) >= MIN_PAUSE


# --- the backstop of a run that awaits a callback -------------------------------------------


def backstops(window: Window, every: float, until: float) -> list[float]:
    moments, elapsed = [], 0.0
    while elapsed < until:
        elapsed += next_backstop(elapsed, window, every)
        moments.append(round(elapsed, 6))
    return moments


def test_the_backstop_skips_the_window_and_asks_just_after_it() -> None:
    assert backstops(KLING, 15.0, 50.0) == [19.0, 34.0, 49.0, 64.0]


def test_the_backstop_asks_every_so_often_while_a_long_task_surely_runs() -> None:
    slow = Window(48.0, 60.0, 72.0)
    assert backstops(slow, 15.0, 80.0) == [15.0, 30.0, 45.0, 73.0, 88.0]


def test_the_backstop_counts_from_the_last_answer_while_the_task_surely_runs() -> None:
    # A callback saying "processing" at 4 s was confirmed by a query: the task is alive, so
    # the next look comes a whole backstop after that answer (19 s), not at 15 s.
    slow = Window(48.0, 60.0, 72.0)
    assert next_backstop(4.0, slow, 15.0) == 15.0
    # An answer at 40 s: a backstop later would fall inside the window, where the callback is
    # due; the look comes just after it instead.
    assert next_backstop(40.0, slow, 15.0) == 33.0
    assert next_backstop(4.0, KLING, 15.0) == 15.0  # just after the window: 19 s


# --- what the person waiting is told --------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "english", "chinese"),
    [
        (0.0, "usually ready in about 15 s", "通常约 15 秒后完成"),
        (7.4, "usually ready in about 8 s", "通常约 8 秒后完成"),
        (14.2, "usually ready in about 1 s", "通常约 1 秒后完成"),
        (15.0, "usually ready any moment now", "通常随时就会完成"),
        (18.0, "usually ready any moment now", "通常随时就会完成"),
        (18.1, "taking longer than usual (usually about 15 s)", "比平时用时更长（通常约 15 秒）"),
    ],
)
def test_the_outlook_says_the_time_left_then_that_it_takes_longer(
    elapsed: float, english: str, chinese: str
) -> None:
    said = outlook(elapsed, KLING)
    assert said.render("en") == english
    assert said.render("zh") == chinese


def test_the_outlook_never_shows_a_percentage() -> None:
    for elapsed in range(0, 40):
        for lang in ("en", "zh"):
            assert "%" not in outlook(float(elapsed), KLING).render(lang)


@pytest.mark.parametrize(
    ("seconds", "said"), [(0.2, 1), (3.01, 4), (9.9, 10), (12.4, 10), (12.6, 15), (61.0, 60)]
)
def test_estimates_are_rounded_as_a_person_reads_them(seconds: float, said: int) -> None:
    assert about_seconds(seconds) == said


def test_a_window_must_be_in_order() -> None:
    with pytest.raises(ValueError, match="not a window"):
        Window(15.0, 12.0, 18.0)


def test_once_a_callback_was_heard_the_backstop_skips_the_window_and_the_moment_after() -> None:
    # Callbacks reach the app: the end's is not due to be lost, so no look at 19 s.
    assert next_backstop(4.0, KLING, 15.0, heard=True) == KLING.end + 15.0 - 4.0
    slow = Window(48.0, 60.0, 72.0)
    assert next_backstop(4.0, slow, 15.0, heard=True) == 15.0  # surely running: as before

"""The capacity queue on its own: its slots, places, estimates, pauses and background checks.

Every test runs on an event loop with a virtual clock (``tests/virtual_time.py``), shared by the
queue, its timers and its background checks: the defaults (a 1 s pause doubling to 30 s, a
300 s wait limit, checks every 5 s or every second while creates wait) are tested as they are,
instantly, and each test says exactly *when* a slot is granted. The queue through whole
visitors, against the simulator's own limit, is ``test_capacity.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from tests.virtual_time import now, run_virtual
from tryon_demo.hosting.capacity import (
    Capacity,
    Place,
    QueueFullError,
    QueueWaitError,
    Ticket,
    rounded_seconds,
)

Scenario = Callable[[], Awaitable[object]]


def queue(limit: int = 1, **options: object) -> Capacity:
    """A queue on the running loop's (virtual) clock."""
    return Capacity(limit, clock=asyncio.get_running_loop().time, **options)  # type: ignore[arg-type]


async def granted_at(ticket: Ticket) -> float:
    """Wait for ``ticket``'s turn; the (virtual) time it came."""
    async for _ in ticket.wait():
        pass
    return now()


def running(capacity: Capacity, task_id: str) -> None:
    """Take a slot and create ``task_id`` in it at once."""
    ticket = capacity.join()
    assert ticket.granted, "no free slot for the task this test starts with"
    ticket.created(task_id)


class Api:
    """Answers the queue's "is this task still running?" like the API, recording each ask."""

    def __init__(self, ends_at: float = float("inf"), fails: int = 0) -> None:
        self.ends_at = ends_at
        self.fails = fails
        self.asked: list[tuple[float, str]] = []
        self.abandoned = 0

    async def still_running(self, task_id: str) -> bool:
        self.asked.append((now(), task_id))
        if self.fails:
            self.fails -= 1
            raise ConnectionError("the API did not answer")
        return now() < self.ends_at

    def times(self, since: float) -> list[float]:
        return [round(at - since, 6) for at, _ in self.asked]


class SlowApi(Api):
    """An API that takes ``delay`` seconds to answer a check."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def still_running(self, task_id: str) -> bool:
        self.asked.append((now(), task_id))
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.abandoned += 1
            raise
        return True


# --- what a waiting visitor reads ---------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.0, 1), (0.2, 1), (3.2, 4), (9.01, 10), (10.0, 10), (10.4, 10), (12.4, 10), (12.6, 15)],
)
def test_an_estimate_is_whole_seconds_under_ten_and_to_the_nearest_five_above(
    seconds: float, shown: int
) -> None:
    assert rounded_seconds(seconds) == shown


def test_a_waiting_create_is_told_how_many_are_ahead_and_about_how_long() -> None:
    assert (
        Place(1, 40.0).msg().render("en")
        == "Waiting for a free slot at the API: 1 ahead of you (about 40 s)"
    )
    assert (
        Place(0, 3.2).msg().render("en")
        == "Waiting for a free slot at the API: you are next (about 4 s)"
    )
    assert (
        Place(2, 40.0).msg().render("zh") == "正在等待 API 的空闲名额：您前面还有 2 位（约 40 秒）"
    )


def test_with_nothing_to_estimate_from_a_waiting_create_is_told_its_place_alone() -> None:
    assert Place(0).msg().render("en") == "Waiting for a free slot at the API: you are next"
    assert Place(3).msg().render("en") == "Waiting for a free slot at the API: 3 ahead of you"


# --- slots ----------------------------------------------------------------------------------


def test_without_a_limit_every_create_is_sent_at_once_and_nothing_is_counted() -> None:
    async def scenario() -> None:
        capacity = queue(0)
        tickets = [capacity.join() for _ in range(5)]
        assert [t.granted for t in tickets] == [True] * 5
        for n, ticket in enumerate(tickets):
            ticket.created(f"task-{n}")
        capacity.adopt("left-running", age=3.0)
        assert not capacity.limited
        assert (capacity.in_use, capacity.waiting) == (0, 0)

    run_virtual(scenario)


def test_creates_are_granted_while_slots_are_free_and_then_wait() -> None:
    async def scenario() -> None:
        capacity = queue(2)
        first, second, third = capacity.join(), capacity.join(), capacity.join()
        assert (first.granted, second.granted, third.granted) == (True, True, False)
        assert first.place == Place(0, 0.0)  # holds a slot: nothing ahead, nothing to wait
        assert third.task_id is None
        assert (capacity.in_use, capacity.waiting) == (2, 1)
        first.created("A")
        assert first.task_id == "A"
        assert (capacity.in_use, capacity.waiting) == (2, 1)  # the slot passed to the task
        assert not third.granted

    run_virtual(scenario)


def test_slots_go_to_the_waiting_creates_in_the_order_they_came() -> None:
    async def scenario() -> list[int]:
        capacity = queue(1)
        tickets = [capacity.join() for _ in range(4)]
        order: list[int] = []
        for _ in tickets:
            turn = next(t for t in tickets if t.granted and t.seq not in order)
            order.append(turn.seq)
            turn.created(f"task-{turn.seq}")
            capacity.ended(f"task-{turn.seq}")
        return order

    assert run_virtual(scenario) == [0, 1, 2, 3]


def test_a_slot_passes_to_the_next_create_when_its_task_ends_and_only_then() -> None:
    async def scenario() -> None:
        capacity = queue(1)
        running(capacity, "A")
        second, third = capacity.join(), capacity.join()
        capacity.ended("not-ours")  # an id the queue never counted frees nothing
        assert not second.granted
        capacity.ended("A")
        assert second.granted and not third.granted
        second.created("B")
        capacity.ended("A")  # told twice: the slot went already
        assert not third.granted
        capacity.ended("B")
        assert third.granted

    run_virtual(scenario)


def test_a_create_that_leaves_the_queue_is_forgotten_and_leaving_twice_is_harmless() -> None:
    async def scenario() -> None:
        capacity = queue(1)
        running(capacity, "A")
        second, third = capacity.join(), capacity.join()
        second.close()
        second.close()
        assert capacity.waiting == 1
        assert third.place.ahead == 0
        capacity.ended("A")
        assert third.granted and not second.granted
        assert capacity.in_use == 1

    run_virtual(scenario)


def test_a_granted_create_that_created_nothing_gives_its_slot_to_the_next() -> None:
    async def scenario() -> float:
        capacity = queue(1)
        first, second = capacity.join(), capacity.join()
        waiting = asyncio.create_task(granted_at(second))
        await granted_at(first)
        await asyncio.sleep(3)
        first.close()  # the create failed: nothing runs at the API
        return await waiting

    assert run_virtual(scenario) == 10_003.0


def test_a_create_on_its_way_keeps_its_slot_when_its_visitor_leaves() -> None:
    async def scenario() -> None:
        capacity = queue(1)
        first, second = capacity.join(), capacity.join()
        first.sending = True
        first.close()  # the visitor left; the create's answer decides what the slot holds
        assert capacity.in_use == 1 and not second.granted
        first.sending = False
        first.created("A")
        first.close()  # a ticket whose task was created has nothing to give back
        assert capacity.in_use == 1 and not second.granted
        capacity.ended("A")
        assert second.granted

    run_virtual(scenario)


# --- waiting --------------------------------------------------------------------------------


def test_without_a_tick_a_waiting_create_hears_only_changes_and_is_woken_by_a_free_slot() -> None:
    async def scenario() -> tuple[list[Place], float]:
        capacity = queue(1, typical=20.0)
        running(capacity, "first")
        second, third = capacity.join(), capacity.join()
        heard: list[Place] = []

        async def follow() -> float:
            async for place in third.wait():
                heard.append(place)
            return now()

        follower = asyncio.create_task(follow())
        for _ in range(3):  # the follower hears its place and sleeps
            await asyncio.sleep(0)
        for ticket in (second, third):
            ticket._notify()  # woken with nothing changed (same instant): nothing new to hear
        await asyncio.sleep(2)
        capacity.ended("first")  # the second's turn
        second.created("second")
        await asyncio.sleep(5)
        capacity.ended("second")  # the third's turn: it must be woken, with no tick
        return heard, await follower

    heard, at = run_virtual(scenario)
    assert at == 10_007.0
    # One ahead of a task just started; then next, behind a create as long as "first" took.
    assert heard == [Place(1, 40.0), Place(0, 2.0)]


def test_with_a_tick_a_waiting_create_hears_its_place_every_tick() -> None:
    async def scenario() -> list[tuple[float, Place]]:
        capacity = queue(1, typical=20.0)
        running(capacity, "A")
        ticket = capacity.join()
        heard: list[tuple[float, Place]] = []
        async for place in ticket.wait(tick=0.5):
            heard.append((now() - 10_000.0, place))
            if len(heard) == 4:
                break
        return heard

    assert run_virtual(scenario) == [
        (0.0, Place(0, 20.0)),
        (0.5, Place(0, 19.5)),
        (1.0, Place(0, 19.0)),
        (1.5, Place(0, 18.5)),
    ]


def test_a_create_granted_while_its_visitor_handles_its_place_stops_waiting_at_once() -> None:
    async def scenario() -> tuple[int, float]:
        capacity = queue(1)
        running(capacity, "A")
        ticket = capacity.join()
        heard = 0
        async for _ in ticket.wait(tick=1.0):
            heard += 1
            capacity.ended("A")  # the slot frees while the place is being shown
        return heard, now()

    assert run_virtual(scenario) == (1, 10_000.0)


# --- estimates ------------------------------------------------------------------------------


def test_the_estimate_counts_down_from_when_the_running_task_started() -> None:
    async def scenario() -> tuple[Place, Place]:
        capacity = queue(1, typical=20.0)
        running(capacity, "A")
        await asyncio.sleep(5)
        return capacity.join().place, capacity.join().place

    assert run_virtual(scenario) == (Place(0, 15.0), Place(1, 35.0))


def test_a_task_running_past_the_typical_time_is_expected_to_end_any_moment() -> None:
    async def scenario() -> Place:
        capacity = queue(1, typical=20.0)
        running(capacity, "A")
        await asyncio.sleep(26)
        return capacity.join().place

    place = run_virtual(scenario)
    assert place == Place(0, 0.0)
    assert place.msg().render("en").endswith("you are next (about 1 s)")


def test_a_task_ending_within_a_second_is_estimated_to_the_fraction() -> None:
    async def scenario() -> Place:
        capacity = queue(1, typical=20.0)
        running(capacity, "A")
        await asyncio.sleep(19.75)
        return capacity.join().place

    assert run_virtual(scenario) == Place(0, 0.25)


def test_until_a_task_has_ended_a_task_is_expected_to_take_25_seconds() -> None:
    async def scenario() -> tuple[Place, float]:
        capacity = queue(1)
        running(capacity, "A")
        return capacity.join().place, capacity.typical_duration()

    assert run_virtual(scenario) == (Place(0, 25.0), 25.0)


def test_a_slot_granted_but_not_yet_created_is_busy_for_the_typical_time() -> None:
    async def scenario() -> Place:
        capacity = queue(1, typical=20.0)
        capacity.join()
        return capacity.join().place

    assert run_virtual(scenario) == Place(0, 20.0)


def test_the_typical_time_is_the_mean_of_the_last_twenty_tasks_seen_to_end() -> None:
    async def scenario() -> list[float]:
        capacity = queue(1, typical=25.0)
        seen = [capacity.typical_duration()]
        for n, seconds in enumerate([1000.0, 10.0, 30.0, *[10.0] * 19]):
            running(capacity, f"task-{n}")
            await asyncio.sleep(seconds)
            capacity.ended(f"task-{n}")
            if n in (0, 2, 21):
                seen.append(capacity.typical_duration())
        capacity.ended("task-3")  # ended again: counted once
        seen.append(capacity.typical_duration())
        return seen

    # 25 before any; 1000; (1000 + 10 + 30) / 3; the last twenty: 30 and nineteen of 10.
    assert run_virtual(scenario) == [25.0, 1000.0, 1040.0 / 3, 11.0, 11.0]


def test_while_paused_with_free_slots_the_estimate_is_what_is_left_of_the_pause() -> None:
    async def scenario() -> Place:
        capacity = queue(2)
        running(capacity, "A")
        ticket = capacity.join()
        ticket.refused()  # a 1 s pause
        capacity.ended("A")  # both slots free, but every create pauses
        await asyncio.sleep(0.5)
        return ticket.place

    assert run_virtual(scenario) == Place(0, 0.5)


def test_slots_believed_held_by_another_app_are_busy_for_the_typical_time() -> None:
    async def scenario() -> list[Place]:
        capacity = queue(2, typical=20.0)
        running(capacity, "A")
        refused = capacity.join()
        later = [capacity.join() for _ in range(3)]
        refused.refused()  # the other app holds the slot this create was given
        return [refused.place] + [t.place for t in later]

    # Two slots: A frees in 20 s, the other app's in 20 s; then every 20 s two more go.
    assert run_virtual(scenario) == [Place(0, 20.0), Place(1, 20.0), Place(2, 40.0), Place(3, 40.0)]


# --- a 1303 from the API --------------------------------------------------------------------


def test_a_refused_create_goes_back_to_the_head_of_the_queue() -> None:
    async def scenario() -> None:
        capacity = queue(1)
        first, second = capacity.join(), capacity.join()
        first.refused()
        assert first.granted is False
        assert (first.place.ahead, second.place.ahead) == (0, 1)
        assert (capacity.in_use, capacity.waiting, capacity.refusals) == (0, 2, 1)

    run_virtual(scenario)


def test_a_lone_refused_create_waits_at_the_head_for_the_pause() -> None:
    async def scenario() -> tuple[float, float]:
        capacity = queue(1)
        ticket = capacity.join()
        ticket.refused()
        assert (ticket.place.ahead, capacity.waiting) == (0, 1)
        return await granted_at(ticket) - 10_000.0, capacity.refusals

    assert run_virtual(scenario) == (1.0, 1)


def test_a_refused_create_is_sent_again_after_one_second_doubling_up_to_thirty() -> None:
    async def scenario() -> tuple[list[float], int]:
        capacity = queue(1)
        ticket = capacity.join()
        gaps = []
        for _ in range(7):
            ticket.refused()
            refused_at = now()
            gaps.append(await granted_at(ticket) - refused_at)
        return gaps, capacity.refusals

    gaps, refusals = run_virtual(scenario)
    assert gaps == pytest.approx([1, 2, 4, 8, 16, 30, 30])
    assert refusals == 7


def test_a_created_task_resets_the_pause_to_its_start() -> None:
    async def scenario() -> list[float]:
        capacity = queue(1)
        gaps = []
        for n, refusals in enumerate([2, 1]):
            ticket = capacity.join()
            for _ in range(refusals):
                ticket.refused()
                refused_at = now()
                gaps.append(await granted_at(ticket) - refused_at)
            ticket.created(f"task-{n}")
            capacity.ended(f"task-{n}")
        return gaps

    assert run_virtual(scenario) == pytest.approx([1, 2, 1])


@pytest.mark.parametrize(("retry_after", "pause"), [(7.5, 7.5), (0.2, 1.0), (None, 1.0)])
def test_the_pause_is_never_shorter_than_the_apis_retry_after(
    retry_after: float | None, pause: float
) -> None:
    async def scenario() -> float:
        capacity = queue(1)
        ticket = capacity.join()
        ticket.refused(retry_after)
        return await granted_at(ticket) - 10_000.0

    assert run_virtual(scenario) == pytest.approx(pause)


def test_the_pause_and_its_ceiling_can_be_set() -> None:
    async def scenario() -> list[float]:
        capacity = queue(1, pause=0.25, max_pause=0.75)
        ticket = capacity.join()
        gaps = []
        for _ in range(4):
            ticket.refused()
            refused_at = now()
            gaps.append(await granted_at(ticket) - refused_at)
        return gaps

    assert run_virtual(scenario) == pytest.approx([0.25, 0.5, 0.75, 0.75])


def test_while_paused_no_create_is_granted_even_when_a_slot_frees() -> None:
    async def scenario() -> tuple[bool, float, list[bool], int]:
        capacity = queue(2)
        running(capacity, "A")
        ticket = capacity.join()
        later = [capacity.join(), capacity.join()]
        ticket.refused()
        await asyncio.sleep(0.5)
        capacity.ended("A")  # both slots free, and nothing believed held by another app
        granted_early = ticket.granted
        at = await granted_at(ticket) - 10_000.0
        return granted_early, at, [t.granted for t in later], capacity.in_use

    # After the pause, the two free slots go to the two first in line, and no more.
    assert run_virtual(scenario) == (False, 1.0, [True, False], 2)


def test_after_refusals_the_other_app_is_believed_to_free_one_slot_per_pause() -> None:
    async def scenario() -> list[float]:
        capacity = queue(3)
        running(capacity, "A")
        first, second = capacity.join(), capacity.join()
        first.refused()  # the other app holds one slot...
        second.refused()  # ...no, two: a pause of 2 s
        turns = asyncio.gather(granted_at(first), granted_at(second))
        return [at - 10_000.0 for at in await turns]

    # The other app's slots come back one per pause: the first at 2 s, the second 2 s later.
    assert run_virtual(scenario) == pytest.approx([2.0, 4.0])


def test_when_one_of_the_apps_own_tasks_ends_every_slot_is_believed_free_again() -> None:
    async def scenario() -> list[float]:
        capacity = queue(3)
        running(capacity, "A")
        first, second = capacity.join(), capacity.join()
        first.refused()
        second.refused()
        turns = asyncio.gather(granted_at(first), granted_at(second))
        await asyncio.sleep(2.5)
        capacity.ended("A")  # the API just freed a slot: the other app's may be free too
        return [at - 10_000.0 for at in await turns]

    assert run_virtual(scenario) == pytest.approx([2.0, 2.5])


def test_a_refused_create_is_logged_with_its_pause(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        capacity = queue(1)
        capacity.join().refused(4.0)

    with caplog.at_level(logging.INFO, logger="tryon_demo.hosting.capacity"):
        run_virtual(scenario)
    assert caplog.messages == ["the API refused a create (1303); trying again in 4.0 s"]


# --- tasks nobody follows -------------------------------------------------------------------


def test_an_unfollowed_task_keeps_its_slot_until_the_api_says_it_ended() -> None:
    async def scenario() -> tuple[float, list[tuple[float, str]]]:
        api = Api(ends_at=10_012.0)
        capacity = queue(1, still_running=api.still_running)
        running(capacity, "A")
        capacity.release_when_done("A")
        return await granted_at(capacity.join()) - 10_000.0, api.asked

    at, asked = run_virtual(scenario)
    assert at == 12.0
    assert [task_id for _, task_id in asked] == ["A"] * 12  # asked about A, every second


def test_when_nobody_waits_an_unfollowed_task_is_asked_about_every_five_seconds() -> None:
    async def scenario() -> tuple[list[float], int]:
        api = Api()
        capacity = queue(1, still_running=api.still_running)
        running(capacity, "A")
        capacity.release_when_done("A")
        capacity.release_when_done("A")  # released twice: still one watcher
        capacity.release_when_done("not-ours")  # never counted: nothing to watch
        await asyncio.sleep(16)
        return api.times(10_000.0), capacity.in_use

    assert run_virtual(scenario) == ([5.0, 10.0, 15.0], 1)


@pytest.mark.parametrize(
    ("options", "join_at", "until", "asked"),
    [
        ({}, 7.5, 10.5, [5.0, 8.0, 9.0, 10.0]),  # the defaults: every 5 s, then every second
        ({"check_every": 2.0, "busy_check_every": 0.5}, 4.2, 5.3, [2.0, 4.0, 4.5, 5.0]),
    ],
    ids=["defaults", "set"],
)
def test_an_unfollowed_task_is_asked_about_at_the_idle_interval_then_the_busy_one(
    options: dict[str, float], join_at: float, until: float, asked: list[float]
) -> None:
    async def scenario() -> list[float]:
        api = Api()
        capacity = queue(1, still_running=api.still_running, **options)
        running(capacity, "A")
        capacity.release_when_done("A")
        await asyncio.sleep(join_at)
        capacity.join()  # from now on a create waits for A's slot
        await asyncio.sleep(until - join_at)
        return api.times(10_000.0)

    assert run_virtual(scenario) == asked


def test_a_task_the_api_cannot_be_asked_about_keeps_its_slot(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> float:
        api = Api(ends_at=0.0, fails=2)  # ended, but the first two asks get no answer
        capacity = queue(1, still_running=api.still_running)
        running(capacity, "A")
        capacity.release_when_done("A")
        return await granted_at(capacity.join()) - 10_000.0

    with caplog.at_level(logging.INFO, logger="tryon_demo.hosting.capacity"):
        assert run_virtual(scenario) == 3.0
    assert (
        caplog.messages
        == ["could not check task A (the API did not answer); looking again later"] * 2
    )


def test_an_unfollowed_task_frees_its_slot_at_the_wait_limit_whatever_the_api_says(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> float:
        api = Api()  # says "running" for ever
        capacity = queue(1, still_running=api.still_running)
        running(capacity, "A")
        capacity.release_when_done("A")
        return await granted_at(capacity.join()) - 10_000.0

    with caplog.at_level(logging.INFO, logger="tryon_demo.hosting.capacity"):
        assert run_virtual(scenario) == 300.0
    assert caplog.messages == ["task A outlived the wait limit; freeing its slot"]


@pytest.mark.parametrize("hold_limit", [10.0, 0.5])
def test_without_a_way_to_ask_an_unfollowed_task_holds_its_slot_for_the_wait_limit(
    hold_limit: float,
) -> None:
    async def scenario() -> float:
        capacity = queue(1, hold_limit=hold_limit)
        running(capacity, "A")
        capacity.release_when_done("A")
        return await granted_at(capacity.join()) - 10_000.0

    assert run_virtual(scenario) == hold_limit


def test_a_task_seen_to_end_stops_its_background_check_at_once() -> None:
    async def scenario() -> tuple[int, int, float]:
        api = SlowApi(delay=60.0)
        capacity = queue(1, still_running=api.still_running)
        running(capacity, "A")
        capacity.release_when_done("A")
        waiting = capacity.join()
        await asyncio.sleep(1.5)  # the check asked at 1 s is still waiting for its answer
        capacity.ended("A")  # a follower saw A end
        at = await granted_at(waiting)
        await asyncio.sleep(120)
        return len(api.asked), api.abandoned, at - 10_000.0

    assert run_virtual(scenario) == (1, 1, 1.5)


def test_a_task_released_after_its_event_loop_stopped_frees_its_slot_at_once() -> None:
    async def hold() -> Capacity:
        capacity = Capacity(1)
        capacity.join().created("t-1")
        return capacity

    capacity = asyncio.run(hold())
    capacity.release_when_done("t-1")  # no loop left to watch it: freed now
    assert capacity.join().granted


# --- tasks running before the app started -------------------------------------------------


@pytest.mark.parametrize(("age", "freed_at"), [(None, 10.0), (4.0, 6.0), (-5.0, 10.0)])
def test_a_task_adopted_at_start_holds_its_slot_until_the_wait_limit_from_its_age(
    age: float | None, freed_at: float
) -> None:
    async def scenario() -> float:
        capacity = queue(1, hold_limit=10.0)
        capacity.adopt("running-before") if age is None else capacity.adopt("running-before", age)
        assert capacity.in_use == 1
        return await granted_at(capacity.join()) - 10_000.0

    assert run_virtual(scenario) == freed_at


def test_an_adopted_task_is_checked_like_any_unfollowed_one() -> None:
    async def scenario() -> tuple[float, list[tuple[float, str]]]:
        api = Api(ends_at=10_003.0)
        capacity = queue(1, still_running=api.still_running)
        capacity.adopt("running-before", age=100.0)
        return await granted_at(capacity.join()) - 10_000.0, api.asked

    at, asked = run_virtual(scenario)
    assert at == 3.0
    assert {task_id for _, task_id in asked} == {"running-before"}


def test_adopting_a_task_already_counted_changes_nothing() -> None:
    async def scenario() -> float:
        capacity = queue(1, hold_limit=10.0)
        running(capacity, "A")
        capacity.release_when_done("A")
        await asyncio.sleep(4)
        capacity.adopt("A")  # listed at the API after it was created here: same task
        assert capacity.in_use == 1
        return await granted_at(capacity.join()) - 10_000.0

    assert run_virtual(scenario) == 10.0


def test_a_limit_below_one_means_no_limit() -> None:
    for limit in (0, -2):
        capacity = Capacity(limit)
        assert (capacity.limit, capacity.limited) == (0, False)


# --- bounded waiting: per address, in total, and for how long --------------------------------


def test_an_address_may_park_four_waiters_and_the_fifth_is_refused_at_once() -> None:
    async def scenario() -> None:
        capacity = queue(1, per_address=4, most=50)
        running(capacity, "A")
        waiting = [capacity.join("ip:one") for _ in range(4)]
        with pytest.raises(QueueFullError) as refused:
            capacity.join("ip:one")
        assert refused.value.reason == "queue_full"
        assert "You already have 4 try-ons waiting for a free slot" in refused.value.render("en")
        assert "4" in refused.value.render("zh") and "等待" in refused.value.render("zh")
        assert capacity.waiting == 4
        capacity.join("ip:two")  # another address still gets in line
        assert capacity.waiting == 5
        waiting[0].close()
        capacity.join("ip:one")  # one of its own left: room for one more
        assert capacity.waiting == 5

    run_virtual(scenario)


def test_past_the_total_the_next_waiter_is_refused_at_once_whoever_it_is() -> None:
    async def scenario() -> None:
        capacity = queue(1, per_address=4, most=3)
        running(capacity, "A")
        for n in range(3):
            capacity.join(f"ip:{n}")
        with pytest.raises(QueueFullError) as refused:
            capacity.join("ip:new")
        assert "3 try-ons are already waiting" in refused.value.render("en")
        assert capacity.waiting == 3

    run_virtual(scenario)


def test_a_create_granted_at_once_never_counts_as_waiting() -> None:
    async def scenario() -> None:
        capacity = queue(5, per_address=1, most=1)
        tickets = [capacity.join("ip:one") for _ in range(5)]  # five free slots
        assert all(ticket.granted for ticket in tickets)

    run_virtual(scenario)


def test_a_waiter_past_the_longest_wait_leaves_the_line_with_a_plain_message() -> None:
    async def scenario() -> float:
        capacity = queue(1, max_wait=300.0)
        running(capacity, "A")
        started = now()
        ticket = capacity.join("ip:one")
        with pytest.raises(QueueWaitError) as refused:
            async for _ in ticket.wait(tick=0.5):
                pass
        assert "nothing was created" in refused.value.render("en")
        assert capacity.waiting == 0  # it left the line
        return now() - started

    assert run_virtual(scenario) == pytest.approx(300.0, abs=0.5)


def test_a_waiter_granted_just_in_time_is_not_refused() -> None:
    async def scenario() -> None:
        capacity = queue(1, max_wait=300.0)
        running(capacity, "A")
        ticket = capacity.join("ip:one")
        asyncio.get_running_loop().call_later(299.0, capacity.ended, "A")
        places = [place async for place in ticket.wait()]
        assert ticket.granted and places

    run_virtual(scenario)

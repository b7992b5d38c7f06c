"""One fair queue in front of the account's concurrent-task limit (API code 1303).

An account may run only so many tasks at once. With ``TRYON_API_CONCURRENCY`` set, every create
of the app waits here for a free slot, first come first served, and the waiting visitor is told
their place and about how long it will take. A slot is held while the task runs *at the API*:
from the moment it is granted until the task is seen to end, or until the wait limit passes.
A task nobody follows any more (a ``/submit`` task, a cancelled or abandoned run) is checked
now and then in the background until it ends, so it keeps its slot exactly as long as the API
counts it.

A 1303 that arrives anyway (another app sharing the account) created nothing: the create goes
back to the head of the queue, every create pauses, and the queue believes the other app holds
the remaining slots until one of our tasks ends (or, slot by slot, after each pause).

Waiting is bounded: one address may park ``per_address`` waiters and all together ``most``
(the next is refused at once, :class:`QueueFullError`), and none waits longer than ``max_wait``
seconds (:class:`QueueWaitError`). A waiter holds a ticket and nothing else; what it will send
is prepared once its turn has come.

Plain asyncio, no Gradio: everything runs on the event loop that serves the visitors, so no
locks are needed. With no limit set the queue is a pass-through.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from ..text.messages import Msg, msg
from .limits import LimitExceededError

log = logging.getLogger(__name__)

#: Answers whether a task is still running at the API (raises when it cannot tell).
StillRunning = Callable[[str], Awaitable[bool]]


@dataclass(frozen=True)
class Place:
    """Where a waiting create stands: how many creates are ahead of it, and about how many
    seconds until its turn (``None`` when there is nothing to estimate from)."""

    ahead: int
    estimate: float | None = None

    def msg(self) -> Msg:
        """``"Waiting for a free slot at the API: 3 ahead of you (about 40 s)"``, as a message."""
        who = msg("queue.next") if self.ahead == 0 else msg("queue.ahead", count=self.ahead)
        if self.estimate is None:
            return msg("queue.waiting", who=who)
        return msg("queue.waiting_about", who=who, seconds=rounded_seconds(self.estimate))


class QueueFullError(LimitExceededError):
    """The queue has no room: this address already waits ``per_address`` times, or everyone
    together ``most`` times. Nothing was prepared or sent."""


class QueueWaitError(LimitExceededError):
    """No slot came free within the longest wait; the waiter left the line, nothing was sent."""


def rounded_seconds(seconds: float) -> int:
    """An estimate as a person reads it: whole seconds under 10, else to the nearest 5."""
    if seconds < 10:
        return max(1, math.ceil(seconds))
    return int(5 * round(seconds / 5))


class Ticket:
    """One create's place in the queue; made by :meth:`Capacity.join`.

    Wait for the turn with :meth:`wait`, then send the create and report what the API said:
    :meth:`created` or :meth:`refused`. :meth:`close` (always, in a ``finally``) leaves the
    queue or frees a slot that created nothing.
    """

    def __init__(self, capacity: Capacity, seq: int, who: str = "") -> None:
        self._capacity = capacity
        self.seq = seq
        #: The address that waits (``ip:<address>``), for the per-address bound.
        self.who = who
        #: When it joined, on the queue's clock (for the longest wait).
        self.joined = capacity._clock()
        self.granted = False
        self.task_id: str | None = None
        #: A create is on its way: the slot follows its answer, even if the caller has left.
        self.sending = False
        self._wake: asyncio.Future[None] | None = None

    @property
    def place(self) -> Place:
        """Where this ticket stands now (``ahead == 0`` once it holds a slot)."""
        return self._capacity._place(self)

    async def wait(self, tick: float | None = None) -> AsyncIterator[Place]:
        """Yield this ticket's place whenever it changes (and every ``tick`` seconds, if
        given, so a page can show time passing); return once a slot is granted.

        Raises :class:`QueueWaitError`, having left the queue, once it has waited the longest
        wait. Cancelling the waiting task leaves the queue at once (with :meth:`close`)."""
        capacity = self._capacity
        last: Place | None = None
        while not self.granted:
            place = self.place
            if tick is not None or place != last:
                last = place
                yield place
            if self.granted:  # granted while the caller handled the place
                return
            left = self.joined + capacity.max_wait - capacity._clock()
            if left <= 0:
                await asyncio.sleep(0)  # a slot freed at this very moment still counts
                if self.granted:
                    return
                self.close()
                seconds = round(capacity.max_wait)
                raise QueueWaitError(
                    msg("queue.waited_too_long", seconds=seconds), reason="queue_wait"
                )
            wake = asyncio.get_running_loop().create_future()
            self._wake = wake
            try:
                await asyncio.wait([wake], timeout=left if tick is None else min(tick, left))
            finally:
                self._wake = None

    def created(self, task_id: str) -> None:
        """The API created ``task_id``: the slot now belongs to that task until it ends."""
        self.task_id = task_id
        self._capacity._created(self, task_id)

    def refused(self, retry_after: float | None = None) -> None:
        """The API answered 1303: nothing was created; back to the head of the queue."""
        self._capacity._refused(self, retry_after)

    def close(self) -> None:
        """Leave the queue, or give back a slot that created nothing. Idempotent."""
        self._capacity._close(self)

    def _notify(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)


class Capacity:
    """The app's queue for API slots; one per app, shared by every visitor.

    ``limit`` is the account's concurrent-task limit (0: unlimited, the queue does nothing).
    ``still_running`` checks an unfollowed task every ``check_every`` seconds (every
    ``busy_check_every`` while creates wait for a slot); a slot is given back at the latest
    ``hold_limit`` seconds after its task was created. ``typical`` is the
    task duration assumed for estimates until real ones have been seen. ``per_address``,
    ``most`` and ``max_wait`` bound the waiting (see the module's docstring).
    """

    def __init__(
        self,
        limit: int,
        *,
        still_running: StillRunning | None = None,
        hold_limit: float = 300.0,
        check_every: float = 5.0,
        busy_check_every: float = 1.0,
        typical: float = 25.0,
        pause: float = 1.0,
        max_pause: float = 30.0,
        per_address: int = 4,
        most: int = 50,
        max_wait: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = max(0, limit)
        self.per_address = per_address
        self.most = most
        self.max_wait = max_wait
        self.hold_limit = hold_limit
        self.check_every = check_every
        self.busy_check_every = busy_check_every
        self.typical = typical
        self.pause = pause
        self.max_pause = max_pause
        #: 1303 answers absorbed so far (what the tests and the benchmark check).
        self.refusals = 0
        self._still_running = still_running
        self._clock = clock
        self._seq = itertools.count()
        self._queue: list[Ticket] = []
        self._granted: set[Ticket] = set()
        #: task id -> (when it started holding its slot, when the slot is given back at latest)
        self._tasks: dict[str, tuple[float, float]] = {}
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._durations: deque[float] = deque(maxlen=20)
        self._outside = 0  # slots believed taken by someone else sharing the account
        self._pause_until = 0.0
        self._refused_in_row = 0
        self._timer: asyncio.TimerHandle | None = None

    # --- what callers see -----------------------------------------------------------------

    @property
    def limited(self) -> bool:
        """Whether a limit is set (otherwise every ticket is granted at once)."""
        return self.limit > 0

    @property
    def in_use(self) -> int:
        """Slots this app holds: creates on their way plus tasks running at the API."""
        return len(self._granted) + len(self._tasks)

    @property
    def waiting(self) -> int:
        """Creates waiting for a slot."""
        return len(self._queue)

    def join(self, who: str = "") -> Ticket:
        """Queue a create of ``who`` (an address) at the back; wait for its turn with
        :meth:`Ticket.wait`. Raises :class:`QueueFullError` when it would have to wait and the
        queue has no room for it."""
        ticket = Ticket(self, next(self._seq), who)
        if not self.limited:
            ticket.granted = True
            return ticket
        self._queue.append(ticket)
        self._pump()
        if not ticket.granted:
            self._refuse_if_full(ticket)
        return ticket

    def _refuse_if_full(self, ticket: Ticket) -> None:
        """Take ``ticket`` back out of the queue and refuse it if it overfills a bound (an
        unnamed ``who``, a caller in code rather than a visitor, has no share of its own)."""
        mine = sum(1 for waiting in self._queue if waiting.who == ticket.who)
        if ticket.who and mine > self.per_address:
            refusal = msg("queue.full_address", count=self.per_address)
        elif len(self._queue) > self.most:
            refusal = msg("queue.full", count=self.most)
        else:
            return
        self._queue.remove(ticket)
        self._pump()
        raise QueueFullError(refusal, reason="queue_full")

    def ended(self, task_id: str) -> None:
        """A follower saw ``task_id`` end at the API: its slot is free (and its time counts
        towards the estimates). Unknown ids are ignored."""
        held = self._tasks.get(task_id)
        if held is not None:
            self._durations.append(self._clock() - held[0])
        self._release(task_id)

    def release_when_done(self, task_id: str) -> None:
        """Nobody follows ``task_id`` any more: check it in the background and free its slot
        when the API says it ended, or when the wait limit passes."""
        if task_id not in self._tasks or task_id in self._watchers:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a run finalised after its event loop stopped: no one can watch
            self._release(task_id)
            return
        self._watchers[task_id] = loop.create_task(self._watch(task_id))

    def adopt(self, task_id: str, age: float = 0.0) -> None:
        """Count a task that was already running when the app started (``age`` seconds old)."""
        if not self.limited or task_id in self._tasks:
            return
        started = self._clock() - max(0.0, age)
        self._tasks[task_id] = (started, started + self.hold_limit)
        self.release_when_done(task_id)
        self._pump()

    def typical_duration(self) -> float:
        """Seconds a slot is held, from recent tasks (the configured guess until there are any)."""
        if not self._durations:
            return self.typical
        return float(sum(self._durations) / len(self._durations))

    # --- the queue ------------------------------------------------------------------------

    def _free(self) -> int:
        return self.limit - self._outside - self.in_use

    def _pump(self) -> None:
        """Grant free slots to the head of the queue, then tell every waiter where it stands."""
        now = self._clock()
        while self._queue and self._free() > 0 and now >= self._pause_until:
            ticket = self._queue.pop(0)
            ticket.granted = True
            self._granted.add(ticket)
        if self._queue and self._timer is None:
            if now < self._pause_until:
                self._schedule(self._pause_until - now)
            elif self._outside > 0:  # not paused, yet creates wait: no slot is free
                self._schedule(self._current_pause())
        for ticket in [*self._granted, *self._queue]:
            ticket._notify()

    def _schedule(self, delay: float) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # nothing waits without a loop; the next pump schedules again
            return
        self._timer = loop.call_later(max(0.0, delay), self._pause_over)

    def _pause_over(self) -> None:
        # The other app's tasks end unseen: after each pause believe one more slot is free.
        self._timer = None
        if self._outside > 0 and self._clock() >= self._pause_until:
            self._outside -= 1
        self._pump()

    def _current_pause(self) -> float:
        return min(self.max_pause, self.pause * 2.0 ** max(0, self._refused_in_row - 1))

    def _created(self, ticket: Ticket, task_id: str) -> None:
        if not self.limited:
            return
        self._granted.discard(ticket)
        now = self._clock()
        self._tasks[task_id] = (now, now + self.hold_limit)
        self._refused_in_row = 0

    def _refused(self, ticket: Ticket, retry_after: float | None) -> None:
        self.refusals += 1
        self._refused_in_row += 1
        self._granted.discard(ticket)
        ticket.granted = False
        # Back to the head, behind only creates that joined before it (several may be refused).
        position = next((i for i, t in enumerate(self._queue) if t.seq > ticket.seq), None)
        self._queue.insert(len(self._queue) if position is None else position, ticket)
        self._outside = max(self._outside, self.limit - self.in_use)
        pause = max(self._current_pause(), retry_after or 0.0)
        self._pause_until = max(self._pause_until, self._clock() + pause)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        log.info("the API refused a create (1303); trying again in %.1f s", pause)
        self._pump()

    def _close(self, ticket: Ticket) -> None:
        if ticket.sending:
            return  # the create's answer decides (Ticket.created, or close() once it failed)
        if ticket in self._queue:
            self._queue.remove(ticket)
        elif ticket in self._granted:
            self._granted.discard(ticket)
        else:
            return
        self._pump()

    def _release(self, task_id: str) -> None:
        if self._tasks.pop(task_id, None) is None:
            return
        watcher = self._watchers.pop(task_id, None)
        if watcher is not None and watcher is not asyncio.current_task():
            watcher.cancel()
        self._outside = 0  # a task ended: the belief about the other app starts afresh
        self._pump()

    async def _watch(self, task_id: str) -> None:
        checked = self._clock()
        try:
            while True:
                held = self._tasks.get(task_id)
                if held is None:
                    return
                remaining = held[1] - self._clock()
                if remaining <= 0:
                    log.info("task %s outlived the wait limit; freeing its slot", task_id)
                    return
                # Wake often, ask rarely: only when creates wait for a slot is it asked often.
                await asyncio.sleep(min(self.busy_check_every, remaining))
                due = self._queue or self._clock() - checked >= self.check_every
                if self._still_running is None or not due:
                    continue
                checked = self._clock()
                try:
                    if not await self._still_running(task_id):
                        return
                except Exception as exc:  # noqa: BLE001 - keep the slot; look again later
                    log.info("could not check task %s (%s); looking again later", task_id, exc)
        finally:
            self._release(task_id)  # also forgets this watcher

    def _place(self, ticket: Ticket) -> Place:
        if ticket not in self._queue:  # holds a slot (or has left): nothing to wait for
            return Place(0, 0.0)
        ahead = self._queue.index(ticket)
        return Place(ahead, self._estimate(ahead))

    def _estimate(self, ahead: int) -> float:
        """Seconds until the create with ``ahead`` creates in front of it gets a slot: each
        slot is free when its task has run the typical time, then serves the next in line."""
        now = self._clock()
        typical = self.typical_duration()
        paused = max(0.0, self._pause_until - now)
        frees = [max(0.0, started + typical - now) for started, _ in self._tasks.values()]
        frees += [typical] * len(self._granted)
        frees += [max(typical, paused)] * self._outside
        frees += [0.0] * max(0, self.limit - len(frees))
        heapq.heapify(frees)  # never empty: a queue exists only with a limit of one or more
        for _ in range(ahead):
            heapq.heappush(frees, heapq.heappop(frees) + typical)
        return max(frees[0], paused)

"""An asyncio event loop whose clock jumps to the next timer whenever nothing else can run.

For code that waits only on timers and on itself (no sockets, no threads), such as the capacity
queue: a test of a 300 s hold limit or a 30 s back-off runs in milliseconds, every time is exact,
and the test can assert *when* something happened, not just that it did.

Two guards turn a broken scheduler into a failing test instead of a hung one: the test's
coroutine must finish within a virtual day (a waiter nobody wakes runs into that deadline at
once, since time jumps to it), and a loop that spins without ever letting time pass (a
``sleep(0)`` loop) is stopped after a bounded number of steps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: Virtual seconds a test may take before it counts as stuck.
VIRTUAL_DEADLINE = 86_400.0
#: Loop iterations with time standing still before the loop counts as spinning.
MAX_STEPS_WITHOUT_TIME = 100_000
#: Where the clock starts: like ``time.monotonic()``, never near zero.
START = 10_000.0


class SpinningError(RuntimeError):
    """The code under test kept the loop busy without ever letting time pass."""


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector loop whose ``time()`` only moves when the loop would otherwise wait."""

    def __init__(self) -> None:
        super().__init__()
        self._now = START
        self._still = 0

    def time(self) -> float:
        return self._now

    def _run_once(self) -> None:
        # _ready and _scheduled are the loop's own run queue and timer heap (CPython's
        # BaseEventLoop); reading them is what lets the clock jump only when idle.
        ready: Any = self._ready  # type: ignore[attr-defined]
        scheduled: Any = self._scheduled  # type: ignore[attr-defined]
        if not ready and not self._stopping:  # type: ignore[attr-defined]
            due = [handle.when() for handle in scheduled if not handle.cancelled()]
            if due and min(due) > self._now:
                self._now = min(due)
                self._still = 0
        self._still += 1
        if self._still > MAX_STEPS_WITHOUT_TIME:
            self._still = -10 * MAX_STEPS_WITHOUT_TIME  # let the runner cancel and clean up
            raise SpinningError(f"{MAX_STEPS_WITHOUT_TIME} loop steps without time passing")
        super()._run_once()


def run_virtual(main: Callable[[], Awaitable[T]]) -> T:
    """Run ``main()`` on a :class:`VirtualTimeLoop`; it fails if stuck for a virtual day."""

    async def bounded() -> T:
        return await asyncio.wait_for(main(), timeout=VIRTUAL_DEADLINE)

    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(bounded())


def now() -> float:
    """The running loop's clock (virtual under :func:`run_virtual`)."""
    return asyncio.get_running_loop().time()

"""Submission rates for a public deployment: how often one visitor, and everyone together,
may start a try-on, and how often one visitor may look a task up.

Sliding windows, off unless configured (an offline public deployment gets defaults, see
:func:`limiter_for`). They count attempts, whoever's key pays: they bound the server's work as
much as the owner's credits. A visitor is whatever key the caller passes, in the app the client
address (:func:`tryon_demo.hosting.access.visitor_key`), never something the client picks. The
day's cap on the owner's credits is :mod:`tryon_demo.hosting.quota`'s.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from ..errors import TryOnError
from ..settings import Rate, Settings
from ..text.messages import Msg, msg

log = logging.getLogger(__name__)

#: Limits an offline deployment reachable from outside gets when none are configured: the
#: simulator costs no credits, but it costs the server memory and CPU.
OFFLINE_PUBLIC_PER_VISITOR = "10/minute"
OFFLINE_PUBLIC_GLOBAL = "120/minute"


class LimitExceededError(TryOnError):
    """A configured submission limit was reached; nothing was sent to the API."""

    kind = "limit_reached"
    retryable = True

    def __init__(
        self, message: str | Msg, *, reason: str = "rate", retry_after: float | None = None
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        #: Which limit refused, as a short key for the usage record: ``rate``, ``query_rate``,
        #: ``daily_cap``, ``address_share``, ``queue_full``, ``queue_wait``.
        self.reason = reason


class SlidingWindows:
    """One sliding-window rate per key (a visitor), forgetting keys that went quiet."""

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self._windows: dict[str, deque[float]] = {}

    def wait(self, key: str, now: float) -> tuple[int, int]:
        """``(count in the window, seconds until one more is allowed)``; 0 s when allowed."""
        if not self.rate.count:
            return 0, 0
        window = self._windows.get(key)
        if window is None:
            return 0, 0
        while window and window[0] <= now - self.rate.seconds:
            window.popleft()
        if len(window) < self.rate.count:
            return len(window), 0
        return len(window), max(1, round(window[0] + self.rate.seconds - now))

    def add(self, key: str, now: float) -> None:
        """Count one event for ``key`` (call only after :meth:`wait` said 0)."""
        if not self.rate.count:
            return
        self._windows.setdefault(key, deque()).append(now)
        horizon = now - max(self.rate.seconds, 1.0)
        if len(self._windows) > 1000:  # forget idle visitors now and then, not on every call
            for idle in [k for k, v in self._windows.items() if not v or v[-1] <= horizon]:
                del self._windows[idle]


class SubmissionLimiter:
    """Counts submissions and lookups and refuses those over a rate, with the wait in the
    message."""

    def __init__(
        self,
        per_session: Rate,
        overall: Rate,
        clock: Callable[[], float] = time.time,
        *,
        per_visitor_queries: Rate | None = None,
    ) -> None:
        self.per_session = per_session
        self.overall = overall
        self.per_visitor_queries = per_visitor_queries or Rate(0, 60)
        self._clock = clock
        self._lock = threading.Lock()
        self._visitors = SlidingWindows(per_session)
        self._all = SlidingWindows(overall)
        self._queries = SlidingWindows(self.per_visitor_queries)

    @property
    def active(self) -> bool:
        """Whether any submission rate is configured."""
        return bool(self.per_session.count or self.overall.count)

    def check(self, session: str) -> None:
        """Raise :class:`LimitExceededError` if ``session`` could not submit now; count nothing.

        For work that comes before the counted submissions (a lookbook's person picture).
        """
        if not self.active:
            return
        with self._lock:
            self._refuse_if_over(session, self._clock())

    def acquire(self, session: str) -> None:
        """Count one submission for ``session``, or raise :class:`LimitExceededError`.

        Called before any image work, so a visitor over a rate costs the server nothing; an
        attempt whose pictures are then refused still counts (its image work was done).
        """
        if not self.active:
            return
        with self._lock:
            now = self._clock()
            self._refuse_if_over(session, now)
            self._visitors.add(session, now)
            self._all.add("", now)

    def acquire_query(self, session: str, said: str = "limits.query_rate") -> None:
        """Count one task lookup for ``session`` against the query rate, or raise with the
        message ``said`` (what was asked for: lookups, or pictures checked)."""
        if not self.per_visitor_queries.count:
            return
        with self._lock:
            now = self._clock()
            count, wait = self._queries.wait(session, now)
            if wait:
                raise LimitExceededError(
                    msg(
                        said,
                        count=count,
                        seconds=self.per_visitor_queries.seconds,
                        wait=wait,
                    ),
                    reason="query_rate",
                    retry_after=wait,
                )
            self._queries.add(session, now)

    def _refuse_if_over(self, session: str, now: float) -> None:
        for windows, key, who in (
            (self._visitors, session, "limits.session_rate"),
            (self._all, "", "limits.global_rate"),
        ):
            count, wait = windows.wait(key, now)
            if wait:
                raise LimitExceededError(
                    msg(who, count=count, seconds=windows.rate.seconds, wait=wait),
                    retry_after=wait,
                )


def limiter_for(settings: Settings) -> SubmissionLimiter:
    """The limiter the settings ask for.

    An offline deployment reachable from outside (a Space, or bound to a public address) with
    no limit configured gets :data:`OFFLINE_PUBLIC_PER_VISITOR` and
    :data:`OFFLINE_PUBLIC_GLOBAL`: the simulator is free, the server's memory is not.
    """
    per_visitor, overall = settings.rate_per_session, settings.rate_global
    unset = not (per_visitor or overall or settings.daily_cap)
    if settings.mode == "offline" and settings.public and unset:
        per_visitor, overall = OFFLINE_PUBLIC_PER_VISITOR, OFFLINE_PUBLIC_GLOBAL
    return SubmissionLimiter(
        Rate.parse(per_visitor, "TRYON_RATE_PER_SESSION"),
        Rate.parse(overall, "TRYON_RATE_GLOBAL"),
        per_visitor_queries=Rate.parse(settings.rate_query, "TRYON_RATE_QUERY"),
    )


class Shares:
    """At most ``each`` at once per key (a visitor's address): ``async with shares.of(key)``
    waits while that key already holds ``each``; other keys are not held up. For work one
    visitor must not be able to crowd out the others with, such as decoding pictures.

    Runs on the event loop that serves the visitors (no locks); keys are forgotten when idle.
    """

    def __init__(self, each: int) -> None:
        self.each = max(1, each)
        self._held: dict[str, tuple[asyncio.Semaphore, int]] = {}

    def of(self, key: str) -> _Share:
        """One share of ``key``'s, to hold with ``async with``."""
        return _Share(self, key)

    def __len__(self) -> int:
        """Keys that hold or wait for a share now."""
        return len(self._held)

    async def _enter(self, key: str) -> None:
        gate, users = self._held.get(key) or (asyncio.Semaphore(self.each), 0)
        self._held[key] = (gate, users + 1)
        try:
            await gate.acquire()
        except BaseException:
            self._leave(key)
            raise

    def _exit(self, key: str) -> None:
        self._held[key][0].release()
        self._leave(key)

    def _leave(self, key: str) -> None:
        gate, users = self._held[key]
        if users <= 1:
            del self._held[key]
        else:
            self._held[key] = (gate, users - 1)


class _Share:
    def __init__(self, shares: Shares, key: str) -> None:
        self._shares = shares
        self._key = key

    async def __aenter__(self) -> None:
        await self._shares._enter(self._key)

    async def __aexit__(self, *exc: object) -> None:
        self._shares._exit(self._key)

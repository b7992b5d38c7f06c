"""Submission limits for a public deployment that spends the owner's credits.

A per-visitor and a global sliding-window rate, and a daily cap that resets at midnight UTC.
All are off unless configured (an offline public deployment gets defaults, see
:func:`limiter_for`). They guard the owner's key: a visitor who brings their own key spends
their own credits and is not counted. A visitor is whatever key the caller passes, in the app
the client address (:func:`tryon_demo.hosting.access.visitor_key`), never something the client
picks.
The day's count is kept in a file in the state folder, so a restart does not reset it.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from ..errors import TryOnError
from ..settings import Rate, Settings, ensure_state_dir
from ..text.messages import Msg, msg

log = logging.getLogger(__name__)

#: Limits an offline deployment reachable from outside gets when none are configured: the
#: simulator costs no credits, but it costs the server memory and CPU.
OFFLINE_PUBLIC_PER_VISITOR = "10/minute"
OFFLINE_PUBLIC_GLOBAL = "120/minute"
#: The file in the state folder that keeps the day's count across restarts.
DAILY_FILE = "daily-count.json"


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
    """Counts submissions and refuses those over a limit, with the wait in the message.

    ``store``, when given, is the file that keeps the day's count across restarts.
    """

    def __init__(
        self,
        per_session: Rate,
        overall: Rate,
        daily_cap: int = 0,
        clock: Callable[[], float] = time.time,
        *,
        per_visitor_queries: Rate | None = None,
        store: Path | None = None,
    ) -> None:
        self.per_session = per_session
        self.overall = overall
        self.daily_cap = daily_cap
        self.per_visitor_queries = per_visitor_queries or Rate(0, 60)
        self._clock = clock
        self._lock = threading.Lock()
        self._visitors = SlidingWindows(per_session)
        self._all = SlidingWindows(overall)
        self._queries = SlidingWindows(self.per_visitor_queries)
        self._store = store
        self._day = self._today()
        self._today_count = self._load() if store is not None else 0

    @property
    def active(self) -> bool:
        """Whether any submission limit is configured."""
        return bool(self.per_session.count or self.overall.count or self.daily_cap)

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

        Called before any image work, so a visitor over a limit costs the server nothing; an
        attempt whose pictures are then refused still counts (its image work was done).
        """
        if not self.active:
            return
        with self._lock:
            now = self._clock()
            self._refuse_if_over(session, now)
            self._visitors.add(session, now)
            self._all.add("", now)
            self._today_count += 1
            if self._store is not None and self.daily_cap:
                self._save()

    def acquire_query(self, session: str) -> None:
        """Count one task lookup for ``session`` against the query rate, or raise."""
        if not self.per_visitor_queries.count:
            return
        with self._lock:
            now = self._clock()
            count, wait = self._queries.wait(session, now)
            if wait:
                raise LimitExceededError(
                    msg(
                        "limits.query_rate",
                        count=count,
                        seconds=self.per_visitor_queries.seconds,
                        wait=wait,
                    ),
                    reason="query_rate",
                    retry_after=wait,
                )
            self._queries.add(session, now)

    def _refuse_if_over(self, session: str, now: float) -> None:
        if self._today() != self._day:
            self._day, self._today_count = self._today(), 0
        if self.daily_cap and self._today_count >= self.daily_cap:
            raise LimitExceededError(
                msg("limits.daily_cap", count=self.daily_cap), reason="daily_cap"
            )
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

    def _load(self) -> int:
        """The day's count saved by an earlier run; 0 for another day or an unreadable file."""
        assert self._store is not None
        try:
            saved = json.loads(self._store.read_text(encoding="utf-8"))
            if saved.get("day") == self._day:
                return max(0, int(saved["count"]))
        except FileNotFoundError:
            pass
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("ignoring the unreadable daily count in %s (%s)", self._store, exc)
        return 0

    def _save(self) -> None:
        """Write the count atomically: a crash mid-write leaves the old file, never half of one."""
        assert self._store is not None
        text = json.dumps({"day": self._day, "count": self._today_count})
        try:
            fd, temp = tempfile.mkstemp(dir=self._store.parent, prefix=".daily-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temp, self._store)
        except OSError as exc:  # a full disk must not stop the demo; the count stays in memory
            log.warning("could not save the daily count to %s (%s)", self._store, exc)

    def _today(self) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(self._clock()))


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
    store = ensure_state_dir(settings) / DAILY_FILE if settings.daily_cap else None
    return SubmissionLimiter(
        Rate.parse(per_visitor, "TRYON_RATE_PER_SESSION"),
        Rate.parse(overall, "TRYON_RATE_GLOBAL"),
        settings.daily_cap,
        per_visitor_queries=Rate.parse(settings.rate_query, "TRYON_RATE_QUERY"),
        store=store,
    )

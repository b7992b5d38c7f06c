"""Submission limits for a public deployment that spends the owner's credits.

A per-session and a global sliding-window rate, and a daily cap that resets at midnight UTC.
All are off unless configured. They guard the owner's key: a visitor who brings their own key
spends their own credits and is not counted.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ConfigurationError, TryOnError
from .messages import msg


class LimitExceededError(TryOnError):
    """A configured submission limit was reached; nothing was sent to the API."""

    kind = "limit_reached"
    retryable = True


@dataclass(frozen=True)
class Rate:
    """``count`` submissions per ``seconds``; ``count == 0`` means unlimited."""

    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str | None, name: str) -> Rate:
        """``"5/minute"``, ``"100/hour"``, ``"3/30s"`` or empty (unlimited)."""
        if not text or not text.strip():
            return cls(0, 60)
        units = {"s": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
        units["day"] = 86400
        try:
            count_text, per = text.strip().lower().split("/", 1)
            count = int(count_text)
            per = per.strip()
            number = "".join(ch for ch in per if ch.isdigit() or ch == ".")
            unit = per[len(number) :].strip() or "s"
            seconds = (float(number) if number else 1.0) * units[unit]
        except (ValueError, KeyError):
            raise ConfigurationError(msg("limits.bad_rate", name=name, text=repr(text))) from None
        if count < 0 or seconds <= 0:
            raise ConfigurationError(msg("limits.rate_not_positive", name=name, text=repr(text)))
        return cls(count, seconds)

    def __str__(self) -> str:
        return f"{self.count} per {self.seconds:g} s"


class SubmissionLimiter:
    """Counts submissions and refuses those over a limit, with the wait in the message."""

    def __init__(
        self,
        per_session: Rate,
        overall: Rate,
        daily_cap: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_session = per_session
        self.overall = overall
        self.daily_cap = daily_cap
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._day = self._today()
        self._today_count = 0

    @property
    def active(self) -> bool:
        """Whether any limit is configured."""
        return bool(self.per_session.count or self.overall.count or self.daily_cap)

    def acquire(self, session: str) -> None:
        """Count one submission for ``session``, or raise :class:`LimitExceededError`."""
        if not self.active:
            return
        with self._lock:
            now = self._clock()
            if self._today() != self._day:
                self._day, self._today_count = self._today(), 0
            if self.daily_cap and self._today_count >= self.daily_cap:
                raise LimitExceededError(msg("limits.daily_cap", count=self.daily_cap))
            mine = self._sessions.setdefault(session, deque())
            for window, rate, who in (
                (mine, self.per_session, "limits.session_rate"),
                (self._all, self.overall, "limits.global_rate"),
            ):
                if not rate.count:
                    continue
                while window and window[0] <= now - rate.seconds:
                    window.popleft()
                if len(window) >= rate.count:
                    wait = max(1, round(window[0] + rate.seconds - now))
                    raise LimitExceededError(
                        msg(who, count=len(window), seconds=rate.seconds, wait=wait),
                        retry_after=wait,
                    )
            mine.append(now)
            self._all.append(now)
            self._today_count += 1
            self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        horizon = now - max(self.per_session.seconds, 1.0)
        for key in [k for k, v in self._sessions.items() if not v or v[-1] <= horizon]:
            del self._sessions[key]

    def _today(self) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(self._clock()))

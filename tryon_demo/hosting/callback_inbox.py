"""One-time callback tokens, and the runs waiting on them. No web framework in here.

The API POSTs a task's status changes to the ``callback_url`` of its create. When the app can be
reached (``TRYON_PUBLIC_URL``, or offline on loopback), each create it makes carries
``<app url>/callbacks/<token>``: an unguessable token per task, known only to the app and the API.
A callback for a known token wakes the run waiting on it (:meth:`Inbox.wait`); the run then
confirms with one status query, so nothing in a callback body is ever taken as the task's result.
A token takes at most :data:`MAX_END_CLAIMS` claims of an end, disproved or not, so whoever learns
a callback URL cannot make the run query the API at will: past them the run's slow backstop poll
still ends it. The token is forgotten when the run ends (or, should a run vanish, after its
time-to-live).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Where callbacks arrive on the app: ``/callbacks/<token>``.
CALLBACK_PREFIX = "/callbacks/"
#: What a token looks like (``secrets.token_urlsafe(32)``: 43 characters, 256 bits).
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
#: The states a task can report; a callback for any other is refused.
STATES = ("submitted", "processing", "succeed", "failed")
#: The most tokens kept at once; beyond it the oldest is dropped (its run falls back to polling).
MAX_TOKENS = 10_000
#: The states that end a task: a claim of one costs the run a status query to confirm.
ENDS = ("succeed", "failed")
#: Claims of an end one token takes: the genuine one, and room for two forgeries before it.
MAX_END_CLAIMS = 3


@dataclass
class _Expected:
    expires: float
    task_id: str | None = None
    #: States already delivered once: a repeat (the API retries, or a replay) changes nothing.
    seen: set[str] = field(default_factory=set)
    #: Claims of an end this token still takes (each costs the run a query).
    end_claims: int = MAX_END_CLAIMS
    pending: deque[dict[str, Any]] = field(default_factory=deque)
    waiter: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None


class Inbox:
    """The tokens the app expects callbacks for, thread-safe: callbacks arrive on the web
    server's event loop, runs may wait on another."""

    def __init__(
        self, *, max_tokens: int = MAX_TOKENS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_tokens = max_tokens
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Expected] = {}

    def expect(self, base_url: str, ttl: float = 3600.0) -> tuple[str, str]:
        """Register a new one-time token; returns it and the callback URL to create with.

        ``ttl`` is the longest the token is kept if the run never calls :meth:`forget`.
        """
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            self._drop_expired(now)
            while len(self._entries) >= self.max_tokens:  # oldest first: dicts keep order
                del self._entries[next(iter(self._entries))]
            self._entries[token] = _Expected(expires=now + ttl)
        return token, f"{base_url.rstrip('/')}{CALLBACK_PREFIX}{token}"

    def bind(self, token: str, task_id: str) -> None:
        """The create answered with ``task_id``: from now on only callbacks naming it count
        (any that arrived before the answer, for another task, are dropped)."""
        with self._lock:
            entry = self._entries.get(token)
            if entry is None:
                return
            entry.task_id = task_id
            kept = [body for body in entry.pending if body.get("task_id") == task_id]
            entry.pending = deque(kept)

    def forget(self, token: str | None) -> None:
        """The run ended: later callbacks for ``token`` are refused as unknown."""
        if token is None:
            return
        with self._lock:
            self._entries.pop(token, None)

    def knows(self, token: str) -> bool:
        """Whether ``token`` is one a run is still waiting on."""
        with self._lock:
            entry = self._entries.get(token)
            return entry is not None and entry.expires > self._clock()

    def deliver(self, token: str, body: Mapping[str, Any]) -> bool:
        """Hand a callback body to the run waiting on ``token``; ``False`` if refused.

        Refused: an unknown or forgotten token, a state outside :data:`STATES`, a state this
        token already delivered, another task's id once the task is known, or a claim of an end
        past the token's :data:`MAX_END_CLAIMS`.
        """
        status = body.get("task_status")
        if not isinstance(status, str) or status not in STATES:
            return False
        with self._lock:
            entry = self._entries.get(token)
            if entry is None or entry.expires <= self._clock():
                return False
            if entry.task_id is not None and body.get("task_id") != entry.task_id:
                return False
            if status in entry.seen:
                return False
            if status in ENDS:
                if entry.end_claims <= 0:
                    return False
                entry.end_claims -= 1
            entry.seen.add(status)
            entry.pending.append(dict(body))
            waiter = entry.waiter
        if waiter is not None:
            loop, event = waiter
            # RuntimeError: that run's loop has closed, so nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)
        return True

    def disproved(self, token: str | None, status: str) -> None:
        """The run's own query found the task not in ``status``, so the callback that claimed it
        was not the API's: accept that state once more (a forgery must not make the genuine
        callback look like a repeat), as long as the token has end claims left."""
        if token is None:
            return
        with self._lock:
            entry = self._entries.get(token)
            if entry is not None:
                entry.seen.discard(status)

    async def wait(self, token: str, timeout: float) -> dict[str, Any] | None:
        """The next callback body for ``token``, or ``None`` after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        with self._lock:
            entry = self._entries.get(token)
            if entry is not None and entry.pending:
                return entry.pending.popleft()
            if entry is not None:
                entry.waiter = (loop, event)
        if entry is None:
            await asyncio.sleep(timeout)
            return None
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                if entry.waiter is not None and entry.waiter[1] is event:
                    entry.waiter = None
        with self._lock:
            return entry.pending.popleft() if entry.pending else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _drop_expired(self, now: float) -> None:
        for token in [t for t, e in self._entries.items() if e.expires <= now]:
            del self._entries[token]


_shared = Inbox()


def shared() -> Inbox:
    """The process's inbox: the one the app's callback route and its runs share."""
    return _shared

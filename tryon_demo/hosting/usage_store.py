"""The usage records: one SQLite row per event, written in batches by a thread of their own.

A caller's :meth:`UsageStore.add` only puts the event on a queue (microseconds, no lock held
across any I/O); the writer thread takes whatever has arrived within :data:`LINGER` seconds
and writes it in one transaction. The file is in WAL mode with a busy timeout, so the page's
readers never wait for the writer, and two processes sharing a state folder (two replicas, a
restart overlapping the old process) both get their rows in. Rows older than
``TRYON_USAGE_DAYS`` are deleted when the store opens and then once an hour.

A row holds when (UTC seconds, day and hour), what (``create``, ``result``, ``refusal``,
``wait``), the model, a detail (the outcome or the refusal's reason), the API's code and a
duration. Nothing else: no visitor data at all.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import queue
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

Kind = Literal["create", "result", "refusal", "wait"]
Outcome = Literal["succeed", "failed", "error"]
OUTCOMES: tuple[Outcome, ...] = ("succeed", "failed", "error")
#: Why a visitor was turned away before anything was created: the limits' and the queue's
#: reasons, a picture or an input the app refused, a link it would not fetch, anything else.
REASONS = (
    "rate",
    "daily_cap",
    "address_share",
    "query_rate",
    "queue_full",
    "queue_wait",
    "caller_gone",
    "picture",
    "link",
    "callback",
    "input",
    "api",
    "other",
)
#: How long the writer waits for more events before it writes a batch.
LINGER = 0.25
#: The most rows one transaction writes.
BATCH = 500
#: How often old rows are deleted while the app runs.
PRUNE_EVERY = 3600.0
#: How often an idle writer counts the day's creates again (another process may have added).
RECOUNT_EVERY = 5.0
DAY = 86400.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    at REAL NOT NULL,
    day TEXT NOT NULL,
    hour INTEGER NOT NULL,
    kind TEXT NOT NULL,
    model TEXT,
    detail TEXT,
    code INTEGER,
    seconds REAL
);
CREATE INDEX IF NOT EXISTS events_by_day ON events (day, kind);
"""


def day_of(at: float) -> str:
    """The UTC day of a moment, ``YYYY-MM-DD`` (the daily cap's day too)."""
    return time.strftime("%Y-%m-%d", time.gmtime(at))


@dataclass(frozen=True)
class Event:
    """One thing that happened, as it is kept: when, what, and the figures, nothing else."""

    at: float
    kind: Kind
    model: str | None = None
    detail: str | None = None
    code: int | None = None
    seconds: float | None = None

    @classmethod
    def now(
        cls,
        kind: Kind,
        *,
        model: str | None = None,
        detail: str | None = None,
        code: int | None = None,
        seconds: float | None = None,
    ) -> Event:
        """An event that happens at this moment."""
        return cls(time.time(), kind, model, detail, code, seconds)

    def row(self) -> tuple[float, str, int, str, str | None, str | None, int | None, float | None]:
        """The event as the ``events`` table's columns."""
        hour = time.gmtime(self.at).tm_hour
        return (
            self.at,
            day_of(self.at),
            hour,
            self.kind,
            self.model,
            self.detail,
            self.code,
            self.seconds,
        )


@dataclass(frozen=True)
class Count:
    """How many events of one kind, model, detail and code there were on one day."""

    day: str
    kind: str
    model: str | None
    detail: str | None
    code: int | None
    count: int


class _Flush:
    """A marker on the queue: set once every event before it is written."""

    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()
_memory_names = itertools.count()


class UsageStore:
    """The usage records in one SQLite file (see the module's docstring)."""

    def __init__(self, path: Path, *, keep_days: int = 30) -> None:
        self.path = path
        self.keep_days = max(1, keep_days)
        self.closed = False
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._database, self._uri = str(path), False
        self._keeper: sqlite3.Connection | None = None  # holds an in-memory fallback open
        self._open()
        self._pruned = 0.0
        # Today's creates without a query: those in the file when the writer last counted,
        # and those added since that it has not written yet (see :meth:`creates_today`).
        self._count_lock = threading.Lock()
        self._day = day_of(time.time())
        self._written = self.creates_on(self._day)
        self._unwritten = 0
        self._thread = threading.Thread(target=self._write_loop, name="usage-writer", daemon=True)
        self._thread.start()
        _open_stores.add(self)

    # --- writing ------------------------------------------------------------------------

    def add(self, event: Event) -> None:
        """Keep ``event``: it is written within :data:`LINGER` seconds, off the caller's
        thread. Never blocks and never raises."""
        if self.closed:
            return
        if event.kind == "create":
            with self._count_lock:
                self._roll(day_of(event.at))
                if day_of(event.at) == self._day:
                    self._unwritten += 1
        self._queue.put(event)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every event added so far is written; whether that happened in time."""
        if self.closed or not self._thread.is_alive():
            return False
        marker = _Flush()
        self._queue.put(marker)
        return marker.done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is pending and stop the writer. Idempotent."""
        if self.closed:
            return
        self.closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)
        _open_stores.discard(self)

    def _write_loop(self) -> None:
        with closing(self._connect()) as conn:
            self._prune(conn)
            while True:
                batch = self._next_batch()
                events = [item for item in batch if isinstance(item, Event)]
                if events:
                    self._write(conn, events)
                if events or not batch:
                    self._recount(conn, events)
                if time.monotonic() - self._pruned > PRUNE_EVERY:
                    self._prune(conn)
                for item in batch:
                    if isinstance(item, _Flush):
                        item.done.set()
                if any(item is _STOP for item in batch):
                    return

    def _next_batch(self) -> list[object]:
        """The next item, then whatever arrives within :data:`LINGER` (a flush or a stop
        is written at once); an empty batch after :data:`RECOUNT_EVERY` idle seconds."""
        try:
            batch = [self._queue.get(timeout=RECOUNT_EVERY)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + LINGER
        while len(batch) < BATCH and not isinstance(batch[-1], _Flush) and batch[-1] is not _STOP:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=left))
            except queue.Empty:
                break
        return batch

    def _write(self, conn: sqlite3.Connection, events: list[Event]) -> None:
        try:
            with conn:
                conn.executemany(
                    "INSERT INTO events (at, day, hour, kind, model, detail, code, seconds)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [event.row() for event in events],
                )
        except sqlite3.Error as exc:  # a full disk must not stop the demo: the rows are lost
            log.warning("could not record %d usage events in %s (%s)", len(events), self.path, exc)

    def _recount(self, conn: sqlite3.Connection, written: list[Event]) -> None:
        """Count the day's creates in the file (this process's and any other's) and take the
        ones just written off the unwritten ones."""
        with self._count_lock:
            day = self._day
        try:
            (count,) = conn.execute(
                "SELECT COUNT(*) FROM events WHERE day = ? AND kind = 'create'", (day,)
            ).fetchone()
        except sqlite3.Error as exc:
            log.warning("could not count the day's creates in %s (%s)", self.path, exc)
            return
        done = sum(1 for e in written if e.kind == "create" and day_of(e.at) == day)
        with self._count_lock:
            if self._day == day:
                self._written = int(count)
                self._unwritten = max(0, self._unwritten - done)

    def _roll(self, day: str) -> None:
        """At a new day (UTC) the count starts afresh. Call with the count lock held."""
        if day > self._day:
            self._day, self._written, self._unwritten = day, 0, 0

    def _prune(self, conn: sqlite3.Connection) -> None:
        self._pruned = time.monotonic()
        oldest = day_of(time.time() - self.keep_days * DAY)
        try:
            with conn:
                conn.execute("DELETE FROM events WHERE day < ?", (oldest,))
        except sqlite3.Error as exc:
            log.warning("could not delete old usage records in %s (%s)", self.path, exc)

    # --- reading ------------------------------------------------------------------------

    def counts(self, since_day: str) -> list[Count]:
        """Every day's events from ``since_day`` on, counted by kind, model, detail and code
        (written events only: :meth:`flush` first to see the latest)."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT day, kind, model, detail, code, COUNT(*) FROM events WHERE day >= ?"
                " GROUP BY day, kind, model, detail, code",
                (since_day,),
            ).fetchall()
        return [Count(*row) for row in rows]

    def hourly(self, kind: Kind, since_day: str) -> list[tuple[str, int, int]]:
        """``(day, hour, count)`` of ``kind`` events from ``since_day`` on, hours with none
        left out."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT day, hour, COUNT(*) FROM events WHERE day >= ? AND kind = ?"
                " GROUP BY day, hour ORDER BY day, hour",
                (since_day, kind),
            ).fetchall()
        return [(str(day), int(hour), int(count)) for day, hour, count in rows]

    def durations(self, kind: Kind, since_day: str, detail: str | None = None) -> list[float]:
        """The ``seconds`` of ``kind`` events (with ``detail``, when given) from ``since_day``
        on, sorted."""
        query = "SELECT seconds FROM events WHERE day >= ? AND kind = ? AND seconds IS NOT NULL"
        params: tuple[str, ...] = (since_day, kind)
        if detail is not None:
            query += " AND detail = ?"
            params = (*params, detail)
        with self._reading() as conn:
            rows = conn.execute(query + " ORDER BY seconds", params).fetchall()
        return [float(seconds) for (seconds,) in rows]

    def creates_today(self, day: str) -> int:
        """How many creates ``day`` has, without waiting for the writer or the file: those in
        the file when the writer last counted and those added since. Cheap enough for every
        admission (the daily cap's count); another process's creates show within a batch or
        :data:`RECOUNT_EVERY` seconds."""
        with self._count_lock:
            self._roll(day)
            if day == self._day:
                return self._written + self._unwritten
        return self.creates_on(day)

    def creates_on(self, day: str) -> int:
        """How many creates were recorded on ``day`` (the daily cap's count)."""
        with self._reading() as conn:
            (count,) = conn.execute(
                "SELECT COUNT(*) FROM events WHERE day = ? AND kind = 'create'", (day,)
            ).fetchone()
        return int(count)

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with closing(self._connect()) as conn:
            yield conn

    # --- the file -----------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._database, timeout=10.0, uri=self._uri, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")
        return conn

    def _open(self) -> None:
        """Create the table; a file that is not a database is set aside, and a folder that
        cannot be written keeps the records in memory (the demo runs on, the log says why)."""
        try:
            self._create()
            return
        except sqlite3.DatabaseError as exc:
            if self.path.is_file() and "not a database" in str(exc):
                aside = self.path.with_name(f"{self.path.name}.unreadable-{int(time.time())}")
                log.warning("usage records in %s are unreadable (%s): set aside", self.path, exc)
                try:
                    self.path.rename(aside)
                    self._create()
                    return
                except (OSError, sqlite3.Error):
                    pass
            log.warning("usage records kept in memory only: %s is not usable (%s)", self.path, exc)
        self._database = f"file:usage-{next(_memory_names)}?mode=memory&cache=shared"
        self._uri = True
        self._keeper = self._connect()
        self._keeper.executescript(SCHEMA)

    def _create(self) -> None:
        with closing(self._connect()) as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.executescript(SCHEMA)


_open_stores: weakref.WeakSet[UsageStore] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """At exit, write what every store still holds."""
    for store in list(_open_stores):
        store.close(timeout=5.0)

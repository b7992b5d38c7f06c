"""The day's quota of creates on the owner's key: ``TRYON_DAILY_CAP`` in all, and a share of it
for each address (``TRYON_DAILY_CAP_PER_ADDRESS``); the day ends at midnight UTC.

Only creates the API accepted count. Admission reserves one before any work is done, so
visitors arriving at once cannot overshoot the cap between them; the create step commits it
when the API answers with a task; anything else (a picture refused, an API error, a caller who
left) releases it, and costs nothing.

The day's total is kept in a :class:`QuotaStore`. In the app and at the command line it is read
from the owner's usage records (:class:`RecordedCreates` over the
:class:`~tryon_demo.hosting.usage.Usage` ledger, a SQLite file in the state folder): the cap
counts exactly the creates the owner's view shows, a restart does not reset it, and the command
line, another process, counts into the same day. A quota built without such a ledger keeps the
day in a file of its own in the state folder (:class:`FileStore`). The per-address counts are
kept in memory only (no visitor's address is written to disk) and start afresh with a restart.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..settings import Settings, ensure_state_dir
from ..text.messages import msg
from .limits import LimitExceededError

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: one process at a time then
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

#: The file in the state folder that keeps the day's count across restarts.
DAILY_FILE = "daily-count.json"


def default_share(daily_cap: int) -> int:
    """An address's share of the day when none is set: a tenth of the cap, rounded up (so at
    least ten addresses are needed to use up the day), or no share without a cap."""
    return math.ceil(daily_cap / 10) if daily_cap > 0 else 0


class QuotaStore(Protocol):
    """Where the day's count of accepted creates is kept."""

    def committed(self, day: str) -> int:
        """Creates counted on ``day`` (``YYYY-MM-DD``, UTC) so far."""

    def commit(self, day: str) -> int:
        """Count one more create on ``day``; the new count."""


@runtime_checkable
class CreateLedger(Protocol):
    """What keeps a record of every create the API accepted: the owner's usage records."""

    def creates_on(self, day: str) -> int:
        """Creates recorded on ``day`` (``YYYY-MM-DD``, UTC), by every process sharing the
        records, including those told but not yet written."""


class RecordedCreates:
    """The day's count read from a :class:`CreateLedger`, so the cap and the owner's figures
    are one count.

    The ledger writes each create's record itself: the pipeline tells it of each accepted
    create right after committing the create's reservation (with no pause between), so
    committing here writes nothing and answers the new count.
    """

    def __init__(self, ledger: CreateLedger) -> None:
        self.ledger = ledger

    def committed(self, day: str) -> int:
        return self.ledger.creates_on(day)

    def commit(self, day: str) -> int:
        return self.committed(day) + 1


class MemoryStore:
    """The day's count in this process only."""

    def __init__(self) -> None:
        self._day = ""
        self._count = 0

    def committed(self, day: str) -> int:
        return self._count if day == self._day else 0

    def commit(self, day: str) -> int:
        self._count = self.committed(day) + 1
        self._day = day
        return self._count


class FileStore:
    """The day's count in a JSON file, ``{"day": ..., "count": ...}``, read afresh each time
    (another process may count too) and written atomically under a lock file: a crash leaves
    the old file, never half of one. A file that cannot be read counts as none (with a
    warning); one that cannot be written keeps the count in memory (with a warning)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._memory = MemoryStore()
        self._warned: str | None = None

    def committed(self, day: str) -> int:
        return max(self._read(day), self._memory.committed(day))

    def commit(self, day: str) -> int:
        with self._locked():
            count = self.committed(day) + 1
            while self._memory.committed(day) < count:
                self._memory.commit(day)
            self._write(day, count)
        return count

    def _read(self, day: str) -> int:
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
            counted = max(0, int(saved["count"])) if saved.get("day") == day else 0
        except FileNotFoundError:
            return 0
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
            if problem != self._warned:  # once for each problem, not for every read
                log.warning("ignoring the unreadable daily count in %s (%s)", self.path, exc)
                self._warned = problem
            return 0
        self._warned = None
        return counted

    def _write(self, day: str, count: int) -> None:
        text = json.dumps({"day": day, "count": count})
        try:
            fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".daily-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temp, self.path)
        except OSError as exc:  # a full disk must not stop the demo; the count stays in memory
            log.warning("could not save the daily count to %s (%s)", self.path, exc)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the lock file beside the count, when it can be made."""
        if fcntl is None:
            yield
            return
        try:
            handle = open(self.path.with_name(self.path.name + ".lock"), "a")  # noqa: SIM115
        except OSError:
            yield
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class Reservation:
    """One create's place in the day's quota: :meth:`commit` once the API accepted it,
    :meth:`release` otherwise (both idempotent; the first one said counts)."""

    def __init__(self, quota: Quota | None, address: str, share: bool, day: str) -> None:
        self._quota = quota
        self.address = address
        self.share = share
        self.day = day
        self.settled = quota is None

    def commit(self) -> None:
        """The API accepted the create: it counts against the day."""
        if not self.settled and self._quota is not None:
            self.settled = True
            self._quota._settle(self, accepted=True)

    def release(self) -> None:
        """Nothing was created: the reservation costs nothing."""
        if not self.settled and self._quota is not None:
            self.settled = True
            self._quota._settle(self, accepted=False)


class Quota:
    """The day's cap (``daily_cap``, 0: none) and each address's share (``per_address``, 0:
    none) of the creates on the owner's key."""

    def __init__(
        self,
        daily_cap: int,
        per_address: int = 0,
        store: QuotaStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.daily_cap = max(0, daily_cap)
        self.per_address = max(0, per_address)
        self._store: QuotaStore = store if store is not None else MemoryStore()
        self._clock = clock
        self._lock = threading.Lock()
        self._day = self._today()
        self._pending = 0
        self._pending_by: Counter[str] = Counter()
        self._done_by: Counter[str] = Counter()
        if self.daily_cap:
            self._store.committed(self._day)  # a bad file is named at start, not at first use

    @property
    def active(self) -> bool:
        """Whether there is a cap or a share to keep."""
        return bool(self.daily_cap or self.per_address)

    def reserve(self, address: str, *, share: bool = True) -> Reservation:
        """Reserve one create for ``address``, or raise :class:`LimitExceededError` (reason
        ``daily_cap`` or ``address_share``). Without ``share`` only the day's total applies
        (the machine's owner at the command line)."""
        with self._lock:
            day = self._roll()
            if not self.active:
                return Reservation(None, address, share, day)
            self._refuse_if_over(address, share)
            self._pending += 1
            if share:
                self._pending_by[address] += 1
        return Reservation(self, address, share, day)

    def check(self, address: str, *, share: bool = True) -> None:
        """Raise as :meth:`reserve` would, reserving nothing."""
        with self._lock:
            self._roll()
            if self.active:
                self._refuse_if_over(address, share)

    def used(self, address: str | None = None) -> int:
        """Creates counted today, in all or for ``address``."""
        with self._lock:
            day = self._roll()
            if address is not None:
                return self._done_by[address]
            return self._store.committed(day)

    def _refuse_if_over(self, address: str, share: bool) -> None:
        if self.daily_cap and self._store.committed(self._day) + self._pending >= self.daily_cap:
            refusal = msg("limits.daily_cap", count=self.daily_cap)
            raise LimitExceededError(refusal, reason="daily_cap")
        if not (share and self.per_address):
            return
        if self._done_by[address] + self._pending_by[address] >= self.per_address:
            refusal = msg("limits.address_share", count=self.per_address)
            raise LimitExceededError(refusal, reason="address_share")

    def _settle(self, reservation: Reservation, *, accepted: bool) -> None:
        with self._lock:
            day = self._roll()
            if reservation.day == day:  # a reservation of an earlier day was let go at midnight
                self._pending -= 1
                if reservation.share:
                    self._pending_by[reservation.address] -= 1
                    if self._pending_by[reservation.address] <= 0:
                        del self._pending_by[reservation.address]
            if not accepted:
                return
            if reservation.share:
                self._done_by[reservation.address] += 1
            if self.daily_cap:
                self._store.commit(day)

    def _roll(self) -> str:
        """Today; at a new day the pending and per-address counts start afresh."""
        today = self._today()
        if today != self._day:
            self._day = today
            self._pending = 0
            self._pending_by.clear()
            self._done_by.clear()
        return today

    def _today(self) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(self._clock()))


def quota_for(settings: Settings, ledger: CreateLedger | None = None) -> Quota:
    """The quota the settings ask for, its day's count read from ``ledger`` (the usage
    records), or without one kept in a file in the state folder."""
    share = settings.daily_cap_per_address
    per_address = default_share(settings.daily_cap) if share is None else share
    store: QuotaStore | None = None
    if ledger is not None:
        store = RecordedCreates(ledger)
    elif settings.daily_cap:
        store = FileStore(ensure_state_dir(settings) / DAILY_FILE)
    return Quota(settings.daily_cap, per_address, store)

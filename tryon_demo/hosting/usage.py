"""What the Space spent, what failed and how long people waited: the usage recorder.

The try-on pipeline tells its recorder (the ``usage=`` hook of
:meth:`tryon_demo.flow.pipeline.Pipeline.build`, which :class:`Usage` fills) four things, and
nothing about who asked:

- ``created(model)``: the API accepted a create on the owner's key (a task that costs credits);
- ``ended(model, outcome, seconds, code)``: such a run ended: ``succeed``, ``failed`` (the
  task failed at the API) or ``error`` (a query refused, or the wait ran out), ``seconds``
  after the create was accepted, with the API's business code for an error;
- ``refused(reason, code)``: a visitor was turned away before anything was created (a limit,
  the queue, a picture or link the app would not send, or the API's own refusal of the create,
  ``api``, with its business code); ``reason`` is one of :data:`REASONS`;
- ``waited(seconds)``: a create on the owner's key waited this long for its slot in the
  capacity queue (0 when there is no queue or no wait).

:class:`Usage` keeps each event as a row in SQLite (:mod:`.usage_store`) and counts it in the
Prometheus metrics (:mod:`.usage_metrics`). A row holds the model, the day, the hour and the
figure: never an address, a task id, a file name or a key. Model names and reasons come from
fixed lists (anything else is ``other``), so nothing a visitor typed reaches a record.
Recording costs the caller a counter increment and a queue put; the rows are written in
batches by a thread of their own. The creates it keeps are also what the daily cap counts
(:meth:`Usage.creates_on`, see :mod:`.quota`): one count for the cap and the owner.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from ..settings import MODELS, Settings, ensure_state_dir
from .usage_metrics import UsageMetrics
from .usage_store import OUTCOMES, REASONS, Event, Outcome, UsageStore

__all__ = ["OUTCOMES", "REASONS", "Outcome", "Usage", "usage_for"]

log = logging.getLogger(__name__)

#: The usage database's file in the state folder.
USAGE_FILE = "usage.sqlite3"


def model_key(model: str | None) -> str:
    """``model`` when it is one of the API's models, else ``other``: a visitor's text never
    becomes a record or a metric label."""
    return model if model in MODELS else "other"


class Usage:
    """The recorder the app holds: each event a row in :class:`UsageStore` and a count in
    :class:`UsageMetrics`. Thread-safe; every method returns at once."""

    def __init__(self, store: UsageStore, metrics: UsageMetrics | None = None) -> None:
        self.store = store
        self.metrics = metrics or UsageMetrics()
        self._waiting: Callable[[], int] = lambda: 0
        self.metrics.watch_queue(self.queue_waiting)

    def created(self, model: str) -> None:
        """The API accepted a create on the owner's key."""
        name = model_key(model)
        self.metrics.created(name)
        self.store.add(Event.now("create", model=name))

    def ended(self, model: str, outcome: Outcome, seconds: float, code: int | None = None) -> None:
        """A run on the owner's key ended ``seconds`` after its create was accepted."""
        name, seconds = model_key(model), max(0.0, float(seconds))
        shown: Outcome = outcome if outcome in OUTCOMES else "error"
        self.metrics.ended(name, shown, seconds, code)
        self.store.add(Event.now("result", model=name, detail=shown, code=code, seconds=seconds))

    def refused(self, reason: str, code: int | None = None) -> None:
        """A visitor was turned away (``reason`` from :data:`REASONS`) before any create;
        ``code`` is the API's business code when the API itself refused the create."""
        shown = reason if reason in REASONS else "other"
        self.metrics.refused(shown, code)
        self.store.add(Event.now("refusal", detail=shown, code=code))

    def waited(self, seconds: float) -> None:
        """A create on the owner's key waited ``seconds`` for its slot."""
        seconds = max(0.0, float(seconds))
        self.metrics.waited(seconds)
        self.store.add(Event.now("wait", seconds=seconds))

    def watch_queue(self, waiting: Callable[[], int]) -> None:
        """Where :meth:`queue_waiting` (and ``tryon_queue_waiting``) reads how many creates
        wait for a slot now: the app's capacity queue."""
        self._waiting = waiting

    def queue_waiting(self) -> int:
        """How many creates wait for a slot at the API now."""
        return int(self._waiting())

    def creates_on(self, day: str) -> int:
        """Creates recorded on ``day`` (``YYYY-MM-DD``, UTC), written or not yet, by this
        process and others sharing the file: what the daily cap counts (a
        :class:`~tryon_demo.hosting.quota.CreateLedger`)."""
        return self.store.creates_today(day)

    def close(self) -> None:
        """Write what is pending and stop the writer (the app is going away)."""
        self.store.close()


_shared: dict[Path, Usage] = {}
_shared_lock = threading.Lock()


def usage_for(settings: Settings) -> Usage:
    """The app's recorder for ``settings``' state folder: one per database file in this process,
    so the page's flows and the owner's routes count into the same one."""
    path = (ensure_state_dir(settings) / USAGE_FILE).resolve()
    with _shared_lock:
        usage = _shared.get(path)
        if usage is None or usage.store.closed:
            usage = Usage(UsageStore(path, keep_days=settings.usage_days))
            _shared[path] = usage
        return usage


def forget(settings: Settings) -> None:
    """Close the shared recorder of ``settings``' state folder, as a restart would."""
    path = (settings.state_dir / USAGE_FILE).resolve()
    with _shared_lock:
        usage = _shared.pop(path, None)
    if usage is not None:
        usage.close()

"""The simulated API's state: its tasks, their timing, their rendered results and callbacks.

Memory stays bounded: a task keeps hashes of its pictures, never the pictures; results are
rendered when the task is created and kept in a store capped in bytes (oldest evicted first).
A result that was evicted answers like an expired link.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import requests

from .config import SimulatorConfig
from .contract import RESULTS_PATH, Reject, now_ms
from .faults import FaultDice

log = logging.getLogger(__name__)

URL_NOTE = (
    "Simulated offline: image links are not fetched, so this result is a placeholder. "
    "Upload the images to see a simulated composite."
)


@dataclass
class SimTask:
    """One simulated task: what the API reports about it and where its result is."""

    task_id: str
    model_name: str
    created_at: int
    #: SHA-256 of the person picture, ``None`` when it was a link (never the picture itself).
    human: bytes | None
    #: SHA-256 of the garment picture, ``None`` when it was a link.
    cloth: bytes | None
    callback_url: str | None
    external_task_id: str | None
    fails: bool
    #: The key of the rendered result in :class:`RenderStore`, ``None`` for links or failures.
    render_key: bytes | None = None
    #: Set once the result is rendered (a task is listed before, so limits hold at once).
    rendered: threading.Event = field(default_factory=threading.Event, repr=False)
    #: What the task's ``task_status_msg`` says once it has ended, when something must be
    #: said (the photo could not take the garment, or could not be read at all).
    note: str | None = None

    @property
    def uses_links(self) -> bool:
        return self.human is None or self.cloth is None


class RenderStore:
    """Rendered results by key, least recently used evicted once ``max_bytes`` is passed."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes_kept = 0

    def get(self, key: bytes) -> bytes | None:
        """The result stored under ``key`` (now the most recently used), or ``None``."""
        with self._lock:
            png = self._items.get(key)
            if png is not None:
                self._items.move_to_end(key)
            return png

    def put(self, key: bytes, png: bytes) -> None:
        """Keep ``png``; evict the oldest results until the total fits ``max_bytes``."""
        with self._lock:
            old = self._items.pop(key, None)
            self.bytes_kept -= len(old) if old is not None else 0
            self._items[key] = png
            self.bytes_kept += len(png)
            while self.bytes_kept > self.max_bytes and self._items:
                _, evicted = self._items.popitem(last=False)
                self.bytes_kept -= len(evicted)

    def __len__(self) -> int:
        return len(self._items)


class BoundedNotes(OrderedDict[bytes, str | None]):
    """Notes by render key, the oldest forgotten past ``most`` (a note is a sentence)."""

    def __init__(self, most: int = 4096) -> None:
        super().__init__()
        self.most = most

    def __setitem__(self, key: bytes, value: str | None) -> None:
        super().__setitem__(key, value)
        while len(self) > self.most:
            self.popitem(last=False)


class Simulator:
    """The simulated API's state: its tasks, its fault dice and its clock."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.tasks: OrderedDict[str, SimTask] = OrderedDict()
        self.lock = threading.Lock()
        self.requests_seen = 0
        #: Create requests received, answered or not: what "never submitted twice" is checked on.
        self.creates_received = 0
        self.callbacks_sent: list[dict[str, Any]] = []
        self.renders = RenderStore(self.config.max_result_bytes)
        #: A rendered result's note (why the garment was not put on), by the render's key.
        self.notes: BoundedNotes = BoundedNotes()
        self.dice = FaultDice(self.config.faults.seed)
        self._callback_jobs: set[asyncio.Task[None]] = set()
        #: While held (see :meth:`hold`), the moment the tasks' clock stopped (ms).
        self.held_since: int | None = now_ms() if self.config.hold_tasks else None

    # --- holding time still, for tests -------------------------------------------------

    def hold(self) -> None:
        """Stop the tasks' clock: no task moves on (a task created now stays submitted)
        until :meth:`release`. Tests use it to act while tasks are surely still running,
        however slow the machine, instead of racing a timer."""
        with self.lock:
            if self.held_since is None:
                self.held_since = now_ms()

    def hold_at(self, task_id: str, status: str) -> None:
        """Stop the tasks' clock just after task ``task_id`` reached ``status`` (``submitted``
        or ``processing``): it stays there, and later tasks with it, until :meth:`release`."""
        with self.lock:
            processing_at, _ = self._milestones()
            moment = {"submitted": 0.0, "processing": processing_at}[status]
            self.held_since = self.tasks[task_id].created_at + round(moment * 1000) + 1

    def release(self) -> None:
        """Let the tasks' clock run again (tasks past their time end at once)."""
        with self.lock:
            self.held_since = None

    @property
    def faults_fired(self) -> int:
        """How many injected faults have fired so far."""
        return self.dice.fired

    def roll(self, share: float) -> bool:
        """True for a share of calls, from a seeded die so runs repeat exactly."""
        return self.dice.roll(share)

    # --- task lifecycle -----------------------------------------------------------------

    def admit(self, task: SimTask) -> None:
        """Keep ``task`` unless its external id is taken or too many tasks run; forget the
        oldest beyond ``max_tasks_kept``. One lock for all three, so that creates arriving
        together cannot all pass the limit."""
        with self.lock:
            external = task.external_task_id
            if external and any(t.external_task_id == external for t in self.tasks.values()):
                raise Reject(400, 1201, f"external_task_id {external!r} is already used")
            limit = self.config.max_concurrent_tasks
            running = sum(
                1 for t in self.tasks.values() if self.status(t)[0] in {"submitted", "processing"}
            )
            if limit and running >= limit:
                raise Reject(429, 1303, "parallel task over resource pack limit")
            self.tasks[task.task_id] = task
            while len(self.tasks) > self.config.max_tasks_kept:
                self.tasks.popitem(last=False)

    def _milestones(self) -> tuple[float, float]:
        cfg = self.config
        processing = (
            cfg.processing_after if cfg.processing_after is not None else cfg.task_seconds / 5
        )
        return min(processing, cfg.task_seconds), cfg.task_seconds

    def status(self, task: SimTask, now: int | None = None) -> tuple[str, int]:
        """The task's status at ``now`` (ms) and when it last changed (ms)."""
        now = now_ms() if now is None else now
        held = self.held_since
        if held is not None:
            now = min(now, held)
        processing_at, done_at = self._milestones()
        elapsed = (now - task.created_at) / 1000
        if elapsed < processing_at:
            return "submitted", task.created_at
        if self.config.faults.never_finish or elapsed < done_at:
            return "processing", task.created_at + round(processing_at * 1000)
        return ("failed" if task.fails else "succeed"), task.created_at + round(done_at * 1000)

    def task_object(
        self, task: SimTask, base_url: str, now: int | None = None, echo: str = ""
    ) -> dict[str, Any]:
        """The task as the API describes it; ``echo`` is appended to its status message."""
        status, updated = self.status(task, now)
        message = ""
        if status == "failed":
            message = task.note or self.config.faults.fail_message
        elif status == "succeed" and task.uses_links:
            message = URL_NOTE
        elif status == "succeed" and task.note:
            message = task.note
        if echo:
            message = f"{message} {echo}".strip()
        result: dict[str, Any] = {"images": []}
        if status == "succeed":
            url = f"{base_url.rstrip('/')}{RESULTS_PATH}/{task.task_id}.png"
            result = {"images": [{"index": 0, "url": url}]}
        # Tasks still submitted or processing carry an empty message and result, as the
        # simulator always has; whether the real API does is not confirmed, and the client's
        # parsing accepts both.
        body: dict[str, Any] = {
            "task_id": task.task_id,
            "task_status": status,
            "task_status_msg": message,
            "created_at": task.created_at,
            "updated_at": updated,
            "task_result": result,
        }
        if task.external_task_id:
            body["task_info"] = {"external_task_id": task.external_task_id}
        return body

    def running_count(self) -> int:
        with self.lock:
            tasks = list(self.tasks.values())
        return sum(1 for t in tasks if self.status(t)[0] in {"submitted", "processing"})

    def result_png(self, task: SimTask) -> bytes | None:
        """The task's rendered result (waiting for its render), or ``None`` once it was
        evicted (an expired link)."""
        task.rendered.wait(timeout=30)
        if task.render_key is None:
            return None
        return self.renders.get(task.render_key)

    # --- callbacks ------------------------------------------------------------------------

    def schedule_callbacks(self, task: SimTask, base_url: str) -> None:
        job = asyncio.get_running_loop().create_task(self._deliver(task, base_url))
        self._callback_jobs.add(job)
        job.add_done_callback(self._callback_jobs.discard)

    async def _deliver(self, task: SimTask, base_url: str) -> None:
        assert task.callback_url
        processing_at, done_at = self._milestones()
        moments = [0.0, processing_at] + ([] if self.config.faults.never_finish else [done_at])
        for moment in moments:
            delay = task.created_at / 1000 + moment - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            while self.held_since is not None and self.held_since < task.created_at + moment * 1000:
                await asyncio.sleep(0.05)  # held: this status change has not happened yet
            body = self.task_object(task, base_url, now=task.created_at + round(moment * 1000) + 1)
            if self.config.faults.drop_callbacks:
                continue
            try:
                await asyncio.to_thread(requests.post, task.callback_url, json=body, timeout=(2, 5))
                self.callbacks_sent.append(body)
            except requests.RequestException as exc:
                log.info("callback to %s failed: %s", task.callback_url, exc)

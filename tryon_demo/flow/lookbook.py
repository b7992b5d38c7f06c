"""Lookbook: one person in many garments, submitted a few at a time, followed to the end.

The batch logic here knows nothing of Gradio or HTTP: it is given a ``submit`` and a ``follow``
coroutine and yields a snapshot of every item whenever one changes. A rate-limit answer means
the API created nothing, so that submission is tried again after a pause every worker honours;
any other failure ends that item only, and nothing is ever created twice.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import random
import time
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from ..api.models import Task
from ..errors import RateLimitError, TryOnError, api_says
from ..hosting.limits import LimitExceededError
from ..text.messages import Msg, msg

log = logging.getLogger(__name__)

ItemState = Literal["queued", "waiting", "submitted", "processing", "succeed", "failed", "error"]
TERMINAL: frozenset[str] = frozenset({"succeed", "failed", "error"})
MANIFEST_FIELDS = ("index", "garment_file", "task_id", "model", "status", "result_url", "message")


@dataclass(frozen=True)
class Garment:
    """One garment of the batch: the name it is listed under and where its picture is."""

    name: str
    source: Any


@dataclass(frozen=True)
class LookItem:
    """Where one garment of the batch stands."""

    index: int
    garment: str
    state: ItemState = "queued"
    task_id: str | None = None
    result_url: str | None = None
    result_path: Path | None = None
    message: str = ""
    #: The same note as a message, rendered in the reader's language on the page.
    note: Msg | None = None
    #: Creates the API refused with a rate limit before one was accepted.
    rate_limited: int = 0
    #: While its task runs: the time usually left (flow/timetable.py), shown in the note column.
    outlook: Msg | None = None

    @property
    def done(self) -> bool:
        return self.state in TERMINAL


@dataclass(frozen=True)
class Backoff:
    """How long to wait after a rate limit: doubling from ``base`` up to ``cap``, never less
    than the API's own Retry-After, with some jitter so workers do not return in step."""

    base: float = 1.0
    cap: float = 30.0
    max_attempts: int = 8
    jitter: float = 0.25

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        wait = min(self.cap, self.base * 2.0 ** (attempt - 1))
        wait = max(wait, retry_after or 0.0)
        return wait * (1 + random.uniform(0, self.jitter))


#: One submission of one garment: creates the task or raises :class:`TryOnError`.
Submit = Callable[[Garment], Awaitable[Task]]


@dataclass(frozen=True)
class Follow:
    """What following a task reports: its latest task and, at the end, the result file or why
    there is none."""

    task: Task
    result_path: Path | None = None
    error: str = ""
    #: ``error`` as a message, for the page.
    error_note: Msg | None = None
    #: While the task runs: the time usually left, or that it takes longer than usual.
    outlook: Msg | None = None


#: Follows a created task to its end, yielding progress.
Follower = Callable[[Task], AsyncIterator[Follow]]


async def run_lookbook(
    garments: Sequence[Garment],
    submit: Submit,
    follow: Follower,
    *,
    concurrency: int = 3,
    backoff: Backoff | None = None,
) -> AsyncIterator[tuple[LookItem, ...]]:
    """Run every garment through ``submit`` and ``follow``, at most ``concurrency`` at once.

    Yields the whole table after every change; the last snapshot has every item done. Cancel
    the iteration to stop: tasks already created keep running at the API.
    """
    backoff = backoff or Backoff()
    items = [LookItem(i + 1, g.name) for i, g in enumerate(garments)]
    changes: asyncio.Queue[None] = asyncio.Queue()
    gate = asyncio.Semaphore(max(1, concurrency))
    pause_until = 0.0  # shared: after one rate limit, no worker submits before this moment

    def update(index: int, *, note: Msg | None = None, **changes_: Any) -> None:
        if note is not None:  # the English for the manifest, the message for the page
            changes_.setdefault("message", str(note))
            changes_["note"] = note
        elif changes_.get("message") == "":
            changes_["note"] = None
        items[index] = replace(items[index], **changes_)
        changes.put_nowait(None)

    async def submit_once(index: int, garment: Garment) -> Task | None:
        nonlocal pause_until
        attempt = 0
        while True:
            wait = pause_until - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            attempt += 1
            try:
                return await submit(garment)
            except (RateLimitError, LimitExceededError) as exc:
                # A daily cap names no retry time: waiting would not help within this batch.
                hopeless = isinstance(exc, LimitExceededError) and exc.retry_after is None
                if hopeless or attempt >= backoff.max_attempts:
                    update(index, state="error", note=exc.as_msg())
                    return None
                delay = backoff.delay(attempt, exc.retry_after)
                pause_until = max(pause_until, time.monotonic() + delay)
                update(
                    index,
                    state="waiting",
                    rate_limited=items[index].rate_limited + 1,
                    note=msg("lookbook.rate_limited", seconds=delay, attempt=attempt + 1),
                )
            except TryOnError as exc:
                update(index, state="error", note=exc.as_msg())
                return None

    async def work(index: int, garment: Garment) -> None:
        async with gate:
            task = await submit_once(index, garment)
            if task is None:
                return
            update(index, state=_state(task), task_id=task.task_id, message="")
            async for progress in follow(task):
                current = progress.task
                if progress.error:
                    update(
                        index,
                        state="error",
                        note=progress.error_note or Msg.verbatim(progress.error),
                    )
                    return
                if current.task_status == "failed":
                    reason = (
                        api_says(current.task_status_msg)
                        if current.task_status_msg
                        else msg("status.no_reason")
                    )
                    # The manifest keeps the API's own words; the page labels them as the API's.
                    message = current.task_status_msg or str(reason)
                    update(index, state="failed", note=reason, message=message)
                    return
                if progress.result_path is not None:
                    update(
                        index,
                        state="succeed",
                        result_url=current.result_url,
                        result_path=progress.result_path,
                    )
                    return
                if (_state(current), progress.outlook) != (
                    items[index].state,
                    items[index].outlook,
                ):
                    update(index, state=_state(current), outlook=progress.outlook)
            if not items[index].done:
                update(index, state="error", note=msg("lookbook.no_result"))

    async def guarded_work(index: int, garment: Garment) -> None:
        try:
            await work(index, garment)
        except Exception as exc:  # one broken item must not sink the batch
            if not isinstance(exc, TryOnError):
                log.exception("lookbook item %s failed unexpectedly", garment.name)
                exc = TryOnError(msg("app.fault_garment"))
            update(index, state="error", note=exc.as_msg())

    workers = [asyncio.create_task(guarded_work(i, g)) for i, g in enumerate(garments)]
    try:
        while True:
            # Items change while the caller holds a snapshot, so the end is decided on what
            # was last handed out: the final snapshot always shows every item done.
            snapshot = tuple(items)
            yield snapshot
            if all(item.done for item in snapshot):
                return
            await changes.get()
            while not changes.empty():  # several changes at once make one snapshot
                changes.get_nowait()
    finally:
        for worker in workers:
            worker.cancel()


def _state(task: Task) -> ItemState:
    status = task.task_status
    if status in ("processing", "succeed", "failed"):
        return status  # type: ignore[return-value]
    return "submitted"  # and any status the contract does not name: still waiting


# --- what the page shows and the zip holds --------------------------------------------------


def table_rows(items: Sequence[LookItem], lang: str = "en") -> list[list[str]]:
    """One row per item for the status table, in ``lang``: number, garment, status, task id,
    note."""
    return [
        [
            str(item.index),
            item.garment,
            msg(f"state.{item.state}").render(lang),
            item.task_id or "",
            _note(item, lang),
        ]
        for item in items
    ]


def _note(item: LookItem, lang: str) -> str:
    if item.note is not None:
        return item.note.render(lang)
    if item.outlook is not None and not item.done:
        return item.outlook.render(lang)
    return item.message


#: How the summary line counts each state the table shows: one count per group, so the line
#: and the table always agree (a garment waiting its turn is queued, not running).
SUMMARY_GROUPS: dict[str, str] = {
    "failed": "failed",
    "error": "error",
    "submitted": "running",
    "processing": "running",
    "waiting": "waiting",
    "queued": "queued",
}


def summary_msg(items: Sequence[LookItem]) -> Msg:
    """``"3 of 7 done · 3 running · 1 queued"`` for the line above the table, as a message:
    counted from the same states the table shows (see :data:`SUMMARY_GROUPS`)."""
    counts = dict.fromkeys(SUMMARY_GROUPS.values(), 0)
    for item in items:
        if item.state in SUMMARY_GROUPS:
            counts[SUMMARY_GROUPS[item.state]] += 1
    done = sum(1 for item in items if item.state == "succeed")
    parts = [msg("lookbook.summary_done", done=done, total=len(items))]
    parts += [
        msg(f"lookbook.summary_{group}", count=count) for group, count in counts.items() if count
    ]
    return Msg.join(parts, sep="summary")


def summary(items: Sequence[LookItem], lang: str = "en") -> str:
    """:func:`summary_msg` in ``lang``."""
    return summary_msg(items).render(lang)


def manifest(items: Sequence[LookItem], model: str) -> list[dict[str, Any]]:
    """One record per garment: file, task id, model, status, result URL and any message."""
    return [
        {
            "index": item.index,
            "garment_file": item.garment,
            "task_id": item.task_id,
            "model": model,
            "status": item.state,
            "result_url": item.result_url,
            "message": item.message,
        }
        for item in items
    ]


def write_zip(items: Sequence[LookItem], model: str, path: Path) -> Path:
    """Write every result image and ``manifest.json`` + ``manifest.csv`` into one zip."""
    records = manifest(items, model)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item, record in zip(items, records, strict=True):
            if item.result_path is not None and item.result_path.is_file():
                name = f"{item.index:02d}-{_stem(item.garment)}{item.result_path.suffix}"
                # Results are already compressed pictures: storing them is as small and faster.
                archive.write(item.result_path, f"results/{name}", zipfile.ZIP_STORED)
                record["result_file"] = f"results/{name}"
            else:
                record["result_file"] = None
        archive.writestr("manifest.json", json.dumps(records, indent=2, ensure_ascii=False))
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=[*MANIFEST_FIELDS, "result_file"])
        writer.writeheader()
        writer.writerows({key: csv_cell(value) for key, value in r.items()} for r in records)
        archive.writestr("manifest.csv", text.getvalue())
    return path


#: What makes a spreadsheet read a cell as a formula (OWASP: CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value`` for a CSV cell a spreadsheet will open: text that a spreadsheet would run as a
    formula (a garment named ``=HYPERLINK(...)``, an API message) gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _stem(name: str) -> str:
    stem = Path(name).stem or "garment"
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)[:60]

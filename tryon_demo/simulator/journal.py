"""The offline simulator's tasks, kept on disk between the command line's processes.

With no key, every ``tryon-demo`` command starts a simulator of its own inside its process:
without a record, a task created by ``submit`` would be unknown to the ``query`` that follows.
The command line loads this record into its simulator before its first request and writes it
back after its last. A task's state comes from its creation time, as it always does, so a
task keeps running "at the API" while no command is looking, as a real one would.

The record holds what the simulator keeps of a task (hashes of its pictures, never the
pictures) and the rendered results of the newest :data:`KEEP` tasks, in the app's state
folder (``TRYON_STATE_DIR``). Only the command line uses it: the web app's simulator keeps
visitors' results in memory only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from .store import SimTask, Simulator

log = logging.getLogger(__name__)

#: Tasks (and their results) the record keeps, the newest.
KEEP = 30
RECORD = "tasks.json"


def load(sim: Simulator, folder: Path) -> int:
    """Add the recorded tasks (and the results still on disk) to ``sim``; returns how many.
    A missing or damaged record is an empty one."""
    loaded = 0
    for record in _read(folder):  # oldest first, as the simulator lists them
        try:
            task = _task(record)
        except (KeyError, TypeError, ValueError):
            continue
        if task.task_id in sim.tasks:
            continue
        if task.render_key is not None:
            picture = folder / _picture_name(task.render_key)
            if picture.is_file() and sim.renders.get(task.render_key) is None:
                sim.renders.put(task.render_key, picture.read_bytes())
        task.rendered.set()
        with sim.lock:
            sim.tasks[task.task_id] = task
        loaded += 1
    return loaded


def save(sim: Simulator, folder: Path) -> None:
    """Write ``sim``'s newest tasks and their results into ``folder`` (created, private to
    this user); results of tasks no longer kept are deleted."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    known = {str(record.get("task_id")): record for record in _read(folder)}
    with sim.lock:
        tasks = list(sim.tasks.values())
    for task in tasks:
        known.pop(task.task_id, None)
        known[task.task_id] = _record(task)
    kept = list(known.values())[-KEEP:]
    pictures: set[str] = set()
    for task in tasks:
        if task.render_key is None or task.task_id not in {r["task_id"] for r in kept}:
            continue
        name = _picture_name(task.render_key)
        pictures.add(name)
        png = sim.renders.get(task.render_key)
        if png is not None and not (folder / name).is_file():
            _write(folder / name, png)
    for record in kept:
        if record.get("render_key"):
            pictures.add(_picture_name(bytes.fromhex(record["render_key"])))
    _write(folder / RECORD, json.dumps(kept, indent=1).encode())
    for stale in folder.glob("*.png"):
        if stale.name not in pictures:
            with contextlib.suppress(OSError):
                stale.unlink()


def _record(task: SimTask) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "model_name": task.model_name,
        "created_at": task.created_at,
        "human": task.human.hex() if task.human is not None else None,
        "cloth": task.cloth.hex() if task.cloth is not None else None,
        "callback_url": task.callback_url,
        "external_task_id": task.external_task_id,
        "fails": task.fails,
        "render_key": task.render_key.hex() if task.render_key is not None else None,
    }


def _task(record: dict[str, Any]) -> SimTask:
    def hashed(name: str) -> bytes | None:
        value = record.get(name)
        return bytes.fromhex(value) if isinstance(value, str) else None

    return SimTask(
        task_id=str(record["task_id"]),
        model_name=str(record["model_name"]),
        created_at=int(record["created_at"]),
        human=hashed("human"),
        cloth=hashed("cloth"),
        callback_url=record.get("callback_url"),
        external_task_id=record.get("external_task_id"),
        fails=bool(record.get("fails")),
        render_key=hashed("render_key"),
    )


def _read(folder: Path) -> list[dict[str, Any]]:
    try:
        records = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []


def _picture_name(render_key: bytes) -> str:
    return hashlib.sha256(render_key).hexdigest()[:32] + ".png"


def _write(path: Path, data: bytes) -> None:
    """Write ``data`` whole or not at all: another command may read the folder meanwhile."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except OSError as exc:
        log.warning("the offline simulator's record could not be written: %s", exc)
        with contextlib.suppress(OSError):
            os.unlink(temporary)

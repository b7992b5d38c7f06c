"""The app's work files: unguessable names, and a janitor that deletes them after a while.

Results, before/after pictures (which show the visitor's own photo), lookbook zips and composed
outfits are written to the work folder and served by Gradio's file route to whoever names the
path. So every file gets a folder of its own named with 192 random bits (nothing in the path comes
from a task id or a clock), and everything older than ``TRYON_WORK_TTL`` is deleted.

A path that comes back from a browser (a history entry's thumbnail) is trusted only as far as
:func:`work_file` says, from the path alone: a path outside the work folders this process
serves is never looked at on disk, so nothing tells whether such a file exists.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

#: 24 random bytes: 192 bits, far past guessing, in 32 URL-safe characters.
FOLDER_BYTES = 24

#: A work file's folder name (what ``secrets.token_urlsafe(FOLDER_BYTES)`` makes) and its name.
_FOLDER_NAME = re.compile(r"[A-Za-z0-9_-]{32}")
_FILE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
#: The longest path a browser may name as a work file.
_MAX_PATH_CHARS = 1024

_janitors: dict[Path, threading.Thread] = {}
_janitors_lock = threading.Lock()
#: The work folders of this process, as written and as resolved (see :func:`serve`).
_served: set[Path] = set()


def serve(workdir: Path) -> None:
    """Count ``workdir`` as a work folder of this process (see :func:`work_file`)."""
    _served.update({Path(os.path.abspath(workdir)), workdir.resolve()})


def work_file(path: object) -> Path | None:
    """``path`` when it names a work file: ``<work folder>/<random folder>/<name>``, in a work
    folder this process serves; ``None`` for anything else.

    Judged from the path alone, without touching the disk, so a path elsewhere (``/etc/shadow``
    or one that does not exist) gets the same answer.
    """
    if not isinstance(path, str) or not path or len(path) > _MAX_PATH_CHARS or "\0" in path:
        return None
    if not os.path.isabs(path):
        return None
    found = Path(os.path.normpath(path))
    folder = found.parent
    if not (_FILE_NAME.fullmatch(found.name) and _FOLDER_NAME.fullmatch(folder.name)):
        return None
    return found if folder.parent in _served else None


def private_path(workdir: Path, name: str) -> Path:
    """A path for a new file called ``name`` in a new folder of its own with a random name.

    ``name`` is what a download is saved as, so it should say what the file is (``result.png``)
    and never carry anything that identifies a visitor or a task.
    """
    serve(workdir)
    folder = workdir / secrets.token_urlsafe(FOLDER_BYTES)
    folder.mkdir(mode=0o700, parents=True)
    return folder / name


def sweep(workdir: Path, ttl: float, now: float) -> int:
    """Delete every entry of ``workdir`` last written more than ``ttl`` seconds before ``now``.

    Returns how many entries went. An entry that vanishes or cannot be deleted meanwhile is
    skipped (another sweep or process may be at it); the next sweep tries again.
    """
    removed = 0
    try:
        entries = list(workdir.iterdir())
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if now - _last_written(entry) <= ttl:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed += 1
        except OSError:
            continue
    return removed


def start_janitor(
    workdir: Path, ttl: float, clock: Callable[[], float] = time.time
) -> threading.Thread:
    """Sweep ``workdir`` in the background every quarter of ``ttl`` (at most every 5 minutes).

    One janitor per folder for the life of the process, however many callers ask: the app may
    build its page more than once.
    """
    workdir = workdir.resolve()
    every = max(0.05, min(ttl / 4, 300.0))

    def work() -> None:
        while True:
            time.sleep(every)
            if not workdir.is_dir():  # the folder itself went (a test's, a redeploy): done
                with _janitors_lock:
                    _janitors.pop(workdir, None)
                return
            try:
                sweep(workdir, ttl, clock())
            except Exception:  # the janitor must outlive any one bad sweep
                log.exception("sweeping the work folder failed")

    with _janitors_lock:
        running = _janitors.get(workdir)
        if running is None or not running.is_alive():
            running = threading.Thread(target=work, name="tryon-janitor", daemon=True)
            running.start()
            _janitors[workdir] = running
        return running


def _last_written(entry: Path) -> float:
    """The newest modification time of an entry and, for a folder, of what it directly holds."""
    newest = entry.lstat().st_mtime
    if entry.is_dir() and not entry.is_symlink():
        for child in entry.iterdir():
            newest = max(newest, child.lstat().st_mtime)
    return newest


class WorkFolder:
    """The app's work folder: new files under unguessable names, old ones swept away.

    ``clock`` is wall-clock time for the files' age (a parameter so tests can move it on).
    """

    def __init__(self, workdir: Path, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ttl = ttl
        self.clock = clock
        self._swept = float("-inf")

    def path(self, name: str) -> Path:
        """A path for a new work file under an unguessable name; old work files are swept
        first (at most every few seconds), and a janitor keeps sweeping while the app idles."""
        self.sweep()
        start_janitor(self.workdir, self.ttl, self.clock)
        return private_path(self.workdir, name)

    def sweep(self, *, force: bool = False) -> int:
        """Delete the work files older than the time to live; returns how many went."""
        now = self.clock()
        if not force and now - self._swept < min(5.0, self.ttl / 4):
            return 0
        self._swept = now
        return sweep(self.workdir, self.ttl, now)

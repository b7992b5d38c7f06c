"""How long tasks take, learnt per model from the recent ones and kept across restarts.

The estimate is a :class:`~.timetable.Window` from quantiles of the last :data:`KEEP` successful
durations of a model: the median is the typical time, the 10th and 90th percentiles bound the
window. Quantiles, not a mean, so one task stuck for minutes hardly moves it. While few
durations are known the window is widened (a fifth either side of the median with two, a
tenth with eight, never less than a twentieth), since two tasks say little about the spread.

Before the first duration of an API, documented defaults stand in (:func:`prior_for`): the
Kling API's own, measured at 12-18 s (the official demo waits 9 s before its first query, and
tasks rarely end sooner), or, offline, the simulator's configured task time. An API the app
knows nothing about gets no window until its first task ends, and is polled as of old.

Durations live in ``task-durations.json`` in the state folder, per API address and model. Each
new one is learnt at once and saved in the background: the file is re-read under a lock, the
duration added and the file replaced atomically, so two processes sharing the folder both keep
theirs and a reader never sees half a file. A file that cannot be read is ignored with a
warning and replaced by the next save.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .timetable import Window

try:  # POSIX; elsewhere concurrent writers may lose a duration, never the file
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

FILE_NAME = "task-durations.json"
VERSION = 1
#: Durations kept per model: recent enough to follow a change of the API's speed.
KEEP = 20
#: API addresses kept in the file (the oldest is dropped): tests and trials add their own.
KEEP_SOURCES = 8
#: Durations outside these bounds are not a try-on's time (clock trouble, a stuck task).
SHORTEST, LONGEST = 0.5, 3600.0
#: How far either side of the median the window reaches at least: with two durations, and at
#: most with many (the quantiles decide beyond that).
PRIOR_SPREAD, MIN_SPREAD = 0.2, 0.05
LOW_QUANTILE, HIGH_QUANTILE = 0.1, 0.9
#: The Kling API's documented defaults: tasks rarely end before 12 s, usually near 15 s,
#: rarely after 18 s (measured; the official demo's first query comes after 9 s).
KLING_WINDOW = Window(12.0, 15.0, 18.0)
#: Hosts that serve the Kling API (the gateway and the official API), to which it applies.
KLING_HOSTS = ("api.gpt.ge", "klingai.com")
#: Where an offline app's durations are filed (they are never written to disk).
OFFLINE_SOURCE = "simulator"


def prior_for(base_url: str | None, simulator_seconds: float | None = None) -> Window | None:
    """The window assumed before any task of this API has ended: the simulator's own time
    offline (``simulator_seconds``), the Kling API's defaults for its hosts, else none."""
    if simulator_seconds is not None:
        return around(max(simulator_seconds, 0.0), PRIOR_SPREAD)
    host = (urlsplit(base_url or "").hostname or "").lower()
    if any(host == known or host.endswith("." + known) for known in KLING_HOSTS):
        return KLING_WINDOW
    return None


def around(typical: float, spread: float) -> Window:
    """A window ``spread`` (a share of ``typical``) either side of ``typical``."""
    return Window(typical * (1 - spread), typical, typical * (1 + spread))


def quantile(ordered: Sequence[float], share: float) -> float:
    """The ``share`` quantile of sorted values, interpolated between neighbours."""
    position = share * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def window_of(durations: Sequence[float]) -> Window:
    """The window of recent durations (at least one)."""
    ordered = sorted(durations)
    typical = quantile(ordered, 0.5)
    spread = max(MIN_SPREAD, PRIOR_SPREAD * math.sqrt(2 / len(ordered)))
    return Window(
        min(quantile(ordered, LOW_QUANTILE), typical * (1 - spread)),
        typical,
        max(quantile(ordered, HIGH_QUANTILE), typical * (1 + spread)),
    )


def plausible(seconds: float) -> bool:
    """Whether ``seconds`` can be a try-on's duration worth learning from."""
    return math.isfinite(seconds) and SHORTEST <= seconds <= LONGEST


class Durations:
    """The recent durations of one API's tasks, per model, and the windows they give.

    ``path`` is the shared file (``None``: kept in memory only); ``source`` names the API in
    it; ``prior`` is the window before any duration is known.
    """

    def __init__(self, path: Path | None, source: str, prior: Window | None = None) -> None:
        self.path = path
        self.source = source
        self.prior = prior
        self._lock = threading.Lock()
        self._models: dict[str, list[float]] = {}
        self._writer: ThreadPoolExecutor | None = None
        self._saving: Future[None] | None = None
        if path is not None:
            self._models = _models_of(_dict(_read(path).get("sources")).get(source))

    def window(self, model: str | None = None) -> Window | None:
        """The expected window for ``model``: from its own durations, else every model's of
        this API (a model's first task, or one whose model is unknown), else the prior."""
        with self._lock:
            own = list(self._models.get(model or "", ()))
            every = [seconds for kept in self._models.values() for seconds in kept]
        if own:
            return window_of(own)
        if every:
            return window_of(every)
        return self.prior

    def recent(self, model: str) -> tuple[float, ...]:
        """The durations kept for ``model``, oldest first."""
        with self._lock:
            return tuple(self._models.get(model, ()))

    def record(self, model: str, seconds: float) -> bool:
        """Learn that a task of ``model`` took ``seconds``; ``False`` if it is not plausible.

        Learnt at once; saved in the background (the state folder may be a slow network disk,
        and the event loop serves every visitor), a failure to save logged, never raised.
        """
        if not plausible(seconds):
            return False
        seconds = round(seconds, 3)
        with self._lock:
            _append(self._models, model, seconds)
            if self.path is None:
                return True
            if self._writer is None:
                self._writer = ThreadPoolExecutor(1, thread_name_prefix="tryon-durations")
            try:
                self._saving = self._writer.submit(self._save_logged, model, seconds)
            except RuntimeError:  # the interpreter is shutting down: nothing more is saved
                log.info("not saving a task duration: the app is shutting down")
        return True

    def flush(self) -> None:
        """Wait until every duration recorded so far is in the file."""
        with self._lock:
            saving = self._saving
        if saving is not None:
            saving.result()

    def _save_logged(self, model: str, seconds: float) -> None:
        try:
            merged = self._save(model, seconds)
        except OSError as exc:  # a full disk must not stop the demo: it learns in memory
            log.warning("could not save task durations to %s (%s)", self.path, exc)
            return
        with self._lock:  # what every process sharing the file has learnt
            self._models = merged

    def _save(self, model: str, seconds: float) -> dict[str, list[float]]:
        """Add one duration to the file (read afresh: another process may have written)."""
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _locked(self.path.with_name(f".{self.path.name}.lock")):
            data = _read(self.path)
            sources = {
                name: models
                for name, models in _dict(data.get("sources")).items()
                if name != self.source
            }
            models = _models_of(_dict(data.get("sources")).get(self.source))
            _append(models, model, seconds)
            sources[self.source] = models  # the most recent source last
            kept = dict(list(sources.items())[-KEEP_SOURCES:])
            _write(self.path, {"version": VERSION, "sources": kept})
        return models


def _append(models: dict[str, list[float]], model: str, seconds: float) -> None:
    models[model] = [*models.get(model, []), seconds][-KEEP:]


def _read(path: Path) -> dict[str, Any]:
    """The file's content; empty when it does not exist or cannot be read as one of ours."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        log.warning("ignoring the unreadable task durations in %s (%s)", path, exc)
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION:
        log.warning("ignoring task durations in %s: not a file this version wrote", path)
        return {}
    return data


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _models_of(value: Any) -> dict[str, list[float]]:
    """One source's durations from the file, anything implausible left out."""
    models: dict[str, list[float]] = {}
    for model, durations in _dict(value).items():
        if isinstance(model, str) and isinstance(durations, list):
            kept = [
                float(d)
                for d in durations
                if isinstance(d, int | float) and not isinstance(d, bool) and plausible(float(d))
            ]
            if kept:
                models[model] = kept[-KEEP:]
    return models


def _write(path: Path, data: Mapping[str, Any]) -> None:
    """Replace ``path`` atomically: a crash mid-write leaves the old file, never half of one."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` across processes (where the OS offers one)."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    with open(lock_path, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

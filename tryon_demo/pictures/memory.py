"""Memory around decoding: at most two large pictures decoded at once in the process, and the
memory a decode freed handed back to the system (glibc keeps it otherwise)."""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..errors import ImageError
from ..text.messages import Msg, msg

#: Pictures that decode to more pixels than this take one of the process's decode slots.
LARGE_DECODE_PIXELS = 4_000_000
DECODE_SLOTS = 2
#: Files larger than this hand the memory their preparation freed back to the system.
TRIM_AFTER_BYTES = 2 * 2**20
#: How long a large picture waits for a slot before it is refused as "busy".
DECODE_WAIT_SECONDS = 60.0


class DecodeGate:
    """At most ``slots`` large pictures decoded at once in this process; the rest wait.

    A 40 MP picture still takes a few hundred megabytes while it is decoded and converted, and
    every visitor's preparation runs on its own thread, so without a gate ten visitors at once
    would hold ten of them. ``active`` and ``waiting`` count the decodes under way and those
    waiting for a slot.
    """

    def __init__(self, slots: int = DECODE_SLOTS, timeout: float = DECODE_WAIT_SECONDS) -> None:
        self.timeout = timeout
        self._slots = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self.active = 0
        self.waiting = 0

    @contextmanager
    def slot(self, field: str | Msg) -> Iterator[None]:
        """Hold a slot for the block; raise :class:`ImageError` after ``timeout`` seconds."""
        with self._lock:
            self.waiting += 1
        try:
            acquired = self._slots.acquire(timeout=self.timeout)
        finally:
            with self._lock:
                self.waiting -= 1
        if not acquired:
            raise ImageError(msg("image.busy", field=field), field=field)
        try:
            with self._lock:
                self.active += 1
            yield
        finally:
            with self._lock:
                self.active -= 1
            self._slots.release()
            return_memory()


#: The one gate of this process: every preparation, from every visitor, goes through it.
DECODE_GATE = DecodeGate()


@contextmanager
def decoding(pixels: int, field: str | Msg) -> Iterator[None]:
    """A decode slot for large pictures; small ones neither wait nor trim."""
    if pixels <= LARGE_DECODE_PIXELS:
        yield
        return
    with DECODE_GATE.slot(field):
        yield


def _load_malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim  # glibc only; musl (Alpine) has none
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_MALLOC_TRIM = _load_malloc_trim()
#: glibc's ``mallopt`` parameter for the most malloc arenas (``M_ARENA_MAX``).
_M_ARENA_MAX = -8


def limit_malloc_arenas(count: int = 2) -> None:
    """Let glibc keep at most ``count`` malloc arenas in this process (a no-op elsewhere).

    By default glibc gives threads up to eight arenas per core, each holding on to what it
    once served; the app's HTTP pool has 32 threads, so forty offline try-ons left about
    550 MB held, against about 345 MB with two arenas (BENCHMARKS.md). Arenas made before the
    call keep existing, so it is called when the app is set up, before its threads start.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    mallopt(_M_ARENA_MAX, count)


def return_memory() -> None:
    """Give the memory a large decode freed back to the system.

    Pillow allocates a large picture in 16 MB blocks, below glibc's mmap threshold once it has
    grown, so the blocks come from malloc's arenas; glibc keeps freed arena memory for reuse and
    the process stays at its peak for good (three 119 MP PNGs left 4.4 GB held a minute later).
    ``malloc_trim(0)`` releases the free pages of every arena. Elsewhere it is a no-op.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)

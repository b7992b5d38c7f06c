"""What the pipeline tells whoever keeps the owner's usage figures (the owner's view, issue 27):
creates the API accepted, tasks that ended, visitors refused and waits in line.

A hook, no more: :data:`NO_USAGE` records nothing, and is the default. A recorder is given to
:meth:`tryon_demo.flow.pipeline.Pipeline.build` (``usage=``); the pipeline calls it on the
event loop that serves the visitors, so a recorder must not block (hand slow work, such as
writing to a database, to a thread or a queue of its own) and must not raise.
"""

from __future__ import annotations

from typing import Literal, Protocol

from ..errors import ApiError, ImageError, InputError, TryOnError, UnsafeURLError

#: How a task the app created and followed ended.
Outcome = Literal["succeed", "failed", "error"]


class Usage(Protocol):
    """The four moments the pipeline reports."""

    def created(self, model: str) -> None:
        """The API accepted a create of ``model`` (it counts against the day's quota)."""

    def ended(self, model: str, outcome: Outcome, seconds: float, code: int | None = None) -> None:
        """A task this app created and followed ended: ``outcome``, ``seconds`` from the
        create's acceptance to the result on this server (or to the failure), and for an
        ``error`` the API's business code when it gave one."""

    def refused(self, reason: str, code: int | None = None) -> None:
        """A visitor was refused before anything was created, for ``reason``: ``rate``,
        ``query_rate``, ``daily_cap``, ``address_share``, ``queue_full``, ``queue_wait``,
        ``caller_gone``, ``picture``, ``callback``, ``input``, ``api`` (the API's own refusal
        of the create, with its business ``code``) or another error's ``kind``."""

    def waited(self, seconds: float) -> None:
        """A create waited ``seconds`` in the capacity queue before its turn came: told once
        for each create that passed the queue (only with ``TRYON_API_CONCURRENCY`` set), 0 s
        when a slot was free at once."""


class NoUsage:
    """Records nothing."""

    def created(self, model: str) -> None:
        pass

    def ended(self, model: str, outcome: Outcome, seconds: float, code: int | None = None) -> None:
        pass

    def refused(self, reason: str, code: int | None = None) -> None:
        pass

    def waited(self, seconds: float) -> None:
        pass


#: The default recorder: nothing is recorded.
NO_USAGE: Usage = NoUsage()


def reason_of(error: TryOnError) -> str:
    """The refusal reason :meth:`Usage.refused` is told for ``error``."""
    reason = getattr(error, "reason", None)
    if isinstance(reason, str):
        return reason
    if isinstance(error, ImageError):
        return "picture"
    if isinstance(error, UnsafeURLError):
        return "callback"
    if isinstance(error, InputError):
        return "input"
    if isinstance(error, ApiError):
        return "api"
    return error.kind  # caller_gone, and any other cause by its stable name


def code_of(error: TryOnError | None) -> int | None:
    """The API's business code in ``error``, if the API gave one (never a visitor's text)."""
    if isinstance(error, ApiError) and error.code is not None and 0 <= error.code < 100_000:
        return int(error.code)
    return None

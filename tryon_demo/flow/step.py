"""What a try-on shows at each moment: a :class:`Step`, from "preparing" to the result.

Every flow (a run, a re-attach, each side of a compare) is an async generator of steps that the
page turns into component updates and the tests read directly.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..api.client import failure_reason
from ..api.models import Task
from ..errors import TryOnError
from ..hosting.capacity import Place
from ..text.i18n import Language
from ..text.messages import Code, Msg, api_word, msg
from .usage import Outcome

log = logging.getLogger(__name__)

Phase = Literal["preparing", "queued", "submitted", "processing", "succeed", "failed", "error"]
#: What a person is told when the app itself failed (the details go to the server log).
APP_FAULT = msg("app.fault")
#: Seconds between the steps that only move the elapsed time on, while nothing else changes.
TICK = 0.5


@dataclass(frozen=True)
class Step:
    """One moment of a run, everything the UI shows at that moment."""

    phase: Phase
    elapsed: float
    request: dict[str, Any] | None = None
    task: Task | None = None
    result_path: Path | None = None
    comparison: tuple[Path, Path] | None = None
    error: TryOnError | None = None
    notes: tuple[Msg, ...] = field(default_factory=tuple)
    #: Proof that this visitor created the task, for looking it up again (see ownership.py).
    owner_token: str | None = field(default=None, repr=False)
    #: While ``queued``: how many creates are ahead and about how long until this one's turn.
    place: Place | None = None
    #: The latest callback the API sent this run (redacted), shown beside the task JSON. Its
    #: state is only a claim: the run's result always comes from its own status query.
    callback: dict[str, Any] | None = None
    #: While the task runs: the time usually left, or that it takes longer (flow/timetable.py).
    outlook: Msg | None = None

    @property
    def task_json(self) -> dict[str, Any] | None:
        """The API's last answer, or the error, for the JSON panel."""
        if self.error is not None:
            return {
                "error": self.error.to_dict(),
                "last_task": self.task.raw if self.task else None,
            }
        if self.callback is not None:
            return {"callback": self.callback, "last_query": self.task.raw if self.task else None}
        return self.task.raw if self.task else None

    @property
    def done(self) -> bool:
        return self.phase in ("succeed", "failed", "error")

    @property
    def outcome(self) -> Outcome | None:
        """How the run ended, once it has."""
        if self.phase in ("succeed", "failed", "error"):
            return self.phase
        return None

    def status_text(self, lang: Language = "en") -> str:
        """One line of Markdown for the status panel, in ``lang``."""
        return self.status_msg().markdown(lang)

    def status_msg(self) -> Msg:
        """The status line as a message: phase, task and time, then any error or reason."""
        label = (
            self.place.msg()
            if self.phase == "queued" and self.place is not None
            else msg(f"status.{self.phase}")
        )
        parts: list[Msg | str] = [msg("fmt.bold", text=label)]
        if self.task is not None:
            parts.append(msg("status.task", task_id=Code(self.task.task_id)))
        parts.append(msg("status.elapsed", seconds=self.elapsed))
        if self.outlook is not None and not self.done:
            parts.append(self.outlook)
        if self.callback is not None:
            parts.append(msg("status.callback", status=api_word(self.callback.get("task_status"))))
        lines: list[Msg | str] = [Msg.join(parts, sep="summary")]
        if self.error is not None:
            lines.append(self.error.as_msg())  # with the request_id when there is one
        elif self.phase == "failed" and self.task is not None:
            lines.append(failure_reason(self.task))
        return Msg.join(lines, sep="line")


async def guarded(steps: AsyncIterator[Step]) -> AsyncIterator[Step]:
    """Pass steps through; a bug ends the run in a plain message, never a traceback on screen."""
    last: Step | None = None
    try:
        async for step in steps:
            last = step
            yield step
    except Exception:
        log.exception("the try-on flow failed unexpectedly")
        error = TryOnError(APP_FAULT)
        yield Step(
            "error", last.elapsed if last else 0.0, task=last.task if last else None, error=error
        )


def phase_of(task: Task) -> Phase:
    """The waiting phase a task's status shows as."""
    return "processing" if task.task_status == "processing" else "submitted"


def later(shown: Phase, new: Phase) -> Phase:
    """The later of two waiting phases: a callback may say "processing" before a query does,
    and callbacks may arrive out of order, but the page never steps back to "submitted"."""
    return "processing" if "processing" in (shown, new) else new


def json_dumps_safe(value: Any) -> str:
    """JSON text for a panel; never raises on odd values."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)

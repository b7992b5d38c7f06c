"""The history of every task this browser created (runs, compares, lookbooks), kept in the
browser so it survives reloads and restarts, and re-attach by task id beside it.

An entry holds what lets the visitor find the task again and nothing secret: task id, kind,
model, time, status and the result URL (the ownership token lives in its own store)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gradio as gr

from ..flow.step import Step
from ..text.i18n import Language
from ..text.messages import text
from .common import ASSETS, T

#: Where the history is kept in the browser (localStorage), across reloads and restarts.
HISTORY_STORAGE_KEY = "kolors-tryon-history"
#: The most entries kept (the newest).
MAX_HISTORY = 100
KINDS = ("run", "compare", "lookbook")
#: The history's task states, each named in the catalogues (``state.<name>``).
_STATES = frozenset({"submitted", "processing", "succeed", "failed", "error"})
#: Gradio's route for a file it may serve (relative: the page may sit under a root path).
THUMB_ROUTE = "gradio_api/file="


@dataclass
class History:
    """The stored entries, their table and re-attach by id."""

    entries: gr.BrowserState
    table: gr.Dataframe
    task_id: gr.Textbox
    attach: gr.Button
    forget: gr.Button


def stored_entries(secret: str) -> gr.BrowserState:
    """The entries' store in the browser, encrypted like the ownership tokens."""
    return gr.BrowserState([], storage_key=HISTORY_STORAGE_KEY, secret=secret)


def build_history(entries: gr.BrowserState) -> History:
    """The history tab's content: the table, re-attach by id and "Forget history"."""
    gr.Markdown(T("history_help"), elem_classes="rules")
    table = gr.Dataframe(
        headers=list(headers("en")),
        datatype=["markdown", "str", "str", "str", "str", "str", "str"],
        column_widths=["76px", "170px", "90px", "70px", "80px", "230px", "400px"],
        interactive=False,
        wrap=True,
        max_height=320,
        elem_id="history-table",
    )
    with gr.Row(elem_id="attach-row"):
        task_id = gr.Textbox(
            label=T("task_id"),
            placeholder=T("task_id_placeholder"),
            scale=3,
            max_lines=1,
            elem_id="task-id",
        )
        attach = gr.Button(T("attach"), scale=1, elem_id="attach-button")
        forget = gr.Button(T("forget_history"), scale=1, size="sm", elem_id="forget-history")
    return History(entries, table, task_id, attach, forget)


def headers(lang: Language) -> tuple[str, ...]:
    """The table's column headers in ``lang``."""
    keys = ("result_thumb", "time", "kind", "model", "status", "task_id", "result")
    return tuple(text(f"history.header_{key}", lang) for key in keys)


def history_entry(step: Step, model_name: str, kind: str = "run") -> dict[str, Any] | None:
    """What the history keeps of a finished step: ``None`` when no task was created."""
    if step.task is None:
        return None
    status = step.task.task_status if step.phase != "error" else "error"
    return make_entry(
        step.task.task_id, kind, model_name, status, step.task.result_url, step.result_path
    )


def make_entry(
    task_id: str,
    kind: str,
    model_name: str,
    status: str,
    result_url: str | None = None,
    result_path: Path | None = None,
) -> dict[str, Any]:
    """One history entry: what finds the task again, nothing secret."""
    return {
        "task_id": task_id,
        "kind": kind,
        "model": model_name,
        "status": status,
        "time": time.strftime("%Y-%m-%d %H:%M", time.localtime()),
        "result_url": result_url or "",
        # The result file on this server, while it lasts (TRYON_WORK_TTL): the page's own copy.
        "thumb": str(result_path) if result_path else None,
    }


def merged(entries: list[dict[str, Any]] | None, new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``entries`` with ``new`` added; an entry for a task already listed replaces it."""
    kept = [e for e in valid(entries) if e["task_id"] not in {n["task_id"] for n in new}]
    return [*kept, *new][-MAX_HISTORY:]


def valid(entries: Any) -> list[dict[str, Any]]:
    """The well-formed entries of what the browser sent (it may hold anything)."""
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("task_id"), str)]


def rows(entries: Any, lang: Language = "en") -> list[list[str]]:
    """One table row per entry, newest first."""
    table = []
    for entry in reversed(valid(entries)):
        status = str(entry.get("status", ""))
        kind = str(entry.get("kind", "run"))
        table.append(
            [
                _thumbnail(entry.get("thumb")),
                str(entry.get("time", "")),
                text(f"history.kind_{kind}", lang) if kind in KINDS else kind,
                str(entry.get("model", "")).removeprefix("kolors-virtual-try-on-"),
                text(f"state.{status}", lang) if status in _STATES else status,
                str(entry["task_id"]),
                str(entry.get("result_url") or ""),
            ]
        )
    return table


def _thumbnail(path: Any) -> str:
    """A small picture of the result while this server still has its file (Markdown), else
    nothing. The file is served from the work folder, which the page may serve anyway."""
    if not isinstance(path, str) or not path or not Path(path).is_file():
        return ""
    return f"![]({THUMB_ROUTE}{quote(path)})"


def table_update(entries: Any, lang: Language) -> Any:
    """The table showing ``entries`` with headers in ``lang``."""
    return gr.Dataframe(value=rows(entries, lang), headers=list(headers(lang)))


def gallery(history: list[dict[str, Any]], lang: Language = "en") -> list[tuple[str, str]]:
    """Thumbnails of the entries (a placeholder once a result file is swept), newest first."""
    placeholder = str(ASSETS / "ui" / "no-result.png")
    return [
        (
            thumb if (thumb := entry.get("thumb")) and Path(thumb).is_file() else placeholder,
            " · ".join((row[1], row[4], row[3], row[5][:10])),  # time, state, model, id
        )
        for entry, row in zip(reversed(valid(history)), rows(history, lang), strict=True)
    ]

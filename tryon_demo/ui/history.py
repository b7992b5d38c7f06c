"""The history of every task this browser created (runs, compares, lookbooks), kept in the
browser so it survives reloads and restarts, and re-attach by task id beside it.

An entry holds what lets the visitor find the task again and nothing secret: task id, kind,
model, time, status and the result URL (the ownership token lives in its own store).

The browser sends the entries back with every event that reads them, and a visitor can store
anything there. So only entries shaped as the server makes them are used (:func:`valid`): a
task id of the API's alphabet, a known kind, model and state, a short time, an http(s) result
link, and a thumbnail only when it names a file in a work folder (any other path is never
looked at on disk, so the table answers the same for ``/etc/shadow`` and a missing file)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import gradio as gr

from ..api.client import TASK_ID_PATTERN
from ..flow.step import Step
from ..hosting import workfiles
from ..settings import MODELS
from ..text.i18n import Language
from ..text.messages import text
from .common import ASSETS, T, public_url

#: Where the history is kept in the browser (localStorage), across reloads and restarts.
HISTORY_STORAGE_KEY = "kolors-tryon-history"
#: The most entries kept (the newest).
MAX_HISTORY = 100
KINDS = ("run", "compare", "lookbook")
#: The history's task states, each named in the catalogues (``state.<name>``).
_STATES = frozenset({"submitted", "processing", "succeed", "failed", "error"})
#: Gradio's route for a file it may serve (relative: the page may sit under a root path).
THUMB_ROUTE = "gradio_api/file="
#: The longest result link kept (real ones are a few hundred characters).
MAX_URL_CHARS = 2048
#: An entry's time as :func:`make_entry` writes it ("2026-11-26 10:00"), or shorter.
_TIME = re.compile(r"[0-9][0-9: -]{0,18}")
_URL_CHARS = re.compile(r"[!-~]+")  # printable ASCII, no spaces


@dataclass
class History:
    """The stored entries, their table and re-attach by id."""

    entries: gr.BrowserState
    table: gr.Dataframe
    task_id: gr.Textbox
    attach: gr.Button
    forget: gr.Button


def stored_entries(secret: str) -> gr.BrowserState:
    """The entries' store in the browser's local storage, beside the ownership tokens'
    (scrambled with ``secret``, which every page carries: see :func:`.ownership.browser_secret`)."""
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
        "result_url": public_url(result_url),
        # The result file on this server, while it lasts (TRYON_WORK_TTL): the page's own copy.
        "thumb": str(result_path) if result_path else None,
    }


def merged(entries: list[dict[str, Any]] | None, new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``entries`` with ``new`` added; an entry for a task already listed replaces it, keeping
    when the task was first listed and, when the new one does not know it, its model."""
    known = {e["task_id"]: e for e in valid(entries)}
    updated = []
    for entry in new:
        old = known.get(entry["task_id"], {})
        updated.append(
            {
                **entry,
                "time": old.get("time") or entry.get("time", ""),
                "model": entry.get("model") or old.get("model", ""),
            }
        )
    kept = [e for e in valid(entries) if e["task_id"] not in {n["task_id"] for n in new}]
    return [*kept, *updated][-MAX_HISTORY:]


def valid(entries: Any) -> list[dict[str, Any]]:
    """The well-formed entries of what the browser sent (it may hold anything), each with
    only the fields the server writes, at most the newest :data:`MAX_HISTORY`."""
    if not isinstance(entries, list):
        return []
    kept = [clean for entry in entries[-MAX_HISTORY:] if (clean := well_formed(entry))]
    return kept


def well_formed(entry: Any) -> dict[str, Any] | None:
    """``entry`` as the server would have made it, or ``None`` when it is not one of those:
    a task id of the API's alphabet, a known kind, model and state, a short time, an http(s)
    result link or none. A thumbnail that is not a work file is dropped, not looked at."""
    if not isinstance(entry, dict):
        return None
    task_id, kind = entry.get("task_id"), entry.get("kind", "run")
    model, status = entry.get("model"), entry.get("status")
    when, url = entry.get("time", ""), entry.get("result_url") or ""
    if not (isinstance(task_id, str) and TASK_ID_PATTERN.fullmatch(task_id)):
        return None
    if kind not in KINDS or model not in MODELS or status not in _STATES:
        return None
    if not isinstance(when, str) or (when and not _TIME.fullmatch(when)):
        return None
    if not _result_url(url):
        return None
    thumb = workfiles.work_file(entry.get("thumb"))
    return {
        "task_id": task_id,
        "kind": kind,
        "model": model,
        "status": status,
        "time": when,
        "result_url": url,
        "thumb": str(thumb) if thumb is not None else None,
    }


def _result_url(url: Any) -> bool:
    """No link, or an http(s) one of printable characters of reasonable length."""
    if url == "":
        return True
    if not isinstance(url, str) or len(url) > MAX_URL_CHARS or not _URL_CHARS.fullmatch(url):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def rows(entries: Any, lang: Language = "en") -> list[list[str]]:
    """One table row per well-formed entry, newest first."""
    table = []
    for entry in reversed(valid(entries)):
        table.append(
            [
                _thumbnail(entry["thumb"]),
                entry["time"],
                text(f"history.kind_{entry['kind']}", lang),
                entry["model"].removeprefix("kolors-virtual-try-on-"),
                text(f"state.{entry['status']}", lang),
                entry["task_id"],
                public_url(entry["result_url"]),
            ]
        )
    return table


def _thumbnail(path: str | None) -> str:
    """A small picture of the result while this server still has its file (Markdown), else
    nothing. Only a work file is looked at; the page may serve those anyway."""
    found = workfiles.work_file(path)
    if found is None or not found.is_file():
        return ""
    return f"![]({THUMB_ROUTE}{quote(str(found))})"


def table_update(entries: Any, lang: Language) -> Any:
    """The table showing ``entries`` with headers in ``lang``."""
    return gr.Dataframe(value=rows(entries, lang), headers=list(headers(lang)))


def gallery(history: list[dict[str, Any]], lang: Language = "en") -> list[tuple[str, str]]:
    """Thumbnails of the entries (a placeholder once a result file is swept), newest first."""
    placeholder = str(ASSETS / "ui" / "no-result.png")
    shown = []
    for entry, row in zip(reversed(valid(history)), rows(history, lang), strict=True):
        found = workfiles.work_file(entry["thumb"])
        thumb = str(found) if found is not None and found.is_file() else placeholder
        shown.append((thumb, " · ".join((row[1], row[4], row[3], row[5][:10]))))
    return shown

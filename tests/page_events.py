"""Fire the page's events over plain HTTP as a browser (or an attacker) does, and look at what
the server keeps for a session afterwards. The app runs in this process (``RunningApp``)."""

from __future__ import annotations

import json
from typing import Any

import requests

from tests.test_app import RunningApp


def fn_index(app: RunningApp, name: str) -> int:
    return next(i for i, fn in app.demo.fns.items() if fn.api_name == name)


def event(
    app: RunningApp,
    name: str,
    data: list[Any],
    session: str,
    event_data: Any = None,
) -> requests.Response:
    """Fire the page's event ``name`` as the browser fires an unqueued one."""
    return requests.post(
        app.url + "gradio_api/run/predict",
        json={
            "data": data,
            "event_data": event_data,
            "fn_index": fn_index(app, name),
            "trigger_id": None,
            "session_hash": session,
        },
        timeout=60,
    )


def queued(app: RunningApp, name: str, data: list[Any], session: str) -> str:
    """Fire the page's queued event ``name`` and return everything it streamed back."""
    joined = requests.post(
        app.url + "gradio_api/queue/join",
        json={"data": data, "fn_index": fn_index(app, name), "session_hash": session},
        timeout=60,
    )
    if joined.status_code != 200:
        return f"{joined.status_code} {joined.text}"
    lines = []
    with requests.get(
        app.url + "gradio_api/queue/data", params={"session_hash": session}, stream=True, timeout=60
    ) as stream:
        for raw in stream.iter_lines():
            line = raw.decode()
            lines.append(line)
            if '"process_completed"' in line:
                break
    return "\n".join(lines)


def held(app: RunningApp, session: str) -> str:
    """Everything the server keeps for ``session`` beyond the page itself, as text."""
    state = app.demo.state_holder.session_data.get(session)
    if state is None:
        return ""
    kept: list[Any] = [state.config_values, state.state_data]
    for key, block in state.blocks_config.blocks.items():
        if block is not app.demo.blocks.get(key):  # a copy made for this session
            kept.append(getattr(block, "value", None))
    return json.dumps(kept, default=str)


def entry(task_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "kind": "run",
        "model": "kolors-virtual-try-on-v1",
        "status": "succeed",
        "time": "2026-11-26 10:00",
        "result_url": "",
        "thumb": None,
        **fields,
    }

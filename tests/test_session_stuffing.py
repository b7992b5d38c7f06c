"""Session state cannot be stuffed (issue 23, finding 2).

Gradio keeps a session per ``session_hash`` (up to 10,000) and used to keep in it what each
page event sent and answered, and ``/gradio_api/deep_link`` wrote a session's values to disk
for good. (The history's rows, which come from the browser: ``test_history_rows.py``.)
Each test drives the real app on loopback the way a browser (or an attacker) does: Gradio's
event routes over plain HTTP, with session hashes of its own choosing.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests import pictures
from tests.page_events import entry, event, held, queued
from tests.test_app import RunningApp
from tryon_demo.hosting.event_guard import PAGE_EVENT_BYTES
from tryon_demo.settings import Settings

MARKER = "STUFFED"
KB = 2**10


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    settings = Settings(
        force_offline=True,
        simulator_task_seconds=0.3,
        poll_interval=0.05,
        poll_max_interval=0.2,
        state_dir=tmp_path_factory.mktemp("state"),
    )
    with RunningApp(settings, tmp_path_factory.mktemp("work")) as running:
        yield running


# --- page events' bodies ---------------------------------------------------------------------


def test_a_page_event_over_its_cap_is_refused_before_gradio_reads_it(app: RunningApp) -> None:
    session = uuid.uuid4().hex
    junk = [entry(f"id{n:020d}", result_url="https://x.example/" + "a" * 1000) for n in range(400)]
    answer = event(app, "on_load", [junk, "en"], session)
    assert answer.status_code == 413
    assert f"{PAGE_EVENT_BYTES // KB} KB" in answer.json()["detail"]
    assert session not in app.demo.state_holder.session_data


def test_a_full_history_and_all_its_tokens_fit_a_page_event(app: RunningApp) -> None:
    long_url = "https://cdn.example/results/" + "r" * 300 + ".png"
    history = [entry(f"task{n:018d}", result_url=long_url) for n in range(100)]
    tokens = {f"task{n:018d}": "t" * 43 for n in range(200)}
    data = ["task000000000000000001", "", history, tokens, "en"]
    assert len(json.dumps(data)) < PAGE_EVENT_BYTES
    answer = queued(app, "follow_flow", data, uuid.uuid4().hex)
    assert "process_completed" in answer and " 413 " not in answer


def data_url(size: int) -> str:
    picture = pictures.person_jpeg()
    padding = b"\0" * max(0, size - len(picture))
    return "data:image/jpeg;base64," + base64.b64encode(picture + padding).decode()


def test_a_picture_event_still_takes_pictures_sent_inline(app: RunningApp) -> None:
    # A link field takes a data: URL, and a picture as one may be megabytes.
    person = data_url(3 * 2**20)
    garment = "data:image/png;base64," + base64.b64encode(pictures.garment_png()).decode()
    run = [None, person, None, garment, "kolors-virtual-try-on-v1", "", "", [], {}, "en"]
    answer = queued(app, "run_flow", run, uuid.uuid4().hex)
    assert '"success":true' in answer.split("process_completed")[-1]


def test_the_apis_submit_still_takes_two_pictures_as_data_urls(app: RunningApp) -> None:
    person = data_url(3 * 2**20)
    garment = "data:image/png;base64," + base64.b64encode(pictures.garment_png()).decode()
    answer = requests.post(
        app.url + "gradio_api/run/submit",
        json={"data": [person, garment, "kolors-virtual-try-on-v1", ""]},
        timeout=60,
    )
    assert answer.status_code == 200
    assert answer.json()["data"][0]["data"]["task_id"]


def test_a_session_keeps_no_copy_of_what_a_picture_event_sent(app: RunningApp) -> None:
    session = uuid.uuid4().hex
    junk_link = "data:image/png;base64," + MARKER + "A" * 2**20
    history = [{"task_id": MARKER, "junk": "B" * 2**20}]
    run = [None, junk_link, None, "", "kolors-virtual-try-on-v1", "", "", history, {}, "en"]
    queued(app, "run_flow", run, session)
    kept = held(app, session)
    assert MARKER not in kept
    assert len(kept) < 64 * KB


# --- deep links ------------------------------------------------------------------------------


def deep_links_bytes(app: RunningApp) -> int:
    folder = Path(app.demo.server_app.uploaded_file_dir) / "deep_links"
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_a_deep_link_is_refused_and_nothing_is_written(app: RunningApp) -> None:
    session = uuid.uuid4().hex
    event(app, "_picked", [[entry("a" * 22)]], session, {"index": [0, 0], "value": ""})
    before = deep_links_bytes(app)
    answer = requests.get(
        app.url + "gradio_api/deep_link", params={"session_hash": session}, timeout=10
    )
    assert answer.status_code == 403
    assert deep_links_bytes(app) == before


# --- files named by a web address (the attacker's open proxy, round 3) -------------------


class Listener:
    """A loopback HTTP server standing in for a public host: it counts the requests it gets."""

    def __init__(self) -> None:
        import http.server
        import threading

        seen = self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                self.wfile.write(pictures.garment_png())

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def public_listener(monkeypatch: pytest.MonkeyPatch) -> Iterator[Listener]:
    # No internet here: Gradio is told loopback is a public host, so that a fetch it would make
    # of a real one is made, and seen, here.
    import gradio.processing_utils

    listener = Listener()
    whitelist = [*gradio.processing_utils.PUBLIC_HOSTNAME_WHITELIST, "127.0.0.1"]
    monkeypatch.setattr(gradio.processing_utils, "PUBLIC_HOSTNAME_WHITELIST", whitelist)
    yield listener
    listener.close()


@pytest.mark.parametrize("route", ["gradio_api/run/submit", "gradio_api/call/submit"])
def test_a_file_named_by_a_web_address_is_refused_before_anything_is_fetched(
    app: RunningApp, public_listener: Listener, route: str
) -> None:
    remote = f"{public_listener.url}/relay-me.png"
    named = {"path": remote, "url": remote, "meta": {"_type": "gradio.FileData"}}
    answer = requests.post(
        app.url + route,
        json={"data": [named, named, "kolors-virtual-try-on-v1", ""]},
        timeout=60,
    )
    assert answer.status_code == 400
    assert "not fetched" in answer.json()["detail"]
    assert public_listener.seen == []


def test_a_url_string_to_submit_is_still_a_link_the_app_handles_once_admitted(
    app: RunningApp,
) -> None:
    # The documented way to give a picture by address: a string, judged after admission.
    answer = requests.post(
        app.url + "gradio_api/run/submit",
        json={"data": ["https://example.com/p.jpg", "https://example.com/c.png", "", ""]},
        timeout=60,
    )
    assert answer.status_code == 200

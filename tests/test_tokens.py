"""Ownership tokens at every door (issue 23, findings 7 and 11): a token of any shape gets a
clean refusal and never a traceback, and a changed server secret revokes the old tokens
without a restart.

The app runs with the owner's key against the simulator on loopback, in this process, so what
it prints to stderr (Gradio prints a traceback for any error it did not expect) is captured.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from gradio_client import Client, handle_file

from tests import pictures
from tests.conftest import FAKE_KEY
from tests.test_app import RunningApp
from tests.test_privacy import NOT_FOUND, page_event
from tryon_demo.hosting import ownership
from tryon_demo.settings import Settings
from tryon_demo.simulator import SimulatorConfig, SimulatorServer

#: Tokens a visitor can send that are not shaped like any token the server issues.
MALFORMED = ["é" * 43, "токен", "\u200b" * 43, "a" * 42 + "€", "x" * 5000]
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(
        SimulatorConfig(task_seconds=0.3, api_keys=frozenset({FAKE_KEY}))
    ) as server:
        yield server


def app_settings(simulator: SimulatorServer, state_dir: Path, **options: Any) -> Settings:
    return Settings(
        api_key=FAKE_KEY,
        api_base=simulator.gateway_base,
        poll_interval=0.05,
        poll_max_interval=0.2,
        state_dir=state_dir,
        **options,
    )


@pytest.fixture(scope="module")
def app(
    simulator: SimulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    settings = app_settings(simulator, tmp_path_factory.mktemp("state"), mcp_server=True)
    with RunningApp(settings, tmp_path_factory.mktemp("work")) as running:
        yield running


@pytest.fixture(scope="module")
def created(app: RunningApp, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A task created through ``/submit``, with the owner token its creator got."""
    folder = tmp_path_factory.mktemp("images")
    person, garment = folder / "person.jpg", folder / "garment.png"
    person.write_bytes(pictures.person_jpeg())
    garment.write_bytes(pictures.garment_png())
    reply = Client(app.url, verbose=False).predict(
        handle_file(str(person)), handle_file(str(garment)), api_name="/submit"
    )
    assert isinstance(reply, dict)
    return reply


# --- a token of any shape --------------------------------------------------------------------


@pytest.mark.parametrize("token", MALFORMED)
def test_a_token_of_any_characters_is_no_right_and_no_error(tmp_path: Path, token: str) -> None:
    secret = ownership.load_secret(tmp_path)
    assert not ownership.token_valid(secret, "task-a", token)


def test_the_token_issued_still_opens_its_task_with_spaces_around_it(tmp_path: Path) -> None:
    secret = ownership.load_secret(tmp_path)
    token = ownership.issue_token(secret, "task-a")
    assert ownership.token_valid(secret, "task-a", f" {token}\n")


@pytest.mark.parametrize("token", MALFORMED[:2])
def test_query_answers_a_malformed_token_with_400_and_no_traceback(
    app: RunningApp, created: dict[str, Any], token: str, capfd: pytest.CaptureFixture[str]
) -> None:
    task_id = created["data"]["task_id"]
    for route in ("gradio_api/run/query", "gradio_api/call/query"):
        reply = requests.post(app.url + route, json={"data": [task_id, token]}, timeout=10)
        assert reply.status_code == 400, (route, reply.status_code, reply.text)
        assert "owner_token" in reply.json()["detail"]
    assert "Traceback" not in capfd.readouterr().err


def test_the_mcp_query_tool_answers_a_malformed_token_with_400_and_no_traceback(
    app: RunningApp, created: dict[str, Any], capfd: pytest.CaptureFixture[str]
) -> None:
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": "query",
            "arguments": {"task_id": created["data"]["task_id"], "owner_token": MALFORMED[0]},
        },
    }
    reply = requests.post(app.url + "gradio_api/mcp/", json=call, headers=MCP_HEADERS, timeout=10)
    assert reply.status_code == 400
    assert "Traceback" not in capfd.readouterr().err


def test_re_attaching_with_a_malformed_stored_token_is_the_unknown_id_answer(
    app: RunningApp, created: dict[str, Any], capfd: pytest.CaptureFixture[str]
) -> None:
    # The page's stored tokens come from the browser; one odd entry must not fail the page.
    task_id = created["data"]["task_id"]
    shown = page_event(app, "attach-button", [task_id, "", None, {task_id: MALFORMED[0]}])
    assert NOT_FOUND in shown
    assert "Traceback" not in capfd.readouterr().err


def test_the_right_token_still_opens_the_task_through_query(
    app: RunningApp, created: dict[str, Any]
) -> None:
    task_id = created["data"]["task_id"]
    reply = requests.post(
        app.url + "gradio_api/run/query", json={"data": [task_id, created["owner_token"]]}
    )
    assert reply.status_code == 200
    assert reply.json()["data"][0]["data"]["task_id"] == task_id


# --- revocation without a restart ------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_deleted_secret_file_revokes_the_tokens_once_it_is_next_looked_at(
    tmp_path: Path,
) -> None:
    clock = Clock()
    secret = ownership.OwnerSecret(tmp_path, recheck=2.0, clock=clock)
    token = ownership.issue_token(secret, "task-a")
    (tmp_path / ownership.SECRET_FILE).unlink()
    clock.now += 1.0
    assert ownership.token_valid(secret, "task-a", token)  # not looked at again yet
    clock.now += 1.0
    assert not ownership.token_valid(secret, "task-a", token)
    assert (tmp_path / ownership.SECRET_FILE).is_file()  # a new secret, made once
    assert ownership.token_valid(secret, "task-a", ownership.issue_token(secret, "task-a"))


def test_a_replaced_secret_file_is_used_from_then_on(tmp_path: Path) -> None:
    clock = Clock()
    secret = ownership.OwnerSecret(tmp_path, recheck=2.0, clock=clock)
    token = ownership.issue_token(secret, "task-a")
    other = tmp_path / "other"
    other.mkdir()
    replacement = ownership.load_secret(other)
    (other / ownership.SECRET_FILE).replace(tmp_path / ownership.SECRET_FILE)
    clock.now += 2.0
    assert not ownership.token_valid(secret, "task-a", token)
    assert ownership.token_valid(secret, "task-a", ownership.issue_token(replacement, "task-a"))


def test_an_unchanged_secret_file_is_not_read_again(tmp_path: Path) -> None:
    clock = Clock()
    secret = ownership.OwnerSecret(tmp_path, recheck=2.0, clock=clock)
    before = secret.current()
    clock.now += 60.0
    assert secret.current() is before


def test_the_default_recheck_is_every_two_seconds() -> None:
    assert ownership.RECHECK_SECONDS == 2.0


def test_deleting_the_secret_file_revokes_a_token_at_query_without_a_restart(
    simulator: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ownership, "RECHECK_SECONDS", 0.0, raising=False)
    state = tmp_path / "state"
    with RunningApp(app_settings(simulator, state), tmp_path / "work") as running:
        person, garment = tmp_path / "person.jpg", tmp_path / "garment.png"
        person.write_bytes(pictures.person_jpeg())
        garment.write_bytes(pictures.garment_png())
        client = Client(running.url, verbose=False)
        made = client.predict(
            handle_file(str(person)), handle_file(str(garment)), api_name="/submit"
        )
        task_id, token = made["data"]["task_id"], made["owner_token"]
        assert client.predict(task_id, token, api_name="/query")["data"]["task_id"] == task_id
        (state / ownership.SECRET_FILE).unlink()
        reply = requests.post(running.url + "gradio_api/run/query", json={"data": [task_id, token]})
        assert NOT_FOUND in reply.text


# --- what the browser's store protects ---------------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_the_browser_stores_key_is_sent_to_every_visitor_and_the_docs_say_so(
    app: RunningApp,
) -> None:
    config = requests.get(app.url + "config", timeout=10).json()
    stores = {"kolors-tryon-owner-tokens", "kolors-tryon-history"}
    keys = {
        c["props"]["secret"]
        for c in config["components"]
        if c["type"] == "browserstate" and c["props"]["storage_key"] in stores
    }
    assert len(keys) == 1  # the history and the tokens: one key, in every visitor's page
    pages = [DOCS / "security.md", DOCS / "page.md", DOCS.parent / "README.md"]
    claims = [p.name for p in pages if "encrypt" in p.read_text(encoding="utf-8").lower()]
    assert claims == []  # scrambled with a key anyone can read is not encryption
    security = (DOCS / "security.md").read_text(encoding="utf-8")
    assert "`/config`" in security and "not a secret" in security

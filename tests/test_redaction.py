"""A server that repeats the key back: the client redacts every reply before it is shown.

The simulator never echoes a key, so these use a small hostile server that does: in an error
envelope's message, in a gateway's HTML error page, and inside a task the API accepted.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import FAKE_KEY
from tests.fake_api import FakeApi, Reply, Seen, envelope, task_data
from tryon_demo import errors
from tryon_demo.api.auth import BearerAuth
from tryon_demo.api.client import TryOnClient


def echoed_key(seen: Seen) -> str:
    """The key exactly as the client sent it (after ``Bearer``)."""
    return seen.headers["authorization"].removeprefix("Bearer ")


def client_of(api: FakeApi) -> TryOnClient:
    return TryOnClient(
        api.url, BearerAuth(FAKE_KEY), get_retries=0, secrets=(FAKE_KEY,), backoff_base=0.01
    )


def shown(error: errors.TryOnError) -> list[str]:
    """Every way an error reaches a person, a log or a JSON answer."""
    return [str(error), repr(error), json.dumps(error.to_dict()), error.args[0]]


def test_a_key_echoed_in_an_error_envelope_is_redacted_from_the_error() -> None:
    def answer(seen: Seen) -> Reply:
        message = f"key {echoed_key(seen)} is not valid"
        return Reply.json(401, envelope(None, code=1002, message=message))

    with (
        FakeApi(answer) as api,
        client_of(api) as client,
        pytest.raises(errors.AuthenticationError) as caught,
    ):
        client.submit("https://a.example/p.jpg", "https://a.example/c.jpg")
    assert caught.value.api_message == "key *** is not valid"  # the rest of the reply is kept
    for text in shown(caught.value):
        assert FAKE_KEY not in text


def test_a_key_echoed_in_a_gateway_error_page_is_redacted_from_the_error() -> None:
    def answer(seen: Seen) -> Reply:
        page = f"<html><h1>502 Bad Gateway</h1><pre>Authorization: Bearer {echoed_key(seen)}</pre>"
        return Reply.html(502, page)

    with (
        FakeApi(answer) as api,
        client_of(api) as client,
        pytest.raises(errors.UnexpectedResponseError) as caught,
    ):
        client.get("t-1")
    assert "Authorization: Bearer ***" in caught.value.message
    for text in shown(caught.value):
        assert FAKE_KEY not in text


def test_a_key_echoed_inside_an_accepted_task_is_redacted_from_the_task_json() -> None:
    def answer(seen: Seen) -> Reply:
        data = task_data(task_status_msg=f"made with {echoed_key(seen)}", debug=echoed_key(seen))
        return Reply.json(200, envelope(data))

    with FakeApi(answer) as api, client_of(api) as client:
        task = client.submit("https://a.example/p.jpg", "https://a.example/c.jpg")
    assert task.task_status_msg == "made with ***"
    assert FAKE_KEY not in json.dumps(task.raw)
    assert FAKE_KEY not in repr(task)


def test_a_key_echoed_in_a_query_error_is_redacted_from_the_error() -> None:
    def answer(seen: Seen) -> Reply:
        message = f"no task for {echoed_key(seen)}"
        return Reply.json(404, envelope(None, code=1203, message=message))

    with (
        FakeApi(answer) as api,
        client_of(api) as client,
        pytest.raises(errors.TaskNotFoundError) as caught,
    ):
        client.get("t-404")
    assert caught.value.api_message == "no task for ***"
    for text in shown(caught.value):
        assert FAKE_KEY not in text

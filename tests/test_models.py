"""Parsing replies: the contract's shape is read, any other shape is reported as it arrived."""

from __future__ import annotations

import json

import pytest

from tryon_demo.errors import ApiError, UnexpectedResponseError
from tryon_demo.models import parse_task, parse_task_list_reply, parse_task_reply

SEED_CREATE_REPLY = {
    "code": 0,
    "message": "SUCCEED",
    "request_id": "Cji7cGctxFMAAAAAAEU5sQ",
    "data": {
        "task_id": "Cji7cGctxFMAAAAAAEU5sQ",
        "task_status": "submitted",
        "created_at": 1731172864209,
        "updated_at": 1731172864209,
    },
}


def test_the_seed_create_reply_parses_into_a_task() -> None:
    task = parse_task_reply(200, json.dumps(SEED_CREATE_REPLY))
    assert task.task_id == "Cji7cGctxFMAAAAAAEU5sQ"
    assert task.task_status == "submitted"
    assert task.created_at == task.updated_at == 1731172864209
    assert task.request_id == "Cji7cGctxFMAAAAAAEU5sQ"
    assert task.raw == SEED_CREATE_REPLY
    assert not task.is_terminal


def test_result_images_without_index_and_extra_fields_are_accepted() -> None:
    data = {
        "task_id": "t1",
        "task_status": "succeed",
        "task_status_msg": "",
        "final_unit_deduction": "1",
        "task_info": {"external_task_id": "mine"},
        "task_result": {
            "images": [{"id": "", "url": "https://cdn.example/r.png", "watermark_url": "x"}]
        },
    }
    task = parse_task(data, raw=data)
    assert task.result_url == "https://cdn.example/r.png"
    assert task.images[0].index is None
    assert task.external_task_id == "mine"
    assert task.task_status_msg is None


def test_a_list_reply_holds_an_array_of_tasks() -> None:
    body = {"code": 0, "message": "SUCCEED", "request_id": "r", "data": [SEED_CREATE_REPLY["data"]]}
    assert [t.task_id for t in parse_task_list_reply(200, json.dumps(body))] == [
        "Cji7cGctxFMAAAAAAEU5sQ"
    ]


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (
            {"id": "x", "task_id": "t", "status": "queued", "progress": 0},
            "unknown format (an object with keys id, task_id, status, progress)",
        ),
        (
            {"code": "success", "data": {"status": "succeeded", "task_id": "t", "url": "u"}},
            "not the Kling envelope with an integer code",
        ),
        ({"code": 0, "message": "SUCCEED"}, "without a 'data' field"),
        (
            {"code": 0, "data": {"task_id": "t", "task_status": "succeeded"}},
            "unknown task_status 'succeeded'",
        ),
        ({"code": 0, "data": {"task_status": "submitted"}}, "has no task_id"),
        ({"code": 0, "data": ["not", "a", "task"]}, "Expected a task object"),
        ([1, 2, 3], "unknown format"),
        (
            {
                "code": 0,
                "data": {"task_id": "t", "task_status": "succeed", "task_result": {"images": "u"}},
            },
            "not a list",
        ),
        (
            {
                "code": 0,
                "data": {"task_id": "t", "task_status": "succeed", "task_result": {"images": [{}]}},
            },
            "has no url",
        ),
    ],
    ids=[
        "gateway-create-rewrite",
        "gateway-query-rewrite",
        "no-data",
        "bad-status",
        "no-id",
        "data-list",
        "array",
        "images-not-list",
        "image-no-url",
    ],
)
def test_other_shapes_are_unexpected_responses_that_say_what_arrived(
    body: object, text: str
) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parse_task_reply(200, json.dumps(body))
    assert text in caught.value.message


def test_an_html_error_page_keeps_the_status_and_the_start_of_the_body() -> None:
    page = "<html><body><h1>502 Bad Gateway</h1>" + "x" * 1000 + "</body></html>"
    with pytest.raises(UnexpectedResponseError) as caught:
        parse_task_reply(502, page)
    assert caught.value.http_status == 502
    assert "<h1>502 Bad Gateway</h1>" in caught.value.message
    assert len(caught.value.message) < 500


def test_an_error_envelope_of_an_unknown_code_keeps_status_code_and_message() -> None:
    body = {"code": 9999, "message": "brand new error", "request_id": "r9"}
    with pytest.raises(ApiError) as caught:
        parse_task_reply(418, json.dumps(body))
    error = caught.value
    assert type(error) is ApiError  # no more specific class fits an unknown code on HTTP 418
    assert (error.http_status, error.code, error.request_id) == (418, 9999, "r9")
    assert "brand new error" in str(error)


@pytest.mark.parametrize("status", [["succeed"], {"s": 1}, 3, None])
def test_a_task_status_that_is_not_a_string_is_an_unexpected_response(status: object) -> None:
    # Fuzzing found a list here raising TypeError (unhashable) instead of our own error.
    with pytest.raises(UnexpectedResponseError, match="unknown task_status"):
        parse_task({"task_id": "t", "task_status": status}, raw={})

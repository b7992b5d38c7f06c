"""Parsing replies: the contract's shape is read, any other shape is reported as it arrived."""

from __future__ import annotations

import json

import pytest

from tryon_demo.api.models import (
    ResultImage,
    body_snippet,
    parse_task,
    parse_task_list_reply,
    parse_task_reply,
)
from tryon_demo.errors import ApiError, RateLimitError, UnexpectedResponseError

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


def envelope_text(data: object, **fields: object) -> str:
    return json.dumps({"code": 0, "message": "SUCCEED", "request_id": "r1", "data": data, **fields})


def test_a_short_body_is_quoted_whole_and_a_long_one_cut_at_300_characters() -> None:
    assert body_snippet("a  b\n c") == "a b c"
    assert body_snippet("x" * 300) == "x" * 300
    assert body_snippet("x" * 301) == "x" * 300 + "..."


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (401, "HTTP 401 usually means the key was refused."),
        (403, "HTTP 403 usually means the key may not use this service."),
        (404, "HTTP 404 usually means KLING_API_BASE points to the wrong path."),
        (429, "HTTP 429 means too many requests: wait a little."),
        (502, "The gateway could not reach the API: try again shortly."),
        (503, "The service is unavailable: try again shortly."),
        (504, "The gateway timed out: try again shortly."),
    ],
)
def test_a_body_that_is_not_json_says_what_its_status_usually_means(status: int, hint: str) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parse_task_reply(status, "<html>oops</html>")
    assert caught.value.message == (
        f"The API answered HTTP {status} with a body that is not JSON: '<html>oops</html>'. {hint}"
    )
    assert caught.value.http_status == status


def test_a_body_that_is_not_json_on_another_status_gets_no_hint() -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parse_task_reply(500, "oops")
    assert caught.value.message == "The API answered HTTP 500 with a body that is not JSON: 'oops'."


def test_an_unknown_shape_names_the_status_what_arrived_and_a_hint() -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parse_task_reply(404, json.dumps({"detail": "Not Found"}))
    assert caught.value.message == (
        "The API answered HTTP 404 in an unknown format (an object with keys detail), not the "
        "Kling envelope with an integer code. Check KLING_API_BASE. "
        "HTTP 404 usually means KLING_API_BASE points to the wrong path."
    )
    assert caught.value.http_status == 404
    with pytest.raises(UnexpectedResponseError) as caught:
        parse_task_reply(200, json.dumps({"code": True}))
    assert caught.value.message.endswith("integer code. Check KLING_API_BASE.")
    assert caught.value.http_status == 200


def test_an_error_envelope_keeps_the_retry_after_and_only_string_fields() -> None:
    body = {"code": 1302, "message": ["not", "text"], "request_id": 7}
    with pytest.raises(RateLimitError) as caught:
        parse_task_reply(429, json.dumps(body), retry_after=4.0)
    assert (caught.value.retry_after, caught.value.api_message, caught.value.request_id) == (
        4.0,
        None,
        None,
    )
    with pytest.raises(RateLimitError) as caught:
        parse_task_list_reply(429, json.dumps(body), retry_after=5.0)
    assert caught.value.retry_after == 5.0


@pytest.mark.parametrize("status", [199, 300, 404, 500])
def test_code_0_outside_2xx_is_unexpected_and_keeps_what_it_knows(status: int) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parse_task_reply(status, envelope_text({"task_id": "t", "task_status": "submitted"}))
    error = caught.value
    assert error.message == (f"The API answered HTTP {status} with code 0; expected an error code.")
    assert (error.http_status, error.code, error.request_id) == (status, 0, "r1")


def test_code_0_on_299_is_a_task() -> None:
    assert parse_task_reply(299, envelope_text({"task_id": "t", "task_status": "submitted"}))


def test_code_0_without_data_keeps_what_it_knows() -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parse_task_reply(200, json.dumps({"code": 0, "request_id": "r2"}))
    error = caught.value
    assert error.message == "The API answered code 0 without a 'data' field."
    assert (error.http_status, error.code, error.request_id) == (200, 0, "r2")


def test_a_list_reply_that_is_not_a_list_says_what_arrived() -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parse_task_list_reply(200, envelope_text({"task_id": "t"}))
    assert caught.value.message == "Expected a list of tasks, got an object with keys task_id."
    assert caught.value.request_id == "r1"
    with pytest.raises(UnexpectedResponseError) as caught:
        parse_task_list_reply(200, envelope_text("abc"))
    assert caught.value.message == "Expected a list of tasks, got str 'abc'."


def test_each_listed_task_keeps_its_own_object_and_the_lists_request_id() -> None:
    items = [
        {
            "task_id": "a",
            "task_status": "succeed",
            "task_result": {"images": [{"url": "u", "index": 2}]},
        },
        {"task_id": "b", "task_status": "failed", "task_status_msg": "No person."},
    ]
    tasks = parse_task_list_reply(200, envelope_text(items))
    assert [t.raw for t in tasks] == items
    assert [t.request_id for t in tasks] == ["r1", "r1"]
    assert tasks[0].images == (ResultImage("u", 2),)
    assert tasks[1].task_status_msg == "No person."


@pytest.mark.parametrize(
    ("result", "images"),
    [
        (None, ()),
        ({}, ()),
        ("", ()),
        ({"other": 1}, ()),
        ({"images": []}, ()),
        (
            {"images": [{"url": "u1", "index": 0}, {"url": "u2", "index": True}]},
            (ResultImage("u1", 0), ResultImage("u2", None)),
        ),
        ({"images": [{"url": "u", "index": "1"}]}, (ResultImage("u", None),)),
    ],
)
def test_result_images_are_read_leniently(result: object, images: tuple[ResultImage, ...]) -> None:
    data = {"task_id": "t", "task_status": "succeed", "task_result": result}
    assert parse_task(data, raw=data).images == images


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ("not-an-object", "Task t: task_result.images"),
        (
            {"images": {"url": "u"}},
            "Task t: task_result.images is an object with keys url, not a list.",
        ),
        ({"images": [{"url": ""}]}, "Task t: a result image has no url (an object with keys url)."),
        ({"images": [{"url": 5}]}, "Task t: a result image has no url (an object with keys url)."),
        ({"images": ["u"]}, "Task t: a result image has no url (str 'u')."),
    ],
)
def test_result_images_of_the_wrong_shape_say_which_task_and_what_arrived(
    result: object, message: str
) -> None:
    data = {"task_id": "t", "task_status": "succeed", "task_result": result}
    if message == "Task t: task_result.images":  # a string result holds no images at all
        assert parse_task(data, raw=data).images == ()
        return
    with pytest.raises(UnexpectedResponseError) as caught:
        parse_task(data, raw=data, request_id="r5")
    assert caught.value.message == message
    assert caught.value.request_id == "r5"


def test_integers_are_kept_and_booleans_or_text_are_not() -> None:
    data = {"task_id": "t", "task_status": "submitted", "created_at": True, "updated_at": "5"}
    task = parse_task(data, raw=data)
    assert (task.created_at, task.updated_at) == (None, None)


def test_a_long_value_is_described_in_at_most_80_characters() -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parse_task("y" * 200, raw={})
    assert caught.value.message == f"Expected a task object, got str '{'y' * 79}...."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "The task has no task_id (keys: none)."),
        (
            {"task_id": "", "task_status": "submitted"},
            "The task has no task_id (keys: task_id, task_status).",
        ),
        (
            {f"k{n}": n for n in range(13)},
            "The task has no task_id (keys: k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11).",
        ),
        (
            {"task_id": "t", "task_status": "SUCCEED"},
            "Task t has an unknown task_status 'SUCCEED'; expected one of submitted, processing, "
            "succeed, failed.",
        ),
        (["t"], "Expected a task object, got a list of 1 items."),
    ],
)
def test_a_task_of_the_wrong_shape_says_what_arrived_and_keeps_the_request_id(
    data: object, message: str
) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parse_task(data, raw={}, request_id="r7")
    assert caught.value.message == message
    assert caught.value.request_id == "r7"


def test_an_array_holding_the_word_code_is_still_an_unknown_shape() -> None:
    with pytest.raises(UnexpectedResponseError, match=r"unknown format \(a list of 1 items\)"):
        parse_task_reply(200, json.dumps(["code"]))


def test_a_boolean_code_is_reported_with_the_body_it_came_in() -> None:
    with pytest.raises(
        UnexpectedResponseError, match=r"unknown format \(an object with keys code\)"
    ):
        parse_task_reply(200, json.dumps({"code": True}))


@pytest.mark.parametrize("external", ["", 5, None])
def test_an_empty_or_odd_external_task_id_is_left_out(external: object) -> None:
    data = {"task_id": "t", "task_status": "submitted", "task_info": {"external_task_id": external}}
    assert parse_task(data, raw=data).external_task_id is None


def test_a_list_reply_that_is_not_json_keeps_its_status() -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parse_task_list_reply(503, "<html>busy</html>")
    assert caught.value.http_status == 503
    assert caught.value.message.endswith("The service is unavailable: try again shortly.")

"""The error hierarchy: what each API answer becomes, and what an error shows of itself."""

from __future__ import annotations

import pytest

from tryon_demo import errors
from tryon_demo.errors import api_error, redact
from tryon_demo.text.messages import msg, text

SECRET = "sk-FAKE-KEY-0123456789"


def test_redact_replaces_every_occurrence_of_every_secret() -> None:
    text = f"key {SECRET} again {SECRET}, token abcd"
    assert redact(text, (SECRET, "abcd")) == "key *** again ***, token ***"


def test_redact_ignores_missing_and_too_short_secrets() -> None:
    # A 3-character "secret" would star out ordinary words; 4 characters is the least redacted.
    assert redact("the cat sat", (None, "", "cat")) == "the cat sat"
    assert redact("a long word", ("long",)) == "a *** word"


def test_an_error_reads_as_its_message_and_adds_the_request_id_when_there_is_one() -> None:
    plain = errors.TryOnError("Plain words.")
    assert str(plain) == "Plain words."
    assert plain.args == ("Plain words.",)  # what tracebacks, pickling and Gradio read
    error = errors.ApiError("Refused.", request_id="req-7")
    assert str(error) == "Refused. (request_id: req-7)"


def test_an_errors_repr_names_its_class_status_code_and_request_id() -> None:
    error = errors.ServerError("Down.", http_status=500, code=5000, request_id="r1")
    assert repr(error) == "ServerError('Down.', http_status=500, code=5000, request_id='r1')"


def test_to_dict_holds_every_field_for_display() -> None:
    error = errors.RateLimitError(
        "Slow down.",
        http_status=429,
        code=1302,
        api_message="too many",
        request_id="r2",
        retry_after=3.0,
    )
    assert error.to_dict() == {
        "error": "rate_limited",
        "key": "_verbatim",  # a plain sentence, not a catalogue key
        "message": "Slow down.",
        "task_id": None,
        "http_status": 429,
        "code": 1302,
        "api_message": "too many",
        "request_id": "r2",
        "retry_after": 3.0,
    }


@pytest.mark.parametrize(
    ("cls", "kind", "retryable"),
    [
        (errors.TryOnError, "error", False),
        (errors.InputError, "invalid_input", False),
        (errors.ConfigurationError, "configuration", False),
        (errors.ApiError, "api_error", False),
        (errors.AuthenticationError, "authentication", False),
        (errors.PermissionDeniedError, "permission_denied", False),
        (errors.QuotaError, "quota", False),
        (errors.RateLimitError, "rate_limited", True),
        (errors.InvalidRequestError, "invalid_request", False),
        (errors.TaskNotFoundError, "task_not_found", False),
        (errors.ContentPolicyError, "content_policy", False),
        (errors.ServerError, "server_error", True),
        (errors.NetworkError, "network", True),
        (errors.UnexpectedResponseError, "unexpected_response", False),
    ],
)
def test_each_error_has_a_stable_kind_and_says_whether_trying_again_may_help(
    cls: type[errors.TryOnError], kind: str, retryable: bool
) -> None:
    error = cls("x")
    assert (error.kind, error.retryable) == (kind, retryable)


def test_errors_about_one_task_keep_its_id() -> None:
    failed = errors.TaskFailedError("Failed.", task_id="t1", request_id="r")
    timeout = errors.WaitTimeoutError("Late.", task_id="t2", last_status="processing")
    cancelled = errors.CancelledError("Stopped.", task_id="t3")
    image = errors.ImageError("Too small.", field="Person image")
    network = errors.NetworkError("Gone.", may_have_reached_server=False)
    assert (failed.kind, failed.task_id, failed.request_id) == ("task_failed", "t1", "r")
    assert (timeout.kind, timeout.task_id, timeout.last_status) == ("timeout", "t2", "processing")
    assert timeout.retryable
    assert (cancelled.kind, cancelled.task_id, cancelled.retryable) == ("cancelled", "t3", False)
    assert (image.kind, image.field, image.message) == (
        "invalid_image",
        "Person image",
        "Too small.",
    )
    assert not network.may_have_reached_server
    assert errors.NetworkError("Gone.").may_have_reached_server


def test_an_api_error_is_chosen_by_its_code_and_keeps_everything_the_api_said() -> None:
    error = api_error(http_status=400, code=1301, api_message="blocked", request_id="r3")
    assert type(error) is errors.ContentPolicyError
    assert error.message == (
        "The content-safety check refused these images. Try other pictures. API says: blocked"
    )
    assert (error.http_status, error.code, error.api_message, error.request_id) == (
        400,
        1301,
        "blocked",
        "r3",
    )


@pytest.mark.parametrize("api_message", ["SUCCEED", "success", "", None])
def test_an_empty_or_success_word_from_the_api_is_not_repeated(api_message: str | None) -> None:
    error = api_error(http_status=500, code=5000, api_message=api_message, request_id=None)
    assert error.message == "The API had an internal error."


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.InvalidRequestError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.TaskNotFoundError),
        (429, errors.RateLimitError),
        (500, errors.ServerError),
        (503, errors.ServerError),
        (418, errors.ApiError),
        (499, errors.ApiError),
    ],
)
def test_an_unknown_code_is_judged_by_the_http_status(
    status: int, cls: type[errors.ApiError]
) -> None:
    error = api_error(http_status=status, code=9999, api_message=None, request_id=None)
    assert type(error) is cls
    assert error.message.startswith(f"The API answered with an error (HTTP {status}, code 9999).")


def test_a_missing_code_is_judged_by_the_http_status_too() -> None:
    error = api_error(http_status=401, code=None, api_message="no", request_id=None)
    assert type(error) is errors.AuthenticationError
    assert error.message == "The API answered with an error (HTTP 401, code None). API says: no"


@pytest.mark.parametrize(
    ("retry_after", "said"), [(None, "1"), (0.2, "1"), (1.0, "1"), (2.5, "2.5"), (30.0, "30")]
)
def test_a_rate_limit_says_when_to_try_again_never_sooner_than_one_second(
    retry_after: float | None, said: str
) -> None:
    error = api_error(
        http_status=429, code=1303, api_message=None, request_id=None, retry_after=retry_after
    )
    assert error.message == (
        f"Too many tasks are running for this account's plan. Try again in {said} s."
    )
    assert error.retry_after == retry_after


def test_only_rate_limits_name_a_time_to_try_again() -> None:
    error = api_error(http_status=500, code=5001, api_message=None, request_id=None, retry_after=9)
    assert "Try again in" not in error.message


def test_naming_the_task_adds_its_id_once_in_every_language() -> None:
    error = errors.ServerError(msg("client.enter_task_id"))
    assert error.with_task_id("t-9") is error
    error.with_task_id("t-9")  # a second time adds nothing
    assert error.message == "Enter a task id. Task id: t-9."
    assert str(error) == error.message and error.args == (error.message,)
    assert error.task_id == "t-9"
    assert error.render("zh") == text("client.enter_task_id", "zh") + "任务 ID：t-9。"


def test_naming_no_task_changes_nothing_and_a_first_id_is_kept() -> None:
    error = errors.NetworkError("Gone.", task_id="t-1")
    assert error.with_task_id(None).message == "Gone."
    assert error.with_task_id("t-2").task_id == "t-1"  # the id the error was made with stays
    assert errors.NetworkError("Gone.").task_id is None
    assert errors.ImageError("Too small.").field is None


def test_an_own_key_error_keeps_its_values_and_drops_the_owners_settings() -> None:
    from tryon_demo.errors import NetworkError, for_own_key
    from tryon_demo.text.messages import Msg, msg

    error = NetworkError(
        Msg.join(
            [
                msg("network.failed", host="api.example", what=msg("network.refused")),
                msg("network.check"),
            ]
        )
    )
    told = for_own_key(error)
    assert told is error
    for lang in ("en", "zh"):
        assert "KLING_" not in told.render(lang)
        assert "api.example" in told.render(lang)
    assert "KLING_" not in str(told.to_dict())

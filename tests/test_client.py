"""The API client against the simulator on loopback: every status and every error path."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable

import pytest
import requests

from tests.conftest import FAKE_KEY, StartSimulator, fast_client
from tests.fake_api import FakeApi, Reply, Seen, envelope, task_data
from tryon_demo import errors
from tryon_demo.api.auth import BearerAuth, JwtAuth, make_jwt
from tryon_demo.api.client import TryOnClient, raise_for_failed, wait_timeout_error
from tryon_demo.api.models import Task
from tryon_demo.settings import Settings
from tryon_demo.simulator import Faults, SimulatorConfig, SimulatorServer
from tryon_demo.simulator.app import CONTRACT_ERRORS


def test_submit_returns_the_created_task_with_the_raw_envelope(
    client: TryOnClient, person_b64: str, garment_b64: str
) -> None:
    task = client.submit(person_b64, garment_b64, "kolors-virtual-try-on-v1-5")
    assert task.task_status == "submitted"
    assert task.raw["code"] == 0
    assert task.raw["message"] == "SUCCEED"
    assert task.request_id == task.raw["request_id"]
    assert isinstance(task.created_at, int) and task.created_at > 1_700_000_000_000


def test_wait_yields_each_status_change_until_succeed(
    client: TryOnClient, person_b64: str, garment_b64: str
) -> None:
    task = client.submit(person_b64, garment_b64)
    statuses = [t.task_status for t in client.wait(task.task_id)]
    assert statuses == ["submitted", "processing", "succeed"]


def test_a_succeeded_task_points_to_a_result_image_the_simulator_serves(
    client: TryOnClient, person_b64: str, garment_b64: str
) -> None:
    task = client.wait_for_result(client.submit(person_b64, garment_b64).task_id)
    assert task.images[0].index == 0
    response = requests.get(task.result_url or "", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"


def test_a_failed_task_ends_the_wait_and_raises_task_failed_with_the_reason(
    start_simulator: StartSimulator, person_b64: str, garment_b64: str
) -> None:
    server = start_simulator(faults=Faults(fail_share=1.0, fail_message="No person found"))
    with fast_client(server) as api:
        task = api.submit(person_b64, garment_b64)
        assert [t.task_status for t in api.wait(task.task_id)][-1] == "failed"
        with pytest.raises(errors.TaskFailedError, match="No person found") as caught:
            api.wait_for_result(task.task_id)
    assert caught.value.task_id == task.task_id


def test_get_an_unknown_task_raises_not_found_with_the_request_id(client: TryOnClient) -> None:
    with pytest.raises(errors.TaskNotFoundError) as caught:
        client.get("no-such-task")
    assert caught.value.http_status == 404
    assert caught.value.code == 1203
    assert caught.value.request_id
    assert caught.value.request_id in str(caught.value)


def test_list_returns_this_keys_tasks_newest_first(
    client: TryOnClient, person_b64: str, garment_b64: str
) -> None:
    first = client.submit(person_b64, garment_b64)
    second = client.submit(person_b64, garment_b64)
    assert [t.task_id for t in client.list()] == [second.task_id, first.task_id]
    assert [t.task_id for t in client.list(page_num=2, page_size=1)] == [first.task_id]


@pytest.mark.parametrize("code", sorted(CONTRACT_ERRORS))
def test_every_contract_error_code_reaches_the_caller_as_the_right_exception(
    start_simulator: StartSimulator, code: int, person_b64: str, garment_b64: str
) -> None:
    expected = {
        range(1000, 1005): errors.AuthenticationError,
        range(1100, 1103): errors.QuotaError,
        range(1103, 1104): errors.PermissionDeniedError,
        range(1200, 1203): errors.InvalidRequestError,
        range(1203, 1204): errors.TaskNotFoundError,
        range(1300, 1302): errors.ContentPolicyError,
        range(1302, 1304): errors.RateLimitError,
        range(1304, 1305): errors.PermissionDeniedError,
        range(5000, 5003): errors.ServerError,
    }
    cls = next(c for r, c in expected.items() if code in r)
    server = start_simulator(faults=Faults(error_code=code, applies_to="create"))
    with fast_client(server) as api, pytest.raises(cls) as caught:
        api.submit(person_b64, garment_b64)
    error = caught.value
    assert type(error) is cls
    assert (error.http_status, error.code) == (CONTRACT_ERRORS[code][0], code)
    assert error.api_message and "simulated" in error.api_message
    assert error.request_id
    assert len(error.message) > 20  # a sentence a person can act on, not a bare code


def test_quota_errors_arrive_as_429_but_are_not_mistaken_for_rate_limits(
    start_simulator: StartSimulator, person_b64: str, garment_b64: str
) -> None:
    server = start_simulator(faults=Faults(error_code=1102, applies_to="create"))
    with fast_client(server) as api, pytest.raises(errors.QuotaError) as caught:
        api.submit(person_b64, garment_b64)
    assert not caught.value.retryable
    assert "credits" in caught.value.message


def test_a_rate_limit_error_says_when_to_try_again(
    start_simulator: StartSimulator, person_b64: str, garment_b64: str
) -> None:
    server = start_simulator(faults=Faults(rate_limit_share=1.0, applies_to="create"))
    with (
        fast_client(server) as api,
        pytest.raises(errors.RateLimitError, match=r"Try again in 1 s"),
    ):
        api.submit(person_b64, garment_b64)


def test_a_create_is_never_sent_twice_even_on_a_retryable_error(
    start_simulator: StartSimulator, person_b64: str, garment_b64: str
) -> None:
    server = start_simulator(faults=Faults(error_code=5002, applies_to="create"))
    with (
        fast_client(server, get_retries=5) as api,
        pytest.raises(errors.ServerError, match="created anyway"),
    ):
        api.submit(person_b64, garment_b64)
    assert server.simulator.creates_received == 1


@pytest.mark.parametrize(
    "faults",
    [
        Faults(rate_limit_share=0.5, applies_to="query", seed=3),
        Faults(server_error_share=0.5, applies_to="query", seed=3),
        Faults(malformed_share=0.5, applies_to="query", seed=3),
    ],
    ids=["429-1302", "500-5000", "non-json-502"],
)
def test_queries_are_retried_through_transient_failures(
    start_simulator: StartSimulator, faults: Faults, person_b64: str, garment_b64: str
) -> None:
    server = start_simulator(faults=faults)
    with fast_client(server, get_retries=8) as api:
        task = api.submit(person_b64, garment_b64)
        assert api.wait_for_result(task.task_id).task_status == "succeed"
    assert server.simulator.faults_fired >= 1


def test_queries_give_up_after_the_configured_retries(start_simulator: StartSimulator) -> None:
    server = start_simulator(faults=Faults(server_error_share=1.0, applies_to="query"))
    with fast_client(server, get_retries=2) as api, pytest.raises(errors.ServerError):
        api.get("anything")
    assert server.simulator.requests_seen == 3


def test_a_non_json_reply_is_an_unexpected_response_keeping_status_and_body(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator(faults=Faults(malformed_share=1.0))
    with (
        fast_client(server, get_retries=0) as api,
        pytest.raises(errors.UnexpectedResponseError) as caught,
    ):
        api.get("anything")
    assert caught.value.http_status == 502
    assert "502 Bad Gateway" in caught.value.message
    assert "not JSON" in caught.value.message


def test_a_reply_slower_than_the_read_timeout_is_a_network_error_that_warns_about_duplicates(
    start_simulator: StartSimulator, person_b64: str, garment_b64: str
) -> None:
    server = start_simulator(faults=Faults(latency=1.0))
    with fast_client(server, read_timeout=0.2) as api, pytest.raises(errors.NetworkError) as caught:
        api.submit(person_b64, garment_b64)
    assert "did not answer within 0.2 s" in caught.value.message
    assert "may have been created anyway" in caught.value.message
    assert caught.value.may_have_reached_server


def test_an_unreachable_api_is_a_network_error_that_says_nothing_was_sent(
    person_b64: str, garment_b64: str
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/kling"
    with (
        TryOnClient(url, BearerAuth(FAKE_KEY), get_retries=0) as api,
        pytest.raises(errors.NetworkError) as caught,
    ):
        api.submit(person_b64, garment_b64)
    assert not caught.value.may_have_reached_server
    assert "could not be reached" in caught.value.message


def test_a_task_that_never_finishes_ends_in_a_wait_timeout(
    start_simulator: StartSimulator, person_b64: str, garment_b64: str
) -> None:
    server = start_simulator(faults=Faults(never_finish=True))
    with fast_client(server, wait_timeout=0.5) as api:
        task = api.submit(person_b64, garment_b64)
        with pytest.raises(
            errors.WaitTimeoutError, match=r"still processing after 0\.5 s"
        ) as caught:
            list(api.wait(task.task_id))
    assert caught.value.task_id == task.task_id


def test_cancel_stops_waiting_at_once(
    simulator: SimulatorServer, person_b64: str, garment_b64: str
) -> None:
    # Polls a minute apart: only cancelling the pause itself can end the wait early.
    with fast_client(simulator, poll_interval=60, poll_max_interval=60) as api:
        task = api.submit(person_b64, garment_b64)
        cancel = threading.Event()
        outcome: list[BaseException] = []

        def follow() -> None:
            try:
                for _ in api.wait(task.task_id, cancel=cancel):
                    cancel.set()  # pressed while the first status is on screen
            except errors.CancelledError as exc:
                outcome.append(exc)

        waiter = threading.Thread(target=follow)
        waiter.start()
        waiter.join(timeout=30)  # far below the 60 s pause: no race with a busy machine
        assert not waiter.is_alive()
    assert len(outcome) == 1
    assert str(outcome[0]) == (
        f"Stopped waiting for task {task.task_id}; it keeps running at the API."
    )
    assert outcome[0].task_id == task.task_id  # type: ignore[attr-defined]


def test_the_client_refuses_an_unknown_model_before_sending(client: TryOnClient) -> None:
    with pytest.raises(errors.InputError, match="Unknown model 'kolors-v9'"):
        client.submit("https://a.example/p.jpg", "https://a.example/c.jpg", "kolors-v9")


def test_the_client_refuses_a_data_prefix_before_sending(client: TryOnClient) -> None:
    with pytest.raises(errors.InputError, match="without a 'data:"):
        client.submit("data:image/jpeg;base64,AAAA", "https://a.example/c.jpg")


def test_a_wrong_key_is_an_authentication_error_that_does_not_repeat_the_key(
    start_simulator: StartSimulator, person_b64: str, garment_b64: str
) -> None:
    server = start_simulator(api_keys=frozenset({"sk-the-right-one"}), task_seconds=0.5)
    with fast_client(server) as api, pytest.raises(errors.AuthenticationError) as caught:
        api.submit(person_b64, garment_b64)
    error = caught.value
    assert error.code == 1002
    for text in (str(error), repr(error), str(error.to_dict()), repr(api), repr(api._session.auth)):
        assert FAKE_KEY not in text


def test_official_keys_sign_a_jwt_that_the_official_path_accepts(
    start_simulator: StartSimulator, person_b64: str, garment_b64: str
) -> None:
    server = start_simulator(jwt_secrets={"ak-1": "secret-1"}, task_seconds=0.5)
    with TryOnClient(server.url, JwtAuth("ak-1", "secret-1")) as api:
        assert api.submit(person_b64, garment_b64).task_status == "submitted"


def test_an_expired_jwt_is_reported_as_expired(
    start_simulator: StartSimulator, person_b64: str, garment_b64: str
) -> None:
    server = start_simulator(jwt_secrets={"ak-1": "secret-1"}, task_seconds=0.5)
    stale = make_jwt("ak-1", "secret-1", now=time.time() - 3600)
    with (
        TryOnClient(server.url, BearerAuth(stale)) as api,
        pytest.raises(errors.AuthenticationError) as caught,
    ):
        api.submit(person_b64, garment_b64)
    assert caught.value.code == 1004


def test_a_jwt_signed_with_the_wrong_secret_is_invalid(
    start_simulator: StartSimulator, person_b64: str, garment_b64: str
) -> None:
    server = start_simulator(jwt_secrets={"ak-1": "secret-1"}, task_seconds=0.5)
    with (
        TryOnClient(server.url, JwtAuth("ak-1", "wrong")) as api,
        pytest.raises(errors.AuthenticationError) as caught,
    ):
        api.submit(person_b64, garment_b64)
    assert caught.value.code == 1002


def test_the_jwt_is_cached_until_shortly_before_expiry() -> None:
    auth = JwtAuth("ak", "sk")
    first = auth.token(now=1_000_000)
    assert auth.token(now=1_000_000 + 1000) == first
    assert auth.token(now=1_000_000 + 1600) != first


def test_the_server_error_after_create_timeout_names_the_duplicate_risk() -> None:
    assert (
        "created anyway"
        in errors.api_error(
            http_status=504, code=5002, api_message="timeout", request_id="r1"
        ).message
    )


def test_one_session_reuses_its_connection_across_polls(
    simulator: SimulatorServer, person_b64: str, garment_b64: str
) -> None:
    with fast_client(simulator) as api:
        task = api.submit(person_b64, garment_b64)
        list(api.wait(task.task_id))
        pool = api._session.get_adapter(api.base_url).poolmanager
        assert len(pool.pools) == 1


def test_a_simulator_with_official_paths_answers_the_same_as_the_gateway_paths(
    start_simulator: StartSimulator, person_b64: str, garment_b64: str
) -> None:
    server: SimulatorServer = start_simulator(SimulatorConfig(task_seconds=0.3))
    with TryOnClient(server.url, BearerAuth(FAKE_KEY), poll_interval=0.05) as api:
        task = api.submit(person_b64, garment_b64)
        assert api.wait_for_result(task.task_id).task_status == "succeed"


def test_a_create_never_meets_a_kept_alive_connection_the_server_just_closed() -> None:
    # A pooled connection the server closes just as a request goes out fails with no reply,
    # which for a create means "may have been created" though nothing was. So every create goes
    # on a connection of its own, closed after the reply, while queries keep theirs.
    def answer(seen: Seen) -> Reply:
        return Reply.json(200, envelope(task_data(f"t-{len(api.seen)}")))

    with FakeApi(answer) as api, fast_client_for(api.url) as client:
        for _ in range(3):
            client.get(client.submit("https://a.example/p.jpg", "https://a.example/c.jpg").task_id)
    creates = [seen for seen in api.seen if seen.method == "POST"]
    queries = [seen for seen in api.seen if seen.method == "GET"]
    assert len(creates) == 3 and len(queries) == 3
    assert all(seen.headers["connection"] == "close" for seen in creates)
    others = {seen.connection for seen in queries}
    assert len({seen.connection for seen in creates} | others) == 3 + len(others)
    assert len(others) == 1  # queries reuse one kept-alive connection


def fast_client_for(url: str, **options: object) -> TryOnClient:
    return TryOnClient(url, BearerAuth(FAKE_KEY), secrets=(FAKE_KEY,), **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_queries_are_retried_through_a_gateways_html_error_page(status: int) -> None:
    def answer(seen: Seen) -> Reply:
        if len(api.seen) <= 2:
            return Reply.html(status, f"<html><h1>{status} Gateway trouble</h1></html>")
        return Reply.json(200, envelope(task_data("t-1", "succeed")))

    with FakeApi(answer) as api, fast_client_for(api.url, backoff_base=0.01) as client:
        assert client.get("t-1").task_status == "succeed"
    assert len(api.seen) == 3


@pytest.mark.parametrize("status", [500, 400, 404])
def test_other_html_error_pages_are_not_retried(status: int) -> None:
    def answer(seen: Seen) -> Reply:
        return Reply.html(status, f"<html><h1>{status}</h1></html>")

    with (
        FakeApi(answer) as api,
        fast_client_for(api.url, backoff_base=0.01) as client,
        pytest.raises(errors.UnexpectedResponseError, match=f"HTTP {status}"),
    ):
        client.get("t-1")
    assert len(api.seen) == 1


def test_poll_pauses_grow_by_a_quarter_up_to_the_maximum() -> None:
    api = TryOnClient("http://127.0.0.1:9", poll_interval=1.0, poll_max_interval=2.0)
    pauses = api.poll_pauses()
    assert [next(pauses) for _ in range(6)] == [1.0, 1.25, 1.5625, 1.953125, 2.0, 2.0]


def test_a_query_retry_waits_at_least_the_apis_retry_after() -> None:
    slept: list[float] = []
    answer = rate_limited_once("7", then=Reply.json(200, envelope(task_data("t-1"))))
    with FakeApi(answer) as api, fast_client_for(api.url, sleep=slept.append) as client:
        client.get("t-1")
    assert slept == [7.0]


def always(reply: Reply) -> Callable[[Seen], Reply]:
    return lambda seen: reply


def rate_limited_once(retry_after: str, then: Reply) -> Callable[[Seen], Reply]:
    """A 429 with ``Retry-After`` for the first request, ``then`` for every later one."""
    answered: list[Seen] = []

    def answer(seen: Seen) -> Reply:
        answered.append(seen)
        if len(answered) == 1:
            return Reply.json(
                429, envelope(None, code=1302, message="slow"), **{"Retry-After": retry_after}
            )
        return then

    return answer


@pytest.mark.parametrize(
    ("header", "retry_after"), [("2.5", 2.5), ("0", 0.0), ("-3", 0.0), ("soon", None), ("", None)]
)
def test_the_apis_retry_after_is_read_from_its_header(
    header: str, retry_after: float | None
) -> None:
    reply = Reply.json(429, envelope(None, code=1302, message="slow"), **{"Retry-After": header})
    with (
        FakeApi(always(reply)) as api,
        fast_client_for(api.url) as client,
        pytest.raises(errors.RateLimitError) as caught,
    ):
        client.submit("https://a.example/p.jpg", "https://a.example/c.jpg")
    assert caught.value.retry_after == retry_after


def test_query_retries_back_off_exponentially_up_to_the_maximum() -> None:
    slept: list[float] = []
    reply = Reply.json(500, envelope(None, code=5000, message="down"))
    with (
        FakeApi(always(reply)) as api,
        fast_client_for(
            api.url, get_retries=4, backoff_base=1.0, backoff_max=3.0, sleep=slept.append
        ) as client,
        pytest.raises(errors.ServerError),
    ):
        client.list()
    assert slept == [1.0, 2.0, 3.0, 3.0]
    assert len(api.seen) == 5


def test_requests_name_the_app_and_its_version() -> None:
    reply = Reply.json(200, envelope([]))
    with FakeApi(always(reply)) as api, fast_client_for(api.url) as client:
        client.list()
    assert api.seen[0].headers["user-agent"] == "kolors-tryon-studio/0.1.0"


def test_list_sends_its_page_and_stays_within_the_contracts_bounds() -> None:
    reply = Reply.json(200, envelope([]))
    with FakeApi(always(reply)) as api, fast_client_for(api.url) as client:
        assert client.list(page_num=1000, page_size=500) == []
        assert client.list() == []
        for page_num, page_size in ((0, 30), (1001, 30), (1, 0), (1, 501)):
            with pytest.raises(errors.InputError, match=r"^page_num must be 1\.\.1000"):
                client.list(page_num=page_num, page_size=page_size)
    assert [seen.path for seen in api.seen] == [
        "/v1/images/kolors-virtual-try-on?pageNum=1000&pageSize=500",
        "/v1/images/kolors-virtual-try-on?pageNum=1&pageSize=30",
    ]


def test_a_task_id_is_trimmed_and_one_that_could_change_the_path_is_never_sent() -> None:
    reply = Reply.json(200, envelope(task_data("Ab-1_c")))
    with FakeApi(always(reply)) as api, fast_client_for(api.url) as client:
        client.get("  Ab-1_c ")
        with pytest.raises(errors.InputError, match=r"^Enter a task id\.$"):
            client.get("   ")
        with pytest.raises(errors.InputError, match="not a task id"):
            client.get("a/b")
    assert [seen.path for seen in api.seen] == ["/v1/images/kolors-virtual-try-on/Ab-1_c"]


def test_a_create_body_holds_the_optional_fields_only_when_given() -> None:
    body = TryOnClient.create_body(
        "https://a.example/p.jpg",
        "https://a.example/c.jpg",
        "kolors-virtual-try-on-v1-5",
        callback_url="https://hooks.example/k",
        external_task_id="mine-1",
    )
    assert body == {
        "model_name": "kolors-virtual-try-on-v1-5",
        "human_image": "https://a.example/p.jpg",
        "cloth_image": "https://a.example/c.jpg",
        "callback_url": "https://hooks.example/k",
        "external_task_id": "mine-1",
    }
    assert TryOnClient.create_body("x1", "y1") == {
        "model_name": "kolors-virtual-try-on-v1",
        "human_image": "x1",
        "cloth_image": "y1",
    }


@pytest.mark.parametrize("url", ["ftp://hooks.example/k", "https:///k", "hooks.example/k"])
def test_a_callback_that_is_not_an_http_address_is_refused(url: str) -> None:
    with pytest.raises(errors.InputError) as caught:
        TryOnClient.create_body("x1", "y1", callback_url=url)
    assert caught.value.message == f"The callback URL must be an http(s) address, not {url!r}."


@pytest.mark.parametrize("missing", ["human_image", "cloth_image"])
def test_a_missing_image_is_refused_by_name(missing: str) -> None:
    images = {"human_image": "x1", "cloth_image": "y1", missing: ""}
    with pytest.raises(errors.InputError) as caught:
        TryOnClient.create_body(images["human_image"], images["cloth_image"])
    assert caught.value.message == f"{missing} is required: an http(s) URL or raw base64."


def test_without_a_base_url_no_client_is_made() -> None:
    with pytest.raises(errors.InputError, match=r"^No API base URL: configure a key"):
        TryOnClient.from_settings(Settings())


def test_settings_configure_the_client() -> None:
    settings = Settings(
        api_key="sk-x",
        api_base="http://127.0.0.1:9/kling/",
        connect_timeout=3,
        read_timeout=7,
        get_retries=5,
        poll_interval=0.5,
        poll_max_interval=4,
        wait_timeout=99,
    )
    with TryOnClient.from_settings(settings) as client:
        assert client.endpoint == "http://127.0.0.1:9/kling/v1/images/kolors-virtual-try-on"
        assert client.timeout == (3, 7)
        assert (client.get_retries, client.poll_interval, client.poll_max_interval) == (5, 0.5, 4)
        assert client.wait_timeout == 99
        assert "sk-x" in client._secrets
        assert repr(client) == "TryOnClient(base_url='http://127.0.0.1:9/kling')"


def test_an_unreachable_api_names_its_host_and_what_to_check() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        TryOnClient(f"http://127.0.0.1:{port}/kling", get_retries=0) as api,
        pytest.raises(errors.NetworkError) as caught,
    ):
        api.get("t-1")
    assert caught.value.message == (
        "The API at 127.0.0.1 could not be reached (connection refused or no network). "
        "Check the network connection and KLING_API_BASE, then try again."
    )


def test_a_slow_query_times_out_without_a_duplicate_warning(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator(faults=Faults(latency=1.0))
    with (
        fast_client(server, read_timeout=0.2, get_retries=0) as api,
        pytest.raises(errors.NetworkError) as caught,
    ):
        api.get("t-1")
    assert caught.value.message == (
        "The API at 127.0.0.1 did not answer within 0.2 s. "
        "Check the network connection and KLING_API_BASE, then try again."
    )


def test_a_failed_task_without_a_reason_says_so_and_keeps_the_request_id() -> None:
    task = Task(task_id="t-9", task_status="failed", request_id="r-9")
    with pytest.raises(errors.TaskFailedError) as caught:
        raise_for_failed(task)
    assert caught.value.message == "Task t-9 failed: The API gave no reason."
    assert (caught.value.task_id, caught.value.request_id) == ("t-9", "r-9")
    raise_for_failed(Task(task_id="t", task_status="succeed"))  # anything else passes


def test_the_wait_limit_error_says_what_to_do_and_keeps_the_last_status() -> None:
    error = wait_timeout_error("t-1", "processing", 2.5)
    assert error.message == (
        "Task t-1 was still processing after 2.5 s. It may still finish: query it again later "
        "with its task id."
    )
    assert (error.task_id, error.last_status) == ("t-1", "processing")


def test_wait_for_result_honours_its_own_timeout_and_cancel(
    start_simulator: StartSimulator, person_b64: str, garment_b64: str
) -> None:
    server = start_simulator(faults=Faults(never_finish=True))
    with fast_client(server, wait_timeout=600) as api:
        task = api.submit(person_b64, garment_b64)
        with pytest.raises(errors.WaitTimeoutError, match=r"after 0\.3 s"):
            api.wait_for_result(task.task_id, timeout=0.3)
        cancel = threading.Event()
        cancel.set()
        with pytest.raises(errors.CancelledError):
            api.wait_for_result(task.task_id, cancel=cancel)


def test_a_cancel_event_that_is_never_set_does_not_stop_the_polling(
    client: TryOnClient, person_b64: str, garment_b64: str
) -> None:
    task = client.submit(person_b64, garment_b64)
    done = client.wait_for_result(task.task_id, cancel=threading.Event())
    assert done.task_status == "succeed"


def test_no_task_id_is_refused_before_sending(client: TryOnClient) -> None:
    with pytest.raises(errors.InputError, match=r"^Enter a task id\.$"):
        client.get(None)  # type: ignore[arg-type]


def test_each_query_retry_is_logged_with_its_pause(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tryon_demo.api.client")
    reply = Reply.json(500, envelope(None, code=5000, message="down"))
    with (
        FakeApi(always(reply)) as api,
        fast_client_for(api.url, get_retries=1, sleep=lambda _: None) as client,
        pytest.raises(errors.ServerError),
    ):
        client.get("t-1")
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.INFO] == [
        "retrying in 1.0 s after ServerError"
    ]


def test_submit_sends_the_callback_and_external_id_and_the_settings_key() -> None:
    reply = Reply.json(200, envelope(task_data()))
    settings = Settings(api_key="sk-from-settings", api_base="http://127.0.0.1:9")
    with (
        FakeApi(always(reply)) as api,
        TryOnClient.from_settings(settings, base_url=api.url) as client,
    ):
        client.submit("x1", "y1", callback_url="http://hooks.example/k", external_task_id="e-1")
    (seen,) = api.seen
    assert json.loads(seen.body) == {
        "model_name": "kolors-virtual-try-on-v1",
        "human_image": "x1",
        "cloth_image": "y1",
        "callback_url": "http://hooks.example/k",
        "external_task_id": "e-1",
    }
    assert seen.headers["authorization"] == "Bearer sk-from-settings"


def test_an_unknown_model_lists_the_models_to_choose_from() -> None:
    with pytest.raises(errors.InputError) as caught:
        TryOnClient.create_body("x1", "y1", "kolors-v9")
    assert caught.value.message == (
        "Unknown model 'kolors-v9'; choose one of: kolors-virtual-try-on-v1, "
        "kolors-virtual-try-on-v1-5."
    )


def test_a_task_id_that_is_not_text_is_refused_before_sending() -> None:
    reply = Reply.json(200, envelope(task_data("12345")))
    with (
        FakeApi(always(reply)) as api,
        fast_client_for(api.url) as client,
        pytest.raises(errors.InputError, match=r"^Enter a task id\.$"),
    ):
        client.get(12345)  # type: ignore[arg-type]
    assert api.seen == []


@pytest.mark.parametrize("name", ["human_image", "cloth_image"])
def test_a_data_prefix_is_refused_naming_the_image_that_has_it(name: str) -> None:
    images = {"human_image": "x1", "cloth_image": "y1", name: "data:image/png;base64,AAAA"}
    with pytest.raises(errors.InputError) as caught:
        TryOnClient.create_body(**images)
    assert caught.value.message == (
        f"{name} must be raw base64 without a 'data:...;base64,' prefix."
    )


def test_a_refused_callback_url_is_quoted_only_up_to_80_characters() -> None:
    url = "ftp://" + "a" * 74 + "b" * 100  # the 81st character is the first "b"
    with pytest.raises(errors.InputError) as caught:
        TryOnClient.create_body("x1", "y1", callback_url=url)
    assert caught.value.message == (
        f"The callback URL must be an http(s) address, not {url[:80]!r}."
    )


def test_the_wait_ends_at_its_limit_without_pausing_past_it_or_querying_again() -> None:
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        assert seconds <= 0.5, "paused past the wait limit"  # ends the test at once if so
        time.sleep(seconds)

    reply = Reply.json(200, envelope(task_data("t-1", "processing")))
    with (
        FakeApi(always(reply)) as api,
        fast_client_for(api.url, poll_interval=30, poll_max_interval=30, sleep=sleep) as client,
        pytest.raises(errors.WaitTimeoutError) as caught,
    ):
        list(client.wait("t-1", timeout=0.5))
    assert len(api.seen) == 1  # no query sent once the limit was reached
    assert len(pauses) == 1 and 0 < pauses[0] <= 0.5
    assert caught.value.message == (
        "Task t-1 was still processing after 0.5 s. It may still finish: query it again later "
        "with its task id."
    )
    assert (caught.value.task_id, caught.value.last_status) == ("t-1", "processing")


def test_a_query_retry_that_would_outlast_the_wait_limit_is_not_attempted() -> None:
    pauses: list[float] = []
    reply = Reply.json(429, envelope(None, code=1302, message="slow"), **{"Retry-After": "30"})
    with (
        FakeApi(always(reply)) as api,
        fast_client_for(api.url, sleep=pauses.append) as client,
        pytest.raises(errors.RateLimitError) as caught,
    ):
        list(client.wait("t-1", timeout=5))
    assert pauses == []  # a 30 s pause would end after the 5 s limit
    assert len(api.seen) == 1
    assert caught.value.task_id == "t-1"


def test_a_query_retry_that_fits_in_the_wait_limit_is_attempted() -> None:
    pauses: list[float] = []
    answer = rate_limited_once("0.2", then=Reply.json(200, envelope(task_data("t-1", "succeed"))))
    with FakeApi(answer) as api, fast_client_for(api.url, sleep=pauses.append) as client:
        assert [t.task_status for t in client.wait("t-1", timeout=5)] == ["succeed"]
    assert pauses == [1.0]  # the first back-off step, longer than the API's 0.2 s
    assert len(api.seen) == 2


def test_the_wait_limit_error_names_the_status_in_the_readers_language() -> None:
    error = wait_timeout_error("t-1", "processing", 2.5)
    assert "仍为处理中" in error.render("zh")
    unknown = wait_timeout_error("t-1", "queued-at-gateway", 2.5)  # not a contract status
    assert "still queued-at-gateway after 2.5 s" in unknown.message
    assert "仍为queued-at-gateway" in unknown.render("zh")


def test_an_api_that_never_accepts_the_connection_is_a_connect_timeout_that_created_nothing(
    person_b64: str,
    garment_b64: str,
) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        # Fill the listener's one-place queue: the kernel then ignores further connects.
        queued = socket.create_connection(("127.0.0.1", port), timeout=5)
        with (
            queued,
            TryOnClient(f"http://127.0.0.1:{port}", connect_timeout=0.3) as api,
            pytest.raises(errors.NetworkError) as caught,
        ):
            api.submit(person_b64, garment_b64)
    assert caught.value.message == (
        "The API at 127.0.0.1 could not be reached within 0.3 s. "
        "Check the network connection and KLING_API_BASE, then try again."
    )
    assert not caught.value.may_have_reached_server


def test_a_create_dropped_after_connecting_may_have_created_the_task(
    start_simulator: StartSimulator, person_b64: str, garment_b64: str
) -> None:
    server = start_simulator(faults=Faults(drop_share=1.0, applies_to="create"))
    with fast_client(server) as api, pytest.raises(errors.NetworkError) as caught:
        api.submit(person_b64, garment_b64)
    assert caught.value.message == (
        "The API at 127.0.0.1 dropped the connection before answering. The task may have been "
        "created anyway: check the task list before submitting again."
    )
    assert caught.value.may_have_reached_server
    assert caught.value.task_id is None


def test_a_query_dropped_after_connecting_says_so_without_a_duplicate_warning(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator(faults=Faults(drop_share=1.0, applies_to="query"))
    with fast_client(server, get_retries=0) as api, pytest.raises(errors.NetworkError) as caught:
        api.get("t-1")
    assert caught.value.message == (
        "The API at 127.0.0.1 dropped the connection before answering. "
        "Check the network connection and KLING_API_BASE, then try again."
    )


@pytest.mark.parametrize(
    "content_type",
    ["", "text/plain", "application/json; charset=klingon", "application/json; charset=utf-8"],
    ids=["none", "text-without-charset", "unknown-charset", "utf-8"],
)
def test_a_reply_is_read_as_utf8_unless_it_declares_a_known_charset(content_type: str) -> None:
    body = json.dumps(
        envelope(task_data("t-1", "failed", task_status_msg="未检测到人像")), ensure_ascii=False
    )
    headers = {"Content-Type": content_type} if content_type else {}
    with (
        FakeApi(always(Reply(200, body.encode(), headers))) as api,
        fast_client_for(api.url) as client,
    ):
        assert client.get("t-1").task_status_msg == "未检测到人像"


def test_a_reply_in_a_declared_charset_is_read_in_it() -> None:
    body = json.dumps(
        envelope(task_data("t-1", "failed", task_status_msg="未检测到人像")), ensure_ascii=False
    )
    reply = Reply(200, body.encode("gbk"), {"Content-Type": "application/json; charset=GBK"})
    with FakeApi(always(reply)) as api, fast_client_for(api.url) as client:
        assert client.get("t-1").task_status_msg == "未检测到人像"


def test_a_client_made_with_no_options_has_the_documented_defaults() -> None:
    api = TryOnClient("http://127.0.0.1:9/kling/")
    assert api.endpoint == "http://127.0.0.1:9/kling/v1/images/kolors-virtual-try-on"
    assert api.timeout == (10.0, 60.0)
    assert api.request_deadline == 70.0  # connect + read: a trickling reply ends there
    assert (api.get_retries, api.backoff_base, api.backoff_max) == (3, 1.0, 8.0)
    assert (api.poll_interval, api.poll_max_interval, api.wait_timeout) == (1.0, 5.0, 300.0)
    assert TryOnClient("http://127.0.0.1:9", request_deadline=2.5).request_deadline == 2.5


def test_a_reply_that_is_not_valid_text_is_an_unexpected_response_not_a_crash() -> None:
    reply = Reply(502, b"\xff\xfe\xfa gateway \xc3", {"Content-Type": "text/html"})
    with (
        FakeApi(always(reply)) as api,
        fast_client_for(api.url, get_retries=0) as client,
        pytest.raises(errors.UnexpectedResponseError, match="HTTP 502") as caught,
    ):
        client.get("t-1")
    assert "gateway" in caught.value.message


def test_each_request_is_logged_with_its_method_path_status_and_duration(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="tryon_demo.api.client")
    reply = Reply.json(200, envelope(task_data("t-1")))
    with FakeApi(always(reply)) as api, fast_client_for(api.url) as client:
        client.get("t-1")
    (line,) = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    found = re.fullmatch(r"GET /v1/images/kolors-virtual-try-on/t-1 -> HTTP 200 in (\d+) ms", line)
    assert found is not None, line
    assert int(found[1]) < 60_000

"""The API client under attack: a hostile API on loopback, and links to the server's own network.

Each test is an attack from issue 11 (findings 2, 5, 6 and 8) that worked before it was fixed:
a task id that reaches another endpoint, an API that trickles its reply, an API that echoes the
credentials in disguise, a result link into the server's own network, an error after a create
that does not say which task it was.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest

from tests.conftest import FAKE_KEY, StartSimulator, fast_client
from tests.test_reliability import run_tryon
from tryon_demo import cli, errors
from tryon_demo.api.auth import BearerAuth, JwtAuth
from tryon_demo.api.client import TryOnClient
from tryon_demo.api.models import ResultImage, Task
from tryon_demo.flow.pipeline import Pipeline
from tryon_demo.flow.run import run
from tryon_demo.flow.step import Step
from tryon_demo.hosting.netpolicy import check_public_url
from tryon_demo.settings import Settings
from tryon_demo.simulator import Faults

Respond = Callable[[str, str, dict[str, str], socket.socket], None]
TASK_ID = "CjikY2gHPbcAAAAABI5n9g"


class HostileApi:
    """A small HTTP server on 127.0.0.1 that answers as ``respond`` says and counts requests."""

    def __init__(self, respond: Respond) -> None:
        self.respond = respond
        self.requests: list[str] = []
        self.connections = 0
        self.stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def gateway_base(self) -> str:
        return self.url + "/kling"

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by close()
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {
                k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])
            }
            length = int(headers.get("content-length", "0"))
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
            self.requests.append(f"{method} {path}")
            with contextlib.suppress(OSError):  # the client hung up: what a bounded client does
                self.respond(method, path, headers, conn)

    def trickle(self, conn: socket.socket, data: bytes, every: float, give_up: float = 6.0) -> None:
        """Send ``data`` one byte every ``every`` s, stopping after ``give_up`` s."""
        ends = time.monotonic() + give_up
        for byte in data:
            if self.stopped.wait(every) or time.monotonic() > ends:
                return
            conn.sendall(bytes([byte]))

    def close(self) -> None:
        self.stopped.set()
        self._listener.close()


@pytest.fixture
def hostile() -> Iterator[Callable[[Respond], HostileApi]]:
    servers: list[HostileApi] = []

    def start(respond: Respond) -> HostileApi:
        server = HostileApi(respond)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def reply(body: object, status: str = "200 OK", content_type: str = "application/json") -> bytes:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + data


def task_envelope(task_id: str = TASK_ID, status: str = "submitted", **extra: object) -> dict:
    data = {"task_id": task_id, "task_status": status, "created_at": 1, "updated_at": 1}
    data.update(extra)
    return {"code": 0, "message": "SUCCEED", "request_id": task_id, "data": data}


def answer(body: object, status: str = "200 OK") -> Respond:
    def respond(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        conn.sendall(reply(body, status))

    return respond


def client_of(server: HostileApi, **options: Any) -> TryOnClient:
    params: dict[str, Any] = {"get_retries": 0, "secrets": (FAKE_KEY,), "poll_interval": 0.05}
    params.update(options)
    return TryOnClient(server.gateway_base, BearerAuth(FAKE_KEY), **params)


# --- Finding 2: a task id cannot reach another endpoint -----------------------------------


@pytest.mark.parametrize(
    "task_id",
    [".", " .", "./", "..", "a/b", "%2e", "%2e%2e", "a b", "a?pageSize=500", "a#b", "tâche",
     "a\u200bb", "１２３", "a\nb", "x" * 65],
)  # fmt: skip
def test_a_task_id_that_could_change_the_url_is_refused_before_anything_is_sent(
    hostile: Callable[[Respond], HostileApi], task_id: str
) -> None:
    server = hostile(answer(task_envelope()))
    with client_of(server) as api, pytest.raises(errors.InputError) as caught:
        api.get(task_id)
    assert "1 to 64 characters, each a letter, a digit, '-' or '_'" in caught.value.message
    assert server.requests == []


def test_a_real_task_id_is_queried(hostile: Callable[[Respond], HostileApi]) -> None:
    server = hostile(answer(task_envelope()))
    with client_of(server) as api:
        assert api.get(f" {TASK_ID} ").task_id == TASK_ID
    assert server.requests == [f"GET /kling/v1/images/kolors-virtual-try-on/{TASK_ID}"]


def test_an_error_never_quotes_a_task_list_that_came_back_for_one_task(
    hostile: Callable[[Respond], HostileApi],
) -> None:
    others = [task_envelope(f"SomeoneElsesTask{n:06d}")["data"] for n in range(3)]
    server = hostile(answer({"code": 0, "message": "SUCCEED", "request_id": "r", "data": others}))
    with client_of(server) as api, pytest.raises(errors.UnexpectedResponseError) as caught:
        api.get(TASK_ID)
    shown = f"{caught.value} {caught.value.to_dict()}"
    assert "SomeoneElsesTask" not in shown


# --- Finding 5: a trickling API cannot hang a run -----------------------------------------


def test_a_create_against_a_trickling_api_ends_near_the_deadline_naming_the_task(
    hostile: Callable[[Respond], HostileApi], person_b64: str, garment_b64: str
) -> None:
    body = json.dumps(task_envelope()).encode() + b" " * 2000

    def respond(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        start = body.index(b'"task_status"')  # headers and the body up to the task id at once
        conn.sendall(reply(body)[: -len(body) + start])
        server.trickle(conn, body[start:], every=0.1)

    server = hostile(respond)
    started = time.monotonic()
    with (
        client_of(server, connect_timeout=0.5, read_timeout=0.5) as api,
        pytest.raises(errors.NetworkError) as caught,
    ):
        api.submit(person_b64, garment_b64)
    assert time.monotonic() - started < 3.0  # the budget is 1 s; the server trickles for 6 s
    assert "may have been created anyway" in caught.value.message
    assert TASK_ID in caught.value.message
    assert caught.value.task_id == TASK_ID


def test_a_query_whose_headers_trickle_ends_near_the_deadline(
    hostile: Callable[[Respond], HostileApi],
) -> None:
    def respond(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        server.trickle(conn, reply(task_envelope()), every=0.1)

    server = hostile(respond)
    started = time.monotonic()
    with (
        client_of(server, connect_timeout=0.5, read_timeout=0.5) as api,
        pytest.raises(errors.NetworkError, match="did not finish answering within 1 s"),
    ):
        api.get(TASK_ID)
    assert time.monotonic() - started < 3.0


def test_a_status_line_cut_at_the_deadline_is_not_taken_for_an_empty_reply(
    hostile: Callable[[Respond], HostileApi],
) -> None:
    def respond(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        head = reply(task_envelope())
        conn.sendall(head[:12])  # "HTTP/1.1 200", then the rest too slowly
        server.trickle(conn, head[12:], every=0.3)

    server = hostile(respond)
    with (
        client_of(server, connect_timeout=0.5, read_timeout=0.5) as api,
        pytest.raises(errors.NetworkError, match="did not finish answering within 1 s"),
    ):
        api.get(TASK_ID)


def test_wait_ends_at_its_limit_while_a_query_is_still_in_flight(
    hostile: Callable[[Respond], HostileApi],
) -> None:
    def respond(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        server.trickle(conn, reply(task_envelope(status="processing")), every=0.1)

    server = hostile(respond)
    started = time.monotonic()
    with (
        client_of(server, read_timeout=5, wait_timeout=1.0) as api,
        pytest.raises(errors.WaitTimeoutError) as caught,
    ):
        list(api.wait(TASK_ID))
    assert time.monotonic() - started < 3.0  # a query alone may take 15 s; the wait limit is 1 s
    assert caught.value.task_id == TASK_ID


def test_a_wait_cut_off_mid_query_still_names_the_last_status_it_saw(
    hostile: Callable[[Respond], HostileApi],
) -> None:
    def respond(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        body = reply(task_envelope(status="processing"))
        if len(server.requests) == 1:
            conn.sendall(body)  # the first answer comes at once...
        else:
            server.trickle(conn, body, every=0.1)  # ...the next one never finishes in time

    server = hostile(respond)
    with (
        client_of(server, read_timeout=5, wait_timeout=1.0) as api,
        pytest.raises(errors.WaitTimeoutError) as caught,
    ):
        list(api.wait(TASK_ID))
    assert caught.value.last_status == "processing"
    assert f"Task {TASK_ID} was still processing after 1 s." in caught.value.message


def test_a_run_ends_at_the_wait_limit_while_a_query_is_in_flight(
    hostile: Callable[[Respond], HostileApi], image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    def respond(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        if method == "POST":
            conn.sendall(reply(task_envelope()))
        else:
            server.trickle(conn, reply(task_envelope(status="processing")), every=0.1)

    server = hostile(respond)
    settings = Settings(
        api_key=FAKE_KEY,
        api_base=server.gateway_base,
        read_timeout=5,
        wait_timeout=1.5,
        poll_interval=0.05,
        get_retries=0,
    )
    started = time.monotonic()
    final = collect(run(Pipeline.build(settings, tmp_path / "work"), *image_files))[-1]
    assert time.monotonic() - started < 4.0
    assert isinstance(final.error, errors.WaitTimeoutError)
    assert TASK_ID in final.status_text()


def test_a_reply_larger_than_any_api_reply_is_refused(
    hostile: Callable[[Respond], HostileApi],
) -> None:
    server = hostile(answer(task_envelope(task_status_msg="x" * 2 * 1024 * 1024)))
    with client_of(server) as api, pytest.raises(errors.NetworkError, match="larger than 1024 KB"):
        api.get(TASK_ID)


# --- Finding 6: no form of a credential echoed by the API survives -------------------------


def disguises(secret: str) -> list[str]:
    """The forms an API (or a proxy in front of it) might echo a credential in."""
    data = secret.encode()
    return [
        secret,
        "".join(f"\\u{ord(c):04x}" for c in secret),  # JSON escapes: decoded by the parser
        base64.b64encode(data).decode(),
        base64.b64encode(b"demo:" + data).decode(),  # inside a Basic credential
        base64.urlsafe_b64encode(b"k=" + data).decode().rstrip("="),
        base64.b64encode(b"x" + data + b"y").decode(),
        "".join(f"&#{ord(c)};" for c in secret),
        "".join(f"&#x{ord(c):x};" for c in secret),
        html.escape(secret).replace("-", "&#45;"),
        quote(secret, safe="").replace("-", "%2D"),
    ]


def assert_no_disguise_of(secret: str, text: str) -> None:
    for form in disguises(secret)[2:6]:  # the base64 forms, as sent
        assert form not in text
    for form in (text, unquote(html.unescape(text))):
        assert secret not in form
    encoded = [base64.b64encode(p + secret.encode()).decode()[4:-4] for p in (b"", b"1", b"12")]
    assert not any(core in text for core in encoded)


def echo_json(secret: str) -> str:
    """A JSON text whose strings carry every disguise (the ``\\u`` one raw, not re-escaped)."""
    forms = disguises(secret)
    plain = [f for i, f in enumerate(forms) if i != 1]
    text = json.dumps(
        task_envelope(
            status="failed",
            task_status_msg="echo " + " | ".join(plain),
            echo={"headers": plain},
        )
        | {"request_id": secret, "message": "SUCCEED"}
    )
    return text.replace('"echo ', f'"echo {forms[1]} | ', 1)


def test_no_form_of_the_key_echoed_in_a_task_reaches_the_task(
    hostile: Callable[[Respond], HostileApi],
) -> None:
    server = hostile(answer(echo_json(FAKE_KEY).encode()))
    with client_of(server) as api:
        task = api.get(TASK_ID)
    for text in (json.dumps(task.raw), str(task.raw), task.task_status_msg, task.request_id):
        assert_no_disguise_of(FAKE_KEY, str(text))
    assert task.task_status_msg and task.task_status_msg.startswith("echo ***")


def test_no_form_of_the_key_echoed_in_an_error_reaches_the_error(
    hostile: Callable[[Respond], HostileApi],
) -> None:
    forms = disguises(FAKE_KEY)
    envelope = {"code": 1201, "message": " | ".join(forms[:1] + forms[2:]), "request_id": "r"}
    text = json.dumps(envelope).replace('"message": "', f'"message": "{forms[1]} | ', 1)
    text = text.replace('"request_id": "r"', f'"request_id": "{forms[1]}"')
    server = hostile(answer(text.encode(), "400 Bad Request"))
    with client_of(server) as api, pytest.raises(errors.InvalidRequestError) as caught:
        api.get(TASK_ID)
    error = caught.value
    for shown in (str(error), repr(error), json.dumps(error.to_dict()), error.api_message):
        assert_no_disguise_of(FAKE_KEY, str(shown))


def test_no_form_of_the_key_in_a_reply_that_is_not_json_reaches_the_error(
    hostile: Callable[[Respond], HostileApi],
) -> None:
    forms = disguises(FAKE_KEY)
    # The escaped forms first: the error quotes the start of the page.
    page = "<p>Bad key: " + " ".join(forms[6:] + forms[1:6] + forms[:1]) + "</p>"
    server = hostile(answer(page.encode(), "502 Bad Gateway"))
    with client_of(server) as api, pytest.raises(errors.UnexpectedResponseError) as caught:
        api.get(TASK_ID)
    assert_no_disguise_of(FAKE_KEY, str(caught.value.to_dict()))


@pytest.mark.parametrize("depth", [500, 5000])
def test_a_deeply_nested_reply_is_still_redacted_and_never_a_traceback(
    hostile: Callable[[Respond], HostileApi], depth: int
) -> None:
    task = task_envelope(task_status_msg=disguises(FAKE_KEY)[2], x=[])
    text = json.dumps(task).replace('"x": []', '"x": ' + "[" * depth + "]" * depth)
    server = hostile(answer(text.encode()))
    with client_of(server) as api:
        try:
            shown = json.dumps(api.get(TASK_ID).raw)
        except errors.UnexpectedResponseError as exc:
            shown = str(exc.to_dict())
    assert_no_disguise_of(FAKE_KEY, shown)


def test_the_signed_token_of_official_keys_echoed_back_is_redacted(
    hostile: Callable[[Respond], HostileApi],
) -> None:
    seen: list[str] = []

    def respond(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        token = headers["authorization"].removeprefix("Bearer ")
        seen.append(token)
        escaped = "".join(f"\\u{ord(c):04x}" for c in token)
        body = (
            '{"code": 1004, "request_id": "' + token + '", "message": "token '
            + escaped + " expired; payload " + token.split(".", 1)[1] + '"}'
        )  # fmt: skip
        conn.sendall(reply(body.encode(), "401 Unauthorized"))

    server = hostile(respond)
    auth = JwtAuth("ak-access-key-1", "sk-secret-key-1")
    with (
        TryOnClient(server.gateway_base, auth, get_retries=0) as api,
        pytest.raises(errors.AuthenticationError) as caught,
    ):
        api.get(TASK_ID)
    shown = f"{caught.value} {caught.value.to_dict()}"
    assert seen and seen[0].count(".") == 2
    assert seen[0] not in shown
    assert seen[0].split(".", 1)[1] not in shown


def test_a_token_replaced_minutes_ago_is_still_redacted(
    hostile: Callable[[Respond], HostileApi],
) -> None:
    auth = JwtAuth("ak-access-key-1", "sk-secret-key-1")
    older = auth.token(now=time.time() - 1600)  # still valid for 200 s, but no longer in use
    server = hostile(answer({"code": 1004, "message": f"stale token {older}", "request_id": "r"}))
    with (
        TryOnClient(server.gateway_base, auth, get_retries=0) as api,
        pytest.raises(errors.AuthenticationError) as caught,
    ):
        api.get(TASK_ID)
    assert auth.token() != older
    assert older not in str(caught.value.to_dict())


# --- Finding 8: results only from public addresses; errors after a create name the task ----

PRIVATE_LINKS = [
    "http://10.0.0.5/result.png",
    "http://192.168.1.1/result.png",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/result.png",
    "http://[::1]:8080/result.png",
    "http://[fd00::1]/result.png",
    "http://[fe80::1]/result.png",
    "http://[::ffff:127.0.0.1]/result.png",
    "http://0.0.0.0/result.png",
    "http://2130706433/result.png",
    "http://0x7f000001/result.png",
    "http://127.1/result.png",
    "http://224.0.0.1/result.png",
    "http://localhost/result.png",
    "file:///etc/passwd",
    "ftp://example.com/result.png",
]


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Record (and stop) every socket the code under test tries to create."""
    created: list[tuple[Any, ...]] = []

    class Spy(socket.socket):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            created.append(args)
            raise OSError("the test refuses to open sockets")

    monkeypatch.setattr(socket, "socket", Spy)
    return created


def succeeded(url: str) -> Task:
    """A succeeded task whose result image is at ``url``."""
    return Task(task_id=TASK_ID, task_status="succeed", images=(ResultImage(url=url, index=0),))


@pytest.mark.parametrize("url", PRIVATE_LINKS)
def test_a_result_link_into_the_servers_own_network_is_refused_before_any_socket(
    url: str, no_sockets: list[tuple[Any, ...]], tmp_path: Path
) -> None:
    pipeline = Pipeline.build(
        Settings(api_key=FAKE_KEY, api_base="https://api.gpt.ge/kling"), tmp_path
    )
    with pytest.raises(errors.UnexpectedResponseError, match="not a public http"):
        pipeline.results.fetch(succeeded(url))
    assert no_sockets == []


@pytest.mark.parametrize("url", PRIVATE_LINKS)
def test_the_url_policy_refuses_private_links_before_any_socket(
    url: str, no_sockets: list[tuple[Any, ...]]
) -> None:
    with pytest.raises(errors.UnsafeURLError):
        check_public_url(url, allowed_hosts=("https://api.gpt.ge/kling",))
    assert no_sockets == []


def test_the_url_policy_accepts_a_public_address_and_the_configured_hosts() -> None:
    assert check_public_url("https://93.184.215.14/r.png") == ("93.184.215.14",)
    allowed = ("http://127.0.0.1:8765/kling",)
    assert check_public_url("http://127.0.0.1:8765/simulator/results/x.png", allowed) == ()
    with pytest.raises(errors.UnsafeURLError):  # the same host on another port is not allowed
        check_public_url("http://127.0.0.1:7860/gradio_api/file=x", allowed)


def test_a_loopback_result_link_from_a_host_that_is_not_the_api_is_refused_without_connecting(
    hostile: Callable[[Respond], HostileApi], start_simulator: StartSimulator, tmp_path: Path
) -> None:
    internal = hostile(answer(b"\x89PNG secret internal page"))
    simulator = start_simulator()
    pipeline = Pipeline.build(Settings(api_key=FAKE_KEY, api_base=simulator.gateway_base), tmp_path)
    with pytest.raises(errors.UnexpectedResponseError, match="not a public http"):
        pipeline.results.fetch(succeeded(internal.url + "/admin"))
    assert internal.connections == 0


def test_a_redirect_from_the_api_host_into_the_servers_network_is_refused_without_connecting(
    hostile: Callable[[Respond], HostileApi], tmp_path: Path
) -> None:
    internal = hostile(answer(b"\x89PNG secret internal page"))

    def redirect(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        conn.sendall(
            f"HTTP/1.1 302 Found\r\nLocation: {internal.url}/admin\r\n"
            "Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
        )

    api = hostile(redirect)
    pipeline = Pipeline.build(Settings(api_key=FAKE_KEY, api_base=api.gateway_base), tmp_path)
    with pytest.raises(errors.UnexpectedResponseError, match="not a public http"):
        pipeline.results.fetch(succeeded(api.url + "/result.png"))
    assert len(api.requests) == 1
    assert internal.connections == 0


def test_a_name_that_resolves_to_loopback_on_the_second_lookup_is_refused(
    hostile: Callable[[Respond], HostileApi], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # DNS rebinding: the name is public when checked and loopback when connected to.
    internal = hostile(answer(b"\x89PNG secret internal page"))
    port = int(internal.url.rsplit(":", 1)[1])
    answers = iter(["93.184.215.14"])
    real_connect = socket.socket.connect

    def rebinding_dns(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    def loopback_only(sock: socket.socket, address: Any) -> None:
        if address[0] != "127.0.0.1":
            raise OSError("the test sends nothing off this machine")
        real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    pipeline = Pipeline.build(
        Settings(api_key=FAKE_KEY, api_base="https://api.gpt.ge/kling"), tmp_path
    )
    with pytest.raises(errors.UnexpectedResponseError, match="not a public http"):
        pipeline.results.fetch(succeeded(f"http://cdn.example.com:{port}/result.png"))
    assert internal.connections == 0


def test_the_cli_refuses_a_loopback_result_link_from_a_host_that_is_not_the_api(
    hostile: Callable[[Respond], HostileApi], tmp_path: Path
) -> None:
    internal = hostile(answer(b"\x89PNG secret internal page"))
    with pytest.raises(errors.TryOnError, match="not point to a public http"):
        cli._save_result(succeeded(internal.url + "/r.png"), tmp_path, "https://api.gpt.ge/kling")
    assert internal.connections == 0
    assert list(tmp_path.iterdir()) == []


def test_offline_results_from_the_simulator_still_download(
    image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pipeline = Pipeline.build(Settings(force_offline=True, simulator_task_seconds=0.2), tmp_path)
    final = collect(run(pipeline, *image_files, compare=False))[-1]
    assert final.phase == "succeed", final.error
    assert final.result_path is not None and final.result_path.is_file()


def collect(steps: Any) -> list[Step]:
    async def gather() -> list[Step]:
        return [step async for step in steps]

    return asyncio.run(gather())


def test_a_query_error_after_the_create_names_the_task(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(faults=Faults(server_error_share=1.0, applies_to="query"))
    settings = Settings(
        api_key=FAKE_KEY, api_base=server.gateway_base, poll_interval=0.05, get_retries=0
    )
    final = collect(run(Pipeline.build(settings, tmp_path), *image_files))[-1]
    (task_id,) = server.simulator.tasks
    assert final.error is not None and final.error.task_id == task_id
    assert f"Task id: {task_id}." in final.status_text()
    assert final.error.to_dict()["task_id"] == task_id


def test_a_network_error_while_waiting_names_the_task(
    start_simulator: StartSimulator, person_b64: str, garment_b64: str
) -> None:
    server = start_simulator(faults=Faults(drop_share=1.0, applies_to="query"))
    with fast_client(server, get_retries=0) as api:
        task = api.submit(person_b64, garment_b64)
        with pytest.raises(errors.NetworkError) as caught:
            list(api.wait(task.task_id))
    assert caught.value.task_id == task.task_id
    assert task.task_id in str(caught.value)


def test_the_tryon_endpoint_names_the_task_when_following_it_fails(
    tmp_path: Path, image_files: tuple[Path, Path]
) -> None:
    faults = Faults(server_error_share=1.0, applies_to="query")
    outcome, server = run_tryon(faults, tmp_path, str(image_files[1]), get_retries=0)
    (task_id,) = server.simulator.tasks
    assert isinstance(outcome, Exception)
    assert task_id in str(outcome)


def test_the_tryon_endpoint_names_the_task_that_failed(
    tmp_path: Path, image_files: tuple[Path, Path]
) -> None:
    faults = Faults(fail_share=1.0, fail_message="No person found")
    outcome, server = run_tryon(faults, tmp_path, str(image_files[1]))
    (task_id,) = server.simulator.tasks
    assert isinstance(outcome, Exception)
    assert "The task failed: API says: No person found" in str(outcome)
    assert f"Task id: {task_id}." in str(outcome)

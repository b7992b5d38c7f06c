"""Every door locked: the password on every route (MCP included), login throttling, and limits
keyed on the visitor's address rather than on anything a client can mint for free.

Each test drives the real app on loopback, as an attacker would, against the simulator.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests import pictures
from tests.conftest import FAKE_KEY
from tests.flows import make_pipeline
from tests.test_app import free_port
from tryon_demo.flow import outfit, reattach
from tryon_demo.flow.admit import Visitor
from tryon_demo.flow.batch import lookbook
from tryon_demo.flow.lookbook import Garment
from tryon_demo.flow.pipeline import Pipeline
from tryon_demo.flow.run import run
from tryon_demo.flow.step import Step
from tryon_demo.hosting.access import LoginThrottle, client_address
from tryon_demo.hosting.limits import LimitExceededError
from tryon_demo.settings import Settings
from tryon_demo.simulator import SimulatorConfig, SimulatorServer
from tryon_demo.ui import build_demo, launch_options

PASSWORD = "open-sesame-123"
#: What may answer without the password: the login page, its files and its own questions.
PUBLIC = {
    "/",
    "/login",
    "/login/",
    "/logout",
    "/favicon.ico",
    "/robots.txt",
    "/manifest.json",
    "/theme.css",
    "/gradio_api/theme.css",
    "/gradio_api/user",
    "/gradio_api/user/",
    "/gradio_api/token",
    "/gradio_api/token/",
    "/gradio_api/app_id",
    "/gradio_api/app_id/",
    "/gradio_api/startup-events",
    "/static/{path:path}",
    "/assets/{path:path}",
    "/svelte/{path:path}",
    "/pwa_icon",
    "/pwa_icon/{size}",
}


class RunningApp:
    """The app on a free loopback port, with a gradio_client logged in when ``auth`` is given."""

    def __init__(
        self, settings: Settings, workdir: Path, auth: tuple[str, str] | None = None
    ) -> None:
        self.demo = build_demo(settings, workdir=workdir)
        _, self.url, _ = self.demo.launch(
            prevent_thread_lock=True,
            quiet=True,
            server_port=free_port(),
            **launch_options(workdir, settings),
        )
        self.client = Client(self.url, auth=auth, verbose=False)

    def __enter__(self) -> RunningApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.demo.close()


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(
        SimulatorConfig(task_seconds=0.3, api_keys=frozenset({FAKE_KEY}))
    ) as server:
        yield server


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("images")
    paths = {}
    for name, data in (
        ("person", pictures.person_jpeg()),
        ("garment", pictures.garment_png()),
        ("text", pictures.text_file()),
    ):
        path = folder / f"{name}.jpg"
        path.write_bytes(data)
        paths[name] = str(path)
    return paths


def online(simulator: SimulatorServer, tmp_path: Path, **options: Any) -> Settings:
    options.setdefault("state_dir", tmp_path / "state")
    return Settings(
        api_key=FAKE_KEY,
        api_base=simulator.gateway_base,
        poll_interval=0.05,
        poll_max_interval=0.2,
        **options,
    )


def submit(client: Client, files: dict[str, str], human: str = "person") -> Any:
    return client.predict(
        handle_file(files[human]),
        handle_file(files["garment"]),
        "kolors-virtual-try-on-v1",
        "",
        api_name="/submit",
    )


def data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def mcp_call(url: str, tool: str, arguments: dict[str, Any], headers: dict[str, str]) -> Any:
    async def run() -> Any:
        async with (
            httpx.AsyncClient(headers=headers, timeout=30) as http,
            streamable_http_client(url, http_client=http) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await session.call_tool(tool, arguments)

    return asyncio.run(run())


def tryon_arguments() -> dict[str, Any]:
    return {
        "human_image": data_url(pictures.person_jpeg(), "image/jpeg"),
        "cloth_image": data_url(pictures.garment_png(), "image/png"),
    }


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def jsonrpc_tools_call() -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "tryon", "arguments": tryon_arguments()},
    }


MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


# --- the password on every door ------------------------------------------------------------


def test_an_anonymous_mcp_tool_call_is_refused_and_creates_no_task(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = online(simulator, tmp_path, access_password=PASSWORD, mcp_server=True)
    before = len(simulator.simulator.tasks)
    with RunningApp(settings, tmp_path / "work", auth=("demo", PASSWORD)) as running:
        base = running.url.rstrip("/")
        call = requests.post(
            f"{base}/gradio_api/mcp/", json=jsonrpc_tools_call(), headers=MCP_HEADERS, timeout=30
        )
        schema = requests.get(f"{base}/gradio_api/mcp/schema", timeout=10)
        sse = requests.get(f"{base}/gradio_api/mcp/sse", timeout=10, stream=True)
        sse.close()
    assert (call.status_code, schema.status_code, sse.status_code) == (401, 401, 401)
    assert "submit" not in schema.text  # not even the tool list
    assert len(simulator.simulator.tasks) == before


def test_a_wrong_mcp_credential_is_refused(simulator: SimulatorServer, tmp_path: Path) -> None:
    settings = online(simulator, tmp_path, access_password=PASSWORD, mcp_server=True)
    with RunningApp(settings, tmp_path / "work", auth=("demo", PASSWORD)) as running:
        base = running.url.rstrip("/")
        replies = [
            requests.post(
                f"{base}/gradio_api/mcp/",
                json=jsonrpc_tools_call(),
                headers={**MCP_HEADERS, **credential},
                timeout=30,
            )
            for credential in (
                basic("demo", "wrong"),
                basic("someone", PASSWORD),
                {"Authorization": "Bearer wrong"},
            )
        ]
    assert [reply.status_code for reply in replies] == [401, 401, 401]


@pytest.mark.parametrize("credential", ["basic", "bearer"])
def test_an_mcp_client_with_the_password_gets_the_picture(
    simulator: SimulatorServer, tmp_path: Path, credential: str
) -> None:
    settings = online(simulator, tmp_path, access_password=PASSWORD, mcp_server=True)
    headers = (
        basic("demo", PASSWORD)
        if credential == "basic"
        else {"Authorization": f"Bearer {PASSWORD}"}
    )
    with RunningApp(settings, tmp_path / "work", auth=("demo", PASSWORD)) as running:
        url = f"{running.url.rstrip('/')}/gradio_api/mcp/"
        result = mcp_call(url, "tryon", tryon_arguments(), headers)
    assert not result.isError, result.content
    assert [c.type for c in result.content].count("image") == 1


def test_every_route_but_the_login_pages_refuses_an_anonymous_request(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = online(simulator, tmp_path, access_password=PASSWORD, mcp_server=True)
    with RunningApp(settings, tmp_path / "work", auth=("demo", PASSWORD)) as running:
        base = running.url.rstrip("/")
        answered: dict[str, int] = {}
        for path, methods in _routes(running.demo.app.routes):
            probe = re.sub(r"\{[^}]+\}", "x", path)
            for method in sorted(set(methods) - {"HEAD"}):
                reply = requests.request(
                    method, base + probe, json={}, headers=MCP_HEADERS, timeout=10, stream=True
                )
                reply.close()
                if reply.status_code != 401:
                    answered[f"{method} {path}"] = reply.status_code
    unexpected = {
        route: code for route, code in answered.items() if route.split(" ", 1)[1] not in PUBLIC
    }
    assert unexpected == {}
    assert len(answered) > 5  # the probe reached the app: the login page itself still answers


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """Every route of the app, mounted apps and included routers too."""
    for route in routes:
        kind = type(route).__name__
        if kind == "_IncludedRouter":
            yield from _routes(route.original_router.routes, prefix)
        elif kind == "Mount":
            yield prefix + route.path + "/", {"GET", "POST"}
            yield from _routes(getattr(route, "routes", []) or [], prefix + route.path)
        else:
            yield prefix + route.path, set(getattr(route, "methods", None) or {"GET"})


# --- login throttling --------------------------------------------------------------------------


def test_after_five_wrong_passwords_even_the_right_one_is_refused_for_a_while(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = online(simulator, tmp_path, access_password=PASSWORD)
    with RunningApp(settings, tmp_path / "work", auth=("demo", PASSWORD)) as running:
        login = running.url.rstrip("/") + "/login"
        wrong = [
            requests.post(login, data={"username": "demo", "password": f"guess-{i}"}, timeout=10)
            for i in range(5)
        ]
        right = requests.post(login, data={"username": "demo", "password": PASSWORD}, timeout=10)
    assert [reply.status_code for reply in wrong] == [400] * 5
    assert right.status_code == 429
    assert int(right.headers["retry-after"]) > 0
    assert "Too many password attempts" in right.text


def test_wrong_mcp_credentials_count_as_password_guesses(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = online(simulator, tmp_path, access_password=PASSWORD, mcp_server=True)
    with RunningApp(settings, tmp_path / "work", auth=("demo", PASSWORD)) as running:
        url = f"{running.url.rstrip('/')}/gradio_api/mcp/schema"
        codes = [
            requests.get(url, headers=basic("demo", f"guess-{i}"), timeout=10).status_code
            for i in range(5)
        ]
        codes.append(requests.get(url, headers=basic("demo", PASSWORD), timeout=10).status_code)
    assert codes == [401] * 5 + [429]


def test_a_lockout_grows_with_each_new_burst_and_a_success_forgives() -> None:
    now = [0.0]
    throttle = LoginThrottle(failures=2, window=60, first_lockout=10, clock=lambda: now[0])
    assert [throttle.attempt("a"), throttle.attempt("a")] == [0, 0]
    assert throttle.attempt("a") == 10
    now[0] += 11
    assert [throttle.attempt("a"), throttle.attempt("a"), throttle.attempt("a")] == [0, 0, 20]
    assert throttle.attempt("b") == 0  # another address is not held up
    now[0] += 21
    throttle.attempt("a")
    throttle.succeeded("a")
    assert [throttle.attempt("a"), throttle.attempt("a")] == [0, 0]


# --- who a visitor is --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("peer", "forwarded", "hops", "address"),
    [
        ("10.0.0.9", [], 0, "10.0.0.9"),
        ("10.0.0.9", ["6.6.6.6"], 0, "10.0.0.9"),  # no trusted proxy: the header is ignored
        ("10.0.0.9", ["6.6.6.6, 203.0.113.7"], 1, "203.0.113.7"),  # the proxy's entry
        ("10.0.0.9", ["6.6.6.6", "203.0.113.7"], 1, "203.0.113.7"),  # split over two headers
        ("10.0.0.9", ["6.6.6.6, 203.0.113.7, 10.0.0.2"], 2, "203.0.113.7"),
        ("10.0.0.9", [], 1, "10.0.0.9"),
        # IPv6: a subscriber picks any address of their /64 at will, so the /64 is counted.
        ("10.0.0.9", ["2001:db8:1:2::1"], 1, "2001:db8:1:2::/64"),
        ("10.0.0.9", ["2001:DB8:1:2:ffff::9"], 1, "2001:db8:1:2::/64"),
        ("10.0.0.9", ["2001:db8:1:3::1"], 1, "2001:db8:1:3::/64"),
        ("::ffff:203.0.113.7", [], 0, "203.0.113.7"),
        ("[::1]", [], 0, "::/64"),
    ],
)
def test_the_address_is_the_one_the_trusted_proxies_vouch_for(
    peer: str, forwarded: list[str], hops: int, address: str
) -> None:
    assert client_address(peer, forwarded, hops) == address


def test_new_sessions_from_one_address_share_its_allowance(
    simulator: SimulatorServer, files: dict[str, str], tmp_path: Path
) -> None:
    settings = online(simulator, tmp_path, rate_per_session="2/minute")
    before = len(simulator.simulator.tasks)
    refused = []
    with RunningApp(settings, tmp_path / "work") as running:
        for _ in range(6):
            try:
                submit(Client(running.url, verbose=False), files)
            except AppError as exc:
                refused.append(str(exc))
    assert len(simulator.simulator.tasks) == before + 2
    assert len(refused) == 4 and all("You have started 2 try-ons" in text for text in refused)


def test_a_spoofed_forwarded_for_prefix_gives_no_fresh_allowance(
    simulator: SimulatorServer, files: dict[str, str], tmp_path: Path
) -> None:
    settings = online(simulator, tmp_path, rate_per_session="1/minute", trusted_proxies=1)
    with RunningApp(settings, tmp_path / "work") as running:
        # What a visitor's requests look like behind the proxy: its own claim, then the
        # address the proxy saw (always the same: the visitor's real one).
        first = Client(running.url, headers={"X-Forwarded-For": "1.1.1.1, 203.0.113.7"})
        submit(first, files)
        second = Client(running.url, headers={"X-Forwarded-For": "2.2.2.2, 203.0.113.7"})
        with pytest.raises(AppError, match="You have started 1 try-ons"):
            submit(second, files)
        elsewhere = Client(running.url, headers={"X-Forwarded-For": "1.1.1.1, 198.51.100.4"})
        submit(elsewhere, files)  # another real address has its own allowance


def test_addresses_of_one_ipv6_network_share_its_allowance(
    simulator: SimulatorServer, files: dict[str, str], tmp_path: Path
) -> None:
    # The attacker's way round the rate: a fresh address of the same /64 for every request.
    settings = online(simulator, tmp_path, rate_per_session="1/minute", trusted_proxies=1)
    with RunningApp(settings, tmp_path / "work") as running:
        submit(Client(running.url, headers={"X-Forwarded-For": "2001:db8::1"}), files)
        with pytest.raises(AppError, match="You have started 1 try-ons"):
            submit(Client(running.url, headers={"X-Forwarded-For": "2001:db8::2"}), files)
        submit(Client(running.url, headers={"X-Forwarded-For": "2001:db8:0:1::2"}), files)


def test_mcp_callers_are_counted_like_every_other_visitor(
    simulator: SimulatorServer, files: dict[str, str], tmp_path: Path
) -> None:
    settings = online(simulator, tmp_path, rate_per_session="1/minute", mcp_server=True)
    with RunningApp(settings, tmp_path / "work") as running:
        submit(running.client, files)
        url = f"{running.url.rstrip('/')}/gradio_api/mcp/"
        result = mcp_call(url, "submit", tryon_arguments(), {})
    assert result.isError
    assert "You have started 1 try-ons" in " ".join(c.text for c in result.content)


def test_a_restart_keeps_the_days_count(
    simulator: SimulatorServer, files: dict[str, str], tmp_path: Path
) -> None:
    # One address may spend the whole (small) day here: it is the day's total that must last.
    settings = online(simulator, tmp_path, daily_cap=2, daily_cap_per_address=2)
    with RunningApp(settings, tmp_path / "work") as running:
        submit(running.client, files)
        submit(running.client, files)
    with (
        RunningApp(settings, tmp_path / "work") as restarted,
        pytest.raises(AppError, match="limit of 2 try-ons for today"),
    ):
        submit(restarted.client, files)


# --- limits before any work --------------------------------------------------------------------


def test_a_visitor_over_the_limit_gets_the_limit_message_before_the_picture_is_looked_at(
    simulator: SimulatorServer, files: dict[str, str], tmp_path: Path
) -> None:
    settings = online(simulator, tmp_path, rate_per_session="1/minute")
    with RunningApp(settings, tmp_path / "work") as running:
        submit(running.client, files)
        with pytest.raises(AppError) as caught:
            submit(running.client, files, human="text")
    assert "You have started 1 try-ons" in str(caught.value)
    assert "not an image" not in str(caught.value)


def test_task_lookups_past_the_query_rate_are_not_forwarded(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = online(simulator, tmp_path, rate_query="3/minute")
    with RunningApp(settings, tmp_path / "work") as running:
        answers = []
        for _ in range(5):
            try:
                running.client.predict("no-such-task", api_name="/query")
            except AppError as exc:
                answers.append(str(exc))
    assert all("No task with that id" in text for text in answers[:3])  # the API answered
    assert all("You have looked up 3 tasks" in text for text in answers[3:])  # the app did


ME = Visitor("ip:me")


def over_the_limit(simulator: SimulatorServer, tmp_path: Path) -> Pipeline:
    """A pipeline whose visitor "me" has used up a 1/minute allowance."""
    pipeline = make_pipeline(simulator, tmp_path, rate_per_session="1/minute")
    pipeline.limiter.acquire("ip:me")
    return pipeline


def test_a_run_over_the_limit_ends_before_its_pictures_are_read(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    not_a_picture = tmp_path / "notes.jpg"
    not_a_picture.write_bytes(pictures.text_file())
    pipeline = over_the_limit(simulator, tmp_path)

    async def steps() -> list[Step]:
        return [step async for step in run(pipeline, not_a_picture, not_a_picture, visitor=ME)]

    final = asyncio.run(steps())[-1]
    assert isinstance(final.error, LimitExceededError)
    assert final.request is None  # nothing was prepared


def test_a_lookbook_over_the_limit_ends_before_the_person_is_read(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    not_a_picture = tmp_path / "notes.jpg"
    not_a_picture.write_bytes(pictures.text_file())
    pipeline = over_the_limit(simulator, tmp_path)

    async def batch() -> None:
        garments = [Garment("shirt.png", not_a_picture)]
        async for _ in lookbook(pipeline, not_a_picture, garments, visitor=ME):
            pass

    with pytest.raises(LimitExceededError):
        asyncio.run(batch())


def test_re_attaching_past_the_query_rate_is_not_forwarded(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    pipeline = make_pipeline(simulator, tmp_path, rate_query="2/minute")

    async def re_attach() -> Step:
        # With its owner token, so the lookup gets past the ownership check to the API.
        token = pipeline.owners.token("no-such-task")
        steps = reattach.follow(pipeline, "no-such-task", owner_token=token, visitor=ME)
        return [step async for step in steps][-1]

    answers = [asyncio.run(re_attach()) for _ in range(3)]
    assert all("No task with that id" in str(step.error) for step in answers[:2])
    assert isinstance(answers[2].error, LimitExceededError)
    assert "You have looked up 2 tasks" in str(answers[2].error)


def test_composing_outfits_past_the_lookup_rate_is_refused_before_any_picture_is_read(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    # It spends no credits, but two decodes each: an attack run kept a core busy with it.
    pipeline = make_pipeline(simulator, tmp_path, rate_query="2/minute")
    top, bottom = tmp_path / "top.png", tmp_path / "bottom.png"
    top.write_bytes(pictures.garment_png())
    bottom.write_bytes(pictures.garment_png())
    for _ in range(2):
        asyncio.run(outfit.compose(pipeline, top, bottom, ("top", "bottom"), visitor=ME))
    not_a_picture = tmp_path / "notes.png"
    not_a_picture.write_bytes(pictures.text_file())
    with pytest.raises(LimitExceededError):
        asyncio.run(
            outfit.compose(pipeline, not_a_picture, not_a_picture, ("top", "bottom"), visitor=ME)
        )
    elsewhere = Visitor("ip:someone-else")
    asyncio.run(outfit.compose(pipeline, top, bottom, ("top", "bottom"), visitor=elsewhere))

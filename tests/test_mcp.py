"""Agent access: the try-on as MCP tools on Gradio's own MCP server, against the simulator."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from gradio_client import Client
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests import pictures
from tests.conftest import FAKE_KEY
from tests.test_app import RunningApp
from tryon_demo.settings import Settings
from tryon_demo.simulator import SimulatorConfig, SimulatorServer


def data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(
        SimulatorConfig(task_seconds=0.5, api_keys=frozenset({FAKE_KEY}))
    ) as server:
        yield server


@pytest.fixture(scope="module")
def mcp_url(simulator: SimulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(
        api_key=FAKE_KEY,
        api_base=simulator.gateway_base,
        poll_interval=0.05,
        poll_max_interval=0.2,
        mcp_server=True,
    )
    with RunningApp(settings, tmp_path_factory.mktemp("work")) as running:
        yield f"{running.url.rstrip('/')}/gradio_api/mcp/"


def with_session(url: str, action: Any) -> Any:
    async def run() -> Any:
        async with (
            streamable_http_client(url) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await action(session)

    return asyncio.run(run())


def test_the_tools_are_submit_tryon_and_query_and_state_the_image_rules(mcp_url: str) -> None:
    tools = with_session(mcp_url, lambda s: s.list_tools()).tools
    by_name = {tool.name: tool for tool in tools}
    assert set(by_name) == {"submit", "tryon", "query"}  # the page's own events stay private
    tryon = by_name["tryon"]
    assert tryon.description and "wait for the result" in tryon.description
    props = tryon.inputSchema["properties"]
    assert "at least 300 x 300 px" in props["human_image"]["description"]
    assert "at most 10 MB" in props["human_image"]["description"]
    assert "kolors-virtual-try-on-v1-5" in props["model_name"]["description"]
    assert set(tryon.inputSchema["required"]) == {"human_image", "cloth_image"}
    assert "task_id" in by_name["query"].inputSchema["properties"]


def test_the_tryon_tool_returns_the_dressed_picture_and_the_task(
    mcp_url: str, simulator: SimulatorServer
) -> None:
    before = len(simulator.simulator.tasks)
    arguments = {
        "human_image": data_url(pictures.person_jpeg(), "image/jpeg"),
        "cloth_image": data_url(pictures.garment_png(), "image/png"),
        "model_name": "kolors-virtual-try-on-v1-5",
    }
    result = with_session(mcp_url, lambda s: s.call_tool("tryon", arguments))
    assert not result.isError, result.content
    images = [c for c in result.content if c.type == "image"]
    texts = [c.text for c in result.content if c.type == "text"]
    assert len(images) == 1 and images[0].mimeType in ("image/png", "image/jpeg")
    assert any(text.startswith("Image URL: http") for text in texts)
    assert _task(texts[-1])["data"]["task_status"] == "succeed"
    assert len(simulator.simulator.tasks) == before + 1


def test_submit_then_query_through_the_tools(mcp_url: str) -> None:
    arguments = {
        "human_image": data_url(pictures.person_jpeg(), "image/jpeg"),
        "cloth_image": data_url(pictures.garment_png(), "image/png"),
    }

    async def submit_and_query(session: ClientSession) -> tuple[Any, Any]:
        created = await session.call_tool("submit", arguments)
        task = _task(created.content[0].text)
        lookup = {"task_id": task["data"]["task_id"], "owner_token": task["owner_token"]}
        return created, await session.call_tool("query", lookup)

    created, queried = with_session(mcp_url, submit_and_query)
    assert not created.isError and not queried.isError
    assert (
        _task(created.content[0].text)["data"]["task_id"]
        == (_task(queried.content[0].text)["data"]["task_id"])
    )


def test_the_tools_answer_json_text_and_the_http_api_still_answers_objects(
    mcp_url: str,
) -> None:
    arguments = {
        "human_image": data_url(pictures.person_jpeg(), "image/jpeg"),
        "cloth_image": data_url(pictures.garment_png(), "image/png"),
    }
    created = with_session(mcp_url, lambda s: s.call_tool("submit", arguments))
    text = created.content[0].text
    assert text.lstrip().startswith("{") and '"task_id"' in text  # JSON, not a Python dict
    task = json.loads(text)
    assert task["data"]["task_status"] == "submitted" and task["owner_token"]
    client = Client(mcp_url.removesuffix("gradio_api/mcp/"), verbose=False)
    via_http = client.predict(
        arguments["human_image"], arguments["cloth_image"], api_name="/submit"
    )
    assert isinstance(via_http, dict) and via_http["data"]["task_id"]


def test_a_tool_called_with_a_too_small_image_answers_with_the_rule(mcp_url: str) -> None:
    arguments = {
        "human_image": data_url(pictures.small_image(), "image/png"),
        "cloth_image": data_url(pictures.garment_png(), "image/png"),
    }
    result = with_session(mcp_url, lambda s: s.call_tool("submit", arguments))
    assert result.isError
    text = " ".join(c.text for c in result.content if c.type == "text")
    assert "at least 300 x 300" in text
    assert FAKE_KEY not in text


def test_without_the_setting_there_is_no_mcp_server(tmp_path: Path) -> None:
    with RunningApp(Settings(simulator_task_seconds=0.3), tmp_path) as running:
        reply = requests.get(f"{running.url.rstrip('/')}/gradio_api/mcp/schema", timeout=10)
    assert reply.status_code == 404


def _task(text: str) -> dict[str, Any]:
    """The task of a tool's text reply, which must be JSON (an agent parses it as such)."""
    task = json.loads(text)
    assert isinstance(task, dict)
    return task

"""Privacy between visitors (issue 11): tasks, work files, and what reaches a page or a spreadsheet.

Visitor A and visitor B are two separate API clients (two gradio_client sessions, or two page
sessions speaking Gradio's queue protocol over plain HTTP) of one app that runs with the
owner's key against the simulator on loopback.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import stat
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
import requests
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from markdown_it import MarkdownIt
from mcp import ClientSession

from tests import pictures
from tests.conftest import FAKE_KEY, StartSimulator
from tests.flows import collect, make_pipeline
from tests.test_app import SEED_CLOTH, SEED_HUMAN, RunningApp
from tests.test_mcp import _task, data_url, with_session
from tryon_demo.api.models import ResultImage, Task
from tryon_demo.errors import InputError, api_error
from tryon_demo.flow import reattach
from tryon_demo.flow.admit import Visitor
from tryon_demo.flow.lookbook import LookItem, write_zip
from tryon_demo.flow.step import Step
from tryon_demo.hosting import ownership, workfiles
from tryon_demo.hosting.callback_urls import check_callback_url
from tryon_demo.settings import Settings, load_settings
from tryon_demo.simulator import Faults, SimulatorConfig, SimulatorServer
from tryon_demo.text.markup import code, escape
from tryon_demo.ui import _gallery, _history_entry, _render, _result_link, build_demo

NOT_FOUND = "No task with that id exists"


# --- fixtures ---------------------------------------------------------------------------------


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
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("work")


@pytest.fixture(scope="module")
def app(simulator: SimulatorServer, state_dir: Path, workdir: Path) -> Iterator[RunningApp]:
    with RunningApp(app_settings(simulator, state_dir, mcp_server=True), workdir) as running:
        yield running


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("images")
    person, garment = folder / "person.jpg", folder / "garment.png"
    person.write_bytes(pictures.person_jpeg())
    garment.write_bytes(pictures.garment_png())
    return str(person), str(garment)


def visitor(app: RunningApp) -> Client:
    """A new API client: a visitor of its own."""
    return Client(app.url, verbose=False)


def submit(client: Client, images: tuple[str, str]) -> dict[str, Any]:
    human, cloth = images
    reply = client.predict(
        handle_file(human), handle_file(cloth), "kolors-virtual-try-on-v1", "", api_name="/submit"
    )
    assert isinstance(reply, dict)
    return reply


def query_error(client: Client, task_id: str, token: str | None = None) -> str:
    """The error a lookup gets; without ``token`` the call is the one any stranger can make."""
    arguments = [task_id] if token is None else [task_id, token]
    with pytest.raises(AppError) as caught:
        client.predict(*arguments, api_name="/query")
    return str(caught.value)


# --- the ownership token ----------------------------------------------------------------------


def test_a_token_proves_only_the_task_it_was_issued_for(tmp_path: Path) -> None:
    secret = ownership.load_secret(tmp_path)
    token = ownership.issue_token(secret, "task-a")
    assert ownership.token_valid(secret, "task-a", token)
    assert not ownership.token_valid(secret, "task-b", token)
    assert not ownership.token_valid(
        secret, "task-a", token[:-1] + ("A" if token[-1] != "A" else "B")
    )
    assert not ownership.token_valid(secret, "task-a", "")
    assert not ownership.token_valid(b"another server's secret".ljust(32), "task-a", token)


def test_a_stored_token_of_another_shape_is_no_right_and_no_crash(tmp_path: Path) -> None:
    # The page's stored tokens come back from the browser, which a visitor can edit.
    secret = ownership.load_secret(tmp_path)
    for odd in (["x"], {"a": 1}, 7, None):
        assert not ownership.token_valid(secret, "task-a", odd)  # type: ignore[arg-type]


def test_the_secret_is_made_once_readable_only_by_its_owner_and_reused(tmp_path: Path) -> None:
    first = ownership.load_secret(tmp_path)
    again = ownership.load_secret(tmp_path)
    assert first == again and len(first) == 32
    mode = stat.S_IMODE(os.stat(tmp_path / ownership.SECRET_FILE).st_mode)
    assert mode == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [ownership.SECRET_FILE]  # no scratch left


# --- /query, MCP query and the page's re-attach -----------------------------------------------


def test_another_visitor_cannot_query_a_task_through_query(
    app: RunningApp, images: tuple[str, str]
) -> None:
    created = submit(visitor(app), images)
    task_id = created["data"]["task_id"]
    assert NOT_FOUND in query_error(visitor(app), task_id)


def test_the_creator_queries_its_task_with_the_token_it_was_given(
    app: RunningApp, images: tuple[str, str]
) -> None:
    a = visitor(app)
    created = submit(a, images)
    reply = a.predict(created["data"]["task_id"], created["owner_token"], api_name="/query")
    assert reply["data"]["task_id"] == created["data"]["task_id"]


def test_someone_elses_task_is_answered_exactly_as_an_unknown_id(
    app: RunningApp, images: tuple[str, str]
) -> None:
    created = submit(visitor(app), images)
    b = visitor(app)
    assert query_error(b, created["data"]["task_id"]) == query_error(b, "no-such-task")


def test_a_token_of_another_task_or_a_forged_one_opens_nothing(
    app: RunningApp, images: tuple[str, str]
) -> None:
    mine = submit(visitor(app), images)
    theirs = submit(visitor(app), images)
    b = visitor(app)
    assert NOT_FOUND in query_error(b, theirs["data"]["task_id"], mine["owner_token"])
    assert NOT_FOUND in query_error(b, theirs["data"]["task_id"], "A" * 43)


def test_another_visitor_cannot_query_a_task_through_the_mcp_tool(app: RunningApp) -> None:
    mcp_url = f"{app.url.rstrip('/')}/gradio_api/mcp/"
    arguments = {
        "human_image": data_url(pictures.person_jpeg(), "image/jpeg"),
        "cloth_image": data_url(pictures.garment_png(), "image/png"),
    }
    created = with_session(mcp_url, lambda s: s.call_tool("submit", arguments))
    task = _task(created.content[0].text)

    async def look_up(session: ClientSession, token: str | None) -> Any:
        lookup = {"task_id": task["data"]["task_id"]}
        if token is not None:
            lookup["owner_token"] = token
        return await session.call_tool("query", lookup)

    stranger = with_session(mcp_url, lambda s: look_up(s, None))
    creator = with_session(mcp_url, lambda s: look_up(s, task["owner_token"]))
    assert stranger.isError
    assert NOT_FOUND in " ".join(c.text for c in stranger.content if c.type == "text")
    assert not creator.isError
    assert _task(creator.content[0].text)["data"]["task_id"] == task["data"]["task_id"]


def page_event(app: RunningApp, trigger: str, data: list[Any]) -> str:
    """Fire the page's event behind the element ``trigger`` the way a browser does (Gradio's
    queue protocol over plain HTTP, a fresh session) and return every message it streamed.
    The page's language switch, every handler's last input, is left on the browser's language."""
    config = requests.get(app.url + "config", timeout=10).json()
    target = next(c["id"] for c in config["components"] if c["props"].get("elem_id") == trigger)
    event = next(
        d for d in config["dependencies"] if [target, "click"] in [list(t) for t in d["targets"]]
    )
    session = uuid.uuid4().hex
    joined = requests.post(
        app.url + "gradio_api/queue/join",
        json={
            "data": [*data, None],
            "event_data": None,
            "fn_index": event["id"],
            "trigger_id": target,
            "session_hash": session,
        },
        timeout=10,
    )
    joined.raise_for_status()
    messages = []
    with requests.get(
        app.url + "gradio_api/queue/data", params={"session_hash": session}, stream=True, timeout=30
    ) as stream:
        for raw in stream.iter_lines():
            line = raw.decode()
            if line.startswith("data:"):
                messages.append(line)
                if '"process_completed"' in line:
                    break
    return "\n".join(messages)


def test_another_visitor_cannot_re_attach_to_a_task_on_the_page(
    app: RunningApp, images: tuple[str, str]
) -> None:
    task_id = submit(visitor(app), images)["data"]["task_id"]
    shown = page_event(app, "attach-button", [task_id, "", None, {}])
    assert NOT_FOUND in shown
    assert "Done" not in shown


def test_the_creator_re_attaches_on_the_page_with_the_token_its_browser_kept(
    app: RunningApp, images: tuple[str, str]
) -> None:
    created = submit(visitor(app), images)
    task_id = created["data"]["task_id"]
    shown = page_event(app, "attach-button", [task_id, "", None, {task_id: created["owner_token"]}])
    assert "Done" in shown and NOT_FOUND not in shown


def stored_tokens(shown: str) -> dict[str, str]:
    """The task id -> token pairs a page event sent to the browser to keep."""
    return dict(re.findall(r'"([A-Za-z0-9_-]{8,64})": ?"([A-Za-z0-9_-]{43})"', shown))


def test_a_run_on_the_page_gives_the_browser_the_token_of_its_task(app: RunningApp) -> None:
    model = "kolors-virtual-try-on-v1"
    run = [None, SEED_HUMAN, None, SEED_CLOTH, model, "", "", None, {}]
    stored = stored_tokens(page_event(app, "run-button", run))
    assert len(stored) == 1
    ((task_id, token),) = stored.items()
    assert visitor(app).predict(task_id, token, api_name="/query")["data"]["task_id"] == task_id


def test_the_compare_tab_gives_the_browser_a_token_for_each_of_its_tasks(
    app: RunningApp,
) -> None:
    shown = page_event(app, "compare-button", [None, SEED_HUMAN, None, SEED_CLOTH, "", {}])
    stored = stored_tokens(shown)
    assert len(stored) == 2  # v1 and v1.5
    for task_id, token in stored.items():
        assert visitor(app).predict(task_id, token, api_name="/query")["data"]["task_id"] == task_id


def test_the_lookbook_gives_the_browser_a_token_for_each_garments_task(app: RunningApp) -> None:
    uploads = [
        ("files", (f"garment-{n}.png", pictures.garment_png((500 + 20 * n, 500)), "image/png"))
        for n in range(2)
    ]
    paths = requests.post(app.url + "gradio_api/upload", files=uploads, timeout=10).json()
    gallery = [{"image": {"path": path, "meta": {"_type": "gradio.FileData"}}} for path in paths]
    run = [None, SEED_HUMAN, gallery, "kolors-virtual-try-on-v1", "", {}]
    stored = stored_tokens(page_event(app, "lookbook-run", run))
    assert len(stored) == 2
    for task_id, token in stored.items():
        assert visitor(app).predict(task_id, token, api_name="/query")["data"]["task_id"] == task_id


def test_ownership_survives_an_app_restart_with_the_same_state_folder(
    simulator: SimulatorServer, images: tuple[str, str], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    with RunningApp(app_settings(simulator, state), tmp_path / "work") as first:
        created = submit(visitor(first), images)
    with RunningApp(app_settings(simulator, state), tmp_path / "work") as second:
        task_id = created["data"]["task_id"]
        reply = visitor(second).predict(task_id, created["owner_token"], api_name="/query")
        assert reply["data"]["task_id"] == task_id
        assert NOT_FOUND in query_error(visitor(second), task_id)


def browser_state(settings: Settings, workdir: Path) -> tuple[str, str]:
    """The key under which the page keeps its tokens in the browser, and their encryption key."""
    demo = build_demo(settings, workdir=workdir)
    (state,) = [
        b
        for b in demo.blocks.values()
        if isinstance(b, gr.BrowserState) and b.storage_key == "kolors-tryon-owner-tokens"
    ]
    return state.storage_key, state.secret


def test_the_browsers_stored_tokens_stay_readable_after_a_restart(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    before = browser_state(app_settings(simulator, tmp_path / "state"), tmp_path / "work")
    after = browser_state(app_settings(simulator, tmp_path / "state"), tmp_path / "work")
    elsewhere = browser_state(app_settings(simulator, tmp_path / "other"), tmp_path / "work")
    assert before == after
    assert elsewhere[1] != before[1]  # derived from the server's secret, not a constant


def test_a_visitors_own_key_looks_up_any_task_of_that_key(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(api_keys=frozenset({FAKE_KEY, "sk-visitor"}), task_seconds=0.3)
    pipeline = make_pipeline(server, tmp_path, state_dir=tmp_path / "state")
    created = collect(pipeline, *image_files, visitor=Visitor(own_key="sk-visitor"))[-1].task
    assert created is not None

    async def follow(key: str | None) -> Step:
        steps = reattach.follow(pipeline, created.task_id, visitor=Visitor(own_key=key))
        return [step async for step in steps][-1]

    with_key = asyncio.run(follow("sk-visitor"))
    assert with_key.phase == "succeed"
    assert with_key.owner_token is None  # looking up with a key of one's own grants nothing
    assert NOT_FOUND in asyncio.run(follow(None)).status_text()


# --- work files -------------------------------------------------------------------------------


def test_result_and_before_files_have_random_names_without_the_task_id(
    simulator: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pipeline = make_pipeline(simulator, tmp_path, state_dir=tmp_path / "state")
    finals = [collect(pipeline, *image_files)[-1] for _ in range(2)]
    folders = set()
    for final in finals:
        assert final.phase == "succeed" and final.task is not None
        assert final.result_path is not None and final.comparison is not None
        for path in (final.result_path, final.comparison[0]):
            relative = path.relative_to(pipeline.files.workdir)
            assert final.task.task_id not in str(path)
            folder = relative.parts[0]
            # URL-safe base64: 6 bits a character; 128 bits need 22 characters.
            assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", folder), folder
            folders.add(folder)
    assert len(folders) == 4  # every file a folder of its own


def test_a_guessed_file_path_for_another_visitors_result_is_refused(
    app: RunningApp, images: tuple[str, str], workdir: Path
) -> None:
    human, cloth = images
    _, task = visitor(app).predict(
        handle_file(human), handle_file(cloth), "kolors-virtual-try-on-v1", "", api_name="/tryon"
    )
    task_id = task["data"]["task_id"]
    for guess in (f"result-{task_id}.png", f"before-{task_id}.jpg", f"result-{task_id}.jpg"):
        reply = requests.get(f"{app.url}gradio_api/file={workdir / guess}", timeout=10)
        assert reply.status_code in (403, 404), guess


def test_work_files_older_than_the_ttl_are_deleted(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    now = [1_000_000.0]
    pipeline = make_pipeline(simulator, tmp_path, state_dir=tmp_path / "state", work_ttl=60.0)
    pipeline.files.clock = lambda: now[0]
    old = pipeline.files.path("result.png")
    old.write_bytes(b"old")
    os.utime(old, (now[0], now[0]))
    os.utime(old.parent, (now[0], now[0]))
    now[0] += 61
    young = pipeline.files.path("before.jpg")  # a new work file sweeps what has expired
    young.write_bytes(b"young")
    os.utime(young, (now[0], now[0]))
    os.utime(young.parent, (now[0], now[0]))
    assert not old.exists() and not old.parent.exists()
    assert young.exists()


def test_the_sweep_spares_files_younger_than_the_ttl(tmp_path: Path) -> None:
    for name, age in (("fresh", 59), ("stale", 61)):
        path = workfiles.private_path(tmp_path, f"{name}.png")
        path.write_bytes(b"x")
        os.utime(path, (1000 - age, 1000 - age))
        os.utime(path.parent, (1000 - age, 1000 - age))
    assert workfiles.sweep(tmp_path, ttl=60, now=1000) == 1
    assert [p.name for p in tmp_path.glob("*/*")] == ["fresh.png"]


def test_the_janitor_deletes_expired_files_while_the_app_is_idle(tmp_path: Path) -> None:
    path = workfiles.private_path(tmp_path, "before.jpg")
    path.write_bytes(b"a visitor's photo")
    workfiles.start_janitor(tmp_path, ttl=0.2)
    deadline = time.monotonic() + 5
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not path.exists()


def test_a_history_entry_whose_files_were_swept_still_shows(tmp_path: Path) -> None:
    result = workfiles.private_path(tmp_path, "result.png")
    result.write_bytes(pictures.garment_png())
    task = Task(task_id="t1", task_status="succeed")
    step = Step("succeed", 1.0, task=task, result_path=result, comparison=(result, result))
    entry = _history_entry(step, "kolors-virtual-try-on-v1")
    assert entry is not None
    workfiles.sweep(tmp_path, ttl=0, now=result.stat().st_mtime + 1)
    assert not result.exists()
    ((thumb, _),) = _gallery([entry])
    assert Path(thumb).is_file()  # the placeholder, not a path Gradio cannot serve
    shown = _render(step, running=False)
    assert str(result) not in repr(shown)


def test_the_work_file_lifetime_is_read_from_the_environment() -> None:
    assert load_settings({"TRYON_WORK_TTL": "120"}, dotenv_path=None).work_ttl == 120
    assert load_settings({}, dotenv_path=None).work_ttl == 3600
    assert load_settings({"TRYON_WORK_TTL": "0"}, dotenv_path=None).work_ttl == 60


# --- CSV and Markdown -------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x","y")', "+SUM(1,2)", "-1+1", "@x", "\tx", "\rx"]


def test_the_lookbook_csv_never_starts_a_cell_with_a_formula(tmp_path: Path) -> None:
    items = [LookItem(n, name, "error", message=name) for n, name in enumerate(FORMULAS, 1)]
    path = write_zip(items, "kolors-virtual-try-on-v1", tmp_path / "book.zip")
    with zipfile.ZipFile(path) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
        records = json.loads(archive.read("manifest.json"))
    assert [row["garment_file"] for row in rows] == [f"'{name}" for name in FORMULAS]
    assert [row["message"] for row in rows] == [f"'{name}" for name in FORMULAS]
    assert [r["garment_file"] for r in records] == FORMULAS  # JSON is data, kept as it is


def rendered(markdown: str) -> str:
    """HTML as a Markdown renderer with inline HTML on (as Gradio's) makes it."""
    return str(MarkdownIt("commonmark", {"html": True}).render(markdown))


HOSTILE = "<img src=x onerror=alert(1)> **loud** [click](http://evil) `tick` <script>x</script>"


def test_escaped_text_renders_as_the_same_literal_text() -> None:
    html = rendered(f"Before {escape(HOSTILE)} after")
    assert "<img" not in html and "<script" not in html and "<strong>" not in html
    assert "<a " not in html and "<code>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; **loud** [click](http://evil) `tick`" in html


@pytest.mark.parametrize(
    "bare",
    ["https://evil.example/x", "HTTP://evil.example", "www.evil.example", "me@evil.example"],
)
def test_a_bare_link_or_address_is_written_so_no_renderer_links_it(bare: str) -> None:
    # GitHub's Markdown (Gradio's) links these with no markup at all; the browser test
    # tests/browser/test_hostile_text.py shows it with Gradio's own renderer.
    escaped = escape(f"see {bare} now")
    assert "://" not in escaped and "@" not in escaped and "www." not in escaped.lower()
    assert rendered(escaped) == f"<p>see {bare} now</p>\n"  # the same characters on the page


@pytest.mark.parametrize("start", ["# ", "- ", "+ ", "1. ", "= ", "> "])
def test_escaped_text_cannot_open_a_block(start: str) -> None:
    html = rendered(escape(f"{start}text\n# second line"))
    assert html.startswith("<p>") and html.count("<p>") == 1


def test_a_task_id_with_a_backtick_stays_in_one_code_span() -> None:
    task_id = "ab`c<img src=x>``d"
    html = rendered(f"task {code(task_id)} · 1.0 s")
    assert html.count("<code>") == 1 and "<img" not in html
    assert re.search(r"<code>(.*)</code>", html).group(1) == (  # type: ignore[union-attr]
        "ab`c&lt;img src=x&gt;``d"
    )


def test_the_status_line_shows_the_apis_words_and_the_task_id_as_text() -> None:
    task = Task(task_id="t`1<b>", task_status="failed", task_status_msg=HOSTILE, raw={})
    error = api_error(http_status=400, code=1201, api_message=HOSTILE, request_id="<i>r</i>")
    for step in (Step("failed", 1.0, task=task), Step("error", 1.0, task=task, error=error)):
        html = rendered(step.status_text())
        assert "<img" not in html and "<b>" not in html and "<i>" not in html
        assert html.count("<code>") == 1


def test_a_failed_tasks_reason_from_the_api_reaches_the_page_as_text(
    start_simulator: StartSimulator, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_simulator(
        faults=Faults(fail_share=1.0, fail_message="<img src=x onerror=alert(1)>"),
        task_seconds=0.2,
    )
    final = collect(make_pipeline(server, tmp_path, state_dir=tmp_path / "state"), *image_files)[-1]
    assert final.phase == "failed"
    html = rendered(final.status_text())
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_result_url_that_is_not_a_plain_link_is_shown_as_text() -> None:
    url = "https://cdn.example/r.png><img src=x>"
    task = Task(task_id="t1", task_status="succeed", images=(ResultImage(index=0, url=url),))
    html = rendered(_result_link(Step("succeed", 1.0, task=task), offline=False, lang="en"))
    assert "<img" not in html and '<a href="https://cdn.example' not in html


# --- callbacks in a public deployment ---------------------------------------------------------

INTERNAL = [
    "http://127.0.0.1:7860/gradio_api/queue/join",
    "http://localhost:8080/hook",
    "http://[::1]/hook",
    "http://10.0.0.5/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/hook",
    "http://0.0.0.0:22/",
    "http://[::ffff:127.0.0.1]/hook",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_a_public_deployment_refuses_callbacks_to_its_own_network(url: str) -> None:
    with pytest.raises(InputError, match="own network"):
        check_callback_url(url, public=True)


def test_a_host_name_is_judged_by_the_addresses_it_resolves_to() -> None:
    with pytest.raises(InputError, match="own network"):
        check_callback_url(
            "https://hooks.example/x", public=True, resolver=lambda h, p: ["10.1.2.3"]
        )
    check_callback_url("https://hooks.example/x", public=True, resolver=lambda h, p: ["8.8.8.8"])


def test_a_private_deployment_keeps_loopback_callbacks() -> None:
    check_callback_url("http://127.0.0.1:9000/hook", public=False)


@pytest.mark.parametrize(
    ("env", "public"),
    [
        ({}, False),
        ({"GRADIO_SERVER_NAME": "127.0.0.1"}, False),
        ({"GRADIO_SERVER_NAME": "localhost"}, False),
        ({"GRADIO_SERVER_NAME": "0.0.0.0"}, True),
        ({"GRADIO_SERVER_NAME": "192.168.1.20"}, True),
        ({"SPACE_ID": "someone/tryon"}, True),
    ],
)
def test_a_deployment_is_public_on_a_space_or_beyond_loopback(
    env: dict[str, str], public: bool
) -> None:
    assert load_settings(env, dotenv_path=None).public is public


def test_a_refused_callback_creates_nothing(
    simulator: SimulatorServer, images: tuple[str, str], tmp_path: Path
) -> None:
    settings = app_settings(simulator, tmp_path / "state", space_id="someone/tryon")
    human, cloth = images
    before = len(simulator.simulator.tasks)
    with RunningApp(settings, tmp_path / "work") as running, pytest.raises(AppError) as caught:
        running.client.predict(
            handle_file(human),
            handle_file(cloth),
            "kolors-virtual-try-on-v1",
            "http://127.0.0.1:7860/gradio_api/queue/join",
            api_name="/submit",
        )
    assert "own network" in str(caught.value)
    assert len(simulator.simulator.tasks) == before

"""What the page's handlers send to the browser, read without a browser: a run joins the
history the moment its task exists (with its model), Stop offers the zip of what is done at
once, Compare fills the API panel, a placeholder is never called done, and no address of this
machine is shown."""

from __future__ import annotations

import asyncio
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest

from tests import pictures
from tests.conftest import StartSimulator
from tests.test_app import SEED_CLOTH, SEED_HUMAN
from tryon_demo.flow.pipeline import Pipeline
from tryon_demo.flow.run import submit
from tryon_demo.settings import MODELS, Settings
from tryon_demo.simulator import SimulatorConfig, SimulatorServer
from tryon_demo.ui import history as hist
from tryon_demo.ui.common import Context
from tryon_demo.ui.compare import compare_handler
from tryon_demo.ui.inputs import check_note
from tryon_demo.ui.lookbook import lookbook_handlers
from tryon_demo.ui.run_result import run_handlers

#: Where each of a run's updates sits in what the run handlers yield.
STATUS, REQUEST_JSON, TASK_JSON, LINK, CURRENT, ENTRIES, TABLE = 0, 1, 2, 7, 10, 12, 13
LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "/simulator/")


def visitor(lang: str = "en", session: str = "visitor-1") -> Any:
    """What a handler reads of ``gr.Request``: the headers, the address and the session."""
    return SimpleNamespace(
        headers={"accept-language": lang},
        client=SimpleNamespace(host="127.0.0.1"),
        session_hash=session,
    )


@pytest.fixture
def offline_sim(start_simulator: StartSimulator) -> SimulatorServer:
    """The app's offline simulator: no key, tasks that take a second."""
    return start_simulator(SimulatorConfig(task_seconds=1.0))


def offline_context(server: SimulatorServer, tmp_path: Path, **options: object) -> Context:
    """The page's context in offline mode, against ``server`` (a local KLING_API_BASE)."""
    settings = Settings(
        api_base=server.gateway_base,
        poll_interval=0.05,
        poll_max_interval=0.1,
        state_dir=tmp_path / "state",
        **options,  # type: ignore[arg-type]
    )
    assert settings.mode == "offline"
    return Context(Pipeline.build(settings, tmp_path / "work"), settings)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    made = {"person": pictures.person_jpeg(), "garment": pictures.garment_png()}
    paths = {}
    for name, data in made.items():
        path = tmp_path / f"{name}.{'jpg' if name == 'person' else 'png'}"
        path.write_bytes(data)
        paths[name] = str(path)
    return paths


def drain(updates: AsyncIterator[tuple[Any, ...]], stop: Any = None) -> list[tuple[Any, ...]]:
    """Every update a handler yields; ``stop(update)`` true ends the stream there (a Cancel)."""

    async def gather() -> list[tuple[Any, ...]]:
        seen = []
        async for update in updates:
            seen.append(update)
            if stop is not None and stop(update):
                await updates.aclose()  # type: ignore[attr-defined]
                break
        return seen

    return asyncio.run(gather())


def value_of(update: Any) -> Any:
    """The value an update carries (a component update, or a plain value)."""
    if isinstance(update, gr.components.Component):
        value = update.value
    elif isinstance(update, dict):
        value = update.get("value")
    else:
        value = update
    return value.get("path") if isinstance(value, dict) and "path" in value else value


def shown_text(update: Any) -> str:
    """Everything an update would put on the page, as one string."""
    if isinstance(update, gr.components.Component):
        return json.dumps(update.constructor_args, default=str) + str(update.value)
    return json.dumps(update, default=str)


# --- history --------------------------------------------------------------------------------


def test_a_run_joins_the_history_with_its_model_as_soon_as_its_task_exists(
    offline_sim: SimulatorServer, tmp_path: Path, files: dict[str, str]
) -> None:
    ctx = offline_context(offline_sim, tmp_path)
    run_flow, _ = run_handlers(ctx)
    model = MODELS[1]

    def created(update: tuple[Any, ...]) -> bool:
        return isinstance(update[CURRENT], str) and bool(update[CURRENT])

    updates = drain(
        run_flow(files["person"], "", files["garment"], "", model, "", "", [], {}, "en", visitor()),
        stop=created,  # the visitor presses Cancel the moment the task exists
    )
    task_id = updates[-1][CURRENT]
    stored = [u[ENTRIES] for u in updates if isinstance(u[ENTRIES], list) and u[ENTRIES]]
    assert stored, "the history never heard of the task before Cancel"
    entry = next(e for e in stored[-1] if e["task_id"] == task_id)
    assert entry["model"] == model
    assert entry["status"] in ("submitted", "processing")


def test_re_attaching_keeps_the_model_the_task_ran_with(
    offline_sim: SimulatorServer, tmp_path: Path, files: dict[str, str]
) -> None:
    ctx = offline_context(offline_sim, tmp_path)
    run_flow, follow_flow = run_handlers(ctx)
    model = MODELS[1]
    first = drain(
        run_flow(files["person"], "", files["garment"], "", model, "", "", [], {}, "en", visitor()),
        stop=lambda update: isinstance(update[CURRENT], str) and bool(update[CURRENT]),
    )
    task_id = first[-1][CURRENT]
    entries = next(u[ENTRIES] for u in reversed(first) if isinstance(u[ENTRIES], list))
    tokens = next(u[-1] for u in reversed(first) if isinstance(u[-1], dict))
    again = drain(follow_flow(task_id, "", entries, tokens, "en", visitor()))
    final = next(u[ENTRIES] for u in reversed(again) if isinstance(u[ENTRIES], list))
    entry = next(e for e in final if e["task_id"] == task_id)
    assert entry["model"] == model and entry["status"] == "succeed"
    rows = hist.rows(final, "zh")
    assert all("re-attached" not in cell for row in rows for cell in row)


def test_a_task_re_attached_by_id_alone_names_no_made_up_model(
    offline_sim: SimulatorServer, tmp_path: Path, files: dict[str, str]
) -> None:
    ctx = offline_context(offline_sim, tmp_path)
    task = asyncio.run(submit(ctx.pipeline, Path(files["person"]), Path(files["garment"])))
    _, follow_flow = run_handlers(ctx)
    tokens = {task.task_id: ctx.pipeline.owners.token(task.task_id)}
    updates = drain(follow_flow(task.task_id, "", [], tokens, "en", visitor()))
    final = next(u[ENTRIES] for u in reversed(updates) if isinstance(u[ENTRIES], list))
    assert [e["model"] for e in final] == [""]
    assert "re-attached" not in json.dumps(hist.rows(final, "en"))


# --- no address of this machine ---------------------------------------------------------------


def test_a_finished_offline_run_shows_no_loopback_or_simulator_address(
    offline_sim: SimulatorServer, tmp_path: Path, files: dict[str, str]
) -> None:
    ctx = offline_context(offline_sim, tmp_path)
    run_flow, _ = run_handlers(ctx)
    updates = drain(
        run_flow(
            files["person"], "", files["garment"], "", MODELS[0], "", "", [], {}, "en", visitor()
        )
    )
    last = updates[-1]
    assert "Done" in value_of(last[STATUS])
    for update in updates:
        for part in (update[STATUS], update[REQUEST_JSON], update[TASK_JSON], update[LINK]):
            shown = shown_text(part)
            assert not any(address in shown for address in LOOPBACK), shown
    entries = next(u[ENTRIES] for u in reversed(updates) if isinstance(u[ENTRIES], list))
    table = json.dumps(hist.rows(entries, "en"))
    assert not any(address in table for address in LOOPBACK), table


def test_an_old_history_entry_with_a_loopback_url_shows_none() -> None:
    entry = {
        "task_id": "t-1",
        "kind": "run",
        "model": MODELS[0],
        "status": "succeed",
        "result_url": "http://127.0.0.1:41234/simulator/results/t-1.png",
    }
    public = {**entry, "task_id": "t-2", "result_url": "https://cdn.example.com/r.png"}
    rows = hist.rows([entry, public], "en")
    assert rows[1][-1] == "" and rows[0][-1] == "https://cdn.example.com/r.png"


# --- example links offline --------------------------------------------------------------------


def test_the_example_links_offline_are_not_called_done_when_a_placeholder_comes_back(
    offline_sim: SimulatorServer, tmp_path: Path
) -> None:
    ctx = offline_context(offline_sim, tmp_path)
    run_flow, _ = run_handlers(ctx)
    updates = drain(
        run_flow(None, SEED_HUMAN, None, SEED_CLOTH, MODELS[0], "", "", [], {}, "en", visitor())
    )
    status = updates[-1][STATUS]
    said = value_of(status)
    assert "Done" not in said
    assert "placeholder" in said and "upload" in said.lower()
    assert "state-done" not in status.elem_classes


# --- compare ----------------------------------------------------------------------------------


def test_compare_fills_the_api_panel_with_both_requests_and_answers(
    offline_sim: SimulatorServer, tmp_path: Path, files: dict[str, str]
) -> None:
    ctx = offline_context(offline_sim, tmp_path)
    compare_flow = compare_handler(ctx)
    updates = drain(
        compare_flow(files["person"], "", files["garment"], "", "", {}, "en", visitor())
    )
    requests_shown = [value_of(u[-2]) for u in updates if value_of(u[-2]) not in (None, "{}")]
    answers = [value_of(u[-1]) for u in updates if value_of(u[-1]) not in (None, "{}")]
    assert requests_shown and answers
    request = json.loads(requests_shown[-1])
    answer = json.loads(answers[-1])
    assert set(request) == set(MODELS) and set(answer) == set(MODELS)
    assert request[MODELS[1]]["model_name"] == MODELS[1]
    assert answer[MODELS[0]]["data"]["task_status"] == "succeed"
    assert not any(address in answers[-1] for address in LOOPBACK)


# --- lookbook Stop ----------------------------------------------------------------------------


def test_stop_offers_the_zip_of_what_is_done_at_once(
    start_simulator: StartSimulator, tmp_path: Path, files: dict[str, str]
) -> None:
    server = start_simulator(SimulatorConfig(task_seconds=1.5))
    ctx = offline_context(server, tmp_path, lookbook_concurrency=3)
    lookbook_flow, lookbook_stop = lookbook_handlers(ctx)
    garments = []
    for n in range(7):
        path = tmp_path / f"garment-{n}.png"
        path.write_bytes(pictures.garment_png((400 + 10 * n, 420 + 10 * n)))
        garments.append((str(path), None))
    request = visitor()
    pressed: list[bool] = []

    def three_done_three_running(update: tuple[Any, ...]) -> bool:
        rows = update[1] if isinstance(update[1], list) else []
        states = [row[2] for row in rows]
        if not pressed and states.count("done") >= 3 and len([r for r in rows if r[3]]) >= 6:
            lookbook_stop(request)  # Stop, with 3 done, 3 running and 1 waiting its turn
            pressed.append(True)
        return False

    updates = drain(
        lookbook_flow(files["person"], "", garments, MODELS[0], "", {}, "en", request),
        stop=three_done_three_running,
    )
    assert pressed
    offered = [value_of(u[3]) for u in updates if value_of(u[3])]
    assert offered, "Stop offered no zip"
    with zipfile.ZipFile(offered[-1]) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
    assert len([n for n in names if n.startswith("results/")]) >= 3
    assert len(manifest) == 7
    said = value_of(updates[-1][0])
    assert "Stopped" in said and "of 7 done" in said


def test_the_note_on_a_picture_just_chosen_passes_the_admission_path(
    offline_sim: SimulatorServer, tmp_path: Path, files: dict[str, str]
) -> None:
    # Proving a picture whole is work done for the visitor: it is counted on the lookup rate,
    # and past it the note says so instead of decoding again.
    ctx = offline_context(offline_sim, tmp_path, rate_query="1/minute")
    first = asyncio.run(check_note(ctx, files["person"], "field.person", "en", visitor()))
    again = asyncio.run(check_note(ctx, files["person"], "field.person", "en", visitor()))
    assert "state-done" in first.elem_classes and "JPEG" in first.value
    assert "state-error" in again.elem_classes
    assert "JPEG" not in again.value and "pictures checked" in again.value

"""The history's rows come back from the browser, which a visitor can fill with anything (issue
23, findings 2 and 9): only entries shaped as the server makes them are shown or used, and a
thumbnail path says nothing about files outside the work folders.

Each test fires the page's own events over plain HTTP against the app on loopback.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import pictures
from tests.page_events import entry, event, held
from tests.test_app import RunningApp
from tryon_demo.hosting import workfiles
from tryon_demo.settings import Settings

MARKER = "STUFFED"
KB = 2**10


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("work")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, workdir: Path) -> Iterator[RunningApp]:
    settings = Settings(force_offline=True, state_dir=tmp_path_factory.mktemp("state"))
    with RunningApp(settings, workdir) as running:
        yield running


# --- rows ------------------------------------------------------------------------------


def test_clicking_a_junk_history_row_copies_nothing_into_the_session(app: RunningApp) -> None:
    session = uuid.uuid4().hex
    junk = [entry(MARKER + "x" * 100 * KB)]
    answer = event(app, "_picked", [junk], session, {"index": [0, 0], "value": ""})
    assert MARKER not in answer.text
    assert MARKER not in held(app, session)


def test_clicking_a_well_formed_history_row_gives_its_task_id(app: RunningApp) -> None:
    session = uuid.uuid4().hex
    rows = [entry("older0000000000000000a"), entry("newer0000000000000000b")]
    answer = event(app, "_picked", [rows], session, {"index": [0, 3], "value": ""})
    assert answer.status_code == 200
    assert answer.json()["data"][0] == "newer0000000000000000b"  # rows are newest first


def test_a_history_of_junk_entries_shows_only_the_well_formed_ones(app: RunningApp) -> None:
    session = uuid.uuid4().hex
    stored = [
        entry("good000000000000000001"),
        entry("bad id with spaces"),
        entry("good000000000000000002", status=MARKER * 10),
        entry("good000000000000000003", model=MARKER),
        entry("good000000000000000004", result_url="javascript:alert(1)"),
        entry("good000000000000000005", time=MARKER),
        "not an entry",
    ]
    answer = event(app, "on_load", [stored, "en"], session)
    assert answer.status_code == 200
    table = answer.json()["data"][0]["value"]["data"]
    assert [row[5] for row in table] == ["good000000000000000001"]
    assert MARKER not in held(app, session)


# --- history thumbnails ------------------------------------------------------------------------


def thumbnail_cell(app: RunningApp, thumb: object) -> str:
    """The thumbnail cell the history table shows for an entry naming ``thumb``."""
    stored = [entry("a" * 22, thumb=thumb)]
    answer = event(app, "on_load", [stored, "en"], uuid.uuid4().hex)
    assert answer.status_code == 200
    ((cell, *_),) = answer.json()["data"][0]["value"]["data"]
    return str(cell)


OUTSIDE = [
    "/etc/shadow",
    "/etc/passwd",
    "/no/such/file.png",
    "/etc",
    "../../../../etc/passwd",
    "/proc/self/environ",
]


def test_the_history_answers_the_same_for_any_path_outside_the_work_folders(
    app: RunningApp, workdir: Path
) -> None:
    cells = {thumb: thumbnail_cell(app, thumb) for thumb in [*OUTSIDE, str(workdir / "x" / "y")]}
    assert set(cells.values()) == {""}, cells


def test_a_work_file_of_this_server_still_shows_its_thumbnail(
    app: RunningApp, workdir: Path
) -> None:
    result = workfiles.private_path(workdir, "result.png")
    result.write_bytes(pictures.garment_png())
    cell = thumbnail_cell(app, str(result))
    assert cell.startswith("![](gradio_api/file=") and result.parent.name in cell
    result.unlink()
    assert thumbnail_cell(app, str(result)) == ""  # swept: nothing to show


def test_a_path_is_judged_a_work_file_without_looking_at_the_disk(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked: list[str] = []
    original = Path.stat

    def stat(self: Path, **kwargs: Any) -> Any:
        looked.append(str(self))
        return original(self, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)
    for path in OUTSIDE:
        assert workfiles.work_file(path) is None
    assert looked == []

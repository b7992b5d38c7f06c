"""How long tasks take: the estimate from recent durations, its defaults, and its file."""

from __future__ import annotations

import json
import logging
import multiprocessing
import threading
from pathlib import Path

import pytest

from tryon_demo.flow.durations import (
    FILE_NAME,
    KEEP,
    KEEP_SOURCES,
    KLING_WINDOW,
    Durations,
    prior_for,
    quantile,
    window_of,
)
from tryon_demo.flow.timetable import Window

V1, V15 = "kolors-virtual-try-on-v1", "kolors-virtual-try-on-v1-5"
GATEWAY = "https://api.gpt.ge/kling"


def saved(durations: Durations) -> dict[str, object]:
    durations.flush()
    assert durations.path is not None
    return json.loads(durations.path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


# --- the estimate ---------------------------------------------------------------------------


def test_quantiles_interpolate_between_neighbours() -> None:
    ordered = [10.0, 12.0, 14.0, 20.0]
    assert quantile(ordered, 0.0) == 10.0
    assert quantile(ordered, 0.5) == 13.0
    assert quantile(ordered, 1.0) == 20.0
    assert quantile([7.0], 0.9) == 7.0


def test_the_window_is_the_median_between_the_10th_and_90th_percentiles() -> None:
    durations = [12.0 + 0.3 * i for i in range(21)]  # 12.0 .. 18.0
    window = window_of(durations)
    assert window.typical == pytest.approx(15.0)
    assert window.start == pytest.approx(12.6)
    assert window.end == pytest.approx(17.4)


def test_with_two_durations_the_window_reaches_a_fifth_either_side() -> None:
    window = window_of([14.0, 16.0])
    assert (window.start, window.typical, window.end) == pytest.approx((12.0, 15.0, 18.0))


def test_the_more_durations_agree_the_narrower_the_window() -> None:
    assert window_of([20.0] * 8).start == pytest.approx(18.0)  # a tenth with eight
    assert window_of([20.0] * 8).end == pytest.approx(22.0)
    assert window_of([20.0] * 32).start == pytest.approx(19.0)  # a twentieth at the least
    assert window_of([20.0] * 50).end == pytest.approx(21.0)


def test_one_stuck_task_hardly_moves_the_estimate() -> None:
    usual = [14.0, 15.0, 16.0] * 6
    window = window_of([*usual, 290.0])
    assert window.typical == 15.0
    assert window.end <= 16.5


def test_a_model_has_its_own_window(tmp_path: Path) -> None:
    durations = Durations(None, "api")
    for seconds in (10.0, 10.0, 10.0):
        durations.record(V1, seconds)
    for seconds in (20.0, 20.0, 20.0):
        durations.record(V15, seconds)
    assert durations.window(V1).typical == 10.0  # type: ignore[union-attr]
    assert durations.window(V15).typical == 20.0  # type: ignore[union-attr]


def test_a_models_first_task_uses_every_models_durations() -> None:
    durations = Durations(None, "api", KLING_WINDOW)
    durations.record(V1, 10.0)
    durations.record(V1, 12.0)
    assert durations.window(V15).typical == 11.0  # type: ignore[union-attr]
    assert durations.window(None).typical == 11.0  # type: ignore[union-attr]


def test_only_the_most_recent_durations_count() -> None:
    durations = Durations(None, "api")
    for _ in range(KEEP):
        durations.record(V1, 30.0)
    for _ in range(KEEP):
        durations.record(V1, 12.0)
    assert durations.recent(V1) == (12.0,) * KEEP
    assert durations.window(V1).typical == 12.0  # type: ignore[union-attr]


@pytest.mark.parametrize("seconds", [0.0, -3.0, 0.2, float("nan"), float("inf"), 7200.0])
def test_a_duration_no_try_on_takes_is_not_learnt(seconds: float) -> None:
    durations = Durations(None, "api")
    assert not durations.record(V1, seconds)
    assert durations.recent(V1) == ()


# --- the defaults ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base", [GATEWAY, "https://api-singapore.klingai.com", "https://API.KLINGAI.COM/"]
)
def test_the_kling_api_starts_from_its_documented_times(base: str) -> None:
    assert prior_for(base) == KLING_WINDOW == Window(12.0, 15.0, 18.0)


@pytest.mark.parametrize(
    "base", ["http://127.0.0.1:8123/kling", "https://notklingai.com", "https://example.org", None]
)
def test_an_api_nobody_measured_starts_with_no_window(base: str | None) -> None:
    assert prior_for(base) is None


def test_offline_the_simulators_task_time_is_the_default() -> None:
    window = prior_for(None, 3.0)
    assert window is not None
    assert (window.start, window.typical, window.end) == pytest.approx((2.4, 3.0, 3.6))


def test_before_any_duration_the_default_is_the_window() -> None:
    assert Durations(None, GATEWAY, KLING_WINDOW).window(V1) == KLING_WINDOW
    assert Durations(None, "http://127.0.0.1:1/kling").window(V1) is None


# --- the file in the state folder -----------------------------------------------------------


def test_durations_outlive_a_restart(tmp_path: Path) -> None:
    first = Durations(tmp_path / FILE_NAME, GATEWAY, KLING_WINDOW)
    first.record(V1, 21.0)
    first.record(V1, 23.0)
    first.flush()
    again = Durations(tmp_path / FILE_NAME, GATEWAY, KLING_WINDOW)
    assert again.recent(V1) == (21.0, 23.0)
    assert again.window(V1).typical == 22.0  # type: ignore[union-attr]


def test_the_file_keeps_each_api_apart(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    gateway = Durations(path, GATEWAY, KLING_WINDOW)
    gateway.record(V1, 14.0)
    gateway.flush()
    other = Durations(path, "https://my-proxy.example.org", None)
    other.record(V1, 40.0)
    other.flush()
    assert Durations(path, GATEWAY).recent(V1) == (14.0,)
    assert Durations(path, "https://my-proxy.example.org").recent(V1) == (40.0,)


def test_the_file_forgets_the_oldest_apis(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    for port in range(KEEP_SOURCES + 3):
        durations = Durations(path, f"http://127.0.0.1:{port}", None)
        durations.record(V1, 5.0)
        durations.flush()
    sources = saved(Durations(path, "unused"))["sources"]
    assert len(sources) == KEEP_SOURCES  # type: ignore[arg-type]
    assert "http://127.0.0.1:0" not in sources  # type: ignore[operator]
    assert f"http://127.0.0.1:{KEEP_SOURCES + 2}" in sources  # type: ignore[operator]


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "",
        "[1, 2, 3]",
        '{"version": 99, "sources": {}}',
        '{"version": 1, "sources": [1]}',
        '{"version": 1, "sources": {"https://api.gpt.ge/kling": {"m": "fast"}}}',
        '{"version": 1, "sources": {"https://api.gpt.ge/kling": {"m": [true, "9", -1, 1e400]}}}',
        "\udcff".encode("utf-8", "surrogateescape").decode("latin-1"),
    ],
)
def test_a_corrupt_file_is_ignored_then_replaced_by_a_good_one(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / FILE_NAME
    path.write_text(content, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        durations = Durations(path, GATEWAY, KLING_WINDOW)
    assert durations.window(V1) == KLING_WINDOW
    durations.record(V1, 16.0)
    assert saved(durations) == {"version": 1, "sources": {GATEWAY: {V1: [16.0]}}}


def test_a_file_that_cannot_be_written_leaves_the_duration_learnt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the state folder should be")
    durations = Durations(blocked / FILE_NAME, GATEWAY, KLING_WINDOW)
    with caplog.at_level(logging.WARNING):
        assert durations.record(V1, 13.0)
        durations.flush()
    assert durations.recent(V1) == (13.0,)
    assert "could not save task durations" in caplog.text


def test_no_half_written_file_is_ever_seen(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    writer = Durations(path, GATEWAY)
    writer.record(V1, 10.0)
    writer.flush()
    seen_bad = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                seen_bad.append(True)

    reader = threading.Thread(target=read)
    reader.start()
    for index in range(200):
        writer.record(V1, 10.0 + index % 7)
    writer.flush()
    stop.set()
    reader.join()
    assert seen_bad == []
    assert not list(tmp_path.glob("*.tmp"))


def test_two_apps_sharing_the_folder_both_keep_their_durations(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    one = Durations(path, GATEWAY)
    other = Durations(path, GATEWAY)  # started before the first wrote anything
    one.record(V1, 11.0)
    one.flush()
    other.record(V1, 17.0)
    other.flush()
    assert Durations(path, GATEWAY).recent(V1) == (11.0, 17.0)
    assert other.recent(V1) == (11.0, 17.0)  # and it learnt the other app's too


def _record_many(path: str, base: float) -> None:
    durations = Durations(Path(path), GATEWAY)
    for index in range(KEEP):
        durations.record(f"model-{base:g}", base + index / 100)
    durations.flush()


def test_processes_writing_at_once_lose_no_duration(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_record_many, args=(str(path), base)) for base in (10, 20, 30, 40)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    kept = Durations(path, GATEWAY)
    assert all(len(kept.recent(f"model-{base}")) == KEEP for base in (10, 20, 30, 40))


def test_a_duration_recorded_while_the_app_shuts_down_is_learnt_without_an_error(
    tmp_path: Path,
) -> None:
    durations = Durations(tmp_path / FILE_NAME, GATEWAY)
    durations.record(V1, 14.0)
    durations.flush()
    assert durations._writer is not None
    durations._writer.shutdown()  # what the interpreter does to every pool as it exits
    assert durations.record(V1, 15.0)
    assert durations.recent(V1) == (14.0, 15.0)
    assert Durations(tmp_path / FILE_NAME, GATEWAY).recent(V1) == (14.0,)

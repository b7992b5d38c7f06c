"""The usage records: SQLite rows that survive a restart, take concurrent writers, stay
bounded and hold nothing about visitors."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from tryon_demo.hosting.usage import Usage
from tryon_demo.hosting.usage_store import DAY, Event, UsageStore, day_of

V1 = "kolors-virtual-try-on-v1"


def kinds(store: UsageStore, day: str | None = None) -> dict[str, int]:
    counted: dict[str, int] = {}
    for count in store.counts(day or day_of(time.time())):
        counted[count.kind] = counted.get(count.kind, 0) + count.count
    return counted


def test_recorded_events_are_in_the_file_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite3"
    usage = Usage(UsageStore(path))
    usage.created(V1)
    usage.ended(V1, "succeed", 12.5)
    usage.refused("picture")
    usage.waited(0.4)
    usage.close()

    reopened = UsageStore(path)
    assert kinds(reopened) == {"create": 1, "result": 1, "refusal": 1, "wait": 1}
    assert reopened.durations("result", day_of(time.time()), "succeed") == [12.5]
    reopened.close()


def test_close_writes_what_is_still_pending(tmp_path: Path) -> None:
    store = UsageStore(tmp_path / "usage.sqlite3")
    for _ in range(200):
        store.add(Event.now("create", model=V1))
    store.close()  # no flush first: closing must not drop the batch in flight
    assert UsageStore(tmp_path / "usage.sqlite3").creates_on(day_of(time.time())) == 200


def test_a_flush_makes_every_event_added_so_far_readable(tmp_path: Path) -> None:
    store = UsageStore(tmp_path / "usage.sqlite3")
    for _ in range(3):
        store.add(Event.now("create", model=V1))
    assert store.flush()
    assert store.creates_on(day_of(time.time())) == 3
    store.close()


def test_two_writers_on_one_file_both_get_every_row_in(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite3"
    first, second = UsageStore(path), UsageStore(path)

    def write(store: UsageStore) -> None:
        for _ in range(300):
            store.add(Event.now("create", model=V1))

    threads = [threading.Thread(target=write, args=(store,)) for store in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first.close()
    second.close()
    assert UsageStore(path).creates_on(day_of(time.time())) == 600


def test_the_file_is_in_wal_mode_so_readers_never_wait_for_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite3"
    UsageStore(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_rows_older_than_the_kept_days_are_deleted_when_the_store_opens(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite3"
    store = UsageStore(path, keep_days=30)
    now = time.time()
    for days_ago in (40, 31, 29, 0):
        store.add(Event(now - days_ago * DAY, "create", V1))
    store.close()

    reopened = UsageStore(path, keep_days=30)
    assert reopened.flush()
    left = {count.day for count in reopened.counts("0000-00-00")}
    assert left == {day_of(now - 29 * DAY), day_of(now)}
    reopened.close()


def test_a_row_has_only_when_what_model_and_figures_never_a_visitor(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite3"
    usage = Usage(UsageStore(path))
    usage.created("203.0.113.9 sk-FAKE task CjikY2gHPbcAAAAABI5n9g")  # not a model: "other"
    usage.refused("person.jpg from 203.0.113.9")  # not a reason: "other"
    usage.ended(V1, "error", 1.0, code=1301)
    usage.close()
    with sqlite3.connect(path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(events)")]
        rows = conn.execute("SELECT kind, model, detail, code FROM events ORDER BY kind").fetchall()
    assert columns == ["at", "day", "hour", "kind", "model", "detail", "code", "seconds"]
    assert rows == [
        ("create", "other", None, None),
        ("refusal", None, "other", None),
        ("result", V1, "error", 1301),
    ]
    assert b"203.0.113.9" not in path.read_bytes() and b"sk-FAKE" not in path.read_bytes()


def test_a_file_that_is_not_a_database_is_set_aside_and_recording_goes_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "usage.sqlite3"
    path.write_bytes(b"this is not a database, just junk " * 100)
    store = UsageStore(path)
    store.add(Event.now("create", model=V1))
    assert store.flush()
    assert store.creates_on(day_of(time.time())) == 1
    assert [p.name for p in tmp_path.iterdir() if ".unreadable-" in p.name]
    store.close()


def test_a_folder_that_cannot_be_written_keeps_the_records_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the state folder should be")
    store = UsageStore(blocker / "usage.sqlite3")
    store.add(Event.now("create", model=V1))
    assert store.flush()
    assert store.creates_on(day_of(time.time())) == 1  # the demo runs on; the log says why
    store.close()


def refusal(reason: str) -> Exception:
    """An error the pipeline turns a visitor away with, for ``reason``."""
    from tryon_demo.errors import ApiError, ImageError, InputError, UnsafeURLError
    from tryon_demo.flow.admit import CallerGoneError
    from tryon_demo.hosting.limits import LimitExceededError

    made: dict[str, Exception] = {
        "picture": ImageError("too small"),
        "callback": UnsafeURLError("private network"),
        "input": InputError("unknown model"),
        "api": ApiError("out of credits", code=1102),
        "caller_gone": CallerGoneError("left"),
    }
    return made.get(reason) or LimitExceededError("over", reason=reason)


@pytest.mark.parametrize(
    "reason",
    [
        "rate",
        "query_rate",
        "daily_cap",
        "address_share",
        "queue_full",
        "queue_wait",
        "caller_gone",
        "picture",
        "callback",
        "input",
        "api",
    ],
)
def test_every_reason_the_pipeline_tells_is_counted_under_its_own_name(
    reason: str, tmp_path: Path
) -> None:
    from tryon_demo.flow.usage import reason_of

    told = reason_of(refusal(reason))  # type: ignore[arg-type]
    assert told == reason
    usage = Usage(UsageStore(tmp_path / "usage.sqlite3"))
    usage.refused(told)
    usage.close()
    assert f'tryon_refusals_total{{reason="{reason}"}} 1.0' in usage.metrics.render().decode()


def test_a_reason_outside_the_list_is_counted_as_other(tmp_path: Path) -> None:
    usage = Usage(UsageStore(tmp_path / "usage.sqlite3"))
    usage.refused("network")  # another error's kind: not a name the owner's view shows
    usage.refused("<script>")
    usage.close()
    assert 'tryon_refusals_total{reason="other"} 2.0' in usage.metrics.render().decode()


def test_todays_creates_are_counted_at_once_before_the_writer_has_written_them(
    tmp_path: Path,
) -> None:
    store = UsageStore(tmp_path / "usage.sqlite3")
    today = day_of(time.time())
    for expected in range(1, 4):
        store.add(Event.now("create", model=V1))
        assert store.creates_today(today) == expected  # what the daily cap reads
    store.add(Event.now("refusal", detail="picture"))
    store.add(Event(time.time() - 2 * DAY, "create", V1))  # another day's
    assert store.flush()
    assert store.creates_today(today) == 3 == store.creates_on(today)
    store.close()


def test_todays_creates_include_another_process_sharing_the_file(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite3"
    mine, theirs = UsageStore(path), UsageStore(path)
    today = day_of(time.time())
    mine.add(Event.now("create", model=V1))
    theirs.add(Event.now("create", model=V1))
    theirs.add(Event.now("create", model=V1))
    assert theirs.flush()
    mine.add(Event.now("create", model=V1))  # the next batch of mine counts the file again
    assert mine.flush()
    assert mine.creates_today(today) == 4
    mine.close()
    theirs.close()
    assert UsageStore(path).creates_today(today) == 4

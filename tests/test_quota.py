"""The day's quota on the owner's key: the daily cap and each address's share of it.

Only accepted creates count: admission reserves one, the create step commits it when the API
answered with a task, and anything else releases it. The day's total survives a restart.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests import pictures
from tests.flows import collect, make_pipeline
from tryon_demo.flow.admit import Visitor
from tryon_demo.hosting.limits import LimitExceededError
from tryon_demo.hosting.quota import DAILY_FILE, FileStore, Quota, default_share, quota_for
from tryon_demo.settings import Settings, load_settings
from tryon_demo.simulator import SimulatorServer


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0  # a fixed day, mid-morning UTC

    def __call__(self) -> float:
        return self.now


def accept(quota: Quota, address: str = "a") -> None:
    """One create reserved and accepted by the API."""
    quota.reserve(address).commit()


# --- the day's cap -------------------------------------------------------------------------


def test_a_check_refuses_as_a_reservation_would_and_reserves_nothing() -> None:
    quota = Quota(daily_cap=2, per_address=1, clock=Clock())
    for _ in range(3):
        quota.check("a")  # checking spends nothing
    accept(quota, "a")
    with pytest.raises(LimitExceededError, match="your 1 try-ons for today") as share:
        quota.check("a")
    assert share.value.reason == "address_share"
    quota.check("a", share=False)  # without its share, only the day's total applies
    quota.check("b")
    accept(quota, "b")
    with pytest.raises(LimitExceededError, match="limit of 2 try-ons for today") as cap:
        quota.check("c")
    assert cap.value.reason == "daily_cap"
    assert quota.used() == 2


def test_a_daily_cap_makes_the_quota_active_and_refuses_the_create_past_it() -> None:
    quota = Quota(1, clock=Clock())
    assert quota.active
    accept(quota, "s")
    with pytest.raises(LimitExceededError):
        quota.reserve("s")


def test_without_a_cap_or_a_share_nothing_is_counted() -> None:
    quota = Quota(0, 0, clock=Clock())
    assert not quota.active
    for _ in range(1000):
        accept(quota)


def test_the_daily_cap_resets_the_next_day() -> None:
    clock = Clock()
    quota = Quota(daily_cap=2, clock=clock)
    accept(quota, "a")
    accept(quota, "b")
    with pytest.raises(
        LimitExceededError,
        match=r"^This demo has reached its limit of 2 try-ons for today\. Try again tomorrow "
        r"\(UTC\), or enter your own API key under Advanced\.$",
    ) as caught:
        quota.reserve("c")
    assert caught.value.retry_after is None  # waiting within the day would not help
    assert caught.value.reason == "daily_cap"
    clock.now += 86400
    accept(quota, "c")  # the whole cap again, not one less
    accept(quota, "d")
    with pytest.raises(LimitExceededError):
        quota.reserve("e")


def test_the_daily_cap_holds_all_day_long() -> None:
    clock = Clock()
    quota = Quota(daily_cap=1, clock=clock)
    accept(quota, "a")
    for _ in range(3):
        clock.now += 3600 + 61  # hours and minutes pass, the day does not
        with pytest.raises(LimitExceededError):
            quota.reserve("a")


def test_only_creates_the_api_accepted_count_against_the_cap() -> None:
    quota = Quota(daily_cap=3, clock=Clock())
    for _ in range(10):  # refused pictures, API errors, callers who left: released
        quota.reserve("a").release()
    for address in ("a", "b", "c"):
        accept(quota, address)
    with pytest.raises(LimitExceededError):
        quota.reserve("d")


def test_creates_on_their_way_hold_their_place_so_the_cap_is_never_overshot() -> None:
    quota = Quota(daily_cap=3, clock=Clock())
    on_their_way = [quota.reserve(address) for address in ("a", "b", "c")]
    with pytest.raises(LimitExceededError):  # three are reserved: a fourth would overshoot
        quota.reserve("d")
    on_their_way[0].release()  # that one created nothing
    late = quota.reserve("d")
    for reservation in (*on_their_way, late):
        reservation.commit()
    assert quota.used() == 3


def test_a_reservation_settles_once_whatever_is_said_after() -> None:
    quota = Quota(daily_cap=2, clock=Clock())
    reservation = quota.reserve("a")
    reservation.commit()
    reservation.commit()
    reservation.release()  # too late: the create was accepted
    assert quota.used() == 1
    released = quota.reserve("a")
    released.release()
    released.commit()  # too late: it was given back
    assert quota.used() == 1


def test_many_visitors_at_once_never_overshoot_the_cap() -> None:
    quota = Quota(daily_cap=25, clock=Clock())
    taken: list[int] = []

    def visitor(n: int) -> None:
        for _ in range(10):
            try:
                reservation = quota.reserve(f"v{n}")
            except LimitExceededError:
                continue
            reservation.commit()
            taken.append(n)

    threads = [threading.Thread(target=visitor, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == quota.used() == 25


# --- each address's share -------------------------------------------------------------------


def test_one_address_takes_at_most_its_share_and_others_still_get_theirs() -> None:
    quota = Quota(daily_cap=6, per_address=1, clock=Clock())
    accept(quota, "ip:greedy")
    with pytest.raises(LimitExceededError) as caught:
        quota.reserve("ip:greedy")
    assert caught.value.reason == "address_share"
    assert "You have used your 1 try-ons for today" in caught.value.render("en")
    assert "1" in caught.value.render("zh") and "今天" in caught.value.render("zh")
    for n in range(5):
        accept(quota, f"ip:{n}")
    assert quota.used() == 6


def test_the_share_counts_creates_on_their_way_too() -> None:
    quota = Quota(daily_cap=0, per_address=2, clock=Clock())
    first, second = quota.reserve("a"), quota.reserve("a")
    with pytest.raises(LimitExceededError):
        quota.reserve("a")
    second.release()
    quota.reserve("a").commit()
    first.commit()
    with pytest.raises(LimitExceededError):
        quota.reserve("a")


def test_a_released_place_in_the_share_frees_that_one_place_only() -> None:
    quota = Quota(daily_cap=0, per_address=3, clock=Clock())
    first, _second, _third = (quota.reserve("a") for _ in range(3))
    first.release()
    quota.reserve("a")  # the place the first gave back
    with pytest.raises(LimitExceededError):  # the other two are still on their way
        quota.reserve("a")


def test_an_accepted_create_counts_once_in_the_share() -> None:
    quota = Quota(daily_cap=0, per_address=2, clock=Clock())
    accept(quota, "a")
    accept(quota, "a")  # the second of two
    with pytest.raises(LimitExceededError):
        quota.reserve("a")


def test_the_command_line_owner_counts_against_the_cap_but_has_no_share() -> None:
    quota = Quota(daily_cap=3, per_address=1, clock=Clock())
    for _ in range(3):
        quota.reserve("local", share=False).commit()
    with pytest.raises(LimitExceededError, match="limit of 3 try-ons for today"):
        quota.reserve("local", share=False)


@pytest.mark.parametrize(("cap", "share"), [(0, 0), (1, 1), (6, 1), (10, 1), (11, 2), (200, 20)])
def test_an_address_gets_a_tenth_of_the_cap_rounded_up_unless_set(cap: int, share: int) -> None:
    assert default_share(cap) == share
    settings = Settings(daily_cap=cap)
    assert quota_for(settings).per_address == share


def test_the_share_is_read_from_tryon_daily_cap_per_address(tmp_path: Path) -> None:
    env = {"TRYON_DAILY_CAP": "100", "TRYON_DAILY_CAP_PER_ADDRESS": "3"}
    settings = load_settings(env={**env, "TRYON_STATE_DIR": str(tmp_path)}, dotenv_path=None)
    assert (settings.daily_cap, settings.daily_cap_per_address) == (100, 3)
    assert quota_for(settings).per_address == 3
    off = load_settings(env={**env, "TRYON_DAILY_CAP_PER_ADDRESS": "0"}, dotenv_path=None)
    assert quota_for(off).per_address == 0  # 0: no share, only the day's total
    assert load_settings(env={}, dotenv_path=None).daily_cap_per_address is None


# --- kept across restarts -------------------------------------------------------------------


def test_the_days_count_survives_a_new_quota_on_the_same_file(tmp_path: Path) -> None:
    clock = Clock()
    store = tmp_path / DAILY_FILE
    first = Quota(daily_cap=2, store=FileStore(store), clock=clock)
    accept(first, "a")
    accept(first, "b")
    restarted = Quota(daily_cap=2, store=FileStore(store), clock=clock)
    with pytest.raises(LimitExceededError, match="limit of 2 try-ons for today"):
        restarted.reserve("c")


def test_two_processes_on_one_file_count_into_one_day(tmp_path: Path) -> None:
    clock = Clock()
    store = tmp_path / DAILY_FILE
    app, command_line = (Quota(3, store=FileStore(store), clock=clock) for _ in range(2))
    accept(app, "a")
    accept(command_line, "local")
    accept(app, "b")
    with pytest.raises(LimitExceededError):
        command_line.reserve("local", share=False)


def test_yesterdays_saved_count_does_not_hold_today(tmp_path: Path) -> None:
    clock = Clock()
    store = tmp_path / DAILY_FILE
    accept(Quota(daily_cap=1, store=FileStore(store), clock=clock), "a")
    clock.now += 86400
    accept(Quota(daily_cap=1, store=FileStore(store), clock=clock), "a")


@pytest.mark.parametrize("content", ["{not json", '{"day": 5}', "[]", '{"day": "x", "count": "y"}'])
def test_an_unreadable_count_file_starts_the_day_afresh(tmp_path: Path, content: str) -> None:
    store = tmp_path / DAILY_FILE
    store.write_text(content)
    quota = Quota(daily_cap=1, store=FileStore(store), clock=Clock())
    accept(quota, "a")
    assert json.loads(store.read_text())["count"] == 1  # and the file is whole again


def test_a_negative_saved_count_counts_as_none(tmp_path: Path) -> None:
    clock = Clock()
    store = tmp_path / DAILY_FILE
    accept(Quota(daily_cap=1, store=FileStore(store), clock=clock), "a")
    saved = json.loads(store.read_text())
    store.write_text(json.dumps({**saved, "count": -5}))  # today's file, a count gone wrong
    quota = Quota(daily_cap=1, store=FileStore(store), clock=clock)
    accept(quota, "b")  # the whole cap: not one more, not one less
    with pytest.raises(LimitExceededError):
        quota.reserve("c")


def test_an_unreadable_count_file_is_named_in_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = tmp_path / DAILY_FILE
    store.write_text("{not json")
    Quota(daily_cap=1, store=FileStore(store), clock=Clock())
    (record,) = caplog.records
    assert record.levelname == "WARNING"
    assert record.getMessage().startswith(f"ignoring the unreadable daily count in {store} (")
    assert "line 1 column 2" in record.getMessage()  # and why: the parser's own words


def test_a_count_that_cannot_be_saved_still_holds_in_memory_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the state folder should be")
    store = blocker / DAILY_FILE
    quota = Quota(daily_cap=1, store=FileStore(store), clock=Clock())
    accept(quota, "a")
    with pytest.raises(LimitExceededError):
        quota.reserve("b")
    messages = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        m.startswith(f"could not save the daily count to {store} (") and "Not a directory" in m
        for m in messages
    )


def test_a_daily_cap_from_the_settings_survives_a_restart(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path / "state", daily_cap=1)
    accept(quota_for(settings), "a")
    with pytest.raises(LimitExceededError, match="limit of 1 try-ons for today"):
        quota_for(settings).reserve("b")  # a new process: same state folder, same count


def test_without_a_daily_cap_no_count_file_is_written(tmp_path: Path) -> None:
    accept(quota_for(Settings(state_dir=tmp_path, rate_per_session="3/minute")), "a")
    assert list(tmp_path.iterdir()) == []


# --- through whole runs --------------------------------------------------------------------


def test_refused_junk_costs_nothing_from_the_days_cap(
    simulator: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pipeline = make_pipeline(simulator, tmp_path, daily_cap=3, state_dir=tmp_path / "state")
    tiny, notes = tmp_path / "tiny.png", tmp_path / "notes.jpg"
    tiny.write_bytes(pictures.encode(pictures.garment().resize((10, 10)), "PNG"))
    notes.write_bytes(pictures.text_file())
    refused = [
        collect(pipeline, tiny, image_files[1], visitor=Visitor(f"ip:{n}"))[-1] for n in range(2)
    ]
    refused.append(collect(pipeline, notes, image_files[1], visitor=Visitor("ip:2"))[-1])
    assert [step.phase for step in refused] == ["error"] * 3
    done = [collect(pipeline, *image_files, visitor=Visitor(f"ip:{n}"))[-1] for n in range(3)]
    assert [step.phase for step in done] == ["succeed"] * 3  # the whole cap was still there
    over = collect(pipeline, *image_files, visitor=Visitor("ip:9"))[-1]
    assert "limit of 3 try-ons for today" in over.status_text()
    assert simulator.simulator.creates_received == 3


def test_one_address_cannot_spend_the_whole_day_through_the_page(
    simulator: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pipeline = make_pipeline(simulator, tmp_path, daily_cap=6, state_dir=tmp_path / "state")
    greedy = Visitor("ip:greedy")
    first = collect(pipeline, *image_files, visitor=greedy)[-1]
    second = collect(pipeline, *image_files, visitor=greedy)[-1]
    other = collect(pipeline, *image_files, visitor=Visitor("ip:other"))[-1]
    assert (first.phase, other.phase) == ("succeed", "succeed")
    assert "You have used your 1 try-ons for today" in second.status_text()
    assert simulator.simulator.creates_received == 2

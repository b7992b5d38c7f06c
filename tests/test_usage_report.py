"""The owner's figures from the usage records: today, the week, credits, the cap, the times."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tryon_demo.hosting.usage import Usage
from tryon_demo.hosting.usage_report import UsageReport, percentile
from tryon_demo.hosting.usage_store import DAY, Event, UsageStore, day_of
from tryon_demo.settings import MODELS, Settings

V1, V15 = MODELS


@pytest.fixture
def usage(tmp_path: Path) -> Iterator[Usage]:
    recorder = Usage(UsageStore(tmp_path / "usage.sqlite3"))
    yield recorder
    recorder.close()


def a_mixed_day(usage: Usage) -> None:
    for model, seconds in ((V1, 20.0), (V1, 30.0), (V15, 40.0)):
        usage.waited(2.0)
        usage.created(model)
        usage.ended(model, "succeed", seconds)
    usage.created(V15)
    usage.ended(V15, "failed", 25.0)
    usage.ended(V1, "error", 0.3, code=1301)  # the API refused the create: nothing created
    usage.refused("picture")
    usage.refused("picture")
    usage.refused("daily_cap")


def test_todays_figures_count_every_kind_of_event(usage: Usage) -> None:
    a_mixed_day(usage)
    today = UsageReport(usage, Settings()).figures()["today"]
    assert today["creates"] == 4
    assert today["creates_by_model"] == {V1: 2, V15: 2}
    assert today["results"] == {"succeed": 3, "failed": 1, "error": 1}
    assert today["errors_by_code"] == {"1301": 1}
    assert {k: v for k, v in today["refusals"].items() if v} == {"picture": 2, "daily_cap": 1}
    assert today["result_seconds"] == {"count": 3, "p50": 30.0, "p90": 40.0, "p99": 40.0}
    assert today["queue_wait_seconds"]["count"] == 3


def test_credits_are_each_models_creates_times_its_price(usage: Usage) -> None:
    a_mixed_day(usage)
    settings = Settings(credits_v1=0.5, credits_v1_5=2.0)
    figures = UsageReport(usage, settings).figures()
    assert figures["today"]["credits"] == 2 * 0.5 + 2 * 2.0
    assert figures["prices"] == {V1: 0.5, V15: 2.0}


def test_without_a_cap_there_is_nothing_left_to_count(usage: Usage) -> None:
    a_mixed_day(usage)
    today = UsageReport(usage, Settings()).figures()["today"]
    assert (today["cap"], today["cap_left"]) == (None, None)


def test_the_cap_left_is_the_cap_less_todays_creates(usage: Usage) -> None:
    a_mixed_day(usage)
    report = UsageReport(usage, Settings(daily_cap=10))
    today = report.figures()["today"]
    assert (today["cap"], today["cap_left"]) == (10, 6)
    assert report.cap_used() == 4
    assert b"tryon_daily_cap_remaining 6.0" in usage.metrics.render()


def test_the_week_is_seven_days_oldest_first_with_yesterdays_figures_kept_apart(
    usage: Usage,
) -> None:
    now = time.time()
    usage.store.add(Event(now - DAY, "create", V1))
    usage.store.add(Event(now - 3 * DAY, "create", V15))
    usage.store.add(Event(now - 8 * DAY, "create", V15))  # beyond the week
    usage.created(V1)
    figures = UsageReport(usage, Settings()).figures()
    days = figures["days"]
    assert [day["day"] for day in days] == [day_of(now - back * DAY) for back in range(6, -1, -1)]
    assert [day["creates"] for day in days] == [0, 0, 0, 1, 0, 1, 1]
    assert figures["week"]["creates"] == 3
    assert figures["today"]["creates"] == 1


def test_creates_per_hour_cover_every_hour_of_the_week(usage: Usage) -> None:
    usage.created(V1)
    usage.created(V1)
    hours = UsageReport(usage, Settings()).figures()["creates_by_hour"]
    assert len(hours) == 7 * 24
    now = time.gmtime()
    this_hour = [h for h in hours if h["day"] == day_of(time.time()) and h["hour"] == now.tm_hour]
    assert this_hour == [{"day": day_of(time.time()), "hour": now.tm_hour, "creates": 2}]
    assert sum(h["creates"] for h in hours) == 2


def test_an_empty_record_reads_as_zeros_not_as_an_error(usage: Usage) -> None:
    today = UsageReport(usage, Settings()).figures()["today"]
    assert today["creates"] == 0 and today["credits"] == 0
    assert today["result_seconds"] == {"count": 0, "p50": 0.0, "p90": 0.0, "p99": 0.0}


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], 50, 0.0),
        ([4.0], 99, 4.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 90, 4.0),
    ],
)
def test_percentiles_are_the_nearest_rank(values: list[float], p: float, expected: float) -> None:
    assert percentile(values, p) == expected


def test_the_quota_counts_the_creates_the_owner_sees(usage: Usage) -> None:
    from tryon_demo.hosting.limits import LimitExceededError
    from tryon_demo.hosting.quota import quota_for

    quota = quota_for(Settings(daily_cap=6, daily_cap_per_address=0), usage)
    a_mixed_day(usage)  # 4 creates, an API refusal, refusals: only the creates count
    assert quota.used() == 4
    reservation = quota.reserve("ip:a")
    reservation.commit()  # the pipeline tells the recorder right after: no pause between
    usage.created(V1)
    assert quota.used() == 5
    figures = UsageReport(usage, Settings(daily_cap=6)).figures()["today"]
    assert (figures["creates"], figures["cap_left"]) == (5, 1)
    quota.reserve("ip:b").commit()
    usage.created(V15)
    with pytest.raises(LimitExceededError):
        quota.reserve("ip:c")
    assert UsageReport(usage, Settings(daily_cap=6)).figures()["today"]["cap_left"] == 0


def test_every_reason_and_outcome_has_a_name_in_every_language() -> None:
    from tryon_demo.hosting.usage_store import OUTCOMES, REASONS
    from tryon_demo.hosting.usage_view import outcome_name, reason_name
    from tryon_demo.text.i18n import languages

    for lang in languages():
        names = [reason_name(reason, lang) for reason in REASONS]
        assert not [name for name in names if name.startswith("owner.")], lang
        assert len(set(names)) == len(REASONS), lang
        assert not [o for o in OUTCOMES if outcome_name(o, lang).startswith("owner.")], lang


def test_the_apis_refusal_of_a_create_counts_under_its_code(usage: Usage) -> None:
    usage.refused("api", 1102)  # out of credits: the owner must know
    usage.ended(V1, "error", 3.0, code=5000)
    today = UsageReport(usage, Settings()).figures()["today"]
    assert today["errors_by_code"] == {"1102": 1, "5000": 1}
    assert today["refusals"]["api"] == 1
    metrics = usage.metrics.render().decode()
    assert 'tryon_api_errors_total{code="1102"} 1.0' in metrics
    assert 'tryon_refusals_total{reason="api"} 1.0' in metrics


def test_the_cards_keep_a_refused_creates_code_off_the_runs_that_ended(usage: Usage) -> None:
    from tryon_demo.hosting.usage_view import cards

    usage.refused("api", 1102)  # refused: no run ended
    usage.ended(V1, "error", 3.0, code=5000)
    figures = UsageReport(usage, Settings()).figures()
    shown = {card.key: card for card in cards(figures, "en", 0)}
    assert "5000" in shown["results"].detail and "1102" not in shown["results"].detail
    assert "1102" in shown["refusals"].detail
    assert figures["today"]["results_by_code"] == {"5000": 1}
    assert figures["today"]["refusals_by_code"] == {"1102": 1}


def test_a_time_card_with_nothing_measured_says_none_not_zero_seconds(usage: Usage) -> None:
    from tryon_demo.hosting.usage_view import cards

    figures = UsageReport(usage, Settings()).figures()
    for lang in ("en", "zh"):
        shown = {card.key: card for card in cards(figures, lang, 0)}
        assert shown["wait"].value == ("none" if lang == "en" else "无")
        assert "p50" not in shown["wait"].value and "0 s" not in shown["wait"].detail

"""The owner's figures as a person reads them, in their language: cards, plot rows, a table.

Plain data from :meth:`~.usage_report.UsageReport.figures` in, plain data out; the ``/owner``
page (:mod:`tryon_demo.ui.owner`) only puts it on screen. Every word comes from the
catalogues (``owner.*``), every value is a number, a day or a fixed name: nothing here can
carry a visitor's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..settings import MODELS
from ..text.messages import text
from .usage_store import OUTCOMES, REASONS


@dataclass(frozen=True)
class Card:
    """One figure at a glance: what it is, its value, and a line of detail."""

    key: str
    title: str
    value: str
    detail: str


def number(value: float) -> str:
    """A count or an amount of credits without a pointless ``.0``."""
    return f"{value:g}" if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def cards(figures: dict[str, Any], lang: str, queue_waiting: int) -> list[Card]:
    """The figures at a glance, in ``lang``: today's try-ons, credits, cap, results,
    refusals and times, the line now and the last 7 days."""
    today, week, prices = figures["today"], figures["week"], figures["prices"]
    v1, v15 = (today["creates_by_model"].get(model, 0) for model in MODELS)
    results = today["results"]
    refusals = {reason: n for reason, n in today["refusals"].items() if n}
    refused_detail = ", ".join(f"{reason_name(r, lang)} {n}" for r, n in refusals.items()) or text(
        "owner.card_none", lang
    )
    codes = ", ".join(f"{code} × {n}" for code, n in today["results_by_code"].items())
    refused_codes = ", ".join(f"{code} × {n}" for code, n in today["refusals_by_code"].items())
    if refused_codes:
        refused_detail += " · " + text("owner.card_errors_detail", lang, codes=refused_codes)
    if today["cap"] is None:
        cap = Card(
            "cap",
            text("owner.card_cap", lang),
            text("owner.card_no_cap", lang),
            text("owner.card_no_cap_detail", lang, setting="TRYON_DAILY_CAP"),
        )
    else:
        cap = Card(
            "cap",
            text("owner.card_cap", lang),
            text("owner.card_cap_left", lang, left=today["cap_left"]),
            text("owner.card_cap_detail", lang, used=today["creates"], cap=today["cap"]),
        )
    return [
        Card(
            "creates",
            text("owner.card_creates", lang),
            number(today["creates"]),
            text("owner.card_creates_detail", lang, v1=v1, v15=v15),
        ),
        Card(
            "credits",
            text("owner.card_credits", lang),
            number(today["credits"]),
            text(
                "owner.card_credits_detail",
                lang,
                week=number(week["credits"]),
                p1=number(prices[MODELS[0]]),
                p15=number(prices[MODELS[1]]),
            ),
        ),
        cap,
        Card(
            "results",
            text("owner.card_results", lang),
            number(sum(results.values())),
            text("owner.card_results_detail", lang, **results)
            + (" · " + text("owner.card_errors_detail", lang, codes=codes) if codes else ""),
        ),
        Card(
            "refusals",
            text("owner.card_refusals", lang),
            number(sum(refusals.values())),
            refused_detail,
        ),
        Card(
            "queue",
            text("owner.card_queue", lang),
            number(queue_waiting),
            text("owner.card_queue_detail", lang),
        ),
        _time_card("wait", "owner.card_wait", today["queue_wait_seconds"], lang),
        _time_card("result_time", "owner.card_result_time", today["result_seconds"], lang),
        Card(
            "week",
            text("owner.card_week", lang),
            number(week["creates"]),
            text("owner.card_week_detail", lang, credits=number(week["credits"])),
        ),
    ]


def _time_card(key: str, title: str, spread: dict[str, Any], lang: str) -> Card:
    if not spread["count"]:  # nothing measured: no made-up "0 s"
        return Card(
            key,
            text(title, lang),
            text("owner.card_none", lang),
            text("owner.card_unmeasured", lang),
        )
    return Card(
        key,
        text(title, lang),
        text("owner.seconds", lang, seconds=number(spread["p50"])) + " (p50)",
        text(
            "owner.card_spread", lang, p90=spread["p90"], p99=spread["p99"], count=spread["count"]
        ),
    )


def reason_name(reason: str, lang: str) -> str:
    """A refusal reason as a person reads it."""
    return text(f"owner.reason_{reason if reason in REASONS else 'other'}", lang)


def outcome_name(outcome: str, lang: str) -> str:
    """An outcome as a person reads it."""
    return text(f"owner.outcome_{outcome if outcome in OUTCOMES else 'error'}", lang)


def hourly_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per hour of the last 7 days: ``hour`` (``YYYY-MM-DDTHH:00``, UTC) and
    ``creates``."""
    return [
        {"hour": f"{row['day']}T{row['hour']:02d}:00", "creates": row["creates"]}
        for row in figures["creates_by_hour"]
    ]


def outcome_rows(figures: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """One row per day and outcome: ``day`` (``MM-DD``), ``outcome`` (in ``lang``), ``count``."""
    return [
        {"day": day["day"][5:], "outcome": outcome_name(outcome, lang), "count": n}
        for day in figures["days"]
        for outcome, n in day["results"].items()
    ]


def refusal_rows(figures: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """One row per reason (in :data:`REASONS`' order), summed over the last 7 days: ``reason``
    (in ``lang``), ``count``."""
    totals = dict.fromkeys(REASONS, 0)
    for day in figures["days"]:
        for reason, n in day["refusals"].items():
            totals[reason if reason in totals else "other"] += n
    return [{"reason": reason_name(r, lang), "count": n} for r, n in totals.items()]


def time_rows(figures: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The last 7 days' percentiles of time in line and to result: ``label`` (``p50 in
    line``), ``series`` and ``seconds``."""
    series = (
        ("owner.series_wait", "queue_wait_seconds"),
        ("owner.series_result", "result_seconds"),
    )
    return [
        {"label": f"{p} {text(name, lang)}", "series": text(name, lang), "seconds": spread[p]}
        for name, key in series
        for spread in (figures["week"][key],)
        for p in ("p50", "p90", "p99")
    ]


def day_table(figures: dict[str, Any], lang: str) -> tuple[list[str], list[list[Any]]]:
    """The last 7 days, newest first: headers in ``lang`` and one row per day."""
    headers = [
        text(f"owner.col_{column}", lang)
        for column in ("day", "creates", "credits", "succeed", "failed", "error", "refused")
    ]
    rows = [
        [
            day["day"],
            day["creates"],
            number(day["credits"]),
            day["results"]["succeed"],
            day["results"]["failed"],
            day["results"]["error"],
            sum(day["refusals"].values()),
        ]
        for day in reversed(figures["days"])
    ]
    return headers, rows

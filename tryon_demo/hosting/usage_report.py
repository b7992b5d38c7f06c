"""The owner's figures, read from the usage records: today, the last 7 days, hour by hour.

What ``/owner/usage.json`` answers and the ``/owner`` page draws. Days are UTC days, as the
daily cap's. Credits are each model's creates times its price (``TRYON_CREDITS_V1``,
``TRYON_CREDITS_V1_5``, as set now). The cap's count is the same records' count of today's
creates (:meth:`UsageReport.cap_used`), so the cap and these figures cannot disagree.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..settings import MODELS, Settings
from .usage import Usage
from .usage_store import DAY, OUTCOMES, REASONS, Count, day_of

#: Days the report looks back over, today included.
WEEK = 7
#: The percentiles of waiting and result times the owner sees.
PERCENTILES = (50, 90, 99)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of values already sorted; 0 for none."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def spread(sorted_values: Sequence[float]) -> dict[str, float | int]:
    """How many values there are and their percentiles (``p50``, ``p90``, ``p99``), in seconds
    rounded to a tenth."""
    figures: dict[str, float | int] = {"count": len(sorted_values)}
    for p in PERCENTILES:
        figures[f"p{p}"] = round(percentile(sorted_values, p), 1)
    return figures


@dataclass
class DayFigures:
    """One day's counts."""

    day: str
    creates: dict[str, int]
    results: dict[str, int]
    errors: dict[str, int]
    refusals: dict[str, int]
    #: The API's codes on the creates it refused (kept apart from the runs that ended).
    refused_codes: dict[str, int] = field(default_factory=dict)

    @classmethod
    def empty(cls, day: str) -> DayFigures:
        """A day with nothing recorded (every model, outcome and reason at 0)."""
        return cls(
            day,
            dict.fromkeys(MODELS, 0),
            dict.fromkeys(OUTCOMES, 0),
            {},
            dict.fromkeys(REASONS, 0),
        )

    def add(self, count: Count) -> None:
        """Count one group of records of this day."""
        if count.kind == "create":
            model = count.model or "other"
            self.creates[model] = self.creates.get(model, 0) + count.count
        elif count.kind == "result":
            outcome = count.detail or "error"
            self.results[outcome] = self.results.get(outcome, 0) + count.count
            if outcome == "error":
                code = str(count.code) if count.code is not None else "none"
                self.errors[code] = self.errors.get(code, 0) + count.count
        elif count.kind == "refusal":
            reason = count.detail or "other"
            self.refusals[reason] = self.refusals.get(reason, 0) + count.count
            if count.code is not None:  # the API's own refusal of a create
                code = str(count.code)
                self.refused_codes[code] = self.refused_codes.get(code, 0) + count.count

    def credits(self, settings: Settings) -> float:
        """What the day's creates cost, at the owner's prices."""
        spent = sum(n * settings.credits_per_create(model) for model, n in self.creates.items())
        return round(spent, 4)

    def as_json(self, settings: Settings) -> dict[str, Any]:
        """The day for ``/owner/usage.json``."""
        return {
            "day": self.day,
            "creates": sum(self.creates.values()),
            "creates_by_model": dict(self.creates),
            "results": dict(self.results),
            # Every code the API answered with, runs and refused creates together; and apart.
            "errors_by_code": dict(sorted(_summed(self.errors, self.refused_codes).items())),
            "results_by_code": dict(sorted(self.errors.items())),
            "refusals_by_code": dict(sorted(self.refused_codes.items())),
            "refusals": dict(self.refusals),
            "credits": self.credits(settings),
        }


def _summed(*counts: dict[str, int]) -> dict[str, int]:
    total: dict[str, int] = {}
    for each in counts:
        for key, n in each.items():
            total[key] = total.get(key, 0) + n
    return total


class UsageReport:
    """The owner's figures from one app's usage records."""

    def __init__(
        self, usage: Usage, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self.usage = usage
        self.settings = settings
        self._clock = clock
        usage.metrics.watch_cap(self._cap_left_metric)

    def days(self) -> list[str]:
        """The last :data:`WEEK` UTC days, oldest first, today last."""
        now = self._clock()
        return [day_of(now - back * DAY) for back in range(WEEK - 1, -1, -1)]

    def cap_used(self) -> int:
        """Today's creates on the owner's key: what the daily cap counts (the same count, see
        :class:`~.quota.RecordedCreates`)."""
        return self.usage.creates_on(day_of(self._clock()))

    def cap_left(self) -> int | None:
        """Creates left today under ``TRYON_DAILY_CAP``; ``None`` without a cap."""
        if not self.settings.daily_cap:
            return None
        return max(0, self.settings.daily_cap - self.cap_used())

    def figures(self) -> dict[str, Any]:
        """Today's and the last 7 days' figures, as ``/owner/usage.json`` answers them."""
        store = self.usage.store
        store.flush()  # what happened a moment ago is in the figures
        days = self.days()
        first, today = days[0], days[-1]
        per_day = {day: DayFigures.empty(day) for day in days}
        for count in store.counts(first):
            if count.day in per_day:
                per_day[count.day].add(count)
        cap = self.settings.daily_cap or None
        today_json = per_day[today].as_json(self.settings)
        today_json["cap"] = cap
        today_json["cap_left"] = None if cap is None else max(0, cap - self.cap_used())
        today_json["queue_wait_seconds"] = spread(store.durations("wait", today))
        today_json["result_seconds"] = spread(store.durations("result", today, "succeed"))
        week = [per_day[day].as_json(self.settings) for day in days]
        return {
            "today": today_json,
            "days": week,
            "week": {
                "creates": sum(day["creates"] for day in week),
                "credits": round(sum(day["credits"] for day in week), 4),
                "queue_wait_seconds": spread(store.durations("wait", first)),
                "result_seconds": spread(store.durations("result", first, "succeed")),
            },
            "creates_by_hour": self._hourly(days),
            "prices": {model: self.settings.credits_per_create(model) for model in MODELS},
        }

    def _hourly(self, days: list[str]) -> list[dict[str, Any]]:
        """Every hour of the last 7 days with its creates (0 for an hour with none)."""
        counted: dict[tuple[str, int], int] = defaultdict(int)
        for day, hour, count in self.usage.store.hourly("create", days[0]):
            counted[(day, hour)] += count
        return [
            {"day": day, "hour": hour, "creates": counted.get((day, hour), 0)}
            for day in days
            for hour in range(24)
        ]

    def _cap_left_metric(self) -> float:
        left = self.cap_left()
        return math.inf if left is None else float(left)

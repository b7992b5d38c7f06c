"""The usage as Prometheus metrics (``GET /metrics``), for operators who scrape their services.

Counters and histograms count since this process started, as Prometheus expects of them (its
``rate()`` and ``increase()`` see a restart as a reset); the owner's page and
``/owner/usage.json`` read the same events from SQLite, so their figures survive a restart.
Each app has a registry of its own: two apps in one process (the tests) never mix their counts.
Labels come from fixed lists (models, outcomes, reasons, API codes): no visitor data.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from ..settings import MODELS
from .usage_store import OUTCOMES, REASONS

#: The content type of :meth:`UsageMetrics.render`'s text.
CONTENT_TYPE = CONTENT_TYPE_LATEST
#: Time from an accepted create to its result: the API takes tens of seconds, the simulator a few.
RESULT_BUCKETS = (1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0)
#: Time in line for a slot at the API.
WAIT_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)


class UsageMetrics:
    """The app's Prometheus metrics; every method is thread-safe and returns at once."""

    def __init__(self) -> None:
        # The `_created` timestamp series double the output and say nothing to an owner.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        self.creates = Counter(
            "tryon_creates",
            "Creates the API accepted on the owner's key.",
            ["model"],
            registry=self.registry,
        )
        self.results = Counter(
            "tryon_results",
            "Runs on the owner's key that ended, by outcome.",
            ["model", "outcome"],
            registry=self.registry,
        )
        self.api_errors = Counter(
            "tryon_api_errors",
            "Runs that ended in an error and creates the API refused, by the API's business "
            "code (none: no code, such as a dropped connection or the wait running out).",
            ["code"],
            registry=self.registry,
        )
        self.refusals = Counter(
            "tryon_refusals",
            "Visitors turned away before anything was created, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.result_seconds = Histogram(
            "tryon_result_seconds",
            "Seconds from an accepted create to its result.",
            buckets=RESULT_BUCKETS,
            registry=self.registry,
        )
        self.wait_seconds = Histogram(
            "tryon_queue_wait_seconds",
            "Seconds a create waited in line for a slot at the API.",
            buckets=WAIT_BUCKETS,
            registry=self.registry,
        )
        self.queue_waiting = Gauge(
            "tryon_queue_waiting",
            "Creates waiting for a slot at the API now.",
            registry=self.registry,
        )
        self.cap_remaining = Gauge(
            "tryon_daily_cap_remaining",
            "Creates left today under TRYON_DAILY_CAP (+Inf: no cap).",
            registry=self.registry,
        )
        self.queue_waiting.set_function(lambda: 0.0)
        self.cap_remaining.set_function(lambda: math.inf)
        # Every series from the start, at 0: a dashboard sees "none yet", not "no data".
        for model in MODELS:
            self.creates.labels(model=model)
            for outcome in OUTCOMES:
                self.results.labels(model=model, outcome=outcome)
        for reason in REASONS:
            self.refusals.labels(reason=reason)

    def created(self, model: str) -> None:
        """Count one accepted create."""
        self.creates.labels(model=model).inc()

    def ended(self, model: str, outcome: str, seconds: float, code: int | None) -> None:
        """Count one run's end; a result's time goes into ``tryon_result_seconds``."""
        self.results.labels(model=model, outcome=outcome).inc()
        if outcome == "succeed":
            self.result_seconds.observe(seconds)
        elif outcome == "error":
            self.api_errors.labels(code=str(code) if code is not None else "none").inc()

    def refused(self, reason: str, code: int | None = None) -> None:
        """Count one refusal; the API's own refusal of a create counts under its code too."""
        self.refusals.labels(reason=reason).inc()
        if code is not None:
            self.api_errors.labels(code=str(code)).inc()

    def waited(self, seconds: float) -> None:
        """Count one create's time in line."""
        self.wait_seconds.observe(seconds)

    def watch_queue(self, waiting: Callable[[], int]) -> None:
        """Read ``tryon_queue_waiting`` from ``waiting`` at each scrape."""
        self.queue_waiting.set_function(lambda: float(waiting()))

    def watch_cap(self, remaining: Callable[[], float]) -> None:
        """Read ``tryon_daily_cap_remaining`` from ``remaining`` at each scrape."""
        self.cap_remaining.set_function(remaining)

    def render(self) -> bytes:
        """The metrics in Prometheus' text format (:data:`CONTENT_TYPE`)."""
        return generate_latest(self.registry)

"""Submission limits for a public deployment: per session, overall, per day."""

from __future__ import annotations

import pytest

from tryon_demo.errors import ConfigurationError
from tryon_demo.limits import LimitExceededError, Rate, SubmissionLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0  # a fixed day, mid-morning UTC

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("5/minute", Rate(5, 60)),
        ("100/hour", Rate(100, 3600)),
        ("3/30s", Rate(3, 30)),
        ("", Rate(0, 60)),
        ("2/day", Rate(2, 86400)),
    ],
)
def test_rates_are_read_from_plain_text(text: str, rate: Rate) -> None:
    assert Rate.parse(text, "X") == rate


@pytest.mark.parametrize("text", ["five/minute", "5/fortnight", "5", "-1/minute"])
def test_a_malformed_rate_names_the_variable(text: str) -> None:
    with pytest.raises(ConfigurationError, match="TRYON_RATE_GLOBAL must"):
        Rate.parse(text, "TRYON_RATE_GLOBAL")


def test_no_limits_configured_means_no_limits() -> None:
    limiter = SubmissionLimiter(Rate(0, 60), Rate(0, 60))
    for _ in range(1000):
        limiter.acquire("s")


def test_a_session_over_its_rate_is_told_how_long_to_wait() -> None:
    clock = Clock()
    limiter = SubmissionLimiter(Rate(2, 60), Rate(0, 60), clock=clock)
    limiter.acquire("a")
    clock.now += 10
    limiter.acquire("a")
    with pytest.raises(
        LimitExceededError, match=r"You have started 2 try-ons in the last 60 s.*Try again in 50 s"
    ) as caught:
        limiter.acquire("a")
    assert caught.value.retry_after == 50


def test_one_sessions_limit_does_not_hold_up_another() -> None:
    limiter = SubmissionLimiter(Rate(1, 60), Rate(0, 60), clock=Clock())
    limiter.acquire("a")
    limiter.acquire("b")


def test_the_window_slides() -> None:
    clock = Clock()
    limiter = SubmissionLimiter(Rate(1, 60), Rate(0, 60), clock=clock)
    limiter.acquire("a")
    clock.now += 61
    limiter.acquire("a")


def test_the_global_rate_counts_every_session() -> None:
    limiter = SubmissionLimiter(Rate(0, 60), Rate(2, 60), clock=Clock())
    limiter.acquire("a")
    limiter.acquire("b")
    with pytest.raises(LimitExceededError, match="Visitors have started 2 try-ons"):
        limiter.acquire("c")


def test_the_daily_cap_resets_the_next_day() -> None:
    clock = Clock()
    limiter = SubmissionLimiter(Rate(0, 60), Rate(0, 60), daily_cap=2, clock=clock)
    limiter.acquire("a")
    limiter.acquire("b")
    with pytest.raises(LimitExceededError, match="limit of 2 try-ons for today"):
        limiter.acquire("c")
    clock.now += 86400
    limiter.acquire("c")


def test_a_refused_submission_is_not_counted() -> None:
    clock = Clock()
    limiter = SubmissionLimiter(Rate(1, 60), Rate(0, 60), daily_cap=5, clock=clock)
    limiter.acquire("a")
    for _ in range(10):
        with pytest.raises(LimitExceededError):
            limiter.acquire("a")
    clock.now += 61
    limiter.acquire("a")

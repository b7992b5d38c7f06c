"""Submission limits for a public deployment: per visitor, overall, lookups (the day's cap is
the quota's: ``test_quota.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tryon_demo.errors import ConfigurationError
from tryon_demo.hosting.limits import LimitExceededError, SubmissionLimiter, limiter_for
from tryon_demo.hosting.quota import quota_for
from tryon_demo.settings import Rate, Settings, load_settings


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
        ("   ", Rate(0, 60)),
        ("0/minute", Rate(0, 60)),
        ("1/second", Rate(1, 1)),
        ("4/m", Rate(4, 60)),
        ("4/min", Rate(4, 60)),
        ("4/h", Rate(4, 3600)),
        ("3/30", Rate(3, 30)),
        ("3/1.5h", Rate(3, 5400)),
        ("1/0.5s", Rate(1, 0.5)),
        (" 7 / Hour ", Rate(7, 3600)),
    ],
)
def test_rates_are_read_from_plain_text(text: str, rate: Rate) -> None:
    assert Rate.parse(text, "X") == rate


@pytest.mark.parametrize(
    "text", ["five/minute", "5/fortnight", "5", "-1/minute", "1/0s", "5/1/minute"]
)
def test_a_malformed_rate_names_the_variable(text: str) -> None:
    with pytest.raises(ConfigurationError, match="TRYON_RATE_GLOBAL must"):
        Rate.parse(text, "TRYON_RATE_GLOBAL")


def test_no_limits_configured_means_no_limits() -> None:
    limiter = SubmissionLimiter(Rate(0, 60), Rate(0, 60))
    assert not limiter.active
    for _ in range(1000):
        limiter.acquire("s")


@pytest.mark.parametrize(
    ("per_session", "overall"),
    [(Rate(1, 60), Rate(0, 60)), (Rate(0, 60), Rate(1, 60))],
    ids=["per-session", "global"],
)
def test_any_one_limit_makes_the_limiter_active_and_refuse_the_second(
    per_session: Rate, overall: Rate
) -> None:
    # The day's cap is the quota's now (tests/test_quota.py).
    limiter = SubmissionLimiter(per_session, overall, clock=Clock())
    assert limiter.active
    limiter.acquire("s")
    with pytest.raises(LimitExceededError):
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
    limiter.acquire("b")  # b has its own window...
    for session in ("a", "b"):  # ...and each is held to its own limit
        with pytest.raises(LimitExceededError, match="You have started 1 try-ons"):
            limiter.acquire(session)


def test_the_window_slides_at_exactly_its_length() -> None:
    clock = Clock()
    limiter = SubmissionLimiter(Rate(1, 60), Rate(1, 60), clock=clock)
    limiter.acquire("a")
    clock.now += 59.9
    with pytest.raises(LimitExceededError):
        limiter.acquire("a")
    clock.now += 0.1  # exactly 60 s after the first: it has left the window
    limiter.acquire("a")
    with pytest.raises(LimitExceededError):
        limiter.acquire("a")


def test_the_wait_is_never_said_to_be_less_than_one_second() -> None:
    clock = Clock()
    limiter = SubmissionLimiter(Rate(1, 60), Rate(0, 60), clock=clock)
    limiter.acquire("a")
    clock.now += 59.7  # 0.3 s to go
    with pytest.raises(LimitExceededError, match="Try again in 1 s") as caught:
        limiter.acquire("a")
    assert caught.value.retry_after == 1


def test_idle_sessions_are_forgotten_once_their_window_has_passed() -> None:
    # Many visitors, each once: the limiter must not keep a window for every one of them.
    clock = Clock()
    limiter = SubmissionLimiter(Rate(5, 1), Rate(0, 60), clock=clock)
    for n in range(1001):  # idle visitors are swept once there are over a thousand
        limiter.acquire(f"visitor-{n}")
    clock.now += 1.0  # exactly the window's length later
    limiter.acquire("last")
    assert list(limiter._visitors._windows) == ["last"]


def test_sessions_still_inside_their_window_are_remembered() -> None:
    clock = Clock()
    limiter = SubmissionLimiter(Rate(5, 1), Rate(0, 60), clock=clock)
    limiter.acquire("early")
    clock.now += 0.5
    limiter.acquire("late")
    assert set(limiter._visitors._windows) == {"early", "late"}


def test_the_global_rate_counts_every_session() -> None:
    limiter = SubmissionLimiter(Rate(0, 60), Rate(2, 60), clock=Clock())
    limiter.acquire("a")
    limiter.acquire("b")
    with pytest.raises(
        LimitExceededError,
        match=r"^Visitors have started 2 try-ons in the last 60 s, the most this demo allows\. "
        r"Try again in 60 s, or enter your own API key under Advanced\.$",
    ):
        limiter.acquire("c")


def test_a_refused_submission_is_not_counted() -> None:
    clock = Clock()
    limiter = SubmissionLimiter(Rate(1, 60), Rate(0, 60), clock=clock)
    limiter.acquire("a")
    for _ in range(10):
        with pytest.raises(LimitExceededError):
            limiter.acquire("a")
    clock.now += 61
    limiter.acquire("a")


def test_a_check_counts_nothing() -> None:
    limiter = SubmissionLimiter(Rate(1, 60), Rate(0, 60), clock=Clock())
    for _ in range(3):
        limiter.check("a")
    limiter.acquire("a")
    with pytest.raises(LimitExceededError):
        limiter.check("a")


def test_task_lookups_have_a_rate_of_their_own_per_visitor() -> None:
    clock = Clock()
    limiter = SubmissionLimiter(
        Rate(0, 60), Rate(0, 60), clock=clock, per_visitor_queries=Rate(2, 60)
    )
    limiter.acquire_query("a")
    limiter.acquire_query("a")
    limiter.acquire_query("b")
    with pytest.raises(LimitExceededError, match="You have looked up 2 tasks") as caught:
        limiter.acquire_query("a")
    assert caught.value.retry_after == 60
    clock.now += 61
    limiter.acquire_query("a")


@pytest.mark.parametrize(
    ("env", "public"),
    [
        ({}, False),
        ({"GRADIO_SERVER_NAME": "127.0.0.1"}, False),
        ({"GRADIO_SERVER_NAME": "0.0.0.0"}, True),
        ({"SPACE_ID": "someone/tryon"}, True),
    ],
)
def test_a_deployment_reachable_from_outside_is_public(env: dict[str, str], public: bool) -> None:
    assert load_settings(env, dotenv_path=None).public is public


def test_an_offline_public_deployment_without_limits_gets_default_limits(tmp_path: Path) -> None:
    limiter = limiter_for(Settings(space_id="me/demo", state_dir=tmp_path))
    assert (limiter.per_session, limiter.overall) == (Rate(10, 60), Rate(120, 60))


@pytest.mark.parametrize(
    "settings",
    [
        Settings(space_id=None, server_name="127.0.0.1"),
        # The owner configures limits for a real key; configured limits are kept as set.
        Settings(space_id="me/demo", api_key="sk-x"),
        Settings(space_id="me/demo", rate_per_session="3/minute"),
    ],
    ids=["local", "online", "configured"],
)
def test_default_limits_only_where_nothing_was_configured(settings: Settings) -> None:
    limiter = limiter_for(settings)
    assert limiter.overall == Rate(0, 60)


def test_on_spaces_one_proxy_is_trusted_elsewhere_none() -> None:
    assert load_settings({"SPACE_ID": "a/b"}, dotenv_path=None).trusted_proxies == 1
    assert load_settings({}, dotenv_path=None).trusted_proxies == 0
    env = {"SPACE_ID": "a/b", "TRYON_TRUSTED_PROXIES": "2"}
    assert load_settings(env, dotenv_path=None).trusted_proxies == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "ten/minute",
            "TRYON_RATE_GLOBAL must look like 5/minute, 100/hour or 3/30s, not 'ten/minute'.",
        ),
        ("-1/minute", "TRYON_RATE_GLOBAL must be positive (got '-1/minute')."),
    ],
)
def test_a_malformed_rate_quotes_what_was_set(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Rate.parse(text, "TRYON_RATE_GLOBAL")
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("field", "variable"),
    [
        ("rate_per_session", "TRYON_RATE_PER_SESSION"),
        ("rate_global", "TRYON_RATE_GLOBAL"),
        ("rate_query", "TRYON_RATE_QUERY"),
    ],
)
def test_each_malformed_rate_setting_names_its_own_variable(
    tmp_path: Path, field: str, variable: str
) -> None:
    settings = Settings(state_dir=tmp_path, **{field: "often"})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=rf"^{variable} must look like"):
        limiter_for(settings)


def test_the_settings_rates_and_daily_cap_reach_the_limiter(tmp_path: Path) -> None:
    settings = Settings(
        state_dir=tmp_path,
        rate_per_session="3/minute",
        rate_global="50/hour",
        rate_query="7/30s",
        daily_cap=9,
    )
    limiter = limiter_for(settings)
    assert (limiter.per_session, limiter.overall) == (Rate(3, 60), Rate(50, 3600))
    assert (limiter.per_visitor_queries, quota_for(settings).daily_cap) == (Rate(7, 30), 9)


def test_an_offline_public_deployment_with_only_a_daily_cap_gets_no_default_rates(
    tmp_path: Path,
) -> None:
    limiter = limiter_for(Settings(space_id="me/demo", state_dir=tmp_path, daily_cap=5))
    assert (limiter.per_session, limiter.overall) == (Rate(0, 60), Rate(0, 60))


def test_without_a_query_rate_lookups_are_never_limited() -> None:
    limiter = SubmissionLimiter(Rate(1, 60), Rate(1, 60), clock=Clock())
    for _ in range(500):
        limiter.acquire_query("a")


def test_the_query_limit_says_how_many_in_how_long_and_when_to_try_again() -> None:
    clock = Clock()
    limiter = SubmissionLimiter(
        Rate(0, 60), Rate(0, 60), clock=clock, per_visitor_queries=Rate(1, 30)
    )
    limiter.acquire_query("a")
    clock.now += 10
    with pytest.raises(LimitExceededError) as caught:
        limiter.acquire_query("a")
    assert caught.value.message == (
        "You have looked up 1 tasks in the last 30 s, the most this demo allows. Try again in 20 s."
    )


def test_a_visitor_over_the_rate_stays_refused_while_a_thousand_others_come_and_go() -> None:
    clock = Clock()
    limiter = SubmissionLimiter(Rate(1, 60), Rate(0, 60), clock=clock)
    limiter.acquire("busy")
    for n in range(1200):  # enough for the idle sweep to run
        limiter.acquire(f"visitor-{n}")
    with pytest.raises(LimitExceededError):
        limiter.acquire("busy")

"""Settings from environment variables and an optional ``.env`` file.

The process environment wins over ``.env`` so that a Space's secrets or a shell export always
beat a stale file. With no key at all the app runs offline against the built-in simulator.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit

from dotenv import dotenv_values

from .errors import ConfigurationError
from .text.messages import msg

GATEWAY_BASE = "https://api.gpt.ge/kling"
OFFICIAL_BASE = "https://api-singapore.klingai.com"
MODELS: tuple[str, ...] = ("kolors-virtual-try-on-v1", "kolors-virtual-try-on-v1-5")
DEFAULT_MODEL = MODELS[0]

Mode = Literal["offline", "gateway", "official"]
PollSchedule = Literal["timed", "growing"]
#: Server names that keep the app on this machine (anything else is reachable from outside).
_T = TypeVar("_T", int, float)


@dataclass(frozen=True)
class Settings:
    """Everything the client, the app and the CLI need to know, secrets kept out of ``repr``."""

    api_key: str | None = field(default=None, repr=False)
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    api_base: str | None = None
    force_offline: bool = False
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    poll_interval: float = 1.0
    poll_max_interval: float = 5.0
    #: ``timed``: status queries timed to how long tasks usually take (flow/timetable.py);
    #: ``growing``: the plain pauses, ``poll_interval`` growing x1.25 up to the maximum.
    poll_schedule: PollSchedule = "timed"
    wait_timeout: float = 300.0
    get_retries: int = 3
    max_long_side: int = 1500
    max_input_bytes: int = 40 * 1024 * 1024
    #: Pixels a picture may decode to (``TRYON_MAX_PIXELS``): a small PNG can claim gigabytes.
    max_input_pixels: int = 40_000_000
    #: Bytes one client address may upload per hour (files the page and API clients send):
    #: uploads land on the server's disk until the work-file time passes.
    upload_budget_bytes: int = 1000 * 2**20
    #: Seconds a connection has to send its request headers (``TRYON_HEADER_TIMEOUT``); one
    #: that is late (half-open, or idle after connecting) is closed, and so is one whose body
    #: stops for three times as long. 0 turns it off.
    header_timeout: float = 10.0
    simulator_task_seconds: float = 3.0
    #: Public deployments: a password for the page (user name ``access_user``), and limits on
    #: submissions that spend the owner's key ("5/minute" style rates, a daily cap).
    access_password: str | None = field(default=None, repr=False)
    access_user: str = "demo"
    rate_per_session: str = ""
    rate_global: str = ""
    daily_cap: int = 0
    #: Of the day's cap, the most one address may use (``None``: a tenth of the cap, rounded
    #: up; 0: no share, only the day's total).
    daily_cap_per_address: int | None = None
    #: Task lookups (``/query``, re-attach) one visitor may make with the owner's key.
    rate_query: str = "60/minute"
    #: How many proxies in front of the app add an X-Forwarded-For entry (1 on Spaces): the
    #: visitor's address is the entry the outermost trusted proxy added, never one the client
    #: wrote itself. 0 uses the connection's own address.
    trusted_proxies: int = 0
    #: Lookbook: the most garments one batch may hold, and how many run at the API at once.
    lookbook_max_items: int = 12
    lookbook_concurrency: int = 3
    #: Tasks the account may run at the API at once (0: unlimited); creates queue for a slot.
    api_concurrency: int = 0
    #: The queue's bounds: waiters one address may park, waiters in all, and the longest any
    #: one waits for a slot (seconds) before it is told to come back later.
    queue_per_address: int = 4
    queue_max: int = 50
    queue_max_wait: float = 300.0
    #: Offer the try-on as tools on Gradio's MCP server (needs ``gradio[mcp]``).
    mcp_server: bool = False
    #: The Space owner's view (``TRYON_OWNER_PASSWORD``): ``/metrics``, ``/owner/usage.json``
    #: and the ``/owner`` page; unset, none of them exists.
    owner_password: str | None = field(default=None, repr=False)
    #: Days the usage records are kept (``TRYON_USAGE_DAYS``).
    usage_days: int = 30
    #: What one try-on costs, per model, in the provider's credits (``TRYON_CREDITS_V1``,
    #: ``TRYON_CREDITS_V1_5``): the owner's view multiplies the creates by it.
    credits_v1: float = 1.0
    credits_v1_5: float = 1.0
    #: Where the app keeps what must outlive a restart (the daily count, the signing secret).
    #: Outside the repository so it is never committed; see :func:`default_state_dir`.
    state_dir: Path = field(default_factory=lambda: default_state_dir(os.environ))
    #: Work files (results, before/after pictures, zips, outfits) are deleted this many seconds
    #: after they were written: they may show a visitor's own photo.
    work_ttl: float = 3600.0
    #: Set on Hugging Face Spaces (``SPACE_ID``), and the address the server listens on
    #: (``GRADIO_SERVER_NAME``): together they say whether strangers can reach the app.
    space_id: str | None = None
    server_name: str = "127.0.0.1"
    #: The address at which the API can reach this app (``TRYON_PUBLIC_URL``; on a Space
    #: ``https://<SPACE_HOST>``): with it, creates carry a callback URL of the app's own.
    public_url: str | None = None
    #: ``TRYON_PUBLIC_URL=off``: no callbacks of the app's own at all, not even offline.
    callbacks: bool = True
    #: While a callback is expected, the slow poll that still ends a run whose callback is lost.
    callback_backstop: float = 15.0

    @property
    def mode(self) -> Mode:
        """``offline`` without credentials, else ``official`` for JWT keys, else ``gateway``."""
        if self.force_offline:
            return "offline"
        if self.access_key and self.secret_key:
            return "official"
        if self.api_key:
            return "gateway"
        return "offline"

    @property
    def base_url(self) -> str | None:
        """The API base the client talks to; ``None`` offline (the simulator picks its port)."""
        if self.mode == "offline":
            return None
        if self.api_base:
            return self.api_base.rstrip("/")
        return OFFICIAL_BASE if self.mode == "official" else GATEWAY_BASE

    @property
    def base_host(self) -> str:
        """The host name shown in the UI's mode banner."""
        return urlsplit(self.base_url or "").hostname or "simulator"

    @property
    def public(self) -> bool:
        """Whether strangers can reach this app: on a Space, or listening beyond loopback.

        A public deployment refuses what only its own operator should do, such as callbacks to
        the server's own network.
        """
        if self.space_id:
            return True
        host = self.server_name.strip().strip("[]").lower()
        if host == "localhost":
            return False
        if host == "":
            return True  # listens on every address, as 0.0.0.0 does
        try:
            return not ipaddress.ip_address(host).is_loopback
        except ValueError:
            return True  # a host name to bind to: assume it is reachable from outside

    def secrets(self) -> tuple[str | None, ...]:
        """The values that must never appear in any output."""
        return (
            self.api_key,
            self.secret_key,
            self.access_key,
            self.access_password,
            self.owner_password,
        )

    def credits_per_create(self, model: str) -> float:
        """What one try-on on ``model`` costs the owner, as the owner priced it."""
        return self.credits_v1_5 if model == MODELS[1] else self.credits_v1

    def with_api_key(self, key: str | None) -> Settings:
        """A copy that uses ``key`` as the gateway key (a visitor's own key in the UI)."""
        return replace(self, api_key=key or None, access_key=None, secret_key=None)


@dataclass(frozen=True)
class Rate:
    """``count`` submissions per ``seconds``; ``count == 0`` means unlimited."""

    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str | None, name: str) -> Rate:
        """``"5/minute"``, ``"100/hour"``, ``"3/30s"`` or empty (unlimited)."""
        if not text or not text.strip():
            return cls(0, 60)
        units = {"s": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
        units["day"] = 86400
        try:
            count_text, per = text.strip().lower().split("/", 1)
            count = int(count_text)
            per = per.strip()
            number = "".join(ch for ch in per if ch.isdigit() or ch == ".")
            unit = per[len(number) :].strip() or "s"
            seconds = (float(number) if number else 1.0) * units[unit]
        except (ValueError, KeyError):
            raise ConfigurationError(msg("limits.bad_rate", name=name, text=repr(text))) from None
        if count < 0 or seconds <= 0:
            raise ConfigurationError(msg("limits.rate_not_positive", name=name, text=repr(text)))
        return cls(count, seconds)

    def __str__(self) -> str:
        return f"{self.count} per {self.seconds:g} s"


def default_state_dir(env: Mapping[str, str]) -> Path:
    """The state folder when ``TRYON_STATE_DIR`` is not set.

    A Hugging Face Space with persistent storage mounts it at ``/data`` (the only place that
    survives a restart there); elsewhere the user's cache folder. ``TRYON_STATE_DIR`` in ``env``
    wins, so ``Settings()`` made in code honours the environment too.
    """
    if env.get("TRYON_STATE_DIR", "").strip():
        return Path(os.path.expanduser(env["TRYON_STATE_DIR"].strip()))
    data = Path("/data")
    if env.get("SPACE_ID") and data.is_dir() and os.access(data, os.W_OK):
        return data / "kolors-tryon-studio"
    cache = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "kolors-tryon-studio"


def ensure_state_dir(settings: Settings) -> Path:
    """The state folder, created (readable by this user only) if it does not exist yet."""
    path = settings.state_dir
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigurationError(
            msg("settings.state_dir", path=repr(str(path)), reason=exc.strerror)
        ) from None
    return path


def _number(env: Mapping[str, str], name: str, kind: Callable[[str], _T], default: _T) -> _T:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigurationError(msg("settings.not_number", name=name, raw=repr(raw))) from None
    if value < 0:
        raise ConfigurationError(msg("settings.negative", name=name, raw=raw))
    return value


def _flag(raw: str | None) -> bool:
    return (raw or "").strip().lower() in {"1", "true", "yes", "on"}


def load_settings(
    env: Mapping[str, str] | None = None,
    dotenv_path: str | os.PathLike[str] | None = ".env",
) -> Settings:
    """Read settings from ``env`` (default ``os.environ``) over the ``.env`` file, if any.

    Raises :class:`ConfigurationError` naming the variable when a value is unusable.
    """
    merged: dict[str, str] = {}
    if dotenv_path is not None and Path(dotenv_path).is_file():
        merged.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    merged.update(os.environ if env is None else env)

    def text(name: str) -> str | None:
        value = merged.get(name, "").strip()
        return value or None

    access, secret = text("KLING_ACCESS_KEY"), text("KLING_SECRET_KEY")
    if bool(access) != bool(secret):
        raise ConfigurationError(msg("settings.key_pair"))
    base = text("KLING_API_BASE")
    if base and urlsplit(base).scheme not in {"http", "https"}:
        raise ConfigurationError(msg("settings.base_scheme", base=repr(base)))
    defaults = Settings()

    public_url = text("TRYON_PUBLIC_URL")
    callbacks = (public_url or "").lower() not in {"off", "0", "no", "false"}
    if not callbacks:
        public_url = None
    elif public_url is None and text("SPACE_HOST"):
        public_url = f"https://{text('SPACE_HOST')}"
    if public_url and (
        urlsplit(public_url).scheme not in {"http", "https"} or not urlsplit(public_url).hostname
    ):
        raise ConfigurationError(msg("settings.public_url", value=repr(public_url)))
    schedule = (text("TRYON_POLL_SCHEDULE") or defaults.poll_schedule).lower()
    if schedule not in ("timed", "growing"):
        raise ConfigurationError(
            msg("settings.poll_schedule", name="TRYON_POLL_SCHEDULE", value=repr(schedule))
        )
    owner_password = text("TRYON_OWNER_PASSWORD")
    if owner_password and owner_password == text("TRYON_ACCESS_PASSWORD"):
        raise ConfigurationError(
            msg(
                "settings.owner_password_shared",
                owner="TRYON_OWNER_PASSWORD",
                access="TRYON_ACCESS_PASSWORD",
            )
        )
    for name in ("TRYON_RATE_PER_SESSION", "TRYON_RATE_GLOBAL", "TRYON_RATE_QUERY"):
        Rate.parse(text(name), name)  # refuse a malformed rate at start-up, not at first use
    return Settings(
        api_key=text("KLING_API_KEY"),
        access_key=access,
        secret_key=secret,
        api_base=base,
        force_offline=_flag(text("TRYON_OFFLINE")),
        connect_timeout=_number(merged, "TRYON_CONNECT_TIMEOUT", float, defaults.connect_timeout),
        read_timeout=_number(merged, "TRYON_READ_TIMEOUT", float, defaults.read_timeout),
        poll_interval=_number(merged, "TRYON_POLL_INTERVAL", float, defaults.poll_interval),
        poll_max_interval=_number(
            merged, "TRYON_POLL_MAX_INTERVAL", float, defaults.poll_max_interval
        ),
        poll_schedule="growing" if schedule == "growing" else "timed",
        wait_timeout=_number(merged, "TRYON_WAIT_TIMEOUT", float, defaults.wait_timeout),
        get_retries=_number(merged, "TRYON_GET_RETRIES", int, defaults.get_retries),
        max_long_side=_number(merged, "TRYON_MAX_LONG_SIDE", int, defaults.max_long_side),
        max_input_bytes=int(
            _number(merged, "TRYON_MAX_UPLOAD_MB", float, defaults.max_input_bytes / 2**20) * 2**20
        ),
        max_input_pixels=_number(merged, "TRYON_MAX_PIXELS", int, defaults.max_input_pixels),
        upload_budget_bytes=int(
            _number(merged, "TRYON_UPLOAD_BUDGET_MB", float, defaults.upload_budget_bytes / 2**20)
            * 2**20
        ),
        header_timeout=_number(merged, "TRYON_HEADER_TIMEOUT", float, defaults.header_timeout),
        simulator_task_seconds=_number(
            merged, "TRYON_SIM_TASK_SECONDS", float, defaults.simulator_task_seconds
        ),
        access_password=text("TRYON_ACCESS_PASSWORD"),
        access_user=text("TRYON_ACCESS_USER") or defaults.access_user,
        owner_password=owner_password,
        usage_days=max(1, _number(merged, "TRYON_USAGE_DAYS", int, defaults.usage_days)),
        credits_v1=_number(merged, "TRYON_CREDITS_V1", float, defaults.credits_v1),
        credits_v1_5=_number(merged, "TRYON_CREDITS_V1_5", float, defaults.credits_v1_5),
        rate_per_session=text("TRYON_RATE_PER_SESSION") or "",
        rate_global=text("TRYON_RATE_GLOBAL") or "",
        daily_cap=_number(merged, "TRYON_DAILY_CAP", int, 0),
        daily_cap_per_address=(
            _number(merged, "TRYON_DAILY_CAP_PER_ADDRESS", int, 0)
            if text("TRYON_DAILY_CAP_PER_ADDRESS")
            else None
        ),
        rate_query=text("TRYON_RATE_QUERY") or defaults.rate_query,
        trusted_proxies=_number(merged, "TRYON_TRUSTED_PROXIES", int, 1 if text("SPACE_ID") else 0),
        lookbook_max_items=max(
            1, _number(merged, "TRYON_LOOKBOOK_MAX", int, defaults.lookbook_max_items)
        ),
        lookbook_concurrency=max(
            1, _number(merged, "TRYON_LOOKBOOK_CONCURRENCY", int, defaults.lookbook_concurrency)
        ),
        api_concurrency=_number(merged, "TRYON_API_CONCURRENCY", int, defaults.api_concurrency),
        queue_per_address=max(
            1, _number(merged, "TRYON_QUEUE_PER_ADDRESS", int, defaults.queue_per_address)
        ),
        queue_max=max(1, _number(merged, "TRYON_QUEUE_MAX", int, defaults.queue_max)),
        queue_max_wait=max(
            1.0, _number(merged, "TRYON_QUEUE_MAX_WAIT", float, defaults.queue_max_wait)
        ),
        mcp_server=_flag(text("TRYON_MCP_SERVER")),
        # At least a minute: a file must outlive the moment Gradio copies it to the page.
        work_ttl=max(60.0, _number(merged, "TRYON_WORK_TTL", float, defaults.work_ttl)),
        space_id=text("SPACE_ID"),
        server_name=text("GRADIO_SERVER_NAME") or defaults.server_name,
        public_url=public_url.rstrip("/") if public_url else None,
        callbacks=callbacks,
        callback_backstop=max(
            1.0, _number(merged, "TRYON_CALLBACK_BACKSTOP", float, defaults.callback_backstop)
        ),
        state_dir=Path(os.path.expanduser(text("TRYON_STATE_DIR") or ""))
        if text("TRYON_STATE_DIR")
        else default_state_dir(merged),
    )

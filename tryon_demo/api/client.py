"""The Kolors virtual try-on API client: create, query, list and wait.

One ``requests.Session`` per client so connections are reused across polls. Queries are retried
with backoff on the codes the contract calls retryable; a create is never re-sent once it may have
reached the server, because a second create would bill twice.
"""

from __future__ import annotations

import codecs
import contextlib
import email.message
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar
from urllib.parse import quote, urlsplit

import requests
from requests.auth import AuthBase
from urllib3.exceptions import NewConnectionError

from .. import __version__
from ..errors import (
    CancelledError,
    InputError,
    NetworkError,
    RateLimitError,
    ServerError,
    TaskFailedError,
    TryOnError,
    UnexpectedResponseError,
    WaitTimeoutError,
    api_says,
    for_own_key,
    redact,
    redact_json,
)
from ..settings import DEFAULT_MODEL, MODELS, Settings
from ..text.messages import Msg, msg
from .auth import auth_for, credentials_of
from .models import Task, parse_task_list_reply, parse_task_reply
from .transfer import DeadlineExceeded, ReplyTooLarge, bounded_request, mount_bounded

log = logging.getLogger(__name__)

API_PATH = "/v1/images/kolors-virtual-try-on"
_T = TypeVar("_T")
_RETRYABLE_HTTP = frozenset({502, 503, 504})
#: What a task id may be before it goes into a URL. Real ids are 22 letters and digits; the
#: pattern leaves room for other gateways' ids but nothing that can change the URL's path
#: (".", "..", "/", "%2e" or spaces would reach another endpoint, such as the task list).
TASK_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: The API's JSON replies are a few KB; a list page of 500 tasks stays well under this.
REPLY_MAX_BYTES = 1024 * 1024
_TASK_ID_IN_REPLY = re.compile(rb'"task_id"\s*:\s*"([A-Za-z0-9_-]{1,64})"')
#: Task states with a name in the catalogues (``state.<name>``).
_STATES = frozenset({"submitted", "processing", "succeed", "failed"})


def check_task_id(task_id: str | None) -> str:
    """``task_id`` without surrounding spaces, or :class:`InputError` if it breaks the rule."""
    text = (task_id or "").strip() if isinstance(task_id, str | None) else ""
    if not text:
        raise InputError(msg("client.enter_task_id"))
    if not TASK_ID_PATTERN.fullmatch(text):
        raise InputError(msg("client.not_a_task_id"))
    return text


class TryOnClient:
    """A client of one API base (the gateway, the official API, or the simulator)."""

    def __init__(
        self,
        base_url: str,
        auth: AuthBase | None = None,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        get_retries: int = 3,
        backoff_base: float = 1.0,
        backoff_max: float = 8.0,
        poll_interval: float = 1.0,
        poll_max_interval: float = 5.0,
        wait_timeout: float = 300.0,
        secrets: tuple[str | None, ...] = (),
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        request_deadline: float | None = None,
        reply_max_bytes: int = REPLY_MAX_BYTES,
        own_key: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        #: A visitor's own key: its errors give advice a visitor can follow, not the owner's.
        self.own_key = own_key
        self.timeout = (connect_timeout, read_timeout)
        #: The longest one request may take from connect to the last byte of its reply: the
        #: read timeout alone is per read, which a server sending a byte at a time never trips.
        self.request_deadline = (
            connect_timeout + read_timeout if request_deadline is None else request_deadline
        )
        self.reply_max_bytes = reply_max_bytes
        self.get_retries = get_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.poll_interval = poll_interval
        self.poll_max_interval = poll_max_interval
        self.wait_timeout = wait_timeout
        self._secrets = secrets
        self._sleep = sleep
        self._session = session or requests.Session()
        mount_bounded(self._session)
        self._session.auth = auth
        self._session.headers["User-Agent"] = f"kolors-tryon-studio/{__version__}"

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        base_url: str | None = None,
        auth: AuthBase | None = None,
        *,
        own_key: bool = False,
    ) -> TryOnClient:
        """A client configured from :class:`Settings`; ``base_url`` and ``auth`` override them
        (the simulator's address and token); ``own_key`` for a key a visitor entered."""
        url = base_url or settings.base_url
        if not url:
            raise InputError(msg("client.no_base_url"))
        return cls(
            url,
            auth or auth_for(settings),
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            get_retries=settings.get_retries,
            poll_interval=settings.poll_interval,
            poll_max_interval=settings.poll_max_interval,
            wait_timeout=settings.wait_timeout,
            secrets=settings.secrets(),
            own_key=own_key,
        )

    def __repr__(self) -> str:
        return f"TryOnClient(base_url={self.base_url!r})"

    def __enter__(self) -> TryOnClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    @property
    def endpoint(self) -> str:
        """The create/list URL."""
        return self.base_url + API_PATH

    # --- the API --------------------------------------------------------------------------

    @staticmethod
    def create_body(
        human_image: str,
        cloth_image: str,
        model_name: str = DEFAULT_MODEL,
        callback_url: str | None = None,
        external_task_id: str | None = None,
    ) -> dict[str, str]:
        """The JSON body of a create request, checked before anything is sent."""
        if model_name not in MODELS:
            raise InputError(
                msg("client.unknown_model", model=repr(model_name), models=", ".join(MODELS))
            )
        body = {"model_name": model_name}
        for name, value in (("human_image", human_image), ("cloth_image", cloth_image)):
            if not isinstance(value, str) or not value:
                raise InputError(msg("client.image_required", name=name))
            if value[:5].lower() == "data:":
                raise InputError(msg("client.no_data_prefix", name=name))
            body[name] = value
        if callback_url:
            if (
                urlsplit(callback_url).scheme not in {"http", "https"}
                or not urlsplit(callback_url).hostname
            ):
                raise InputError(msg("client.bad_callback", url=repr(callback_url[:80])))
            body["callback_url"] = callback_url
        if external_task_id:
            body["external_task_id"] = external_task_id
        return body

    def submit(
        self,
        human_image: str,
        cloth_image: str,
        model_name: str = DEFAULT_MODEL,
        callback_url: str | None = None,
        external_task_id: str | None = None,
    ) -> Task:
        """Create a try-on task. Sent once: never retried once it may have reached the API."""
        body = self.create_body(
            human_image, cloth_image, model_name, callback_url, external_task_id
        )
        return self.submit_body(body)

    def submit_body(self, body: dict[str, str]) -> Task:
        """Send a create body made by :meth:`create_body` (once, never retried)."""
        with self._told():
            status, text, retry_after = self._send("POST", self.endpoint, json_body=body)
            return parse_task_reply(status, text, retry_after)

    def get(self, task_id: str, *, deadline: float | None = None) -> Task:
        """Query one task, retrying transient failures with backoff.

        The id is checked before anything is sent (see :data:`TASK_ID_PATTERN`). ``deadline``
        (a :func:`time.monotonic` time) bounds the query and its retries: a wait that must end
        by then never outlasts it because a query is still in flight.
        """
        task_id = check_task_id(task_id)
        url = f"{self.endpoint}/{quote(task_id, safe='')}"
        with self._told():
            return self._with_retries(
                lambda: parse_task_reply(*self._send("GET", url, until=deadline)), until=deadline
            )

    def list(self, page_num: int = 1, page_size: int = 30) -> list[Task]:
        """One page of this key's tasks, newest first (pageNum 1..1000, pageSize 1..500)."""
        if not 1 <= page_num <= 1000 or not 1 <= page_size <= 500:
            raise InputError(msg("client.page_range"))
        params = {"pageNum": page_num, "pageSize": page_size}
        with self._told():
            return self._with_retries(
                lambda: parse_task_list_reply(*self._send("GET", self.endpoint, params=params))
            )

    def wait(
        self,
        task_id: str,
        *,
        timeout: float | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Task]:
        """Poll until the task ends, yielding the task each time its status changes.

        The last task yielded is terminal (``succeed`` or ``failed``). Raises
        :class:`WaitTimeoutError` after ``timeout`` seconds (default: the wait limit) and
        :class:`CancelledError` when ``cancel`` is set; the task itself keeps running.
        """
        limit = self.wait_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        pauses = self.poll_pauses()
        last_status: str | None = None
        while True:
            if cancel is not None and cancel.is_set():
                raise CancelledError(
                    msg("client.stopped_waiting", task_id=task_id), task_id=task_id
                )
            try:
                task = self.get(task_id, deadline=deadline)
            except NetworkError as exc:
                if time.monotonic() >= deadline:  # cut off by the wait limit, not the network
                    raise wait_timeout_error(task_id, last_status, limit) from None
                raise exc.with_task_id(task_id) from None
            except InputError:
                raise  # the id itself was refused: not one to repeat
            except TryOnError as exc:
                raise exc.with_task_id(task_id) from None
            if task.task_status != last_status:
                last_status = task.task_status
                yield task
            if task.is_terminal:
                return
            # Never pause past the limit, and end there: a query sent after it could only be
            # cut off by its deadline, and might reach the API for nothing.
            pause = min(next(pauses), max(0.0, deadline - time.monotonic()))
            if cancel is None:
                self._sleep(pause)
            elif cancel.wait(pause):
                continue  # cancelled during the pause: the first check of the loop says so
            if time.monotonic() >= deadline:
                raise wait_timeout_error(task_id, last_status, limit)

    def poll_pauses(self) -> Iterator[float]:
        """Pauses between polls: fast at first (short tasks end early), then backing off."""
        interval = self.poll_interval
        while True:
            yield interval
            interval = min(interval * 1.25, self.poll_max_interval)

    def wait_for_result(
        self, task_id: str, *, timeout: float | None = None, cancel: threading.Event | None = None
    ) -> Task:
        """Wait for the end: the task if it succeeded, else :class:`TaskFailedError`."""
        updates = list(self.wait(task_id, timeout=timeout, cancel=cancel))
        task = updates[-1]  # wait() yields at least once or raises
        raise_for_failed(task)
        return task

    # --- transport ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _told(self) -> Iterator[None]:
        """Errors raised inside, with advice for whoever holds this client's key."""
        try:
            yield
        except TryOnError as exc:
            if self.own_key:
                for_own_key(exc)  # the same error, its advice reworded
            raise

    def _with_retries(self, call: Callable[[], _T], *, until: float | None = None) -> _T:
        attempt = 0
        while True:
            try:
                return call()
            except (RateLimitError, ServerError, NetworkError, UnexpectedResponseError) as exc:
                if not _retryable(exc) or attempt >= self.get_retries:
                    raise
                delay = min(self.backoff_max, self.backoff_base * 2**attempt)
                if exc.retry_after is not None:
                    delay = max(delay, exc.retry_after)
                if until is not None and time.monotonic() + delay >= until:
                    raise  # no time left for another try
                log.info("retrying in %.1f s after %s", delay, type(exc).__name__)
                self._sleep(delay)
                attempt += 1

    def _send(
        self,
        method: str,
        url: str,
        *,
        json_body: dict[str, str] | None = None,
        params: dict[str, int] | None = None,
        until: float | None = None,
    ) -> tuple[int, str, float | None]:
        started = time.perf_counter()
        budget = self.request_deadline
        if until is not None:
            budget = min(budget, until - time.monotonic())
        try:
            if method == "POST":
                response, body = self._send_on_new_connection(url, json_body, budget)
            else:
                response, body = bounded_request(
                    self._session,
                    method,
                    url,
                    budget=budget,
                    max_bytes=self.reply_max_bytes,
                    params=params,
                    timeout=self.timeout,
                )
        except requests.exceptions.RequestException as exc:
            raise self._network_error(method, exc) from None
        text = self._redacted_reply(body.decode(_encoding(response), errors="replace"))
        log.debug(
            "%s %s -> HTTP %s in %.0f ms",
            method,
            urlsplit(url).path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response.status_code, text, _retry_after(response)

    def _secret_values(self) -> tuple[str | None, ...]:
        """The configured secrets and whatever the auth has sent (the recent JWTs)."""
        return (*self._secrets, *credentials_of(self._session.auth))

    def _redacted_reply(self, text: str) -> str:
        """The reply with every secret removed from every string *after* decoding the JSON, so
        escapes cannot hide one; re-encoded for the parsers. Non-JSON is redacted as text."""
        secrets = self._secret_values()
        try:
            return json.dumps(redact_json(json.loads(text), secrets), ensure_ascii=False)
        except (ValueError, RecursionError):  # not JSON, or nested too deep to walk
            return redact(text, secrets)

    def _send_on_new_connection(
        self, url: str, json_body: dict[str, str] | None, budget: float
    ) -> tuple[requests.Response, bytes]:
        """A create on a connection of its own, closed after the reply.

        A kept-alive connection that has sat idle can be closed by the server at the moment a
        request goes out on it; the request then fails with no reply, which for a create means
        "may have been created" and a failed try-on, though the server never read it. Queries
        are retried, so they keep the pool; a create happens once per try-on, so one new
        connection is a small price for it never meeting a stale one.
        """
        with requests.Session() as once:
            mount_bounded(once)
            once.auth = self._session.auth
            once.headers.update(self._session.headers)
            once.headers["Connection"] = "close"
            return bounded_request(
                once,
                "POST",
                url,
                budget=budget,
                max_bytes=self.reply_max_bytes,
                json=json_body,
                timeout=self.timeout,
            )

    def _network_error(
        self, method: str, exc: requests.exceptions.RequestException
    ) -> NetworkError:
        host = redact(urlsplit(self.base_url).hostname or self.base_url, self._secrets)
        reached = not _never_connected(exc)
        task_id = None
        if isinstance(exc, DeadlineExceeded):
            what = msg("network.deadline", seconds=exc.seconds)
            found = _TASK_ID_IN_REPLY.search(exc.partial)
            task_id = found[1].decode() if found else None
        elif isinstance(exc, ReplyTooLarge):
            what = msg("network.too_large", kb=exc.limit // 1024)
        elif isinstance(exc, requests.exceptions.ReadTimeout):
            what = msg("network.read_timeout", seconds=self.timeout[1])
        elif isinstance(exc, requests.exceptions.ConnectTimeout):
            what = msg("network.connect_timeout", seconds=self.timeout[0])
        elif not reached:
            what = msg("network.refused")
        else:
            what = msg("network.dropped")
        if method == "POST" and reached and task_id:
            advice = msg("network.may_have_created_id", task_id=task_id)
        elif method == "POST" and reached:
            advice = msg("network.may_have_created")
        else:
            advice = msg("network.check")
        message = Msg.join([msg("network.failed", host=host, what=what), advice])
        return NetworkError(message, may_have_reached_server=reached, task_id=task_id)


def wait_timeout_error(task_id: str, last_status: str | None, limit: float) -> WaitTimeoutError:
    """The error for a task still running when the wait limit is reached."""
    status = msg(f"state.{last_status}") if last_status in _STATES else str(last_status)
    return WaitTimeoutError(
        msg("task.wait_timeout", task_id=task_id, status=status, seconds=limit),
        task_id=task_id,
        last_status=last_status,
    )


def raise_for_failed(task: Task) -> None:
    """Raise :class:`TaskFailedError` for a failed task; do nothing otherwise."""
    if task.task_status == "failed":
        raise TaskFailedError(
            msg("task.failed", task_id=task.task_id, reason=failure_reason(task)),
            task_id=task.task_id,
            request_id=task.request_id,
        )


def failure_reason(task: Task) -> Msg:
    """Why a task failed: the API's own words, labelled as such, or that it gave none."""
    if task.task_status_msg:
        return api_says(task.task_status_msg)
    return msg("status.no_reason")


def _retryable(exc: TryOnError) -> bool:
    if isinstance(exc, UnexpectedResponseError):
        return exc.http_status in _RETRYABLE_HTTP
    return exc.retryable


def _never_connected(exc: requests.exceptions.RequestException) -> bool:
    """True when the request certainly never reached the server (safe to say 'not created')."""
    if isinstance(
        exc,
        requests.exceptions.ConnectTimeout
        | requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema,
    ):
        return True
    # requests wraps urllib3's error: a connection never made (refused, no route, a name that
    # does not resolve) is a NewConnectionError; one dropped after connecting is something else.
    cause = exc.args[0] if exc.args else None
    return isinstance(getattr(cause, "reason", cause), NewConnectionError)


def _encoding(response: requests.Response) -> str:
    """The charset the reply declares; UTF-8 (JSON's) when it declares none or an unknown one.

    Not ``response.encoding``: for a ``text/*`` reply without a charset that is ISO-8859-1,
    which turns a gateway's UTF-8 JSON sent as ``text/plain`` into mojibake.
    """
    header = email.message.Message()
    header["Content-Type"] = response.headers.get("Content-Type", "")
    name = header.get_content_charset() or "utf-8"
    try:
        codecs.lookup(name)
    except LookupError:
        return "utf-8"
    return name


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None

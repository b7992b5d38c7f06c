"""The try-on flow behind the web app, with no Gradio in it: prepare, submit, follow, fetch.

Each run is an async generator of :class:`Step` values that the UI turns into component updates
and the tests read directly. Waiting is ``asyncio.sleep``, so a visitor waiting 30 s for the API
holds no thread; only the HTTP calls themselves run on a small thread pool.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from pathlib import Path
from typing import Any, Literal, TypeVar

import requests
from PIL import Image, ImageOps

from ..api.client import TryOnClient, failure_reason, wait_timeout_error
from ..api.models import Task
from ..errors import (
    ImageError,
    InputError,
    NetworkError,
    RateLimitError,
    TaskNotFoundError,
    TryOnError,
    UnexpectedResponseError,
    UnsafeURLError,
    api_error,
    redact_json,
)
from ..hosting import callback_inbox, ownership, workfiles
from ..hosting.callback_inbox import Inbox
from ..hosting.callback_urls import check_callback_url
from ..hosting.capacity import Capacity, Place, Ticket
from ..hosting.limits import limiter_for
from ..hosting.netpolicy import download
from ..pictures import ImageLimits, ImageSource, limit_malloc_arenas, prepare_image
from ..pictures.outfit import check_combination, compose_outfit
from ..settings import DEFAULT_MODEL, MODELS, Settings, ensure_state_dir
from ..text.i18n import Language
from ..text.messages import Code, Msg, msg
from .lookbook import Backoff, Follow, Garment, LookItem, run_lookbook, write_zip
from .service import make_client, prepare_submission, submission_of
from .timing import TaskPlan, Timing, task_age

log = logging.getLogger(__name__)

Phase = Literal["preparing", "queued", "submitted", "processing", "succeed", "failed", "error"]
_T = TypeVar("_T")

#: HTTP calls run here, not on the event loop; sized for many visitors' short requests.
_HTTP_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="tryon-http")
RESULT_MAX_BYTES = 40 * 1024 * 1024
#: What a person is told when the app itself failed (the details go to the server log).
APP_FAULT = msg("app.fault")
TICK = 0.5
_LINK = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


@dataclass(frozen=True)
class Step:
    """One moment of a run, everything the UI shows at that moment."""

    phase: Phase
    elapsed: float
    request: dict[str, Any] | None = None
    task: Task | None = None
    result_path: Path | None = None
    comparison: tuple[Path, Path] | None = None
    error: TryOnError | None = None
    notes: tuple[Msg, ...] = field(default_factory=tuple)
    #: Proof that this visitor created the task, for looking it up again (see ownership.py).
    owner_token: str | None = field(default=None, repr=False)
    #: While ``queued``: how many creates are ahead and about how long until this one's turn.
    place: Place | None = None
    #: The latest callback the API sent this run (redacted), shown beside the task JSON. Its
    #: state is only a claim: the run's result always comes from its own status query.
    callback: dict[str, Any] | None = None
    #: While the task runs: the time usually left, or that it takes longer (flow/schedule.py).
    outlook: Msg | None = None

    @property
    def task_json(self) -> dict[str, Any] | None:
        """The API's last answer, or the error, for the JSON panel."""
        if self.error is not None:
            return {
                "error": self.error.to_dict(),
                "last_task": self.task.raw if self.task else None,
            }
        if self.callback is not None:
            return {"callback": self.callback, "last_query": self.task.raw if self.task else None}
        return self.task.raw if self.task else None

    @property
    def done(self) -> bool:
        return self.phase in ("succeed", "failed", "error")

    def status_text(self, lang: Language = "en") -> str:
        """One line of Markdown for the status panel, in ``lang``."""
        return self.status_msg().markdown(lang)

    def status_msg(self) -> Msg:
        """The status line as a message: phase, task and time, then any error or reason."""
        label = (
            self.place.msg()
            if self.phase == "queued" and self.place is not None
            else msg(f"status.{self.phase}")
        )
        parts: list[Msg | str] = [msg("fmt.bold", text=label)]
        if self.task is not None:
            parts.append(msg("status.task", task_id=Code(self.task.task_id)))
        parts.append(msg("status.elapsed", seconds=self.elapsed))
        if self.outlook is not None and not self.done:
            parts.append(self.outlook)
        if self.callback is not None:
            parts.append(msg("status.callback", status=str(self.callback.get("task_status"))))
        lines: list[Msg | str] = [Msg.join(parts, sep="summary")]
        if self.error is not None:
            lines.append(self.error.as_msg())  # with the request_id when there is one
        elif self.phase == "failed" and self.task is not None:
            lines.append(failure_reason(self.task))
        return Msg.join(lines, sep="line")


def api_image_source(value: Any, field_name: str | Msg) -> ImageSource | None:
    """The image a caller of the web app gave: an uploaded file (Gradio's file dict, already
    checked to be in the upload folder) or an http(s)/data: link. A bare string is never read
    as a path on this server."""
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        path = value.get("path")
        if isinstance(path, str) and path:
            return Path(path)
        raise ImageError(msg("input.upload_without_file", field=field_name), field=field_name)
    if isinstance(value, str):
        text = value.strip()
        if _LINK.match(text):
            return text  # image preparation accepts http(s) and data: and names any other scheme
        raise ImageError(
            msg("input.not_upload_or_link", field=field_name, text=repr(text[:60])),
            field=field_name,
        )
    raise ImageError(
        msg("input.unsupported_value", field=field_name, type=type(value).__name__),
        field=field_name,
    )


class Studio:
    """Runs try-ons for the web app; one per app, shared by every visitor."""

    def __init__(
        self,
        settings: Settings,
        workdir: Path,
        *,
        clock: Callable[[], float] = time.time,
        inbox: Inbox | None = None,
        served_url: Callable[[], str | None] | None = None,
    ) -> None:
        limit_malloc_arenas()  # before the HTTP pool's threads each get an arena of their own
        self.settings = settings
        self.limits = ImageLimits.from_settings(settings)
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        #: Wall-clock time for the work files' age (a parameter so tests can move it on).
        self.clock = clock
        self._swept = float("-inf")
        self._shared: TryOnClient | None = None
        self.limiter = limiter_for(settings)
        #: The account's concurrent-task limit (TRYON_API_CONCURRENCY): one fair queue.
        self.capacity = Capacity(
            settings.api_concurrency,
            still_running=self._still_running,
            hold_limit=settings.wait_timeout,
            check_every=settings.poll_max_interval,
            busy_check_every=settings.poll_interval,
            typical=settings.simulator_task_seconds if settings.mode == "offline" else 25.0,
        )
        self._adopted = False
        #: When to ask about a running task and how long tasks take (learnt, kept on disk).
        self.timing = Timing.from_settings(settings)
        #: Where the API's callbacks for this app's runs arrive (the callback route's inbox).
        self.inbox = inbox if inbox is not None else callback_inbox.shared()
        #: The loopback URL the app is being served at with its callback route, once it is
        #: (``None`` before launch): offline, the simulator calls back there.
        self.served_url = served_url

    # --- clients ------------------------------------------------------------------------

    def _client(self, api_key: str | None) -> tuple[TryOnClient, bool]:
        """The client for this request and whether the caller must close it.

        A visitor's own key gets a client of its own, closed after the request, so the key is
        neither kept nor ever used for anyone else.
        """
        key = (api_key or "").strip()
        if key:
            return TryOnClient.from_settings(self.settings.with_api_key(key)), True
        if self._shared is None:
            self._shared = make_client(self.settings)
        return self._shared, False

    # --- creating a task: the one way every entry point does it --------------------------

    async def _create(
        self, client: TryOnClient, body: dict[str, str], *, owned: bool
    ) -> AsyncGenerator[Place | Task, None]:
        """Create one task through the app's queue: yields the :class:`Place` while waiting
        for a free slot at the API, then the created :class:`Task` (the last item).

        Callers count the submission against the limits first (before any image work). The
        owner's key (or the shared simulator) waits in the queue; a visitor's own key is another
        account, with a concurrent-task limit of its own, so its create is sent at once. A
        1303 from the API means nothing was created: the create goes back to the head of the
        queue and is sent again after a pause, without the visitor seeing an error.
        """
        if owned or not self.capacity.limited:
            yield await _off_loop(partial(client.submit_body, body))
            return
        await self._adopt_running(client)
        ticket = self.capacity.join()
        first_refusal: float | None = None
        try:
            while True:
                async for place in ticket.wait(tick=TICK):
                    yield place
                try:
                    task = await self._send_create(client, body, ticket)
                except RateLimitError as exc:
                    now = time.monotonic()
                    first_refusal = now if first_refusal is None else first_refusal
                    if exc.code != 1303 or now - first_refusal > self.settings.wait_timeout:
                        raise
                    ticket.refused(exc.retry_after)
                    continue
                yield task
                return
        finally:
            ticket.close()

    async def _create_task(self, client: TryOnClient, body: dict[str, str], *, owned: bool) -> Task:
        """:meth:`_create` for callers that show no place in line: the created task."""
        async with aclosing(self._create(client, body, owned=owned)) as making:
            async for made in making:
                if isinstance(made, Task):
                    return made
        raise AssertionError("_create ends with the created task")

    async def _send_create(self, client: TryOnClient, body: dict[str, str], ticket: Ticket) -> Task:
        """Send the create holding ``ticket``'s slot. A visitor who leaves while it is on its
        way does not stop it: the slot then follows whatever the API answers."""
        sending = asyncio.get_running_loop().run_in_executor(
            _HTTP_POOL, partial(client.submit_body, body)
        )
        ticket.sending = True
        try:
            task = await asyncio.shield(sending)
        except asyncio.CancelledError:
            sending.add_done_callback(partial(self._settle_abandoned, ticket))
            raise
        except BaseException:
            ticket.sending = False
            raise
        ticket.sending = False
        ticket.created(task.task_id)
        return task

    def _settle_abandoned(self, ticket: Ticket, sending: asyncio.Future[Task]) -> None:
        ticket.sending = False
        task = None if sending.cancelled() or sending.exception() else sending.result()
        if task is None:
            ticket.close()
            return
        ticket.created(task.task_id)
        self.capacity.release_when_done(task.task_id)

    async def _adopt_running(self, client: TryOnClient) -> None:
        """Once, before the first create: tasks already running at the API hold slots too."""
        if self._adopted:
            return
        self._adopted = True
        try:
            tasks = await _off_loop(partial(client.list, 1, 100))
        except TryOnError as exc:
            log.warning("could not list the tasks running at the API: %s", exc)
            return
        now_ms = time.time() * 1000
        for task in tasks:
            if not task.is_terminal:
                age = (now_ms - task.created_at) / 1000 if task.created_at else 0.0
                self.capacity.adopt(task.task_id, age)

    async def _still_running(self, task_id: str) -> bool:
        client, _ = self._client(None)
        try:
            task = await _off_loop(partial(client.get, task_id))
        except TaskNotFoundError:
            return False
        return not task.is_terminal

    # --- who may look a task up -------------------------------------------------------

    @cached_property
    def _owner_secret(self) -> bytes:
        return ownership.load_secret(ensure_state_dir(self.settings))

    def owner_token(self, task_id: str) -> str:
        """The token that lets the creator of ``task_id`` look it up again later."""
        return ownership.issue_token(self._owner_secret, task_id)

    def browser_secret(self) -> str:
        """The key the page encrypts its stored ownership tokens with; stable across restarts."""
        return ownership.browser_secret(self._owner_secret)

    def may_look_up(self, task_id: str, owner_token: str | None, api_key: str | None) -> bool:
        """Whether this caller may see ``task_id``: with a key of their own, any task of that
        key; with the owner's key (or the shared simulator) only a task they created."""
        if (api_key or "").strip():
            return True
        return ownership.token_valid(self._owner_secret, task_id, owner_token)

    # --- work files ---------------------------------------------------------------------

    def work_path(self, name: str) -> Path:
        """A path for a new work file under an unguessable name; old work files are swept
        first (at most every few seconds), and a janitor keeps sweeping while the app idles."""
        self.sweep()
        workfiles.start_janitor(self.workdir, self.settings.work_ttl, self.clock)
        return workfiles.private_path(self.workdir, name)

    def sweep(self, *, force: bool = False) -> int:
        """Delete the work files older than ``TRYON_WORK_TTL``; returns how many went."""
        now = self.clock()
        if not force and now - self._swept < min(5.0, self.settings.work_ttl / 4):
            return 0
        self._swept = now
        return workfiles.sweep(self.workdir, self.settings.work_ttl, now)

    async def _check_callback(self, callback_url: str | None) -> None:
        """Refuse a callback into the server's own network in a public deployment, before
        anything is prepared or created (a host name is resolved off the event loop)."""
        if self.settings.public and (callback_url or "").strip():
            await _off_loop(partial(check_callback_url, callback_url, public=True))

    # --- callbacks ----------------------------------------------------------------------

    def callback_base(self) -> str | None:
        """The app's address for the API's callbacks, or ``None`` when it has none (polling).

        Offline, the in-process simulator calls back on loopback, so the app's own loopback
        URL; otherwise ``TRYON_PUBLIC_URL`` (on a Space ``https://<SPACE_HOST>``).
        """
        if not self.settings.callbacks:
            return None
        if self.settings.mode == "offline":
            return self.served_url() if self.served_url is not None else None
        return self.settings.public_url

    def _callback_for(self, visitor_url: str | None) -> tuple[str | None, str | None, Msg | None]:
        """``(token, callback URL to create with, note)`` for one create.

        A visitor's own callback URL passes through untouched (the app then polls and says so);
        else the app's own with a new one-time token when the app can be reached.
        """
        own = (visitor_url or "").strip()
        if own:
            return None, own, msg("callback.note_visitor")
        base = self.callback_base()
        if base is None:
            return None, None, None
        token, url = self.inbox.expect(base, ttl=self.settings.wait_timeout + 60)
        return token, url, msg("callback.note_own", seconds=self.settings.callback_backstop)

    # --- the flows ----------------------------------------------------------------------

    async def run(
        self,
        human: ImageSource | None,
        cloth: ImageSource | None,
        model_name: str = DEFAULT_MODEL,
        callback_url: str | None = None,
        *,
        api_key: str | None = None,
        session: str = "",
        compare: bool = True,
    ) -> AsyncIterator[Step]:
        """Prepare, submit and follow one try-on, yielding a :class:`Step` at every change."""
        started = time.monotonic()

        def elapsed() -> float:
            return time.monotonic() - started

        yield Step("preparing", 0.0)
        callback: str | None = None  # the app's own token, forgotten however the run ends
        try:
            try:
                if not (api_key or "").strip():  # the owner's key (or the shared simulator) pays
                    self.limiter.acquire(session)  # before any image work: a refusal costs nothing
                await self._check_callback(callback_url)
                callback, callback_url, callback_note = self._callback_for(callback_url)
                submission = await _off_loop(
                    partial(
                        prepare_submission,
                        human,
                        cloth,
                        model_name,
                        callback_url,
                        limits=self.limits,
                    )
                )
            except TryOnError as exc:
                yield Step("error", elapsed(), error=exc)
                return
            preview = submission.preview()
            if callback is not None:  # the token is the callback's credential: not for screens
                preview["callback_url"] = _masked(preview["callback_url"], callback)
            notes = (
                msg(
                    "prep.note", field=msg("field.person"), actions=submission.human.report.actions
                ),
                msg(
                    "prep.note", field=msg("field.garment"), actions=submission.cloth.report.actions
                ),
                *((callback_note,) if callback_note else ()),
            )
            yield Step("preparing", elapsed(), request=preview, notes=notes)
            inner = self._create_and_follow(
                submission.body, api_key, started, _local_path(human) if compare else None, callback
            )
            # Closed with the run (Cancel, a page closed): it then leaves the queue at once.
            async with aclosing(inner):
                async for step in inner:
                    yield replace(step, request=preview, notes=notes)
        finally:
            self.inbox.forget(callback)

    async def _create_and_follow(
        self,
        body: dict[str, str],
        api_key: str | None,
        started: float,
        person: Path | None,
        callback: str | None,
    ) -> AsyncGenerator[Step, None]:
        """Create the task (waiting in the capacity queue when there is one) and follow it."""
        client, owned = self._client(api_key)
        try:
            try:
                made: Place | Task | None = None
                creating = self._create(client, body, owned=owned)
                async with aclosing(creating):  # a visitor who leaves leaves the queue at once
                    async for made in creating:
                        if isinstance(made, Place):
                            yield Step("queued", time.monotonic() - started, place=made)
                assert isinstance(made, Task)
                task = made
            except TryOnError as exc:
                yield Step("error", time.monotonic() - started, error=exc)
                return
            token = self.owner_token(task.task_id)
            if callback is not None:
                self.inbox.bind(callback, task.task_id)
            plan = self.timing.plan(body.get("model_name"))
            following = self._follow(client, task, started, person, callback, plan)
            async with aclosing(following):  # a run stopped early hands its slot on at once
                async for step in following:
                    yield replace(step, owner_token=token)
        finally:
            if owned:
                client.close()

    async def compare(
        self,
        human: ImageSource | None,
        cloth: ImageSource | None,
        *,
        api_key: str | None = None,
        session: str = "",
    ) -> AsyncIterator[dict[str, Step]]:
        """Run the same pictures on every model at once; yield the latest step of each."""
        updates: asyncio.Queue[tuple[str, Step | None]] = asyncio.Queue()

        async def pump(model: str) -> None:
            try:
                steps = self.run(
                    human, cloth, model, api_key=api_key, session=session, compare=False
                )
                async for step in guarded(steps):
                    await updates.put((model, step))
            finally:
                await updates.put((model, None))

        runs = [asyncio.create_task(pump(model)) for model in MODELS]
        latest: dict[str, Step] = {}
        finished = 0
        try:
            while finished < len(runs):
                model, step = await updates.get()
                if step is None:
                    finished += 1
                    continue
                latest[model] = step
                yield dict(latest)
        finally:
            for run in runs:  # stopped early (Cancel): stop following both
                run.cancel()

    async def follow(
        self,
        task_id: str,
        *,
        api_key: str | None = None,
        owner_token: str | None = None,
        session: str = "",
    ) -> AsyncIterator[Step]:
        """Re-attach to a task submitted earlier: query it, then follow it to its end.

        With the owner's key only the task's creator may (``owner_token``); anyone else is told
        the task does not exist, as for an unknown id, and the API is not asked at all.
        """
        started = time.monotonic()
        if not self.may_look_up(task_id, owner_token, api_key):
            yield Step("error", time.monotonic() - started, error=not_found())
            return
        # Passed on only when it is valid: a token is issued when a task is created, never for
        # looking one up (a key of one's own must not turn into a right on the owner's key).
        valid = ownership.token_valid(self._owner_secret, task_id, owner_token)
        token = owner_token if valid else None
        client, owned = self._client(api_key)
        try:
            try:
                if not owned:  # lookups on the owner's key use the account's request rate
                    self.limiter.acquire_query(session)
                task = await _off_loop(partial(client.get, task_id))
            except TryOnError as exc:
                yield Step("error", time.monotonic() - started, error=exc)
                return
            plan = self.timing.plan(None, age=task_age(task))
            async for step in self._follow(client, task, started, None, plan=plan):
                yield replace(step, owner_token=token)
        finally:
            if owned:
                client.close()

    async def _follow(
        self,
        client: TryOnClient,
        task: Task,
        started: float,
        person: Path | None,
        callback: str | None = None,
        plan: TaskPlan | None = None,
    ) -> AsyncGenerator[Step, None]:
        """Follow ``task`` to its end. With ``callback`` (a token of :attr:`inbox`) a callback
        claiming the end wakes it at once and polling is only a slow backstop; without, it
        polls when ``plan`` says (timed to how long tasks usually take, see flow/schedule.py)."""
        # Counted from here, not from ``started``: time spent in the queue is not the task's.
        deadline = time.monotonic() + client.wait_timeout
        plan = plan or self.timing.plan(None)
        received: dict[str, Any] | None = None  # the latest callback, for the page
        phase: Phase = _phase(task)

        def now(shown: Phase, **fields: Any) -> Step:
            """The step shown at this moment: elapsed time, the task and the latest callback."""
            ahead = plan.outlook() if shown in ("submitted", "processing") else None
            return Step(
                shown,
                time.monotonic() - started,
                task=task,
                callback=received,
                outlook=ahead,
                **fields,
            )

        try:
            while not task.is_terminal:
                phase = _later(phase, _phase(task))
                yield now(phase)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    error = wait_timeout_error(task.task_id, task.task_status, client.wait_timeout)
                    yield now("error", error=error)
                    return
                claimed_end: str | None = None  # the end a callback claimed, to confirm
                if callback is None:
                    pause = min(plan.pause(), remaining)
                    if self.capacity.waiting:  # others wait for this slot: notice the end soon
                        pause = min(pause, client.poll_interval)
                    # Tick the elapsed time on screen between polls without asking the API more
                    # often; the query is aimed at its moment, however long the page takes over
                    # each tick.
                    due = time.monotonic() + pause
                    while due - time.monotonic() > TICK:
                        await asyncio.sleep(TICK)
                        yield now(_phase(task))
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                else:
                    backstop = plan.backstop(self.settings.callback_backstop)
                    until = time.monotonic() + min(backstop, remaining)
                    while (left := until - time.monotonic()) > 0:
                        body = await self.inbox.wait(callback, min(TICK, left))
                        if body is not None:
                            # Redacted like every reply: the key and recent JWTs, in any form.
                            received = redact_json(body, client._secret_values())
                            claimed = str(body.get("task_status"))
                            if claimed in ("succeed", "failed"):
                                claimed_end = claimed
                                break  # confirmed by the query below: a body is never the result
                            phase = _later(
                                phase, "processing" if claimed == "processing" else phase
                            )
                        yield now(phase)
                try:
                    # Bounded by the wait limit too: a query still in flight cannot outlast it.
                    task = await _off_loop(partial(client.get, task.task_id, deadline=deadline))
                    if callback is not None and claimed_end and not task.is_terminal:
                        self.inbox.unsee(callback, claimed_end)  # not the API's: await the real one
                except TryOnError as exc:
                    failure: TryOnError = exc
                    if isinstance(exc, NetworkError) and time.monotonic() >= deadline:
                        failure = wait_timeout_error(
                            task.task_id, task.task_status, client.wait_timeout
                        )
                    # The task exists (and may be billed): every error names it, so nobody pays
                    # twice.
                    failure = failure.with_task_id(task.task_id)
                    yield now("error", error=failure)
                    return
        finally:
            if task.is_terminal:
                self.capacity.ended(task.task_id)  # before the download: the slot is free now
                plan.ended(task)  # how long it took, for the next tasks' schedule
            else:  # cancelled, closed or timed out: it keeps its slot until the API says so
                self.capacity.release_when_done(task.task_id)
        if task.task_status == "failed":
            yield now("failed")
            return
        try:
            result = await _off_loop(partial(self.fetch_result, task))
            comparison = (
                await _off_loop(partial(self.comparison, person, result)) if person else None
            )
        except TryOnError as exc:
            yield now("error", error=exc.with_task_id(task.task_id))
            return
        yield now("succeed", result_path=result, comparison=comparison)

    async def submit(
        self,
        human: ImageSource | None,
        cloth: ImageSource | None,
        model_name: str = DEFAULT_MODEL,
        callback_url: str | None = None,
        *,
        session: str = "",
    ) -> Task:
        """Prepare and create one task (no waiting); raises :class:`TryOnError`.

        The creator's ownership token is :meth:`owner_token` of the task's id.
        """
        self.limiter.acquire(session)  # before any image work: a refusal costs nothing
        await self._check_callback(callback_url)
        submission = await _off_loop(
            partial(prepare_submission, human, cloth, model_name, callback_url, limits=self.limits)
        )
        client, _ = self._client(None)
        task = await self._create_task(client, submission.body, owned=False)
        self.capacity.release_when_done(task.task_id)  # nobody follows it: it keeps its slot
        return task

    async def query(
        self, task_id: str, owner_token: str | None = None, *, session: str = ""
    ) -> Task:
        """Query one task its creator asks for (``owner_token``); raises :class:`TryOnError`,
        :class:`TaskNotFoundError` for anyone else, as for an unknown id."""
        self.limiter.acquire_query(session)
        if not self.may_look_up(task_id, owner_token, None):
            raise not_found()
        client, _ = self._client(None)
        return await _off_loop(partial(client.get, task_id))

    async def lookbook(
        self,
        human: ImageSource | None,
        garments: Sequence[Garment],
        model_name: str = DEFAULT_MODEL,
        *,
        api_key: str | None = None,
        session: str = "",
        backoff: Backoff | None = None,
    ) -> AsyncIterator[tuple[LookItem, ...]]:
        """One person in every garment, a few at a time; yields the whole table at each change.

        Raises :class:`TryOnError` before anything is sent when the person image or the number
        of garments is wrong; a garment's own problem only ends that garment's row.
        """
        if not garments:
            raise InputError(msg("lookbook.empty"))
        most = self.settings.lookbook_max_items
        if len(garments) > most:
            raise InputError(msg("lookbook.too_many", count=len(garments), most=most))
        counted = not (api_key or "").strip()
        if counted:
            self.limiter.check(session)  # before the person picture is decoded
        person = await _off_loop(
            partial(prepare_image, human, field=msg("field.person"), limits=self.limits)
        )
        client, owned = self._client(api_key)
        callbacks: dict[str, str] = {}  # task id -> its callback token, until it ends

        async def submit(garment: Garment) -> Task:
            if counted:
                self.limiter.acquire(session)  # before this garment's picture is decoded
            cloth = await _off_loop(
                partial(
                    prepare_image,
                    garment.source,
                    field=msg("field.garment_named", name=garment.name),
                    limits=self.limits,
                )
            )
            token, callback_url, _ = self._callback_for(None)
            submission = submission_of(person, cloth, model_name, callback_url)
            try:
                task = await self._create_task(client, submission.body, owned=owned)
            except BaseException:
                self.inbox.forget(token)
                raise
            if token is not None:
                self.inbox.bind(token, task.task_id)
                callbacks[task.task_id] = token
            return task

        async def follow(task: Task) -> AsyncIterator[Follow]:
            token = callbacks.get(task.task_id)
            try:
                plan = self.timing.plan(model_name)
                async for step in self._follow(client, task, time.monotonic(), None, token, plan):
                    yield Follow(
                        step.task or task,
                        step.result_path,
                        str(step.error) if step.error is not None else "",
                        step.error.as_msg() if step.error is not None else None,
                        step.outlook,
                    )
            finally:
                self.inbox.forget(callbacks.pop(task.task_id, None))

        try:
            async for items in run_lookbook(
                garments,
                submit,
                follow,
                concurrency=self.settings.lookbook_concurrency,
                backoff=backoff,
            ):
                yield items
        finally:
            for token in callbacks.values():  # stopped early: garments never followed
                self.inbox.forget(token)
            if owned:
                client.close()

    def lookbook_zip(self, items: Sequence[LookItem], model_name: str) -> Path:
        """A zip of the batch's results with its manifest, in the work folder."""
        path = self.work_path(f"lookbook-{time.strftime('%Y%m%d-%H%M%S')}.zip")
        return write_zip(items, model_name, path)

    def compose_outfit(
        self,
        top: ImageSource | None,
        bottom: ImageSource | None,
        kinds: tuple[str, str],
        *,
        session: str = "",
    ) -> Path:
        """Combine a top and a bottom into one garment picture for v1.5; returns its path.

        It costs no credits but does cost the server two decodes, so it counts against the
        visitor's lookup rate (``TRYON_RATE_QUERY``), checked before any picture is read.
        """
        self.limiter.acquire_query(session)
        check_combination(kinds)  # type: ignore[arg-type]
        if top is None or bottom is None:
            missing = "top" if top is None else "bottom"
            raise ImageError(
                msg("outfit.add_missing", piece=msg(f"piece.{missing}")), field=missing
            )
        outfit = compose_outfit(top, bottom)
        path = self.work_path("outfit.png")
        path.write_bytes(outfit.png)
        return path

    # --- results ------------------------------------------------------------------------

    def fetch_result(self, task: Task) -> Path:
        """Download the task's result image into the work folder and return its path.

        The app shows results from its own server: the page never loads the API's CDN (or, in
        offline mode, the simulator's loopback address, which a visitor's browser cannot reach).
        """
        url = task.result_url
        if not url:
            raise UnexpectedResponseError(
                msg("result.no_image", task_id=task.task_id),
                request_id=task.request_id,
            )
        try:
            data = download(
                url,
                allowed_hosts=self._api_hosts(),
                budget=self.settings.connect_timeout + self.settings.read_timeout,
                max_bytes=RESULT_MAX_BYTES,
            )
        except UnsafeURLError:
            raise UnexpectedResponseError(msg("result.not_public", task_id=task.task_id)) from None
        except requests.RequestException as exc:
            raise UnexpectedResponseError(
                msg(
                    "result.download_failed",
                    task_id=task.task_id,
                    why=type(exc).__name__,
                    url=url,
                )
            ) from None
        try:
            with Image.open(io.BytesIO(data)) as image:
                suffix = ".png" if image.format == "PNG" else ".jpg"
                image.verify()
        except Exception:  # noqa: BLE001 - anything Pillow rejects is "not an image" here
            raise UnexpectedResponseError(
                msg("result.not_image", task_id=task.task_id, url=url)
            ) from None
        path = self.work_path(f"result{suffix}")
        path.write_bytes(data)
        return path

    def _api_hosts(self) -> tuple[str, ...]:
        """Hosts results may come from whatever their address: the configured API, and the
        in-process simulator once it runs (offline mode, on loopback)."""
        hosts = [self.settings.base_url or ""]
        if self._shared is not None:
            hosts.append(self._shared.base_url)
        return tuple(h for h in hosts if h)

    def comparison(self, person: Path, result: Path) -> tuple[Path, Path]:
        """A before/after pair of equal size: the person scaled to the result's frame."""
        with Image.open(result) as after:
            size = after.size
        with Image.open(person) as before:
            framed = ImageOps.pad(
                ImageOps.exif_transpose(before).convert("RGB"), size, color=(255, 255, 255)
            )
        path = self.work_path("before.jpg")
        framed.save(path, format="JPEG", quality=90)
        return path, result


async def guarded(steps: AsyncIterator[Step]) -> AsyncIterator[Step]:
    """Pass steps through; a bug ends the run in a plain message, never a traceback on screen."""
    last: Step | None = None
    try:
        async for step in steps:
            last = step
            yield step
    except Exception:
        log.exception("the try-on flow failed unexpectedly")
        error = TryOnError(APP_FAULT)
        yield Step(
            "error", last.elapsed if last else 0.0, task=last.task if last else None, error=error
        )


def _phase(task: Task) -> Phase:
    return "processing" if task.task_status == "processing" else "submitted"


def _later(shown: Phase, new: Phase) -> Phase:
    """The later of two waiting phases: a callback may say "processing" before a query does,
    and callbacks may arrive out of order, but the page never steps back to "submitted"."""
    return "processing" if "processing" in (shown, new) else new


def _masked(url: str, token: str) -> str:
    """The callback URL with its token shortened, as the page shows it."""
    return url.replace(token, token[:6] + "…")


def _local_path(source: ImageSource | None) -> Path | None:
    if isinstance(source, Path):
        return source
    return None


def not_found() -> TaskNotFoundError:
    """What a lookup of a task the caller did not create gets: the API's own answer to an
    unknown id, so the reply does not tell whether the task exists."""
    error = api_error(http_status=404, code=1203, api_message=None, request_id=None)
    assert isinstance(error, TaskNotFoundError)
    return error


async def _off_loop(call: Callable[[], _T]) -> _T:
    return await asyncio.get_running_loop().run_in_executor(_HTTP_POOL, call)


def json_dumps_safe(value: Any) -> str:
    """JSON text for a panel; never raises on odd values."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)

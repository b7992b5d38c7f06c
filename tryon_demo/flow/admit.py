"""The one admission path: every door passes here, in one order, before any work is done for
the visitor.

:data:`ORDER` is that order:

1. ``password``: the ASGI :class:`~tryon_demo.hosting.access.AccessGuard` checks it on every
   HTTP request before any handler runs (page, ``/gradio_api/*``, MCP); the command line is the
   machine's owner and has none.
2. ``rate``: the visitor's and everyone's submission rates, or the lookup rate
   (:mod:`tryon_demo.hosting.limits`), for a visitor with a key of their own too.
3. ``quota``: the day's cap and the address's share of it, reserved now and committed only
   when the API accepts the create (:mod:`tryon_demo.hosting.quota`); not for a key of one's
   own, which pays for itself.
4. ``queue``: a place in the capacity queue (:mod:`tryon_demo.hosting.capacity`), refused at
   once when this address or everyone already waits as often as allowed; the waiter then holds
   its pictures as they came (an upload's path, a link), and :meth:`Pass.turn` waits for the
   slot, leaving the line when the caller hangs up or the longest wait is over.
5. ``pictures``: decoded only with a :class:`Pass` (:mod:`.prepare`), once the turn came (a
   header that already refuses the picture is read before the wait).
6. ``create``: sent only with a :class:`Pass`, on the pass's client (:mod:`.create`).

Every door is a :class:`Door`; :meth:`Admission.enter` is the only maker of a :class:`Pass`, and
a pass is the only way to a client of the API and to a visitor's decoded pictures. A new
feature is a composition of the steps that take a pass, so it cannot skip the guard.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from types import TracebackType

from ..api.client import TryOnClient
from ..api.models import Task
from ..errors import TryOnError
from ..hosting.capacity import Capacity, Place, Ticket
from ..hosting.limits import Shares, SubmissionLimiter, limiter_for
from ..hosting.quota import CreateLedger, Quota, Reservation, quota_for
from ..settings import Settings
from ..text.messages import msg
from .clients import Clients
from .pools import off_loop
from .step import TICK
from .usage import NO_USAGE, Outcome, Usage, code_of, reason_of

log = logging.getLogger(__name__)

#: The order every door passes, each check before any work the next one would do.
ORDER = ("password", "rate", "quota", "queue", "pictures", "create")
#: Pictures one address may have decoding at once (a run's two count as one): more wait, so
#: one visitor's burst cannot hold every decoding thread while others wait.
DECODES_PER_ADDRESS = 2


class Door(Enum):
    """Every way in. Each is guarded by :meth:`Admission.enter`; MCP tools are the HTTP
    endpoints of the same name, and a visitor's own key can come by every door but the CLI."""

    RUN = "run"  # the page's Run
    COMPARE = "compare"  # the Compare tab: one create per model
    LOOKBOOK = "lookbook"  # the Lookbook tab: the person picture, then one create per garment
    OUTFIT = "outfit"  # the outfit composer: two pictures decoded, nothing created
    CHECK = "check"  # the note under a picture just chosen: its header read, nothing created
    REATTACH = "reattach"  # the page's re-attach by id or by a history row
    SUBMIT = "submit"  # /submit and the MCP submit tool
    TRYON = "tryon"  # /tryon and the MCP tryon tool
    QUERY = "query"  # /query and the MCP query tool
    CLI = "cli"  # python -m tryon_demo submit | query | list


class Need(Enum):
    """What a visitor asks a door for, which says which checks apply."""

    CREATE = "create"  # a task created at the API (pictures decoded first)
    LOOKUP = "lookup"  # a task looked up at the API
    PICTURES = "pictures"  # pictures decoded, nothing sent (the outfit composer, the check)
    BATCH = "batch"  # a lookbook's person picture: checked like a create, counted per garment


@dataclass(frozen=True)
class Visitor:
    """Whoever a flow works for: the address their limits are counted under (``ip:<address>``,
    see :func:`tryon_demo.hosting.access.visitor_key`) and the API key of their own, if any."""

    address: str = ""
    own_key: str | None = field(default=None, repr=False)
    #: Answers whether the caller has gone away (an HTTP client that disconnected).
    gone: Callable[[], Awaitable[bool]] | None = field(default=None, repr=False, compare=False)
    #: The machine's owner at the command line: no password, no visitor limits, no queue.
    owner: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "own_key", (self.own_key or "").strip() or None)

    @classmethod
    def local_owner(cls) -> Visitor:
        """The owner of this machine, at the command line."""
        return cls("local", owner=True)


class CallerGoneError(TryOnError):
    """The caller hung up while waiting for a slot: it left the line, nothing was created."""

    kind = "caller_gone"


#: A visitor with no address and no key of their own (the tests' default caller).
ANYONE = Visitor()
#: Only :class:`Admission` holds it: a :class:`Pass` made without it is refused.
_ADMITTED = object()


class Admission:
    """The guard of one app, shared by every door (see the module's docstring)."""

    def __init__(
        self,
        settings: Settings,
        clients: Clients,
        limiter: SubmissionLimiter,
        capacity: Capacity,
        quota: Quota | None = None,
        usage: Usage = NO_USAGE,
    ) -> None:
        self.settings = settings
        self._clients = clients
        self.limiter = limiter
        self.capacity = capacity
        #: The day's cap and each address's share of it.
        self.quota = quota if quota is not None else Quota(0)
        #: Told of every create, end, refusal and wait (see :mod:`.usage`).
        self.usage = usage
        #: The decode budget: each address decodes at most this many pictures at once.
        self.decodes = Shares(DECODES_PER_ADDRESS)
        self._adopted = False

    @classmethod
    def build(
        cls, settings: Settings, clients: Clients | None = None, *, usage: Usage = NO_USAGE
    ) -> Admission:
        """The guard for ``settings``: its rates, quota and capacity queue, and ``clients`` (by
        default clients of its own, as the command line's).

        A ``usage`` recorder that keeps the creates it is told of (a
        :class:`~tryon_demo.hosting.quota.CreateLedger`, as the owner's usage records are) is
        also what the day's quota counts from: the cap and the owner's figures are one count.
        """
        clients = clients if clients is not None else Clients(settings)
        capacity = capacity_for(settings, clients)
        ledger = usage if isinstance(usage, CreateLedger) else None
        quota = quota_for(settings, ledger)
        return cls(settings, clients, limiter_for(settings), capacity, quota, usage)

    async def enter(self, visitor: Visitor, door: Door, need: Need = Need.CREATE) -> Pass:
        """Admit ``visitor`` by ``door`` for ``need``, in :data:`ORDER`, or raise the refusal
        (a :class:`~tryon_demo.hosting.limits.LimitExceededError`) before any work is done.

        Close the pass when done (``async with``): it gives back what it holds.
        """
        try:
            return await self._enter(visitor, door, need)
        except TryOnError as refusal:
            self.usage.refused(reason_of(refusal), code_of(refusal))
            raise

    async def _enter(self, visitor: Visitor, door: Door, need: Need) -> Pass:
        # 1. password: the AccessGuard, before any handler; the CLI is the local owner.
        # 2. rate: everyone's, a key of one's own too: it is still a visitor on this server.
        if not visitor.owner:
            if need is Need.CREATE:
                self.limiter.acquire(visitor.address)
            elif need is Need.BATCH:
                # Its creates count one by one later; the person picture it decodes now counts
                # as any picture decoded for the visitor does, refused or not.
                self.limiter.check(visitor.address)
                self.limiter.acquire_query(visitor.address, "limits.picture_rate")
            elif need is Need.PICTURES:
                self.limiter.acquire_query(visitor.address, "limits.picture_rate")
            else:
                self.limiter.acquire_query(visitor.address)
        # 3. quota: the owner's credits, whoever spends them (the CLI's owner has no share).
        reservation: Reservation | None = None
        pays = visitor.own_key is None
        if need is Need.CREATE and pays:
            reservation = self.quota.reserve(visitor.address, share=not visitor.owner)
        elif need is Need.BATCH and pays:
            self.quota.check(visitor.address)
        # 4. queue
        ticket: Ticket | None = None
        queued = need is Need.CREATE and visitor.own_key is None and not visitor.owner
        client: TryOnClient | None = None
        try:
            if queued and self.capacity.limited:
                await self._adopt_running()
                ticket = self.capacity.join(visitor.address)
            if need in (Need.CREATE, Need.LOOKUP):
                own = visitor.own_key
                client = self._clients.own(own) if own else self._clients.shared()
        except BaseException:  # refused by the queue, or no client: the reservation goes back
            if reservation is not None:
                reservation.release()
            if ticket is not None:
                ticket.close()
            raise
        return Pass(_ADMITTED, self, visitor, door, need, client, ticket, reservation)

    async def _adopt_running(self) -> None:
        """Once, before the first place in line: tasks already running at the API hold slots."""
        if self._adopted:
            return
        self._adopted = True
        try:
            tasks = await off_loop(partial(self._clients.shared().list, 1, 100))
        except TryOnError as exc:
            log.warning("could not list the tasks running at the API: %s", exc)
            return
        now_ms = time.time() * 1000
        for task in tasks:
            if not task.is_terminal:
                age = (now_ms - task.created_at) / 1000 if task.created_at else 0.0
                self.capacity.adopt(task.task_id, age)


def capacity_for(settings: Settings, clients: Clients) -> Capacity:
    """The account's concurrent-task limit (``TRYON_API_CONCURRENCY``) as one fair queue, with
    the bounds on waiting (``TRYON_QUEUE_*``); ``clients`` asks the API about unfollowed tasks."""
    return Capacity(
        settings.api_concurrency,
        still_running=clients.still_running,
        hold_limit=settings.wait_timeout,
        check_every=settings.poll_max_interval,
        busy_check_every=settings.poll_interval,
        typical=settings.simulator_task_seconds if settings.mode == "offline" else 25.0,
        per_address=settings.queue_per_address,
        most=settings.queue_max,
        max_wait=settings.queue_max_wait,
    )


class Pass:
    """What :meth:`Admission.enter` grants one request: the proof it passed, and the only way
    on to the visitor's pictures (:mod:`.prepare`) and to the API (:mod:`.create`)."""

    def __init__(
        self,
        admitted: object,
        admission: Admission,
        visitor: Visitor,
        door: Door,
        need: Need,
        client: TryOnClient | None,
        ticket: Ticket | None,
        reservation: Reservation | None = None,
    ) -> None:
        if admitted is not _ADMITTED:
            raise TypeError("a Pass is made by Admission.enter only")
        self.admission = admission
        self.visitor = visitor
        self.door = door
        self.need = need
        self._client = client
        #: The create's place in the capacity queue (``None``: it need not wait).
        self.ticket = ticket
        #: The create's place in the day's quota (``None``: it spends none of it).
        self.reservation = reservation
        #: A create is on its way: what the pass holds follows the API's answer, even if the
        #: caller has left (see :mod:`.create`).
        self.sending = False
        self._closed = False
        self._joined = time.monotonic()
        self._waited = False
        #: The model and the moment of the create the API accepted (for the usage record).
        self._created: tuple[str, float] | None = None
        self._told = False

    @property
    def capacity(self) -> Capacity:
        """The app's capacity queue."""
        return self.admission.capacity

    @property
    def client(self) -> TryOnClient:
        """The client this pass may use: the owner's, or the visitor's own key's."""
        if self._client is None or self._closed:
            raise PermissionError(f"a {self.need.value} pass sends nothing to the API")
        return self._client

    def check_pictures(self) -> None:
        """Raise unless this pass lets the visitor's pictures be decoded."""
        if self.need is Need.LOOKUP or self._closed:
            raise PermissionError(f"a {self.need.value} pass decodes no picture")

    def decoding(self) -> AbstractAsyncContextManager[None]:
        """Hold while decoding the visitor's pictures: one of the address's decode shares."""
        self.check_pictures()
        return self.admission.decodes.of(self.visitor.address)

    @property
    def waits(self) -> bool:
        """Whether this create must still wait for a slot."""
        return self.ticket is not None and not self.ticket.granted

    async def turn(self) -> AsyncIterator[Place]:
        """Wait for this create's turn in the capacity queue, yielding its place as it changes
        (and every tick, so a page can show time passing); at once when it need not wait.

        Raises :class:`CallerGoneError` once the caller hung up (it left the line), and the
        queue's :class:`~tryon_demo.hosting.capacity.QueueWaitError` after the longest wait."""
        if self.ticket is None:
            return
        gone = self.visitor.gone
        try:
            async for place in self.ticket.wait(tick=TICK):
                if gone is not None and await gone():
                    self.ticket.close()
                    raise CallerGoneError(msg("queue.caller_gone"))
                yield place
        except TryOnError as refusal:
            self.refused(refusal)
            raise
        if not self._waited:  # the first turn only (a 1303 sends a create back in line)
            self._waited = True
            if self.pays:
                self.admission.usage.waited(time.monotonic() - self._joined)

    @property
    def pays(self) -> bool:
        """Whether what this pass creates is paid from the owner's credits (not a visitor's
        own key's): only those creates, their ends and waits are the owner's usage."""
        return self.visitor.own_key is None

    def accepted(self, task: Task, model: str) -> None:
        """The API created ``task`` (of ``model``) with this pass: its slot belongs to the
        task now, and it counts against the day's quota."""
        if self.ticket is not None:
            self.ticket.created(task.task_id)
        if self.reservation is not None:
            self.reservation.commit()
        self._created = (model, time.monotonic())
        if self.pays:
            self.admission.usage.created(model)

    def refused(self, error: TryOnError) -> None:
        """The visitor was refused after admission (a picture, an API's answer to the create):
        told once, and only before anything was created. A lookup's answer (a task not found,
        the API unreachable) is no refusal of the visitor: the owner's view counts none."""
        if self.need is Need.LOOKUP:
            return
        if self._created is None and not self._told:
            self._told = True
            self.admission.usage.refused(reason_of(error), code_of(error))

    def ended(self, outcome: Outcome, error: TryOnError | None = None) -> None:
        """The task this pass created was followed to its end (``error``: what ended it, for
        an ``error`` outcome): told once, for a create on the owner's credits."""
        if self._created is not None and not self._told:
            self._told = True
            model, since = self._created
            if self.pays:
                seconds = time.monotonic() - since
                self.admission.usage.ended(model, outcome, seconds, code_of(error))

    def close(self) -> None:
        """Give back what the pass holds: a place in line or a slot that created nothing, a
        quota reservation that created nothing, and the visitor's own client. Idempotent; while
        a create is on its way it waits for the API's answer (see :mod:`.create`)."""
        if self._closed or self.sending:
            return
        self._closed = True
        if self.ticket is not None:
            self.ticket.close()
        if self.reservation is not None:
            self.reservation.release()
        if self._client is not None and self.visitor.own_key is not None:
            self._client.close()

    async def __aenter__(self) -> Pass:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if isinstance(error, TryOnError):
            self.refused(error)
        self.close()

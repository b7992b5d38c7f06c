"""The parts every flow of one app shares, built once from the settings.

Nothing here decides anything: the steps (admit, prepare, create, follow, fetch) and the flows
composed of them (:mod:`.run`, :mod:`.compare`, :mod:`.reattach`, :mod:`.batch`,
:mod:`.outfit`) take what they need from a :class:`Pipeline`. Its clients of the API are
reached only through :attr:`Pipeline.admission`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..hosting import callback_inbox
from ..hosting.callback_inbox import Inbox
from ..hosting.capacity import Capacity
from ..hosting.limits import SubmissionLimiter
from ..hosting.workfiles import WorkFolder
from ..pictures import limit_malloc_arenas
from ..settings import Settings
from .admit import Admission
from .callbacks import Callbacks
from .clients import Clients
from .fetch import Results
from .follow import Follower
from .owners import Owners
from .schedule import PollSchedule
from .usage import NO_USAGE, Usage


@dataclass
class Pipeline:
    """One app's shared parts; one per app, shared by every visitor."""

    settings: Settings
    files: WorkFolder
    admission: Admission
    owners: Owners
    callbacks: Callbacks
    results: Results
    follower: Follower

    @classmethod
    def build(
        cls,
        settings: Settings,
        workdir: Path,
        *,
        clock: Callable[[], float] = time.time,
        inbox: Inbox | None = None,
        served_url: Callable[[], str | None] | None = None,
        usage: Usage = NO_USAGE,
        schedule: PollSchedule | None = None,
    ) -> Pipeline:
        """The parts for ``settings``, work files in ``workdir``. ``inbox`` is where the API's
        callbacks arrive (the callback route's); ``served_url`` the app's own loopback URL
        once it is served (offline, the simulator calls back there). ``usage`` is told of
        every create, end, refusal and wait (:mod:`.usage`); ``schedule`` says when a task is
        asked about (:mod:`.schedule`; by default polls timed to the task, as the settings say)."""
        limit_malloc_arenas()  # before the HTTP pool's threads each get an arena of their own
        inbox = inbox if inbox is not None else callback_inbox.shared()
        clients = Clients(settings)
        owners = Owners(settings)
        callbacks = Callbacks(settings, inbox, served_url)
        admission = Admission.build(settings, clients, usage=usage)
        files = WorkFolder(workdir, settings.work_ttl, clock)
        results = Results(settings, files, clients.hosts)
        follower = Follower(settings, admission.capacity, inbox, results, schedule)
        return cls(settings, files, admission, owners, callbacks, results, follower)

    @property
    def inbox(self) -> Inbox:
        """Where the API's callbacks for this app's runs arrive."""
        return self.callbacks.inbox

    @property
    def capacity(self) -> Capacity:
        """The account's concurrent-task limit: one fair queue (``TRYON_API_CONCURRENCY``)."""
        return self.admission.capacity

    @property
    def limiter(self) -> SubmissionLimiter:
        """The submission and lookup rates."""
        return self.admission.limiter

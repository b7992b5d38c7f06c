"""The app's clients of the API: the owner's (one, shared by every visitor) and a visitor's own.

With no key the app talks to the built-in simulator, or to a simulator on loopback named by
``KLING_API_BASE``.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..api.auth import BearerAuth
from ..api.client import TryOnClient
from ..errors import ConfigurationError, TaskNotFoundError
from ..hosting.netpolicy import is_loopback_host
from ..settings import Settings
from ..text.messages import msg, text
from .pools import off_loop

if TYPE_CHECKING:  # imported where it is started: FastAPI takes half a second to import
    from ..simulator import SimulatorServer

#: The bearer token the app presents to its own simulator; not a secret, never a real key.
OFFLINE_TOKEN = "offline-demo"

_simulator_lock = threading.Lock()
#: The process's offline simulators, one for each task length asked for (an app has one; a
#: process serving apps of different settings, such as a test run, gets what each asked for).
_simulators: dict[float, SimulatorServer] = {}


def shared_simulator(settings: Settings) -> SimulatorServer:
    """The process's offline simulator for ``settings``, started on first use on a free
    loopback port."""
    from ..simulator import SimulatorConfig, SimulatorServer

    seconds = settings.simulator_task_seconds
    with _simulator_lock:
        if seconds not in _simulators:
            config = SimulatorConfig(task_seconds=seconds)
            _simulators[seconds] = SimulatorServer(config).start()
        return _simulators[seconds]


def uses_built_in_simulator(settings: Settings) -> bool:
    """Whether requests go to the simulator this process starts itself (no key, and no
    ``KLING_API_BASE`` naming another one)."""
    return settings.mode == "offline" and (settings.force_offline or not settings.api_base)


def check_api_settings(settings: Settings) -> None:
    """Refuse, with what to set, a ``KLING_API_BASE`` that is not a local simulator while no
    key is set: the app and the command line stop at once rather than run offline unasked."""
    if settings.mode == "offline" and not uses_built_in_simulator(settings):
        base = (settings.api_base or "").rstrip("/")
        if not is_loopback_host(urlsplit(base).hostname or ""):
            raise ConfigurationError(msg("settings.base_without_key", base=base))


def api_base(settings: Settings) -> str:
    """Where this app's API is: the configured base, or offline the simulator on loopback.

    ``KLING_API_BASE`` without a key is never ignored: a loopback address is taken to be a
    simulator started with ``python -m tryon_demo simulate`` and used; any other address needs
    a key, and :class:`ConfigurationError` says what to set. Offline the answer is always a
    loopback address: nothing leaves this machine.
    """
    check_api_settings(settings)
    if settings.mode == "offline" and not uses_built_in_simulator(settings):
        return (settings.api_base or "").rstrip("/")
    if settings.mode == "offline":
        return shared_simulator(settings).gateway_base
    base_url = settings.base_url
    assert base_url is not None  # online there is always one
    return base_url


def make_client(settings: Settings) -> TryOnClient:
    """A client of the configured API, or of the simulator when offline (see :func:`api_base`)."""
    if settings.mode == "offline":
        auth = BearerAuth(OFFLINE_TOKEN)
        return TryOnClient.from_settings(settings, base_url=api_base(settings), auth=auth)
    return TryOnClient.from_settings(settings)


class Clients:
    """The owner's client, made on first use and kept; a visitor's own key gets a client of its
    own for one request, closed by whoever asked for it, so the key is neither kept nor ever
    used for anyone else."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._shared: TryOnClient | None = None

    def shared(self) -> TryOnClient:
        """The owner's client (or the shared simulator's)."""
        if self._shared is None:
            self._shared = make_client(self.settings)
        return self._shared

    def own(self, key: str) -> TryOnClient:
        """A new client for a visitor's own ``key``, of this app's API only (offline, of the
        simulator on loopback): the key goes nowhere else. The caller closes it."""
        settings = self.settings.with_api_key(key)
        return TryOnClient.from_settings(
            settings, base_url=api_base(self.settings), auth=BearerAuth(key), own_key=True
        )

    def hosts(self) -> tuple[str, ...]:
        """Hosts results may come from whatever their address: this app's API (offline, the
        simulator on loopback)."""
        try:
            return (api_base(self.settings),)
        except ConfigurationError:
            return ()

    async def still_running(self, task_id: str) -> bool:
        """Whether ``task_id`` is still running at the API (the capacity queue asks)."""
        try:
            task = await off_loop(partial(self.shared().get, task_id))
        except TaskNotFoundError:
            return False
        return not task.is_terminal


def mode_label(settings: Settings, lang: str = "en") -> str:
    """Where requests go, in the words of the page's banner (in ``lang``)."""
    if settings.mode == "offline":
        return text("ui.banner_offline", lang)
    return f"{text('ui.banner_online', lang)} {settings.base_host}"


def mode_banner(settings: Settings, lang: str = "en") -> str:
    """One line saying where requests go, for the command line."""
    label = mode_label(settings, lang)
    if settings.mode != "offline":
        return label
    if settings.api_base and not settings.force_offline:
        return text("cli.offline_banner_base", lang, label=label, base=settings.api_base)
    return text("cli.offline_banner", lang, label=label)

"""The plain functions the UI, the CLI and the tests share: prepare a submission, show what is
sent without megabytes of base64, and connect to the real API or the offline simulator.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..api.auth import BearerAuth
from ..api.client import TryOnClient
from ..errors import ConfigurationError, InputError
from ..hosting.netpolicy import is_loopback_host
from ..pictures import ImageLimits, ImageSource, PreparedImage, prepare_image
from ..settings import DEFAULT_MODEL, Settings
from ..text.messages import msg, text

if TYPE_CHECKING:  # imported where it is started: FastAPI takes half a second to import
    from ..simulator import SimulatorServer

#: The bearer token the app presents to its own simulator; not a secret, never a real key.
OFFLINE_TOKEN = "offline-demo"


@dataclass(frozen=True)
class Submission:
    """A create request ready to send, and how its two images were prepared."""

    body: dict[str, str]
    human: PreparedImage
    cloth: PreparedImage

    def preview(self) -> dict[str, Any]:
        """The body as it will be sent, each base64 image shortened to its start and size."""
        return request_preview(self.body)


def shorten_payload(value: str) -> str:
    """``"/9j/4AAQSk... (183 KB)"`` for base64; a URL is shown whole."""
    if value.lower().startswith(("http://", "https://")):
        return value
    size_kb = len(value) * 3 / 4 / 1024
    return f"{value[:12]}... ({size_kb:,.0f} KB)"


def request_preview(body: dict[str, str]) -> dict[str, Any]:
    """A copy of a create body safe and short enough to display."""
    return {
        key: shorten_payload(value) if key in ("human_image", "cloth_image") else value
        for key, value in body.items()
    }


def prepare_submission(
    human: ImageSource | None,
    cloth: ImageSource | None,
    model_name: str = DEFAULT_MODEL,
    callback_url: str | None = None,
    *,
    limits: ImageLimits | None = None,
) -> Submission:
    """Prepare both images and build the create body; raises :class:`InputError` on bad input."""
    human_image = prepare_image(human, field=msg("field.person"), limits=limits)
    cloth_image = prepare_image(cloth, field=msg("field.garment"), limits=limits)
    return submission_of(human_image, cloth_image, model_name, callback_url)


def submission_of(
    human_image: PreparedImage,
    cloth_image: PreparedImage,
    model_name: str = DEFAULT_MODEL,
    callback_url: str | None = None,
) -> Submission:
    """The create body for two prepared images; refuses the person photo as the garment."""
    if human_image.payload == cloth_image.payload:
        raise InputError(msg("image.same_as_person", field=msg("field.garment")))
    body = TryOnClient.create_body(
        human_image.payload,
        cloth_image.payload,
        model_name=model_name or DEFAULT_MODEL,
        callback_url=(callback_url or "").strip() or None,
    )
    return Submission(body=body, human=human_image, cloth=cloth_image)


_simulator_lock = threading.Lock()
_simulator: SimulatorServer | None = None


def shared_simulator(settings: Settings) -> SimulatorServer:
    """The process's offline simulator, started on first use on a free loopback port."""
    from ..simulator import SimulatorConfig, SimulatorServer

    global _simulator
    with _simulator_lock:
        if _simulator is None:
            config = SimulatorConfig(task_seconds=settings.simulator_task_seconds)
            _simulator = SimulatorServer(config).start()
        return _simulator


def make_client(settings: Settings) -> TryOnClient:
    """A client of the configured API, or of the built-in simulator when offline.

    ``KLING_API_BASE`` without a key is never ignored: a loopback address is taken to be a
    simulator started with ``python -m tryon_demo simulate`` and used; any other address needs
    a key, and :class:`ConfigurationError` says what to set.
    """
    if settings.mode == "offline" and settings.api_base and not settings.force_offline:
        base = settings.api_base.rstrip("/")
        if not is_loopback_host(urlsplit(base).hostname or ""):
            raise ConfigurationError(msg("settings.base_without_key", base=base))
        return TryOnClient.from_settings(settings, base_url=base, auth=BearerAuth(OFFLINE_TOKEN))
    if settings.mode == "offline":
        server = shared_simulator(settings)
        return TryOnClient.from_settings(
            settings, base_url=server.gateway_base, auth=BearerAuth(OFFLINE_TOKEN)
        )
    return TryOnClient.from_settings(settings)


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

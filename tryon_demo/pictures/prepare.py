"""Preparing a picture for the try-on API: the one entry point, :func:`prepare_image`.

Phone photos break the API's rules in many small ways (EXIF rotation, HEIC, CMYK,
transparency, 24 MP); everything fixable is fixed and everything else is refused with a message
that names the image and the rule. A JPEG or PNG that already meets the rules is sent byte for
byte. Nothing here knows about Gradio.
"""

from __future__ import annotations

import base64
import time
from dataclasses import asdict, dataclass, field

from PIL import Image

from ..text.messages import Msg, msg
from .decoding import decode_as_planned, load_pixels, open_header, prove_whole, read_header
from .memory import TRIM_AFTER_BYTES, decoding, return_memory
from .normalise import normalise
from .plan import Plan, plan_picture
from .rules import IMAGE_FIELD, ImageLimits
from .sources import Encoded, ImageSource, Link, SourceKind, read_source


@dataclass(frozen=True)
class PreparationReport:
    """What preparation found and did, for the UI and the ``prepare`` command."""

    source: SourceKind
    original_format: str | None = None
    original_size: tuple[int, int] | None = None
    original_bytes: int | None = None
    final_format: str | None = None
    final_size: tuple[int, int] | None = None
    final_bytes: int | None = None
    #: What preparation did, as messages (rendered in the reader's language where shown).
    actions: tuple[Msg, ...] = ()
    passthrough: bool = False
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready copy, the actions in English."""
        data = asdict(self)
        data["actions"] = [str(action) for action in self.actions]
        return data


@dataclass(frozen=True)
class PreparedImage:
    """An image ready for the API: ``payload`` is an http(s) URL or raw base64 (no ``data:``)."""

    payload: str
    report: PreparationReport
    #: The bytes behind the base64 payload; ``None`` for URLs.
    data: bytes | None = field(default=None, repr=False)

    @property
    def is_url(self) -> bool:
        """Whether the API will fetch the image itself."""
        return self.data is None


def prepare_image(
    source: ImageSource | None,
    *,
    field: str | Msg = IMAGE_FIELD,
    limits: ImageLimits | None = None,
) -> PreparedImage:
    """Turn a path, bytes, PIL image, ``data:`` URL or http(s) URL into an API payload.

    ``field`` names the image in messages ("Person image"). Raises :class:`ImageError` with a
    message that names the image and the broken rule when it cannot be made acceptable.
    """
    limits = limits or ImageLimits()
    started = time.perf_counter()
    read = read_source(source, field, limits)
    if isinstance(read, Link):
        report = PreparationReport(
            source="url",
            actions=(msg("prep.link"),),
            passthrough=True,
            elapsed_ms=_ms_since(started),
        )
        return PreparedImage(payload=read.url, report=report)
    if isinstance(read, Encoded):
        return _prepare_bytes(read, field, limits, started)
    return _prepare_pil(read, field, limits, started)


def _prepare_bytes(
    read: Encoded, field: str | Msg, limits: ImageLimits, started: float
) -> PreparedImage:
    image = open_header(read.data, field, limits)
    try:
        plan = plan_picture(read_header(image, len(read.data), field), limits, field)
        if plan.passthrough:
            prove_whole(image, read.data, field, limits)
            return PreparedImage(
                payload=_b64(read.data),
                report=_report(plan, read.kind, read.data, (), started, plan.final_size),
                data=read.data,
            )
        decode_as_planned(image, plan, field, limits)
        with decoding(image.width * image.height, field):
            try:
                load_pixels(image, field, limits)
                done = normalise(image, plan, limits, owned=True)
            finally:
                image.close()  # before the gate hands the freed memory back
    finally:
        image.close()  # frees the decoded pixels now, not whenever the collector runs
        if len(read.data) > TRIM_AFTER_BYTES:
            return_memory()  # a few MB a picture, many pictures: what was freed goes back
    return PreparedImage(
        payload=_b64(done.data),
        report=_report(plan, read.kind, done.data, done.shrunk, started, done.size),
        data=done.data,
    )


def _prepare_pil(
    image: Image.Image, field: str | Msg, limits: ImageLimits, started: float
) -> PreparedImage:
    plan = plan_picture(read_header(image, None, field), limits, field)
    with decoding(image.width * image.height, field):
        # The caller's picture is theirs: converted copies are closed, the original is not.
        done = normalise(image, plan, limits, owned=False)
    return PreparedImage(
        payload=_b64(done.data),
        report=_report(plan, "pil", done.data, done.shrunk, started, done.size),
        data=done.data,
    )


def _report(
    plan: Plan,
    kind: SourceKind,
    sent: bytes,
    shrunk: tuple[Msg, ...],
    started: float,
    final_size: tuple[int, int],
) -> PreparationReport:
    """The plan as carried out: its steps, and any shrink the byte limit still took."""
    return PreparationReport(
        source=kind,
        original_format=plan.header.format,
        original_size=plan.upright,
        original_bytes=plan.header.file_bytes,
        final_format=plan.final_format,
        final_size=final_size,
        final_bytes=len(sent),
        actions=plan.actions + shrunk,
        passthrough=plan.passthrough,
        elapsed_ms=_ms_since(started),
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)

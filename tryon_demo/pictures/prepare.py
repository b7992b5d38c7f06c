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
from .decoding import check_budget, jpeg_scale, load_pixels, open_header, orientation, verify_png
from .geometry import check_min_side, stored_size, target_size, upright_size
from .memory import TRIM_AFTER_BYTES, decoding, return_memory
from .normalise import Normalised, normalise
from .rules import API_FORMATS, IMAGE_FIELD, ImageLimits
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
        return _prepare_opened(image, read.data, read.kind, field, limits, started)
    finally:
        image.close()  # frees the decoded pixels now, not whenever the collector runs
        if len(read.data) > TRIM_AFTER_BYTES:
            return_memory()  # a few MB a picture, many pictures: what was freed goes back


def _prepare_opened(
    image: Image.Image,
    data: bytes,
    kind: SourceKind,
    field: str | Msg,
    limits: ImageLimits,
    started: float,
) -> PreparedImage:
    fmt = image.format or "unknown"
    claimed = image.size
    turned = orientation(image)
    upright = upright_size(image.size, turned)
    check_min_side(upright, field, limits)
    target = target_size(upright, limits)
    if (
        fmt in API_FORMATS
        and image.mode == "RGB"
        and turned == 1
        and target == upright
        and len(data) <= limits.max_output_bytes
    ):
        # A truncated or corrupted file must not pass as-is, but proving it whole needs no
        # full decode, which would be thrown away.
        if fmt == "PNG":
            check_budget(image, claimed, field, limits)
            verify_png(data, field)  # every chunk's CRC, up to IEND, without inflating pixels
        else:
            # Reading every entropy-coded block proves a JPEG whole; scaling the decode to 1/8
            # skips most of the pixel work.
            image.draft(None, (max(1, upright[0] // 8), max(1, upright[1] // 8)))
            check_budget(image, claimed, field, limits)
            with decoding(image.width * image.height, field):
                load_pixels(image, field, limits)
                image.close()
        report = PreparationReport(
            source=kind,
            original_format=fmt,
            original_size=upright,
            original_bytes=len(data),
            final_format=fmt,
            final_size=upright,
            final_bytes=len(data),
            actions=(msg("prep.as_is"),),
            passthrough=True,
            elapsed_ms=_ms_since(started),
        )
        return PreparedImage(payload=_b64(data), report=report, data=data)

    actions: list[Msg] = []
    if fmt not in API_FORMATS:
        actions.append(msg("prep.converted_format", format=fmt))
    if getattr(image, "n_frames", 1) > 1:
        actions.append(msg("prep.first_frame"))
    if fmt == "JPEG":
        # Decoding at 1/2, 1/4 or 1/8 scale is several times faster and lighter than a full
        # decode that would be thrown away by the resize below, and lets a JPEG too large to
        # decode whole still fit the memory budget.
        jpeg_scale(image, stored_size(target, turned), limits)
        decoded = upright_size(image.size, turned)
        if decoded[0] < target[0] or decoded[1] < target[1]:
            target = decoded  # never scale back up what the budget made the decoder shrink
    check_budget(image, claimed, field, limits)
    with decoding(image.width * image.height, field):
        try:
            load_pixels(image, field, limits)
            done = normalise(image, upright, turned, target, actions, limits, owned=True)
        finally:
            image.close()  # before the gate hands the freed memory back
    return _report(done, kind, fmt, upright, len(data), actions, started)


def _prepare_pil(
    image: Image.Image, field: str | Msg, limits: ImageLimits, started: float
) -> PreparedImage:
    check_budget(image, image.size, field, limits)
    turned = orientation(image)
    upright = upright_size(image.size, turned)
    check_min_side(upright, field, limits)
    target = target_size(upright, limits)
    fmt = image.format or "in-memory"
    actions: list[Msg] = []
    with decoding(image.width * image.height, field):
        # The caller's picture is theirs: converted copies are closed, the original is not.
        done = normalise(image, upright, turned, target, actions, limits, owned=False)
    return _report(done, "pil", fmt, upright, None, actions, started)


def _report(
    done: Normalised,
    kind: SourceKind,
    fmt: str,
    upright: tuple[int, int],
    original_bytes: int | None,
    actions: list[Msg],
    started: float,
) -> PreparedImage:
    if not actions:
        actions.append(msg("prep.reencoded"))
    report = PreparationReport(
        source=kind,
        original_format=fmt,
        original_size=upright,
        original_bytes=original_bytes,
        final_format="JPEG",
        final_size=done.size,
        final_bytes=len(done.data),
        actions=tuple(actions),
        passthrough=False,
        elapsed_ms=_ms_since(started),
    )
    return PreparedImage(payload=_b64(done.data), report=report, data=done.data)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)

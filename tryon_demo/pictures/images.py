"""Validate and normalise images so the try-on API accepts them.

The API takes an http(s) URL or raw base64 of a JPEG or PNG of at most 10 MB and at least
300 x 300 pixels. Phone photos break those rules in many small ways (EXIF rotation, HEIC, CMYK,
transparency, 24 MP); everything fixable is fixed here and everything else is refused with a
message that names the image and the rule. Nothing in this module knows about Gradio.

Memory is bounded before any pixel is decoded: a PNG of a few hundred kilobytes can claim
11000 x 10850 pixels and decode to half a gigabyte, so the size and colour mode in the header
are held to a pixel and a decoded-bytes budget first (JPEGs are decoded at a reduced scale when
that makes them fit), at most two large pictures are decoded at once in the process, and the
memory is handed back to the system afterwards.
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import io
import os
import re
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from PIL import Image, ImageChops, UnidentifiedImageError

from ..errors import ImageError
from ..settings import Settings
from ..text.messages import Msg, msg

try:  # HEIC/HEIF phone photos, only where the optional decoder is installed.
    from pillow_heif import register_heif_opener  # type: ignore[import-not-found, unused-ignore]

    register_heif_opener()
except ImportError:  # pragma: no cover - depends on the machine
    pass

API_MAX_BYTES = 10 * 1024 * 1024
API_MIN_SIDE = 300
API_FORMATS = frozenset({"JPEG", "PNG"})
MAX_URL_LENGTH = 2048
#: The name an image goes by in messages when the caller gives none.
IMAGE_FIELD = Msg("field.image")

_ORIENTATION_TAG = 0x0112
_SWAPS_SIDES = frozenset({5, 6, 7, 8})
#: What ``ImageOps.exif_transpose`` does per orientation; applied by hand so the picture can be
#: shrunk first (a resized copy no longer carries the EXIF block the orientation came from).
_UPRIGHT: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
#: Bytes Pillow keeps per pixel once decoded; every other mode (RGB, RGBA, CMYK, LA, I, F,
#: 16-bit colour, which Pillow reduces to 8-bit RGB) takes four.
_DECODED_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
#: Modes whose pixels can be averaged as they are, so a large picture is shrunk before any
#: conversion copies it (Pillow premultiplies alpha itself for LA and RGBA). Palette images and
#: colour-keyed transparency must be converted first.
_SHRINK_FIRST = frozenset(
    {"L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV", "I", "F"}
    | {"I;16", "I;16B", "I;16L", "I;16N"}
)
#: Pictures that decode to more pixels than this take one of the process's decode slots.
LARGE_DECODE_PIXELS = 4_000_000
DECODE_SLOTS = 2
#: Files larger than this hand the memory their preparation freed back to the system.
TRIM_AFTER_BYTES = 2 * 2**20
#: How long a large picture waits for a slot before it is refused as "busy".
DECODE_WAIT_SECONDS = 60.0
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")

SourceKind = Literal["url", "file", "bytes", "pil"]
ImageSource = str | bytes | os.PathLike[str] | Image.Image


@dataclass(frozen=True)
class ImageLimits:
    """The rules preparation enforces; defaults follow the API and :class:`Settings`."""

    #: Longest side sent to the API; 0 sends originals untouched when the API accepts them.
    max_long_side: int = 1500
    max_input_bytes: int = 40 * 1024 * 1024
    #: Pixels this app decodes at most (``TRYON_MAX_PIXELS``); JPEGs count at their reduced
    #: decoding scale. The API needs about 1500 px, so 40 MP is plenty.
    max_input_pixels: int = 40_000_000
    #: Memory one decoded picture may take: pixels times Pillow's bytes per pixel for its mode
    #: (4 for RGB, RGBA and CMYK, 2 for 16-bit grey, 1 for grey and palettes).
    max_decoded_bytes: int = 160_000_000
    max_output_bytes: int = API_MAX_BYTES
    min_side: int = API_MIN_SIDE
    jpeg_quality: int = 90

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageLimits:
        """Limits configured by ``TRYON_MAX_LONG_SIDE``, ``TRYON_MAX_UPLOAD_MB`` and
        ``TRYON_MAX_PIXELS``."""
        return cls(
            max_long_side=settings.max_long_side,
            max_input_bytes=settings.max_input_bytes,
            max_input_pixels=settings.max_input_pixels,
        )


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
    if source is None:
        raise ImageError(msg("image.nothing", field=field), field=field)
    if isinstance(source, Image.Image):
        return _prepare_pil(source, field, limits, started)
    if isinstance(source, bytes | bytearray | memoryview):
        return _prepare_bytes(bytes(source), "bytes", field, limits, started)
    if isinstance(source, str):
        text = source.strip()
        if not text:
            raise ImageError(msg("image.nothing", field=field), field=field)
        match = _SCHEME.match(text)
        # A one-letter "scheme" is a Windows drive (C:\...), not a URL.
        if match and len(match.group(1)) > 1:
            scheme = match.group(1).lower()
            if scheme in {"http", "https"}:
                return _prepare_url(text, field, started)
            if scheme == "data":
                return _prepare_bytes(
                    _decode_data_url(text, field), "bytes", field, limits, started
                )
            raise ImageError(msg("image.scheme", field=field, scheme=scheme), field=field)
    return _prepare_bytes(_read_file(Path(source), field, limits), "file", field, limits, started)


def _prepare_url(url: str, field: str | Msg, started: float) -> PreparedImage:
    parts = urlsplit(url)
    if not parts.hostname or any(ch.isspace() for ch in url):
        raise ImageError(msg("image.bad_url", field=field, url=repr(url[:80])), field=field)
    if len(url) > MAX_URL_LENGTH:
        raise ImageError(msg("image.url_too_long", field=field, most=MAX_URL_LENGTH), field=field)
    report = PreparationReport(
        source="url",
        actions=(msg("prep.link"),),
        passthrough=True,
        elapsed_ms=_ms_since(started),
    )
    return PreparedImage(payload=url, report=report)


def _decode_data_url(text: str, field: str | Msg) -> bytes:
    header, _, body = text.partition(",")
    if ";base64" not in header.lower():
        raise ImageError(msg("image.data_not_base64", field=field), field=field)
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ImageError(msg("image.data_bad_base64", field=field), field=field) from None


def _read_file(path: Path, field: str | Msg, limits: ImageLimits) -> bytes:
    try:
        size = path.stat().st_size
    except (OSError, ValueError):
        raise ImageError(
            msg("image.not_found", field=field, name=repr(path.name)), field=field
        ) from None
    if path.is_dir():
        raise ImageError(msg("image.is_folder", field=field, name=repr(path.name)), field=field)
    _check_input_size(size, field, limits)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImageError(
            msg("image.unreadable", field=field, name=repr(path.name), reason=exc.strerror),
            field=field,
        ) from None


def _check_input_size(size: int, field: str | Msg, limits: ImageLimits) -> None:
    if size == 0:
        raise ImageError(msg("image.empty", field=field), field=field)
    if size > limits.max_input_bytes:
        raise ImageError(
            msg(
                "image.too_large",
                field=field,
                size_mb=_mb(size),
                most_mb=_mb(limits.max_input_bytes),
            ),
            field=field,
        )


def _open(data: bytes, field: str | Msg, limits: ImageLimits) -> Image.Image:
    """Read the header only: no pixel is decoded until :func:`_load`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError(msg("image.not_image", field=field), field=field) from None
    except Image.DecompressionBombError:
        raise _bomb(field, None, limits) from None
    except (OSError, SyntaxError, ValueError):
        raise _damaged(field) from None
    return image


class DecodeGate:
    """At most ``slots`` large pictures decoded at once in this process; the rest wait.

    A 40 MP picture still takes a few hundred megabytes while it is decoded and converted, and
    every visitor's preparation runs on its own thread, so without a gate ten visitors at once
    would hold ten of them. ``active`` and ``waiting`` count the decodes under way and those
    waiting for a slot.
    """

    def __init__(self, slots: int = DECODE_SLOTS, timeout: float = DECODE_WAIT_SECONDS) -> None:
        self.timeout = timeout
        self._slots = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self.active = 0
        self.waiting = 0

    @contextmanager
    def slot(self, field: str | Msg) -> Iterator[None]:
        """Hold a slot for the block; raise :class:`ImageError` after ``timeout`` seconds."""
        with self._lock:
            self.waiting += 1
        try:
            acquired = self._slots.acquire(timeout=self.timeout)
        finally:
            with self._lock:
                self.waiting -= 1
        if not acquired:
            raise ImageError(msg("image.busy", field=field), field=field)
        try:
            with self._lock:
                self.active += 1
            yield
        finally:
            with self._lock:
                self.active -= 1
            self._slots.release()
            _return_memory()


#: The one gate of this process: every preparation, from every visitor, goes through it.
DECODE_GATE = DecodeGate()


def _load_malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim  # glibc only; musl (Alpine) has none
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_MALLOC_TRIM = _load_malloc_trim()
#: glibc's ``mallopt`` parameter for the most malloc arenas (``M_ARENA_MAX``).
_M_ARENA_MAX = -8


def limit_malloc_arenas(count: int = 2) -> None:
    """Let glibc keep at most ``count`` malloc arenas in this process (a no-op elsewhere).

    By default glibc gives threads up to eight arenas per core, each holding on to what it
    once served; the app's HTTP pool has 32 threads, so forty offline try-ons left about
    550 MB held, against about 345 MB with two arenas (BENCHMARKS.md). Arenas made before the
    call keep existing, so it is called when the app is set up, before its threads start.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    mallopt(_M_ARENA_MAX, count)


def _return_memory() -> None:
    """Give the memory a large decode freed back to the system.

    Pillow allocates a large picture in 16 MB blocks, below glibc's mmap threshold once it has
    grown, so the blocks come from malloc's arenas; glibc keeps freed arena memory for reuse and
    the process stays at its peak for good (three 119 MP PNGs left 4.4 GB held a minute later).
    ``malloc_trim(0)`` releases the free pages of every arena. Elsewhere it is a no-op.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


@contextmanager
def _decoding(pixels: int, field: str | Msg) -> Iterator[None]:
    """A decode slot for large pictures; small ones neither wait nor trim."""
    if pixels <= LARGE_DECODE_PIXELS:
        yield
        return
    with DECODE_GATE.slot(field):
        yield


def _check_budget(
    image: Image.Image, claimed: tuple[int, int], field: str | Msg, limits: ImageLimits
) -> None:
    """Refuse, from the header alone, a picture whose decoding would take too much memory.

    ``image.size`` is the size it will be decoded at (a JPEG's reduced scale), ``claimed`` the
    size its file states, which the message quotes.
    """
    width, height = image.size
    if width * height > limits.max_input_pixels:
        raise _bomb(field, claimed, limits)
    needed = width * height * _DECODED_BYTES.get(image.mode, 4)
    if needed > limits.max_decoded_bytes:
        raise ImageError(
            msg(
                "image.memory_budget",
                field=field,
                width=claimed[0],
                height=claimed[1],
                mode=image.mode,
                needed_mb=needed / 1e6,
                most_mb=limits.max_decoded_bytes / 1e6,
            ),
            field=field,
        )


def _fits(size: tuple[int, int], mode: str, limits: ImageLimits) -> bool:
    pixels = size[0] * size[1]
    return (
        pixels <= limits.max_input_pixels
        and pixels * _DECODED_BYTES.get(mode, 4) <= limits.max_decoded_bytes
    )


def _jpeg_scale(image: Image.Image, wanted: tuple[int, int], limits: ImageLimits) -> None:
    """Have the JPEG decoder work at the smallest of 1/1, 1/2, 1/4 and 1/8 scale that still
    covers ``wanted``, or smaller when that would not fit the memory budget. Header only."""
    width, height = image.size
    factor = 1
    for candidate in (2, 4, 8):
        covers = width >= candidate * wanted[0] and height >= candidate * wanted[1]
        current = (-(-width // factor), -(-height // factor))  # libjpeg rounds sides up
        if not covers and _fits(current, image.mode, limits):
            break
        factor = candidate
    if factor > 1:
        # Pillow picks the largest scale whose result still covers the size asked for.
        image.draft(None, (max(1, width // factor), max(1, height // factor)))


def _prepare_bytes(
    data: bytes, kind: SourceKind, field: str | Msg, limits: ImageLimits, started: float
) -> PreparedImage:
    _check_input_size(len(data), field, limits)
    image = _open(data, field, limits)
    try:
        return _prepare_opened(image, data, kind, field, limits, started)
    finally:
        image.close()  # frees the decoded pixels now, not whenever the collector runs
        if len(data) > TRIM_AFTER_BYTES:
            _return_memory()  # a few MB a picture, many pictures: what was freed goes back


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
    orientation = _orientation(image)
    upright = _upright_size(image.size, orientation)
    _check_min_side(upright, field, limits)
    target = _target_size(upright, limits)
    if (
        fmt in API_FORMATS
        and image.mode == "RGB"
        and orientation == 1
        and target == upright
        and len(data) <= limits.max_output_bytes
    ):
        # A truncated or corrupted file must not pass as-is, but proving it whole needs no
        # full decode, which would be thrown away.
        if fmt == "PNG":
            _check_budget(image, claimed, field, limits)
            _verify_png(data, field)  # every chunk's CRC, up to IEND, without inflating pixels
        else:
            # Reading every entropy-coded block proves a JPEG whole; scaling the decode to 1/8
            # skips most of the pixel work.
            image.draft(None, (max(1, upright[0] // 8), max(1, upright[1] // 8)))
            _check_budget(image, claimed, field, limits)
            with _decoding(image.width * image.height, field):
                _load(image, field, limits)
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
        stored_target = _stored_size(target, orientation)
        _jpeg_scale(image, stored_target, limits)
        decoded = _upright_size(image.size, orientation)
        if decoded[0] < target[0] or decoded[1] < target[1]:
            target = decoded  # never scale back up what the budget made the decoder shrink
    _check_budget(image, claimed, field, limits)
    with _decoding(image.width * image.height, field):
        try:
            _load(image, field, limits)
            return _finish(
                image,
                kind,
                fmt,
                upright,
                len(data),
                orientation,
                target,
                actions,
                limits,
                started,
                owned=True,
            )
        finally:
            image.close()  # before the gate hands the freed memory back


def _prepare_pil(
    image: Image.Image, field: str | Msg, limits: ImageLimits, started: float
) -> PreparedImage:
    _check_budget(image, image.size, field, limits)
    orientation = _orientation(image)
    upright = _upright_size(image.size, orientation)
    _check_min_side(upright, field, limits)
    target = _target_size(upright, limits)
    fmt = image.format or "in-memory"
    with _decoding(image.width * image.height, field):
        # The caller's picture is theirs: converted copies are closed, the original is not.
        return _finish(
            image, "pil", fmt, upright, None, orientation, target, [], limits, started, owned=False
        )


def _finish(
    image: Image.Image,
    kind: SourceKind,
    fmt: str,
    upright: tuple[int, int],
    original_bytes: int | None,
    orientation: int,
    target: tuple[int, int],
    actions: list[Msg],
    limits: ImageLimits,
    started: float,
    *,
    owned: bool,
) -> PreparedImage:
    decoded_reduced = _upright_size(image.size, orientation) != upright
    work = image

    def step(new: Image.Image) -> None:
        # Each step's input is closed as soon as its output exists, so a large picture is never
        # held twice for longer than one step.
        nonlocal work
        if new is not work and (work is not image or owned):
            work.close()
        work = new

    try:
        transparent = None
        stored_target = _stored_size(target, orientation)
        if (
            work.size != stored_target
            and work.mode in _SHRINK_FIRST
            and "transparency" not in work.info
        ):
            # Shrink first: every conversion below then copies a 1500 px picture, not the
            # original (a 119 MP RGBA PNG took 1.6 GB the other way round).
            ratio = min(work.width / stored_target[0], work.height / stored_target[1])
            # Box-average to at least twice the target (a clean Lanczos step after it), or by
            # 2 for a picture less than four times too large.
            factor = int(ratio / 2) if ratio >= 4 else int(ratio)
            if work.mode == "RGBA" and factor >= 2:
                flat, transparent = _flatten_reduced(work, factor)
                step(flat)
                actions.append(
                    msg("prep.flattened")
                    if transparent
                    else msg("prep.converted_mode", mode="RGBA")
                )
            elif work.mode in {"LA", "RGBA"}:
                alpha = work.getchannel("A")
                transparent = _has_transparency(alpha)  # judged on every pixel, not the shrunk
                alpha.close()
            step(work.resize(stored_target, Image.Resampling.LANCZOS, reducing_gap=3.0))
        if orientation != 1:
            step(work.transpose(_UPRIGHT[orientation]))
            actions.append(msg("prep.upright", orientation=orientation))
        step(_to_rgb(work, actions, transparent))
        if work.size != target:
            step(work.resize(target, Image.Resampling.LANCZOS))
        if target != upright:  # reduced-size decoding may already have landed on the target
            actions.append(
                msg(
                    "prep.downscaled_reduced" if decoded_reduced else "prep.downscaled",
                    width=upright[0],
                    height=upright[1],
                    new_width=target[0],
                    new_height=target[1],
                )
            )
        data = _encode_jpeg(work, limits.jpeg_quality)
        while len(data) > limits.max_output_bytes:
            # Only reachable with the long-side limit switched off: shrink until the API takes it.
            scale = (limits.max_output_bytes / len(data)) ** 0.5 * 0.95
            size = (max(1, round(work.width * scale)), max(1, round(work.height * scale)))
            step(work.resize(size, Image.Resampling.LANCZOS))
            data = _encode_jpeg(work, limits.jpeg_quality)
            actions.append(msg("prep.shrunk", width=size[0], height=size[1]))
        final_size = work.size
    finally:
        if work is not image:
            work.close()
    if not actions:
        actions.append(msg("prep.reencoded"))
    report = PreparationReport(
        source=kind,
        original_format=fmt,
        original_size=upright,
        original_bytes=original_bytes,
        final_format="JPEG",
        final_size=final_size,
        final_bytes=len(data),
        actions=tuple(actions),
        passthrough=False,
        elapsed_ms=_ms_since(started),
    )
    return PreparedImage(payload=_b64(data), report=report, data=data)


def _to_rgb(image: Image.Image, actions: list[Msg], transparent: bool | None = None) -> Image.Image:
    """An RGB copy (or ``image`` itself when already RGB); ``transparent`` is what the alpha
    channel said before a shrink, when the caller already knows."""
    mode = image.mode
    if mode == "RGB" and "transparency" not in image.info:
        return image
    if mode == "La":  # premultiplied: Pillow converts it only to LA
        image = image.convert("LA")
    if mode in {"I;16", "I;16B", "I;16L", "I;16N", "I", "F"}:
        if mode == "I;16N":  # Pillow converts native-order pixels as if 8-bit: all black
            image = Image.frombytes("I;16", image.size, image.tobytes(), "raw", "I;16N")
        # Plain convert() clips 16-bit values at 255 and turns the photo white; scale instead.
        scale = 1 / 256 if mode.startswith("I;16") or mode == "I" else 255.0
        image = image.convert("F").point(lambda v: v * scale).convert("L")
        actions.append(msg("prep.high_bit_depth", mode=mode))
        return image.convert("RGB")
    has_alpha = (
        mode in {"RGBA", "LA", "PA", "RGBa", "La"}
        or (mode == "P" and "transparency" in image.info)
        or (mode in {"1", "L", "RGB"} and "transparency" in image.info)
    )
    if has_alpha:
        rgba = image if mode == "RGBA" else image.convert("RGBA")
        alpha = rgba.getchannel("A")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=alpha)
        if transparent if transparent is not None else _has_transparency(alpha):
            actions.append(msg("prep.flattened"))
        else:
            actions.append(msg("prep.converted_mode", mode=mode))
        if rgba is not image:
            rgba.close()
        alpha.close()
        return flat
    actions.append(msg("prep.converted_mode", mode=mode))
    return image.convert("RGB")


def _flatten_reduced(image: Image.Image, factor: int) -> tuple[Image.Image, bool]:
    """An RGBA picture flattened onto white and box-averaged ``factor`` times smaller, a strip
    of rows at a time, and whether any pixel was transparent.

    Pillow shrinks RGBA through a premultiplied copy of the whole picture, doubling the memory a
    large one takes; strips keep the extra to a few megabytes. Flattening onto white is linear in
    the premultiplied pixels, so flattening then averaging equals averaging then flattening.
    """
    width, height = image.size
    out = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    rows = factor * max(1, 64 // factor)  # a whole number of blocks, so strips join seamlessly
    transparent = False
    for top in range(0, height, rows):
        strip = image.crop((0, top, width, min(height, top + rows)))
        alpha = strip.getchannel("A")
        transparent = transparent or _has_transparency(alpha)
        flat = Image.new("RGB", strip.size, (255, 255, 255))
        flat.paste(strip, mask=alpha)
        reduced = flat.reduce(factor)
        out.paste(reduced, (0, top // factor))
        for part in (strip, alpha, flat, reduced):
            part.close()
    return out, transparent


def _has_transparency(alpha: Image.Image) -> bool:
    """Whether any pixel of an alpha channel is less than fully opaque."""
    return ImageChops.invert(alpha).getbbox() is not None


def _encode_jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def _load(image: Image.Image, field: str | Msg, limits: ImageLimits) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.load()
    except Image.DecompressionBombError:
        raise _bomb(field, image.size, limits) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise _damaged(field) from None


def _verify_png(data: bytes, field: str | Msg) -> None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (OSError, SyntaxError, ValueError, EOFError):
        raise _damaged(field) from None


def _orientation(image: Image.Image) -> int:
    if image.format == "PNG" and "exif" not in image.info:
        # Opening a PNG reads the chunks before its pixels, where an eXIf chunk belongs; Pillow
        # would otherwise decode every pixel to look for one after them.
        return 1
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not stop an otherwise fine photo
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation in _SWAPS_SIDES else size


def _stored_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """An upright ``size`` as the file stores it: the same swap, which undoes itself."""
    return _upright_size(size, orientation)


def _target_size(size: tuple[int, int], limits: ImageLimits) -> tuple[int, int]:
    width, height = size
    if not limits.max_long_side or max(width, height) <= limits.max_long_side:
        return size
    scale = limits.max_long_side / max(width, height)
    # Never shrink the short side below the API's minimum, even for a long panorama.
    scale = max(scale, limits.min_side / min(width, height))
    if scale >= 1:
        return size
    return (max(1, round(width * scale)), max(1, round(height * scale)))


def _check_min_side(size: tuple[int, int], field: str | Msg, limits: ImageLimits) -> None:
    if min(size) < limits.min_side:
        raise ImageError(
            msg(
                "image.too_small",
                field=field,
                width=size[0],
                height=size[1],
                least=limits.min_side,
            ),
            field=field,
        )


def _bomb(field: str | Msg, size: tuple[int, int] | None, limits: ImageLimits) -> ImageError:
    most_mp = limits.max_input_pixels / 1e6
    if size is None:
        return ImageError(msg("image.bomb", field=field, most_mp=most_mp), field=field)
    return ImageError(
        msg(
            "image.bomb_claimed",
            field=field,
            width=size[0],
            height=size[1],
            mp=size[0] * size[1] / 1e6,
            most_mp=most_mp,
        ),
        field=field,
    )


def _damaged(field: str | Msg) -> ImageError:
    return ImageError(msg("image.damaged", field=field), field=field)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _mb(size: int) -> float:
    return size / 2**20


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def quick_check(
    path: str | os.PathLike[str], field: str | Msg, limits: ImageLimits | None = None
) -> Msg | None:
    """What Run will make of the picture at ``path``, judged from its header alone (no pixel
    is decoded, no limit is consumed): a refusal (not an image, too small, more pixels or
    memory than ``limits`` allow), what preparation will change (format, size), or ``None``
    when there is nothing worth saying.

    For a note under the picture as soon as it is chosen; Run still prepares it in full.
    """
    limits = limits or ImageLimits()
    source = Path(path)
    try:
        size_bytes = source.stat().st_size
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(source)  # reads the header only
    except Image.DecompressionBombError:
        return msg("check.refused", reason=_bomb(field, None, limits).msg)
    except (OSError, ValueError, SyntaxError):  # Pillow's ways of saying "not a picture I read"
        return msg("check.refused", reason=msg("image.not_image", field=field))
    with image:
        fmt, (width, height) = image.format or "?", image.size
        try:
            _check_header(image, field, limits)
        except ImageError as refused:
            return msg("check.refused", reason=refused.msg)
    if fmt not in API_FORMATS:
        return msg("check.will_convert", format=fmt, width=width, height=height)
    if size_bytes > API_MAX_BYTES:
        return msg("check.will_shrink", format=fmt, size_mb=size_bytes / 1024 / 1024)
    return msg("check.fine", format=fmt, width=width, height=height)


def _check_header(image: Image.Image, field: str | Msg, limits: ImageLimits) -> None:
    """The refusals preparation makes before decoding (too small, more pixels or memory than
    allowed), with a JPEG counted at the reduced scale its decoder would use. Header only."""
    claimed = image.size
    orientation = _orientation(image)
    upright = _upright_size(image.size, orientation)
    _check_min_side(upright, field, limits)
    if image.format == "JPEG":
        target = _target_size(upright, limits)
        _jpeg_scale(image, _stored_size(target, orientation), limits)
    _check_budget(image, claimed, field, limits)

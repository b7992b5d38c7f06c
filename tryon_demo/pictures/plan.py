"""The plan for one picture: what preparation will do to it, decided from its header and the
app's limits before any pixel is decoded.

Run carries the plan out (:mod:`.prepare`, :mod:`.normalise`) and the note shown as soon as a
picture is chosen reports it (:mod:`.check`), so the two cannot disagree. The plan is a pure
function of a :class:`Header` and :class:`ImageLimits`: no Pillow, no file, no clock.

A picture is sent as it is when it is already a JPEG or PNG in 8-bit RGB, upright, within the
long side and under the API's byte limit; otherwise it is re-encoded as a JPEG after these
steps, in this order: the first frame of an animation, turned upright by its EXIF orientation,
flattened onto white (any alpha channel or transparent colour) or converted to 8-bit RGB, and
shrunk to :func:`~.geometry.target_size`. The plan also fixes the size the pixels are decoded
at (a JPEG at 1/2, 1/4 or 1/8 scale when that still covers the target, or when the memory
budget needs it) and refuses what cannot be prepared: too small, or over the pixel or memory
budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import ImageError
from ..text.messages import Msg, msg
from .geometry import check_min_side, stored_size, target_size, upright_size
from .rules import API_FORMATS, IMAGE_FIELD, ImageLimits

#: The format a picture in memory goes by when it did not come from a file.
IN_MEMORY = "in-memory"
#: Bytes Pillow keeps per pixel once decoded; every other mode (RGB, RGBA, CMYK, LA, I, F,
#: 16-bit colour, which Pillow reduces to 8-bit RGB) takes four.
_DECODED_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
HIGH_BIT_DEPTH = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
#: Modes whose only transparency can be a colour marked transparent (a PNG's tRNS, a GIF's).
_KEYED_MODES = frozenset({"P", "1", "L", "RGB"})
#: A generous estimate of the most bytes a pixel takes in this app's JPEGs (noise at quality 90
#: takes 0.83): a final size under ``max_output_bytes`` divided by it always fits.
JPEG_BYTES_PER_PIXEL = 2.0

ColourStep = Literal["none", "flatten", "high_bit_depth", "convert"]


@dataclass(frozen=True)
class Header:
    """What a picture's header says, read without decoding a pixel."""

    #: Pillow's name for the format ("JPEG", "PNG", "WEBP", ...); ``IN_MEMORY`` for a picture
    #: handed over in memory without one.
    format: str
    #: Pillow's colour mode ("RGB", "RGBA", "CMYK", "P", "I;16", ...).
    mode: str
    #: Width and height as stored, before the EXIF orientation turns it.
    size: tuple[int, int]
    #: EXIF orientation, 1 (as stored) to 8.
    orientation: int = 1
    #: A colour or palette entry is marked transparent (a PNG's tRNS chunk, a GIF's).
    colour_key: bool = False
    frames: int = 1
    #: The file's size; ``None`` for a picture in memory, which is always re-encoded.
    file_bytes: int | None = None
    #: The decoder can decode it at 1/2, 1/4 or 1/8 scale (a baseline or progressive JPEG).
    scalable: bool = False


@dataclass(frozen=True)
class Plan:
    """What preparation will do to one picture, and what it will send."""

    header: Header
    #: The picture's size as shown, once turned upright.
    upright: tuple[int, int]
    #: Sent byte for byte, or re-encoded as a JPEG.
    passthrough: bool
    #: How its colours become 8-bit RGB: as they are, onto white, from high bit depth, or by
    #: a plain conversion (CMYK, palette, grey).
    colour: ColourStep
    #: The size a JPEG decoder is asked to cover (Pillow's ``draft``), or ``None`` for a whole
    #: decode.
    draft: tuple[int, int] | None
    #: The size the pixels are decoded at, as stored.
    decoded: tuple[int, int]
    #: The size sent, upright.
    final_size: tuple[int, int]
    final_format: str
    #: The steps, as messages read in the note and in Run's report alike.
    actions: tuple[Msg, ...]
    #: The JPEG might come out over the API's byte limit (only with the long side unlimited);
    #: Run then shrinks it until it fits and reports that on top of ``actions``.
    may_shrink: bool = False


def plan_picture(header: Header, limits: ImageLimits, field: str | Msg = IMAGE_FIELD) -> Plan:
    """The plan for a picture with ``header`` under ``limits``.

    Raises :class:`ImageError` naming ``field`` when the picture is too small, or when decoding
    it would take more pixels or memory than ``limits`` allow.
    """
    upright = upright_size(header.size, header.orientation)
    check_min_side(upright, field, limits)
    target = target_size(upright, limits)
    if _sendable(header, upright, target, limits):
        draft = proof_draft(header.size) if header.scalable else None
        decoded = drafted_size(header.size, draft)
        check_budget(decoded, header.mode, header.size, field, limits)
        return Plan(
            header=header,
            upright=upright,
            passthrough=True,
            colour="none",
            draft=draft,
            decoded=decoded,
            final_size=upright,
            final_format=header.format,
            actions=(msg("prep.as_is"),),
        )
    draft = None
    if header.scalable:
        draft = _reduced_draft(header, stored_size(target, header.orientation), limits)
    decoded = drafted_size(header.size, draft)
    decoded_upright = upright_size(decoded, header.orientation)
    if decoded_upright[0] < target[0] or decoded_upright[1] < target[1]:
        target = decoded_upright  # never scale back up what the budget made the decoder shrink
    check_budget(decoded, header.mode, header.size, field, limits)
    colour = colour_step(header.mode, header.colour_key)
    return Plan(
        header=header,
        upright=upright,
        passthrough=False,
        colour=colour,
        draft=draft,
        decoded=decoded,
        final_size=target,
        final_format="JPEG",
        actions=_actions(header, upright, decoded_upright, target, colour, limits),
        may_shrink=target[0] * target[1] * JPEG_BYTES_PER_PIXEL > limits.max_output_bytes,
    )


def _sendable(
    header: Header, upright: tuple[int, int], target: tuple[int, int], limits: ImageLimits
) -> bool:
    """Whether the file already meets every rule, so it is sent byte for byte."""
    return (
        header.file_bytes is not None
        and header.format in API_FORMATS
        and header.mode == "RGB"
        and header.orientation == 1
        and target == upright
        and header.file_bytes <= limits.max_output_bytes
    )


def colour_step(mode: str, colour_key: bool) -> ColourStep:
    """How pixels of ``mode`` become 8-bit RGB (``colour_key``: a colour marked transparent)."""
    if mode == "RGB" and not colour_key:
        return "none"
    if mode in HIGH_BIT_DEPTH:
        return "high_bit_depth"
    if mode in _ALPHA_MODES or (mode in _KEYED_MODES and colour_key):
        return "flatten"
    return "convert"


def _actions(
    header: Header,
    upright: tuple[int, int],
    decoded_upright: tuple[int, int],
    target: tuple[int, int],
    colour: ColourStep,
    limits: ImageLimits,
) -> tuple[Msg, ...]:
    actions: list[Msg] = []
    from_file = header.file_bytes is not None
    if from_file and header.format not in API_FORMATS:
        actions.append(msg("prep.converted_format", format=header.format))
    if from_file and header.frames > 1:
        actions.append(msg("prep.first_frame"))
    if header.orientation != 1:
        actions.append(msg("prep.upright", orientation=header.orientation))
    if colour == "flatten":
        actions.append(msg("prep.flattened"))
    elif colour == "high_bit_depth":
        actions.append(msg("prep.high_bit_depth", mode=header.mode))
    elif colour == "convert":
        actions.append(msg("prep.converted_mode", mode=header.mode))
    if target != upright:
        actions.append(
            msg(
                "prep.downscaled_reduced" if decoded_upright != upright else "prep.downscaled",
                width=upright[0],
                height=upright[1],
                new_width=target[0],
                new_height=target[1],
            )
        )
    if not actions:
        if header.file_bytes is not None and header.file_bytes > limits.max_output_bytes:
            # Rounded up, so a file just over the limit never reads as exactly the limit.
            over_mb = -(-header.file_bytes * 10 // 2**20) / 10
            actions.append(msg("prep.over_bytes", size_mb=over_mb))
        else:
            actions.append(msg("prep.reencoded"))
    return tuple(actions)


# --- decoding scale and budget ------------------------------------------------------------------


def proof_draft(size: tuple[int, int]) -> tuple[int, int]:
    """What a JPEG's decoder is asked to cover to prove the file whole: 1/8 of it. Reading
    every entropy-coded block is the proof; the scale skips most of the pixel work."""
    return (max(1, size[0] // 8), max(1, size[1] // 8))


def drafted_size(size: tuple[int, int], draft: tuple[int, int] | None) -> tuple[int, int]:
    """The size Pillow's JPEG decoder decodes ``size`` at when asked to cover ``draft``: the
    largest of 1/8, 1/4, 1/2 and 1/1 scale that covers it, each side rounded up as libjpeg
    does (``JpegImageFile.draft``)."""
    if draft is None:
        return size
    most = min(size[0] // draft[0], size[1] // draft[1])
    scale = next(s for s in (8, 4, 2, 1) if most >= s)
    return (-(-size[0] // scale), -(-size[1] // scale))


def _reduced_draft(
    header: Header, wanted: tuple[int, int], limits: ImageLimits
) -> tuple[int, int] | None:
    """The draft for the smallest of 1/1, 1/2, 1/4 and 1/8 scale that still covers ``wanted``,
    or smaller when that would not fit the memory budget; ``None`` for a whole decode.

    Decoding at a reduced scale is several times faster and lighter than a whole decode that
    the resize would throw away, and lets a JPEG too large to decode whole still fit.
    """
    width, height = header.size
    factor = 1
    for candidate in (2, 4, 8):
        covers = width >= candidate * wanted[0] and height >= candidate * wanted[1]
        current = (-(-width // factor), -(-height // factor))  # libjpeg rounds sides up
        if not covers and fits(current, header.mode, limits):
            break
        factor = candidate
    if factor == 1:
        return None
    return (max(1, width // factor), max(1, height // factor))


def fits(size: tuple[int, int], mode: str, limits: ImageLimits) -> bool:
    """Whether decoding ``size`` pixels of ``mode`` stays within both budgets."""
    pixels = size[0] * size[1]
    return (
        pixels <= limits.max_input_pixels
        and pixels * _DECODED_BYTES.get(mode, 4) <= limits.max_decoded_bytes
    )


def check_budget(
    decoded: tuple[int, int],
    mode: str,
    claimed: tuple[int, int],
    field: str | Msg,
    limits: ImageLimits,
) -> None:
    """Refuse a picture whose decoding at ``decoded`` size would take too many pixels or too
    much memory; ``claimed`` is the size its file states, which the message quotes."""
    width, height = decoded
    if width * height > limits.max_input_pixels:
        raise bomb(field, claimed, limits)
    needed = width * height * _DECODED_BYTES.get(mode, 4)
    if needed > limits.max_decoded_bytes:
        raise ImageError(
            msg(
                "image.memory_budget",
                field=field,
                width=claimed[0],
                height=claimed[1],
                mode=mode,
                needed_mb=needed / 1e6,
                most_mb=limits.max_decoded_bytes / 1e6,
            ),
            field=field,
        )


def bomb(field: str | Msg, size: tuple[int, int] | None, limits: ImageLimits) -> ImageError:
    """The refusal of a picture over the pixel budget, quoting the size it claims if known."""
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

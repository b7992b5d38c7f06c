"""Carrying out a plan on decoded pixels: shrunk, turned upright, flattened onto white or
converted to 8-bit RGB, encoded as JPEG, and made smaller until it fits the byte limit.

Large pictures are shrunk before any conversion copies them (transparent ones a strip at a
time), and each step's input is closed as soon as its output exists, so a large picture is
never held twice for longer than one step.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from ..text.messages import Msg, msg
from .geometry import stored_size
from .plan import HIGH_BIT_DEPTH, ColourStep, Plan
from .rules import ImageLimits

#: Modes whose pixels can be averaged as they are, so a large picture is shrunk before any
#: conversion copies it (Pillow premultiplies alpha itself for LA and RGBA). Palette images and
#: colour-keyed transparency must be converted first.
_SHRINK_FIRST = frozenset(
    {"L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV", "I", "F"}
    | {"I;16", "I;16B", "I;16L", "I;16N"}
)
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


@dataclass(frozen=True)
class Normalised:
    """The JPEG to send, its size, and the shrinks it took beyond the plan to fit the byte
    limit (only ever with the long side unlimited)."""

    data: bytes
    size: tuple[int, int]
    shrunk: tuple[Msg, ...] = ()


def normalise(image: Image.Image, plan: Plan, limits: ImageLimits, *, owned: bool) -> Normalised:
    """Carry out ``plan`` on the decoded ``image``: a JPEG of ``plan.final_size``.

    With ``owned`` the caller's ``image`` is closed along the way; otherwise only the copies are.
    """
    orientation = plan.header.orientation
    work = image

    def step(new: Image.Image) -> None:
        # Each step's input is closed as soon as its output exists, so a large picture is never
        # held twice for longer than one step.
        nonlocal work
        if new is not work and (work is not image or owned):
            work.close()
        work = new

    try:
        stored_target = stored_size(plan.final_size, orientation)
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
                step(_flatten_reduced(work, factor))
            step(work.resize(stored_target, Image.Resampling.LANCZOS, reducing_gap=3.0))
        if orientation != 1:
            step(work.transpose(_UPRIGHT[orientation]))
        step(_to_rgb(work, plan.colour))
        if work.size != plan.final_size:
            step(work.resize(plan.final_size, Image.Resampling.LANCZOS))
        data = _encode_jpeg(work, limits.jpeg_quality)
        shrunk: list[Msg] = []
        while len(data) > limits.max_output_bytes:
            # Only reachable with the long-side limit switched off: shrink until the API takes it.
            scale = (limits.max_output_bytes / len(data)) ** 0.5 * 0.95
            size = (max(1, round(work.width * scale)), max(1, round(work.height * scale)))
            step(work.resize(size, Image.Resampling.LANCZOS))
            data = _encode_jpeg(work, limits.jpeg_quality)
            shrunk.append(msg("prep.shrunk", width=size[0], height=size[1]))
        final_size = work.size
    finally:
        if work is not image:
            work.close()
    return Normalised(data, final_size, tuple(shrunk))


def _to_rgb(image: Image.Image, colour: ColourStep) -> Image.Image:
    """An 8-bit RGB copy made as ``colour`` says (or ``image`` itself when already RGB: a
    transparent picture shrunk a strip at a time was flattened on the way)."""
    mode = image.mode
    if mode == "RGB" and "transparency" not in image.info:
        return image
    if colour == "high_bit_depth" and mode in HIGH_BIT_DEPTH:
        if mode == "I;16N":  # Pillow converts native-order pixels as if 8-bit: all black
            image = Image.frombytes("I;16", image.size, image.tobytes(), "raw", "I;16N")
        # Plain convert() clips 16-bit values at 255 and turns the photo white; scale instead.
        scale = 1 / 256 if mode.startswith("I;16") or mode == "I" else 255.0
        return image.convert("F").point(lambda v: v * scale).convert("L").convert("RGB")
    if colour == "flatten":
        if mode == "La":  # premultiplied: Pillow converts it only to LA
            image = image.convert("LA")
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        alpha = rgba.getchannel("A")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=alpha)
        if rgba is not image:
            rgba.close()
        alpha.close()
        return flat
    return image.convert("RGB")


def _flatten_reduced(image: Image.Image, factor: int) -> Image.Image:
    """An RGBA picture flattened onto white and box-averaged ``factor`` times smaller, a strip
    of rows at a time.

    Pillow shrinks RGBA through a premultiplied copy of the whole picture, doubling the memory a
    large one takes; strips keep the extra to a few megabytes. Flattening onto white is linear in
    the premultiplied pixels, so flattening then averaging equals averaging then flattening.
    """
    width, height = image.size
    out = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    rows = factor * max(1, 64 // factor)  # a whole number of blocks, so strips join seamlessly
    for top in range(0, height, rows):
        strip = image.crop((0, top, width, min(height, top + rows)))
        alpha = strip.getchannel("A")
        flat = Image.new("RGB", strip.size, (255, 255, 255))
        flat.paste(strip, mask=alpha)
        reduced = flat.reduce(factor)
        out.paste(reduced, (0, top // factor))
        for part in (strip, alpha, flat, reduced):
            part.close()
    return out


def _encode_jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()

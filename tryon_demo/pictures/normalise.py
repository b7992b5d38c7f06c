"""Normalising decoded pixels into the JPEG the API takes: turned upright, shrunk, flattened
onto white or converted to 8-bit RGB, encoded, and made smaller until it fits the byte limit.

Large pictures are shrunk before any conversion copies them (transparent ones a strip at a
time), and each step's input is closed as soon as its output exists, so a large picture is
never held twice for longer than one step.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageChops

from ..text.messages import Msg, msg
from .geometry import UPRIGHT, stored_size, upright_size
from .rules import ImageLimits

#: Modes whose pixels can be averaged as they are, so a large picture is shrunk before any
#: conversion copies it (Pillow premultiplies alpha itself for LA and RGBA). Palette images and
#: colour-keyed transparency must be converted first.
_SHRINK_FIRST = frozenset(
    {"L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV", "I", "F"}
    | {"I;16", "I;16B", "I;16L", "I;16N"}
)


@dataclass(frozen=True)
class Normalised:
    """The JPEG to send and its size."""

    data: bytes
    size: tuple[int, int]


def normalise(
    image: Image.Image,
    upright: tuple[int, int],
    orientation: int,
    target: tuple[int, int],
    actions: list[Msg],
    limits: ImageLimits,
    *,
    owned: bool,
) -> Normalised:
    """Turn the decoded ``image`` (stored as ``orientation`` says, ``upright`` when shown) into
    a JPEG of ``target`` size, appending what was done to ``actions``.

    With ``owned`` the caller's ``image`` is closed along the way; otherwise only the copies are.
    """
    decoded_reduced = upright_size(image.size, orientation) != upright
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
        stored_target = stored_size(target, orientation)
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
            step(work.transpose(UPRIGHT[orientation]))
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
    return Normalised(data, final_size)


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

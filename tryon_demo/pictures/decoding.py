"""Opening a picture and decoding it within budget.

Memory is bounded before any pixel is decoded: a PNG of a few hundred kilobytes can claim
11000 x 10850 pixels and decode to half a gigabyte, so the size and colour mode in the header
are held to a pixel and a decoded-bytes budget first (JPEGs are decoded at a reduced scale when
that makes them fit). Every failure is an :class:`ImageError` that names the picture.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from ..errors import ImageError
from ..text.messages import Msg, msg
from .rules import ImageLimits

try:  # HEIC/HEIF phone photos, only where the optional decoder is installed.
    from pillow_heif import register_heif_opener  # type: ignore[import-not-found, unused-ignore]

    register_heif_opener()
except ImportError:  # pragma: no cover - depends on the machine
    pass

_ORIENTATION_TAG = 0x0112
#: Bytes Pillow keeps per pixel once decoded; every other mode (RGB, RGBA, CMYK, LA, I, F,
#: 16-bit colour, which Pillow reduces to 8-bit RGB) takes four.
_DECODED_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}


def open_header(data: bytes, field: str | Msg, limits: ImageLimits) -> Image.Image:
    """Read the header only: no pixel is decoded until :func:`load_pixels`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError(msg("image.not_image", field=field), field=field) from None
    except Image.DecompressionBombError:
        raise bomb(field, None, limits) from None
    except (OSError, SyntaxError, ValueError):
        raise damaged(field) from None
    return image


def check_budget(
    image: Image.Image, claimed: tuple[int, int], field: str | Msg, limits: ImageLimits
) -> None:
    """Refuse, from the header alone, a picture whose decoding would take too much memory.

    ``image.size`` is the size it will be decoded at (a JPEG's reduced scale), ``claimed`` the
    size its file states, which the message quotes.
    """
    width, height = image.size
    if width * height > limits.max_input_pixels:
        raise bomb(field, claimed, limits)
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


def jpeg_scale(image: Image.Image, wanted: tuple[int, int], limits: ImageLimits) -> None:
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


def load_pixels(image: Image.Image, field: str | Msg, limits: ImageLimits) -> None:
    """Decode the pixels; a damaged or cut-off file is refused as such."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.load()
    except Image.DecompressionBombError:
        raise bomb(field, image.size, limits) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise damaged(field) from None


def verify_png(data: bytes, field: str | Msg) -> None:
    """Check every chunk's CRC, up to IEND, without inflating a pixel."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (OSError, SyntaxError, ValueError, EOFError):
        raise damaged(field) from None


def orientation(image: Image.Image) -> int:
    """The EXIF orientation (1 to 8) in the header; 1 when there is none or it is invalid."""
    if image.format == "PNG" and "exif" not in image.info:
        # Opening a PNG reads the chunks before its pixels, where an eXIf chunk belongs; Pillow
        # would otherwise decode every pixel to look for one after them.
        return 1
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not stop an otherwise fine photo
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


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


def damaged(field: str | Msg) -> ImageError:
    """The refusal of a file that is damaged or cut off."""
    return ImageError(msg("image.damaged", field=field), field=field)

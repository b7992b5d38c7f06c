"""The quick check: what Run will make of a picture, said as soon as it is chosen, from its
header alone."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from PIL import Image

from ..errors import ImageError
from ..text.messages import Msg, msg
from .decoding import bomb, check_budget, jpeg_scale, orientation
from .geometry import check_min_side, stored_size, target_size, upright_size
from .rules import API_FORMATS, API_MAX_BYTES, ImageLimits


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
        return msg("check.refused", reason=bomb(field, None, limits).msg)
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
    turned = orientation(image)
    upright = upright_size(image.size, turned)
    check_min_side(upright, field, limits)
    if image.format == "JPEG":
        target = target_size(upright, limits)
        jpeg_scale(image, stored_size(target, turned), limits)
    check_budget(image, claimed, field, limits)

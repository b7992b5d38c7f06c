"""Sizes: a picture turned upright by its EXIF orientation, the size it is sent at (the long
side within ``TRYON_MAX_LONG_SIDE``, the short side never under the API's minimum), and the
refusal of one that is too small."""

from __future__ import annotations

from ..errors import ImageError
from ..text.messages import Msg, msg
from .rules import ImageLimits

_SWAPS_SIDES = frozenset({5, 6, 7, 8})


def upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """A stored ``size`` as shown once turned upright."""
    return (size[1], size[0]) if orientation in _SWAPS_SIDES else size


def stored_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """An upright ``size`` as the file stores it: the same swap, which undoes itself."""
    return upright_size(size, orientation)


def target_size(size: tuple[int, int], limits: ImageLimits) -> tuple[int, int]:
    """The size an upright picture of ``size`` is sent at."""
    width, height = size
    if not limits.max_long_side or max(width, height) <= limits.max_long_side:
        return size
    scale = limits.max_long_side / max(width, height)
    # Never shrink the short side below the API's minimum, even for a long panorama.
    scale = max(scale, limits.min_side / min(width, height))
    if scale >= 1:
        return size
    return (max(1, round(width * scale)), max(1, round(height * scale)))


def check_min_side(size: tuple[int, int], field: str | Msg, limits: ImageLimits) -> None:
    """Refuse a picture whose shorter side is under the API's minimum."""
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

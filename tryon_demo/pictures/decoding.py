"""Opening a picture: its header read into a :class:`~.plan.Header` without decoding a pixel,
the file proven whole, and its pixels decoded at the size the plan chose.

Memory is bounded before any pixel is decoded: a PNG of a few hundred kilobytes can claim
11000 x 10850 pixels and decode to half a gigabyte, so the plan holds the size and colour mode
in the header to a pixel and a decoded-bytes budget first. Every failure is an
:class:`ImageError` that names the picture.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageFile, UnidentifiedImageError

from ..errors import ImageError
from ..text.messages import Msg, msg
from .memory import decoding
from .plan import IN_MEMORY, Header, Plan, bomb, check_budget, proof_draft
from .rules import ImageLimits

try:  # HEIC/HEIF phone photos, only where the optional decoder is installed.
    from pillow_heif import register_heif_opener  # type: ignore[import-not-found, unused-ignore]

    register_heif_opener()
except ImportError:  # pragma: no cover - depends on the machine
    pass

_ORIENTATION_TAG = 0x0112


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


def read_header(image: Image.Image, file_bytes: int | None, field: str | Msg) -> Header:
    """What ``image``'s header says; ``file_bytes`` is ``None`` for a picture in memory."""
    in_memory = file_bytes is None
    return Header(
        format=image.format or IN_MEMORY,
        mode=image.mode,
        size=image.size,
        orientation=orientation(image),
        colour_key="transparency" in image.info,
        frames=1 if in_memory else _frames(image, field),
        file_bytes=file_bytes,
        # Pillow's draft is a no-op on a JPEG of several tiles (or one drafted already).
        scalable=(
            not in_memory
            and image.format == "JPEG"
            and isinstance(image, ImageFile.ImageFile)
            and len(image.tile) == 1
        ),
    )


def _frames(image: Image.Image, field: str | Msg) -> int:
    try:
        frames = getattr(image, "n_frames", 1)
    except (OSError, EOFError, SyntaxError, ValueError, IndexError):
        # Counting walks every frame's header; a GIF cut off inside one fails with IndexError.
        raise damaged(field) from None
    return frames if isinstance(frames, int) else 1


def decode_as_planned(
    image: Image.Image, plan: Plan, field: str | Msg, limits: ImageLimits
) -> None:
    """Have the decoder work at the plan's scale; the budget is checked again on the size the
    decoder will really produce, in case it differs from the plan's."""
    if plan.draft is not None:
        image.draft(None, plan.draft)
    if image.size != plan.decoded:
        check_budget(image.size, image.mode, plan.header.size, field, limits)


def prove_whole(image: Image.Image, data: bytes, field: str | Msg, limits: ImageLimits) -> None:
    """Refuse a truncated or corrupted JPEG or PNG without a full decode, which would be thrown
    away: a PNG's every chunk CRC up to IEND, a JPEG's every entropy-coded block read at 1/8
    scale. Other formats are proven only by decoding them. Closes a JPEG's ``image``."""
    if image.format == "PNG":
        verify_png(data, field)
    elif image.format == "JPEG":
        claimed = image.size
        image.draft(None, proof_draft(claimed))
        check_budget(image.size, image.mode, claimed, field, limits)
        with decoding(image.width * image.height, field):
            load_pixels(image, field, limits)
            image.close()


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


def damaged(field: str | Msg) -> ImageError:
    """The refusal of a file that is damaged or cut off."""
    return ImageError(msg("image.damaged", field=field), field=field)

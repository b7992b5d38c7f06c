"""The outfit composer: a top and a bottom photographed apart, combined into the one garment
picture that ``kolors-virtual-try-on-v1-5`` expects (both pieces on one white background).

Pure functions, no Gradio. The result is a PNG that declares its pieces in a ``kolors-garments``
text chunk; the simulator reads it, the real API ignores it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageChops, PngImagePlugin

from ..errors import ImageError, InputError
from ..text.messages import Msg, msg
from .prepare import prepare_image
from .sources import ImageSource

GarmentKind = Literal["top", "bottom", "one-piece"]
GARMENTS_KEY = "kolors-garments"
#: The API's own rule (contract): which two pieces v1-5 can wear together.
ALLOWED_PAIRS: frozenset[tuple[str, str]] = frozenset({("bottom", "top")})
CANVAS_WIDTH = 768
MAX_HEIGHT = 1500  # stays within the default long-side limit, so the PNG is sent as it is
MARGIN = 48
GAP = 40
_WHITE_LEVEL = 236
_LANCZOS = Image.Resampling.LANCZOS


@dataclass(frozen=True)
class ComposedOutfit:
    """The combined garment picture, ready to send as the cloth image."""

    png: bytes
    size: tuple[int, int]
    pieces: tuple[str, ...]


def check_combination(kinds: Sequence[GarmentKind]) -> None:
    """Refuse the combinations the model rejects (top+top, one-piece with anything, ...)."""
    if len(kinds) < 2:
        return
    if len(kinds) > 2:
        raise InputError(msg("outfit.too_many"))
    pair = tuple(sorted(kinds))
    if pair not in ALLOWED_PAIRS:
        if "one-piece" in kinds:
            reason = msg("outfit.one_piece_alone")
        else:
            reason = msg("outfit.two_tops" if kinds[0] == "top" else "outfit.two_bottoms")
        pieces = Msg.join([piece_name(kind) for kind in kinds], sep="plus")
        raise InputError(msg("outfit.bad_pair", pair=pieces, reason=reason))


def piece_name(kind: str) -> Msg | str:
    """A garment kind's name ("top") as a message; an unknown kind as it is."""
    return msg(f"piece.{kind}") if kind in ("top", "bottom", "one-piece") else kind


def compose_outfit(top: ImageSource, bottom: ImageSource) -> ComposedOutfit:
    """Put ``top`` above ``bottom`` on white, scaled to a common width, centred, with margins."""
    pieces = [
        _content(top, msg("field.top_garment")),
        _content(bottom, msg("field.bottom_garment")),
    ]
    inner = CANVAS_WIDTH - 2 * MARGIN
    scaled = [
        piece.resize((inner, max(1, round(piece.height * inner / piece.width))), _LANCZOS)
        for piece in pieces
    ]
    height = 2 * MARGIN + GAP + sum(piece.height for piece in scaled)
    if height > MAX_HEIGHT:  # very long pieces: shrink both together, keep them centred
        factor = (MAX_HEIGHT - 2 * MARGIN - GAP) / sum(piece.height for piece in scaled)
        scaled = [
            piece.resize(
                (max(1, round(piece.width * factor)), max(1, round(piece.height * factor))),
                _LANCZOS,
            )
            for piece in scaled
        ]
        height = MAX_HEIGHT
    canvas = Image.new("RGB", (CANVAS_WIDTH, max(height, 300)), (255, 255, 255))
    y = MARGIN
    for piece in scaled:
        canvas.paste(piece, ((CANVAS_WIDTH - piece.width) // 2, y))
        y += piece.height + GAP
    info = PngImagePlugin.PngInfo()
    info.add_text(GARMENTS_KEY, "top,bottom")
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", pnginfo=info, optimize=True)
    return ComposedOutfit(png=buffer.getvalue(), size=canvas.size, pieces=("top", "bottom"))


def _content(source: ImageSource, field: Msg) -> Image.Image:
    """The garment photo upright on white, cropped to the garment itself."""
    prepared = prepare_image(source, field=field)
    if prepared.data is None:
        raise ImageError(msg("outfit.needs_upload", field=field), field=field)
    with Image.open(io.BytesIO(prepared.data)) as image:
        rgb = image.convert("RGB")
    darkest = ImageChops.darker(*(rgb.getchannel(c) for c in "RG"))
    darkest = ImageChops.darker(darkest, rgb.getchannel("B"))
    box = darkest.point(lambda v: 255 if v < _WHITE_LEVEL else 0).getbbox()
    if box is None:
        raise ImageError(msg("outfit.blank", field=field), field=field)
    return rgb.crop(box)

"""The simulator's stand-in for a try-on: the garment cut from its light background, recognised
(top, bottom, one-piece, or a top + bottom picture), and put on the body found in the person's
picture, stamped SIMULATED so nobody mistakes it for the real model's work.

Deterministic: the same two images always give the same bytes, which keeps tests exact.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont, ImageOps

from .body import Body, find_body
from .dress import dress
from .garment import Piece, cut_out_garment, split_pieces

__all__ = ["compose_tryon", "compose_tryon_noted", "cut_out_garment", "placeholder", "refusal"]

RESULT_LONG_SIDE = 1024  # about what the real model returns; keeps a render fast
GARMENT_WORK_SIDE = 512
PLACEHOLDER_SIZE = (768, 1024)
FITTED_MODELS = frozenset({"kolors-virtual-try-on-v1-5"})
NO_PERSON = (
    "Simulated: no person was found in this picture, so nothing was put on. "
    "Use a photo of one person standing against a plain background."
)
NO_LEGS = (
    "Simulated: this photo shows the upper body only, and trousers or a skirt need the "
    "person's legs. Use a full-length photo."
)
SUBTITLES = {
    False: "offline demo: garment laid flat over the body (v1), not a real try-on",
    True: "offline demo: garment fitted to the body (v1-5), not a real try-on",
}


def compose_tryon(
    person: bytes | Image.Image,
    garment: bytes | Image.Image,
    model: str = "kolors-virtual-try-on-v1",
    garments: Sequence[str] = (),
) -> bytes:
    """PNG bytes of the person wearing the garment, stamped SIMULATED.

    ``garments`` are the kinds the garment picture declares (its ``kolors-garments``
    metadata); without them the kind is read from the picture. ``model`` picks the dressing:
    laid flat (v1) or fitted (v1-5), see :mod:`.dress`.
    """
    return compose_tryon_noted(person, garment, model, garments)[0]


def compose_tryon_noted(
    person: bytes | Image.Image,
    garment: bytes | Image.Image,
    model: str = "kolors-virtual-try-on-v1",
    garments: Sequence[str] = (),
) -> tuple[bytes, str | None]:
    """:func:`compose_tryon`, and why the garment was not put on, when it was not (the
    picture then shows the photo as it was with that note on it)."""
    base = _open(person).convert("RGB")
    base.thumbnail((RESULT_LONG_SIDE, RESULT_LONG_SIDE), Image.Resampling.BICUBIC)
    source = _open(garment)
    # The garment ends up at about half the person's width: cut it out at that scale, not at
    # full resolution, where the edge filters cost several times more.
    source.thumbnail((GARMENT_WORK_SIDE, GARMENT_WORK_SIDE), Image.Resampling.BICUBIC)
    pieces = split_pieces(cut_out_garment(source), list(garments))
    body = find_body(base)
    fitted = model in FITTED_MODELS
    note = refusal(body, pieces)
    if note is not None:
        return _stamp(_noted(base, note), SUBTITLES[fitted], body), note
    return _stamp(dress(base, pieces, body, fitted), SUBTITLES[fitted], body), None


def refusal(body: Body, pieces: list[Piece]) -> str | None:
    """Why this photo cannot take this garment, in plain words, or ``None`` when it can."""
    if not body.found:
        return NO_PERSON
    if not body.legs_in_frame and all(p.kind == "bottom" for p in pieces):
        return NO_LEGS
    return None


def _noted(image: Image.Image, note: str) -> Image.Image:
    """The photo as it was, with ``note`` on a band just above the SIMULATED band (the
    photo's middle stays in view)."""
    noted = image.copy()
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    width, height = image.size
    size = max(14, width // 30)
    font = _font(size)
    lines = _wrap(note, max(16, int(width * 0.85 / (0.55 * size))))
    line_height = round(size * 1.35)
    band = line_height * len(lines) + 24
    top = max(0, height - max(48, height // 13) - band)
    draw.rectangle((0, top, width, top + band), fill=(20, 24, 33, 210))
    for number, line in enumerate(lines):
        y = top + 12 + number * line_height + line_height // 2
        draw.text((width // 2, y), line, fill=(255, 255, 255, 255), font=font, anchor="mm")
    return Image.alpha_composite(noted.convert("RGBA"), overlay).convert("RGB")


def placeholder(note: str) -> bytes:
    """PNG bytes for a task whose inputs were links the offline simulator did not fetch."""
    image = Image.new("RGB", PLACEHOLDER_SIZE, (236, 239, 244))
    draw = ImageDraw.Draw(image)
    w = PLACEHOLDER_SIZE[0]
    # A plain figure so the frame reads as "a person would be here".
    draw.ellipse((w // 2 - 70, 120, w // 2 + 70, 260), fill=(180, 188, 200))
    draw.rounded_rectangle((w // 2 - 150, 290, w // 2 + 150, 760), radius=60, fill=(180, 188, 200))
    font = _font(26)
    y = 800
    for line in _wrap(note, 44):
        draw.text((w // 2, y), line, fill=(60, 66, 80), font=font, anchor="mt")
        y += 34
    return _stamp(image, "image links are not fetched offline")


def _stamp(image: Image.Image, subtitle: str, body: Body | None = None) -> bytes:
    """The picture stamped SIMULATED: a band along the bottom (over the feet, never the face
    or the garment's middle) and a tag in the top corner farther from the face."""
    width, height = image.size
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    band = max(48, height // 13)
    draw.rectangle((0, height - band, width, height), fill=(20, 24, 33, 200))
    title = _font(max(20, band * 9 // 20))
    small = _font(max(11, band // 5))
    draw.text(
        (width // 2, height - band // 2 - band // 8),
        "SIMULATED",
        fill=(255, 214, 10, 255),
        font=title,
        anchor="mm",
    )
    draw.text(
        (width // 2, height - band // 10),
        subtitle,
        fill=(235, 238, 245, 255),
        font=small,
        anchor="mb",
    )
    tag = _font(max(12, width // 40))
    text = "SIMULATED RESULT"
    text_width = draw.textlength(text, font=tag)
    tag_box = [8, 8, 8 + round(text_width) + 20, 8 + max(22, width // 28)]
    if body is not None and (body.face[0] + body.face[2]) / 2 < width / 2:
        tag_box[0], tag_box[2] = width - tag_box[2], width - 8  # the face is left: go right
    face = body.face if body is not None else (0, -1, 0, -1)
    overlaps = tag_box[0] < face[2] and face[0] < tag_box[2] and tag_box[1] < face[3]
    if not overlaps or face[1] > tag_box[3]:
        draw.rounded_rectangle(tag_box, radius=6, fill=(255, 214, 10, 190))
        draw.text(
            (tag_box[0] + 10, (tag_box[1] + tag_box[3]) // 2),
            text,
            fill=(20, 24, 33, 255),
            font=tag,
            anchor="lm",
        )
    out = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    buffer = io.BytesIO()
    # Fast over small: zlib's run-length strategy at level 1 (the PNG is served on loopback).
    out.save(buffer, format="PNG", compress_level=1, compress_type=3)
    return buffer.getvalue()


def _open(data: bytes | Image.Image) -> Image.Image:
    image = Image.open(io.BytesIO(data)) if isinstance(data, bytes) else data
    upright = ImageOps.exif_transpose(image)
    return upright if upright is not None else image


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return lines + ([current] if current else [])

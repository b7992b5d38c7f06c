"""The simulator's stand-in for a try-on: the garment cut from its light background and laid over
the person's upper body, stamped SIMULATED so nobody mistakes it for the real model's work.

Deterministic: the same two images always give the same bytes, which keeps tests exact.
"""

from __future__ import annotations

import io

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps

RESULT_LONG_SIDE = 1280
GARMENT_WORK_SIDE = 512
PLACEHOLDER_SIZE = (768, 1024)
_BACKGROUND_LEVEL = 232  # a pixel whose darkest channel is above this counts as backdrop


def compose_tryon(person: bytes, garment: bytes) -> bytes:
    """PNG bytes of the garment over the person's upper body, stamped SIMULATED."""
    base = _open_rgb(person)
    base.thumbnail((RESULT_LONG_SIDE, RESULT_LONG_SIDE), Image.Resampling.LANCZOS)
    source = _open_rgba(garment)
    # The garment ends up at about half the person's width: cut it out at that scale, not at
    # full resolution, where the edge filters cost several times more.
    source.thumbnail((GARMENT_WORK_SIDE, GARMENT_WORK_SIDE), Image.Resampling.LANCZOS)
    cutout = cut_out_garment(source)
    width, height = base.size
    scale = min(0.56 * width / cutout.width, 0.5 * height / cutout.height)
    size = (max(1, round(cutout.width * scale)), max(1, round(cutout.height * scale)))
    cutout = cutout.resize(size, Image.Resampling.LANCZOS)
    left = (width - size[0]) // 2
    top = round(height * 0.2)
    base.paste(cutout, (left, top), cutout)
    return _stamp(base, "offline demo: garment laid over, not a real try-on")


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


def cut_out_garment(garment: Image.Image) -> Image.Image:
    """The garment with its light backdrop made transparent, cropped to the garment."""
    rgba = garment.convert("RGBA")
    alpha = rgba.getchannel("A")
    if ImageChops.invert(alpha).getbbox() is None:  # fully opaque: cut the backdrop out
        r, g, b, _ = rgba.split()
        darkest = ImageChops.darker(r, ImageChops.darker(g, b))
        mask = darkest.point(lambda v: 255 if v < _BACKGROUND_LEVEL else 0)
        # Close small holes (white prints on a shirt), drop specks, soften the edge.
        mask = mask.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.MinFilter(5))
        mask = mask.filter(ImageFilter.GaussianBlur(1.2))
        rgba.putalpha(mask)
        alpha = mask
    box = alpha.point(lambda v: 255 if v > 16 else 0).getbbox()
    return rgba.crop(box) if box else rgba


def _stamp(image: Image.Image, subtitle: str) -> bytes:
    width, height = image.size
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    band = max(56, height // 9)
    draw.rectangle((0, height - band, width, height), fill=(20, 24, 33, 200))
    title = _font(max(22, band // 2))
    small = _font(max(12, band // 5))
    draw.text(
        (width // 2, height - band // 2 - band // 10),
        "SIMULATED",
        fill=(255, 214, 10, 255),
        font=title,
        anchor="mm",
    )
    draw.text(
        (width // 2, height - band // 6),
        subtitle,
        fill=(235, 238, 245, 255),
        font=small,
        anchor="mb",
    )
    tag = _font(max(12, width // 40))
    draw.rectangle((0, 0, width, max(22, width // 28)), fill=(255, 214, 10, 150))
    draw.text((8, 2), "SIMULATED RESULT", fill=(20, 24, 33, 255), font=tag)
    out = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    buffer = io.BytesIO()
    out.save(buffer, format="PNG", compress_level=3)  # fast: it is served once, on loopback
    return buffer.getvalue()


def _open_rgb(data: bytes) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")


def _open_rgba(data: bytes) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGBA")


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

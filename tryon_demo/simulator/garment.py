"""The garment picture: cut from its light background, what kind it is, and its parts.

Kinds come from the ``kolors-garments`` metadata when the picture declares them, otherwise from
the shape: two legs make trousers, a shape widening downward without sleeves is a skirt (short,
from a waistband) or a one-piece (tall, or hanging from straps or shoulders), two pieces
stacked with a gap between them are a top + bottom, and the rest (wider at the shoulders, with
sleeves) is a top. :func:`measure` reads what fitting needs: where the garment's own body is,
how long its sleeves are, how wide its chest and waist. Shapes are read on a small copy of the
mask, row by row, so this costs a millisecond or two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

Kind = Literal["top", "bottom", "one-piece"]
Runs = list[list[tuple[int, int]]]

_BACKGROUND_LEVEL = 232  # a pixel whose darkest channel is above this counts as backdrop
_PROFILE_SIDE = 128


@dataclass
class Piece:
    """One garment, cut out (RGBA, cropped to it), with its kind and shape."""

    image: Image.Image
    kind: Kind
    #: Trousers (two legs) rather than a skirt; only for bottoms.
    legs: bool = False


def cut_out_garment(garment: Image.Image) -> Image.Image:
    """The garment with its light backdrop made transparent, cropped to the garment.

    Light parts inside the garment (white stripes, prints) stay garment: only the light that
    reaches the picture's edge row- and column-wise is backdrop.
    """
    rgba = garment.convert("RGBA")
    alpha = rgba.getchannel("A")
    if ImageChops.invert(alpha).getbbox() is None:  # fully opaque: cut the backdrop out
        r, g, b, _ = rgba.split()
        darkest = ImageChops.darker(r, ImageChops.darker(g, b))
        mask = darkest.point(lambda v: 255 if v < _BACKGROUND_LEVEL else 0)
        # Drop specks with box blurs (a rank filter costs ten times more): shrink, then grow.
        # Not the other way round: that would close the narrow backdrop between a sleeve and
        # the body into white "fabric"; light prints inside are filled as holes below.
        mask = mask.filter(ImageFilter.BoxBlur(2)).point(lambda v: 255 if v > 215 else 0)
        mask = mask.filter(ImageFilter.BoxBlur(2)).point(lambda v: 255 if v > 40 else 0)
        mask = ImageChops.lighter(mask, _holes(mask))
        # One pixel in from the edge, where the drawing's anti-aliasing mixed in the white
        # backdrop: otherwise the garment wears a light fringe on a darker picture.
        mask = mask.filter(ImageFilter.MinFilter(3)).filter(ImageFilter.GaussianBlur(1.0))
        rgba.putalpha(mask)
        alpha = mask
    box = alpha.point(lambda v: 255 if v > 16 else 0).getbbox()
    return rgba.crop(box) if box else rgba


def _holes(mask: Image.Image) -> Image.Image:
    """Backdrop-coloured parts enclosed by the garment both across and down (at small scale)."""
    scale = min(1.0, _PROFILE_SIDE / max(mask.size))
    size = (max(1, round(mask.width * scale)), max(1, round(mask.height * scale)))
    small = mask.resize(size, Image.Resampling.BILINEAR)
    across = _spans(small)
    down = _spans(small.transpose(Image.Transpose.TRANSPOSE)).transpose(Image.Transpose.TRANSPOSE)
    enclosed = ImageChops.multiply(across, down)
    return enclosed.resize(mask.size, Image.Resampling.BILINEAR).point(
        lambda v: 255 if v > 127 else 0
    )


def _spans(mask: Image.Image) -> Image.Image:
    """Each row filled from its first set pixel to its last."""
    filled = Image.new("L", mask.size, 0)
    draw = ImageDraw.Draw(filled)
    for y, runs in enumerate(row_runs(mask)):
        if runs:
            draw.line([(runs[0][0], y), (runs[-1][1] - 1, y)], fill=255)
    return filled


def row_runs(mask: Image.Image) -> Runs:
    """For each row of a mask, its runs of set pixels as ``(start, end)`` column pairs."""
    width, height = mask.size
    data = mask.point(lambda v: 255 if v > 127 else 0).tobytes()
    rows: Runs = []
    for y in range(height):
        row = data[y * width : (y + 1) * width]
        runs = []
        x = row.find(255)
        while x != -1:
            end = row.find(0, x)
            end = width if end == -1 else end
            runs.append((x, end))
            x = row.find(255, end)
        rows.append(runs)
    return rows


def profile(cutout: Image.Image) -> tuple[Runs, float]:
    """Row runs of a small copy of the cut-out's alpha, and the copy's scale."""
    scale = min(1.0, _PROFILE_SIDE / max(cutout.size))
    size = (max(1, round(cutout.width * scale)), max(1, round(cutout.height * scale)))
    return row_runs(cutout.getchannel("A").resize(size, Image.Resampling.BILINEAR)), scale


def split_pieces(cutout: Image.Image, labels: list[str]) -> list[Piece]:
    """The garments in the picture, with their kinds (from ``labels`` when declared)."""
    runs, scale = profile(cutout)
    declared = sorted(labels)
    if declared == ["bottom", "top"] or (not labels and _gap(runs) is not None):
        cut = _gap(runs)
        if cut is None:  # declared but touching: cut at the thinnest row of the middle
            middle = range(len(runs) * 3 // 10, max(len(runs) * 7 // 10, len(runs) * 3 // 10 + 1))
            cut = min(middle, key=lambda y: sum(e - s for s, e in runs[y]))
        y = round(cut / scale)
        top = _crop(cutout.crop((0, 0, cutout.width, y)))
        bottom = _crop(cutout.crop((0, y, cutout.width, cutout.height)))
        if top is not None and bottom is not None:
            return [Piece(top, "top"), _bottom(bottom)]
    if len(labels) == 1 and labels[0] in ("top", "bottom", "one-piece"):
        kind: Kind = labels[0]  # type: ignore[assignment]
        if kind == "bottom":
            return [_bottom(cutout)]
        return [Piece(cutout, kind)]
    return [_classify(cutout, runs)]


def _bottom(cutout: Image.Image) -> Piece:
    runs, _ = profile(cutout)
    return Piece(cutout, "bottom", legs=_has_legs(runs))


def _classify(cutout: Image.Image, runs: Runs) -> Piece:
    height = len(runs)
    width = max((e for row in runs for _, e in row), default=1)
    if _has_legs(runs):
        return Piece(cutout, "bottom", legs=True)
    top_w = _mean_span(runs, 0.03, 0.15)
    upper_w = _mean_span(runs, 0.2, 0.3)
    bottom_w = _mean_span(runs, 0.85, 0.97)
    aspect = height / max(1, width)
    # Sleeves hanging beside the body show as three runs across the lower half.
    sleeves = any(len(row) >= 3 for row in runs[height // 2 :])
    widening = bottom_w > 1.2 * top_w and upper_w < 0.85 * bottom_w and not sleeves
    # A skirt starts at a waistband, one piece across; a dress at two straps or shoulders
    # either side of a neckline, over a bodice that narrows to a waist before it flares.
    top_rows = [row for row in runs[round(height * 0.01) : round(height * 0.1) + 1] if row]
    straps = bool(top_rows) and sum(len(row) >= 2 for row in top_rows) > 0.6 * len(top_rows)
    if widening and aspect < 1.3 and not straps:
        return Piece(cutout, "bottom")
    if widening and straps:
        return Piece(cutout, "one-piece")
    if aspect >= 1.3:
        return Piece(cutout, "one-piece")
    return Piece(cutout, "top")


def _has_legs(runs: Runs) -> bool:
    """Two legs: across the lower rows the centre column is empty with fabric on both sides."""
    height = len(runs)
    lower = runs[round(height * 0.6) : round(height * 0.95)]
    if not lower:
        return False
    centre = max((e for row in runs for _, e in row), default=0) / 2
    split = sum(
        1
        for row in lower
        if any(e <= centre for _, e in row)
        and any(s >= centre for s, _ in row)
        and not any(s <= centre < e for s, e in row)
    )
    waist = runs[round(height * 0.02) : round(height * 0.12)]
    joined = any(any(s <= centre < e for s, e in row) for row in waist)
    return joined and split >= 0.7 * len(lower)


def _mean_span(runs: Runs, start: float, end: float) -> float:
    rows = [row for row in runs[round(len(runs) * start) : round(len(runs) * end) + 1] if row]
    if not rows:
        return 0.0
    return sum(row[-1][1] - row[0][0] for row in rows) / len(rows)


def _gap(runs: Runs) -> int | None:
    """The middle row of an empty band between two substantial pieces stacked vertically."""
    filled = [bool(row) for row in runs]
    if True not in filled:
        return None
    first = filled.index(True)
    last = len(filled) - 1 - filled[::-1].index(True)
    best: tuple[int, int] | None = None
    y = first
    while y <= last:
        if not filled[y]:
            start = y
            while y <= last and not filled[y]:
                y += 1
            if best is None or y - start > best[1] - best[0]:
                best = (start, y)
        y += 1
    if best is None:
        return None
    span = last - first + 1
    above, below = best[0] - first, last + 1 - best[1]
    # Each piece a quarter of the height at least: a white stripe near a hem is no gap.
    if min(above, below) < 0.25 * span or best[1] - best[0] < 2:
        return None
    return (best[0] + best[1]) // 2


def _crop(image: Image.Image) -> Image.Image | None:
    box = image.getchannel("A").point(lambda v: 255 if v > 16 else 0).getbbox()
    return image.crop(box) if box else None


@dataclass
class Shape:
    """What fitting needs from a garment picture, in its own pixels."""

    #: The garment's body between its sides (its sleeves are outside): left and right column.
    body: tuple[float, float]
    #: Sleeve length, from the shoulder's corner to the cuff's farthest point (0: sleeveless).
    sleeve: float
    #: Sleeves reaching more than 60 % of the way down: long sleeves.
    long_sleeves: bool
    #: Width at the waistband (a bottom's top rows).
    waist: float


def measure(cutout: Image.Image, bodice: tuple[float, float] | None = None) -> Shape:
    """The garment's body, sleeves and waist, read on a small copy of its outline.

    A one-piece passes its ``bodice`` columns: its sleeves are then what stands out beside
    the bodice above the waist (the skirt's flare below is no sleeve).
    """
    runs, scale = profile(cutout)
    height = len(runs)
    width = max((e for row in runs for _, e in row), default=1)
    # The body's sides: the run through the middle near the hem (sleeves end higher).
    probe = runs[min(height - 1, round(height * 0.8))] if height else []
    centre = width / 2
    body = next(((s, e) for s, e in probe if s <= centre < e), (0, width))
    if body[1] - body[0] < 0.25 * width:
        body = (0, width)
    margin = 0.03 * width
    if bodice is not None:
        body = (round(bodice[0] * scale), round(bodice[1] * scale))
        runs = runs[: round(0.4 * height)]
        margin = 0.1 * width  # a flare starting high is no sleeve; sleeves stand well out
    sleeve, low = 0.0, 0
    for side, corner_x in ((-1, body[0]), (1, body[1])):
        top = next((y for y, row in enumerate(runs) if any(s <= corner_x < e for s, e in row)), 0)
        for y, row in enumerate(runs):
            for s, e in row:
                outside = e - 1 if side > 0 else s
                if (side < 0 and s < body[0] - margin) or (side > 0 and e > body[1] + margin):
                    reach = float(np.hypot(outside - corner_x, y - top))
                    sleeve = max(sleeve, reach)
                    low = max(low, y)
    waist_rows = [row for row in runs[: max(1, height // 16)] if row]
    waist = (
        sum(row[-1][1] - row[0][0] for row in waist_rows) / len(waist_rows) if waist_rows else width
    )
    return Shape(
        body=(body[0] / scale, body[1] / scale),
        sleeve=sleeve / scale,
        long_sleeves=sleeve > 0 and low > 0.6 * height,
        waist=waist / scale,
    )

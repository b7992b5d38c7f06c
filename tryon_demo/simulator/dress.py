"""Dressing: each garment scaled and placed on the body, the face and hands left as they were,
soft edges and a light shadow so it does not look cut out.

The two models differ in a stated, visible way (the README's offline section says so too):

- ``kolors-virtual-try-on-v1`` lays the garment flat, as photographed: sleeves and legs keep the
  product photo's pose and the garment sits loose (a top 20 % wider than the torso);
- ``kolors-virtual-try-on-v1-5`` fits it: the sleeves' fabric follows the arms (to the elbow
  for short sleeves, to the wrist for long ones), the garment is sized closer to the body (a top
  10 % wider) and trimmed to the body's outline.
"""

from __future__ import annotations

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

from .body import Body
from .garment import Piece, Runs, profile

_ORDER = {"bottom": 0, "one-piece": 1, "top": 2}  # a top is worn over the bottom's waistband
_BICUBIC = Image.Resampling.BICUBIC


def dress(person: Image.Image, pieces: list[Piece], body: Body, fitted: bool) -> Image.Image:
    """``person`` (RGB) wearing ``pieces``; ``fitted`` is the v1-5 behaviour."""
    overlay = Image.new("RGBA", person.size, (0, 0, 0, 0))
    for piece in sorted(pieces, key=lambda p: _ORDER[p.kind]):
        if piece.kind == "top":
            _place_top(overlay, piece, body, fitted)
        elif piece.kind == "bottom":
            _place_bottom(overlay, piece, body, fitted)
        else:
            _place_one_piece(overlay, piece, body, fitted)
    kept = _kept(body, person.size)
    alpha = ImageChops.multiply(overlay.getchannel("A"), ImageChops.invert(kept))
    box = alpha.getbbox()
    if box is None:
        return person
    h = body.height
    pad = max(4, round(0.02 * h))
    box = (
        max(0, box[0] - pad),
        max(0, box[1] - pad),
        min(person.width, box[2] + pad),
        min(person.height, box[3] + pad),
    )
    # Soft edges and the shadow are worked on the garment's box only: a fraction of the frame.
    local = alpha.crop(box).filter(ImageFilter.GaussianBlur(max(0.6, 0.0012 * h)))
    shadow = local.filter(ImageFilter.GaussianBlur(max(2.0, 0.007 * h))).point(
        lambda v: v * 3 // 10
    )
    shadow = ImageChops.offset(shadow, round(0.002 * h), round(0.005 * h))
    if body.silhouette is not None:  # a shadow falls on the body, not on the wall behind
        shadow = ImageChops.multiply(shadow, body.silhouette.crop(box))
    region = person.crop(box)
    region.paste((0, 0, 0), mask=shadow)
    garment = overlay.crop(box)
    garment.putalpha(local)
    region = Image.alpha_composite(region.convert("RGBA"), garment).convert("RGB")
    dressed = person.copy()
    dressed.paste(region, box[:2])
    return dressed


def _kept(body: Body, size: tuple[int, int]) -> Image.Image:
    """What the garment must not cover: the face and neck, and the hands."""
    h = body.height
    kept = Image.new("L", size, 0)
    draw = ImageDraw.Draw(kept)
    left, _, right, _ = body.face
    pad = round(0.01 * h)
    draw.rectangle((left - pad, 0, right + pad, body.neck_y), fill=255)
    neck = round(0.35 * (right - left))
    collar = body.shoulder_y - round(0.012 * h)
    draw.rectangle((body.centre_x - neck, body.neck_y, body.centre_x + neck, collar), fill=255)
    radius = round(0.04 * h)
    for x, y in body.hands:
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return kept if body.silhouette is None else ImageChops.multiply(kept, body.silhouette)


def _centre_span(runs: Runs, y: int) -> tuple[int, int] | None:
    row = runs[min(max(y, 0), len(runs) - 1)]
    if not row:
        return None
    centre = _width(runs) / 2
    for start, end in row:
        if start <= centre < end:
            return start, end
    return max(row, key=lambda r: r[1] - r[0])


def _width(runs: Runs) -> int:
    """The width of the mask that ``runs`` were read from (its rightmost set column)."""
    return max((end for row in runs for _, end in row), default=1)


#: No garment layer is larger than this on a side: results are at most 1024 px, so only a
#: degenerate garment gets near it (a blank or transparent picture measures about 0 px wide,
#: and scaling it to the torso's width asked for a 120000 px layer: 4.4 GB).
_MOST_SIDE = 2048


def _resize(image: Image.Image, width: float, height: float) -> Image.Image:
    shrink = min(1.0, _MOST_SIDE / max(width, height, 1.0))
    size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
    return image.resize(size, _BICUBIC)


def _clip(layer: Image.Image, body: Body, below: int | None = None) -> None:
    """Trim ``layer`` to the body's outline (above row ``below`` only, when given)."""
    if body.silhouette is None:
        return
    outline = body.silhouette
    if below is not None:
        outline = outline.copy()
        outline.paste(255, (0, below, outline.width, outline.height))
    layer.putalpha(ImageChops.multiply(layer.getchannel("A"), outline))


def _place_top(overlay: Image.Image, piece: Piece, body: Body, fitted: bool) -> None:
    garment = piece.image
    runs, scale = profile(garment)
    span = _centre_span(runs, round(len(runs) * 0.8)) or (0, _width(runs))
    left, right = span[0] / scale, span[1] / scale
    h = body.height
    sx = body.torso_width * (1.1 if fitted else 1.2) / max(1.0, right - left)
    top_y = body.shoulder_y - round(0.02 * h)
    hem_y = body.crotch_y - round(0.03 * h)
    sy = min(max((hem_y - top_y) / garment.height, 0.8 * sx), 1.3 * sx)
    x0 = body.centre_x - (left + right) / 2 * sx
    layer = Image.new("RGBA", overlay.size, (0, 0, 0, 0))
    scaled = _resize(garment, garment.width * sx, garment.height * sy)
    cut_left, cut_right = round(left * sx), round(right * sx)
    sleeves = (
        fitted
        and cut_left > 0.08 * scaled.width
        and scaled.width - cut_right > 0.08 * (scaled.width)
    )
    if sleeves:
        # Long sleeves: fabric beyond the body's sides lower than 60 % of the way down.
        margin = 0.03 * _width(runs)
        low = [
            y
            for y, row in enumerate(runs)
            if any(s < span[0] - margin or e > span[1] + margin for s, e in row)
        ]
        long_sleeves = bool(low) and max(low) > 0.6 * len(runs)
        for side, columns in ((-1, (0, cut_left)), (1, (cut_right, scaled.width))):
            sleeve = scaled.crop((columns[0], 0, columns[1], scaled.height))
            _dress_arm(layer, sleeve, body, side, long_sleeves)
        main = scaled.crop((cut_left, 0, cut_right, scaled.height))
        _paste(layer, main, (round(x0) + cut_left, top_y))
    else:
        _paste(layer, scaled, (round(x0), top_y))
    if fitted:
        _clip(layer, body)
    overlay.alpha_composite(layer)


def _dress_arm(
    layer: Image.Image, sleeve: Image.Image, body: Body, side: int, long_sleeve: bool
) -> None:
    """Cover one arm with the sleeve's fabric, from the shoulder down as far as the sleeve
    reaches (elbow for a short sleeve, wrist for a long one), following the arm's outline."""
    if body.silhouette is None:
        return
    box = sleeve.getchannel("A").point(lambda v: 255 if v > 128 else 0).getbbox()
    if box is None:
        return
    sleeve = sleeve.crop(box)
    h = body.height
    hand_y = max((y for _, y in body.hands), default=body.crotch_y - round(0.04 * h))
    reach = hand_y - round(0.05 * h) if long_sleeve else body.shoulder_y + round(0.13 * h)
    half = body.torso_width // 2
    columns = (0, body.centre_x - half) if side < 0 else (body.centre_x + half, layer.width)
    area = (columns[0], body.shoulder_y - round(0.02 * h), columns[1], reach)
    if area[2] <= area[0] or area[3] <= area[1]:
        return
    arm = body.silhouette.crop(area)
    found = arm.getbbox()
    if found is None:
        return
    arm = arm.crop(found)
    # The sleeve over its own average colour, so its transparent corners do not turn black.
    solid = sleeve.getchannel("A").point(lambda v: 255 if v > 200 else 0)
    mean = tuple(round(c) for c in ImageStat.Stat(sleeve.convert("RGB"), solid).mean)
    backing = Image.new("RGB", sleeve.size, mean)
    backing.paste(sleeve, mask=sleeve.getchannel("A"))
    fabric = _resize(backing, arm.width, arm.height)
    fabric.putalpha(arm)
    _paste(layer, fabric, (area[0] + found[0], area[1] + found[1]))


def _place_bottom(overlay: Image.Image, piece: Piece, body: Body, fitted: bool) -> None:
    garment = piece.image
    runs, scale = profile(garment)
    waist_rows = [r for r in runs[: max(1, len(runs) // 16)] if r]
    waist = (
        sum(r[-1][1] - r[0][0] for r in waist_rows) / len(waist_rows) / scale
        if waist_rows
        else garment.width
    )
    h = body.height
    hips = max(body.hips[1] - body.hips[0], round(0.75 * body.torso_width))
    sx = hips * (1.04 if fitted else 1.12) / max(1.0, waist)
    if piece.legs:
        sy = min(max((body.ankle_y - body.waist_y) / garment.height, 0.75 * sx), 1.4 * sx)
    else:
        sy = max(sx, (body.crotch_y + 0.1 * h - body.waist_y) / garment.height)
    centre = (runs[0][0][0] + runs[0][-1][1]) / 2 / scale if runs and runs[0] else garment.width / 2
    layer = Image.new("RGBA", overlay.size, (0, 0, 0, 0))
    scaled = _resize(garment, garment.width * sx, garment.height * sy)
    _paste(layer, scaled, (round((body.hips[0] + body.hips[1]) / 2 - centre * sx), body.waist_y))
    if fitted:
        _clip(layer, body, below=None if piece.legs else body.crotch_y)
    overlay.alpha_composite(layer)


def _place_one_piece(overlay: Image.Image, piece: Piece, body: Body, fitted: bool) -> None:
    garment = piece.image
    runs, scale = profile(garment)
    upper = [r for r in runs[round(len(runs) * 0.05) : round(len(runs) * 0.3)] if r]
    chest = max((r[-1][1] - r[0][0] for r in upper), default=_width(runs)) / scale
    h = body.height
    sx = body.torso_width * (0.98 if fitted else 1.08) / max(1.0, chest)
    sy = max(sx, (body.crotch_y + 0.14 * h - body.shoulder_y) / garment.height)
    layer = Image.new("RGBA", overlay.size, (0, 0, 0, 0))
    scaled = _resize(garment, garment.width * sx, garment.height * sy)
    top_y = body.shoulder_y - round(0.02 * h)
    _paste(layer, scaled, (round(body.centre_x - scaled.width / 2), top_y))
    if fitted:
        _clip(layer, body, below=body.waist_y)
    overlay.alpha_composite(layer)


def _paste(layer: Image.Image, image: Image.Image, at: tuple[int, int]) -> None:
    """``alpha_composite`` that accepts a position partly or wholly outside the layer."""
    x, y = at
    left, top = max(0, -x), max(0, -y)
    if left >= image.width or top >= image.height:
        return
    part = image.crop((left, top, image.width, image.height)) if left or top else image
    if x + left < layer.width and y + top < layer.height:
        layer.alpha_composite(part, (x + left, y + top))

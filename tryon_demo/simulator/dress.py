"""Dressing: each garment fitted to the parts :mod:`.body` found, never over the face, the
hands or the backdrop, with soft edges and a light shadow so it does not look cut out.

- A **top** goes from the shoulders to its own length (at most a little below the hips), as wide
  as the torso without the arms; its sleeves go down each arm as far as the garment's own
  sleeves reach (measured on its picture), never over the hands.
- A **bottom** starts at the belt line and goes down between the legs' outlines (a skirt
  closes the gap between the legs), never over the arms or hands beside the hips.
- A **one-piece** goes from the shoulders to its own length: the bodice over the torso, the
  skirt over the hips and legs, sleeves only when it has them.

The two models differ in a stated, visible way (``docs/simulator.md`` says so too):

- ``kolors-virtual-try-on-v1`` lays the garment flat: scaled as a whole to the torso's width at
  the chest, its own straight outline kept, its colours as photographed;
- ``kolors-virtual-try-on-v1-5`` fits it: every row stretched to the body's outline at that
  height (it follows the waist and the hips), and the photo's own light and folds show through
  the fabric.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from .body import Body
from .garment import Piece, measure

_ORDER = {"bottom": 0, "one-piece": 1, "top": 2}  # a top is worn over the bottom's waistband
#: No garment layer is larger than this on a side (a blank picture measures about 0 px wide).
_MOST_SIDE = 2048


class Canvas:
    """The garments' layer over the person: colours and coverage, the picture's size."""

    def __init__(self, person: np.ndarray, body: Body, fitted: bool) -> None:
        height, width = person.shape[:2]
        self.colour = np.zeros((height, width, 3), dtype=np.float32)
        self.alpha = np.zeros((height, width), dtype=np.float32)
        self.body = body
        self.fitted = fitted
        self.xs = np.arange(width, dtype=np.float32)
        self.person = (
            body.silhouette if body.silhouette is not None else np.ones((height, width), np.float32)
        )
        self.shade = _shading(person, body.head, self.person) if fitted else None
        self.arms = body.arm_mask()
        #: Where garments were allowed to go: the body, and gaps between legs under skirts.
        self.reach = self.person.copy()
        #: Where any garment may go: not on the arms (sleeves go there on their own), the
        #: face or the neck. Each garment also keeps to the body or, a skirt, between the legs.
        # The arms' outline is a pixel or two wider than the mask found on a smaller copy.
        radius = max(1.0, 0.045 * body.head)
        self.arm_zones = [_grown(arm.mask, radius) for arm in body.arms]
        grown = np.logical_or.reduce(self.arm_zones) if self.arm_zones else self.arms
        self.free = (~grown & _below(body, height, width)).astype(np.float32)

    def lay(self, colour: np.ndarray, alpha: np.ndarray) -> None:
        """Lay a garment over what is already worn (worked on the rows it covers)."""
        rows = np.flatnonzero(alpha.any(axis=1))
        if not len(rows):
            return
        band = slice(rows[0], rows[-1] + 1)
        colour, alpha = colour[band], alpha[band]
        if self.shade is not None:
            colour = colour * self.shade[band][..., None]
        over = alpha[..., None]
        self.colour[band] = colour * over + self.colour[band] * (1 - over)
        self.alpha[band] = alpha + self.alpha[band] * (1 - alpha)


def dress(person: Image.Image, pieces: list[Piece], body: Body, fitted: bool) -> Image.Image:
    """``person`` (RGB) wearing ``pieces``; ``fitted`` is the v1-5 behaviour."""
    if not body.found:
        return person
    rgb = np.asarray(person.convert("RGB"), dtype=np.float32)
    canvas = Canvas(rgb, body, fitted)
    for piece in sorted(pieces, key=lambda p: _ORDER[p.kind]):
        if piece.kind == "top":
            _place_top(canvas, piece)
        elif piece.kind == "bottom":
            _place_bottom(canvas, piece)
        else:
            _place_one_piece(canvas, piece)
    return _composite(rgb, canvas, body)


def _composite(rgb: np.ndarray, canvas: Canvas, body: Body) -> Image.Image:
    alpha = canvas.alpha
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    if not len(rows):
        return Image.fromarray(rgb.astype(np.uint8))
    h = body.head
    # Soft edges and the shadow are worked on the garment's box only: a part of the frame.
    pad = round(max(4.0, 0.12 * h))
    height, width = alpha.shape
    y0, y1 = max(0, rows[0] - pad), min(height, rows[-1] + 1 + pad)
    x0, x1 = max(0, cols[0] - pad), min(width, cols[-1] + 1 + pad)
    box = (slice(y0, y1), slice(x0, x1))
    person, reach = canvas.person[box], canvas.reach[box]
    soft = np.minimum(_blur(alpha[box], max(0.5, 0.006 * h)), reach)
    # A light shadow the garment casts on the body just below and beside its edges.
    shadow = _blur(alpha[box], max(1.0, 0.025 * h))
    shadow = np.roll(shadow, max(1, round(0.02 * h)), axis=0) * 0.22 * person * (1 - soft)
    out = rgb.copy()
    part = rgb[box] * (1 - shadow[..., None])
    out[box] = canvas.colour[box] * soft[..., None] + part * (1 - soft[..., None])
    return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8))


def _grown(mask: np.ndarray, radius: float) -> np.ndarray:
    """``mask`` widened by about ``radius`` pixels (worked on its own box only)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    grown = np.zeros_like(mask)
    if not len(rows):
        return grown
    pad = round(3 * radius) + 2
    y0, y1 = max(0, rows[0] - pad), min(mask.shape[0], rows[-1] + 1 + pad)
    x0, x1 = max(0, cols[0] - pad), min(mask.shape[1], cols[-1] + 1 + pad)
    grown[y0:y1, x0:x1] = _blur(mask[y0:y1, x0:x1].astype(np.float32), radius) > 0.02
    return grown


def _blur(values: np.ndarray, radius: float) -> np.ndarray:
    image = Image.fromarray(np.clip(values * 255 + 0.5, 0, 255).astype(np.uint8))
    return np.asarray(image.filter(ImageFilter.GaussianBlur(radius)), dtype=np.float32) / 255


def _shading(rgb: np.ndarray, head: float, person: np.ndarray) -> np.ndarray:
    """The photo's light and folds: each pixel's brightness against its surroundings on the
    body (the backdrop beside it and large changes of colour, a belt, a hem, are not folds:
    the range is kept narrow). Worked at half size: folds are broader than a pixel."""
    height, width = person.shape
    half = (max(1, width // 2), max(1, height // 2))
    luma = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    small = _resized(luma / 255, half)
    body = _resized(person, half)
    radius = max(1.0, 0.075 * head)
    local = _blur(small * body, radius)
    weight = _blur(body, radius)
    ratio = (small * 255 + 12) / (local / np.maximum(weight, 0.05) * 255 + 12)
    # Softened, so a dark pair of shorts under a light top darkens its hem only a little; off
    # the body (a skirt's flare over the backdrop) the fabric is as photographed.
    shade = 1 + (np.clip(ratio, 0.7, 1.25) ** 0.75 - 1) * body
    full: np.ndarray = _resized(shade / 2, (width, height)) * 2
    return full


def _resized(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """0..1 values resized (bilinear) to ``size`` (width, height)."""
    image = Image.fromarray(np.clip(values * 255 + 0.5, 0, 255).astype(np.uint8))
    return np.asarray(image.resize(size, Image.Resampling.BILINEAR), dtype=np.float32) / 255


def _below(body: Body, height: int, width: int) -> np.ndarray:
    """Where a garment may go at all: below the collar line, and never on the face."""
    allowed = np.ones((height, width), dtype=bool)
    collar = round(body.shoulder_y - 0.12 * body.head)
    neck = round(0.42 * body.head)
    allowed[: max(0, round(body.chin_y + 0.1 * body.head))] = False
    lo, hi = max(0, body.centre_x - neck), max(0, body.centre_x + neck)
    allowed[: max(0, collar), lo:hi] = False
    x0, y0, x1, y1 = body.face
    allowed[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = False
    return allowed


# --- the garment's picture as arrays ---------------------------------------------------------


def _scaled(piece: Piece, width: float, height: float) -> tuple[np.ndarray, np.ndarray]:
    """The garment resized to ``width`` x ``height`` (capped), as colour and alpha arrays."""
    shrink = min(1.0, _MOST_SIDE / max(width, height, 1.0))
    size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
    image = piece.image.convert("RGBA").resize(size, Image.Resampling.BICUBIC)
    data = np.asarray(image, dtype=np.float32)
    return data[..., :3], data[..., 3] / 255


def _sample(
    colour: np.ndarray, alpha: np.ndarray, gx: np.ndarray, gy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The garment at garment coordinates ``gx``, ``gy`` (transparent outside it)."""
    gh, gw = alpha.shape
    inside = (gx >= 0) & (gx < gw) & (gy >= 0) & (gy < gh)
    ix = np.clip(gx.astype(np.int32), 0, gw - 1)
    iy = np.clip(gy.astype(np.int32), 0, gh - 1)
    return colour[iy, ix], alpha[iy, ix] * inside


def _rows(top: int, bottom: int, height: int) -> np.ndarray:
    return np.arange(max(0, top), min(height, max(top, bottom)))


def _torso_edges(
    body: Body, rows: np.ndarray, least: float, capped: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The torso's edges on ``rows``, filled from the nearest row that has them; ``capped``,
    no wider than the chest by much (across the shoulders the outline takes in the arms' tops,
    which a top's shoulders cover and a dress's straps do not)."""
    left = body.torso_left[rows].astype(np.float32)
    right = body.torso_right[rows].astype(np.float32)
    known = (left >= 0) & (right - left > least)
    if not known.any():
        half = 0.8 * body.head
        return np.full(len(rows), body.centre_x - half), np.full(len(rows), body.centre_x + half)
    index = np.arange(len(rows))
    left = np.interp(index, index[known], left[known])
    right = np.interp(index, index[known], right[known])
    if not capped:
        return left, right
    most = 1.1 * body.torso_width(body.chest_y)
    middle, half = (left + right) / 2, np.minimum((right - left) / 2, most / 2)
    return middle - half, middle + half


def _lower_edges(canvas: Canvas, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outer edges of the hips and legs (arms left out) on ``rows``: a skirt's reach."""
    body = canvas.body
    reach = 1.3 * body.head
    near = np.abs(canvas.xs - body.centre_x) < reach
    legs = (canvas.person[rows] > 0.5) & ~canvas.arms[rows] & near[None, :]
    width = legs.shape[1]
    has = legs.any(axis=1)
    first = np.where(has, np.argmax(legs, axis=1), body.centre_x)
    last = np.where(has, width - 1 - np.argmax(legs[:, ::-1], axis=1), body.centre_x)
    return first.astype(np.float32), last.astype(np.float32) + 1


def _place(
    canvas: Canvas,
    piece: Piece,
    rows: np.ndarray,
    top: float,
    scale: tuple[float, float],
    span: tuple[float, float],
    edges: tuple[np.ndarray, np.ndarray],
    where: np.ndarray,
    fitted: bool,
) -> None:
    # ``where``: 0..1, where this garment may go (the body, or a skirt's reach).
    """Lay the garment's rows on ``rows``: its columns ``span`` over ``edges`` when ``fitted``
    (each row stretched to the body there), or scaled as a whole about the body's middle."""
    if not len(rows):
        return
    image = piece.image
    colour, alpha = _scaled(piece, image.width * scale[0], image.height * scale[1])
    fx = colour.shape[1] / max(1, image.width)  # garment pixels -> scaled garment pixels
    fy = colour.shape[0] / max(1, image.height)
    lo, hi = span[0] * fx, span[1] * fx
    gy = ((rows - top) * fy / scale[1])[:, None] * np.ones((1, len(canvas.xs)), np.float32)
    if fitted:
        left, right = edges
        stretch = (hi - lo) / np.maximum(right - left, 1.0)
        gx = lo + (canvas.xs[None, :] - left[:, None]) * stretch[:, None]
    else:
        middle = canvas.body.centre_x
        gx = (lo + hi) / 2 + (canvas.xs[None, :] - middle) * fx / scale[0] * np.ones_like(gy)
    sampled, cover = _sample(colour, alpha, gx, gy)
    full_colour = np.zeros_like(canvas.colour)
    full_alpha = np.zeros_like(canvas.alpha)
    full_colour[rows] = sampled
    full_alpha[rows] = cover * where[rows] * canvas.free[rows]
    canvas.reach = np.maximum(canvas.reach, where)
    canvas.lay(full_colour, full_alpha)


# --- tops ------------------------------------------------------------------------------------


def _place_top(canvas: Canvas, piece: Piece, until: float | None = None) -> None:
    body = canvas.body
    shape = measure(piece.image)
    lo, hi = shape.body
    height, _ = canvas.alpha.shape
    chest = body.torso_width(body.chest_y)
    scale = chest * (1.0 if canvas.fitted else 1.04) / max(1.0, hi - lo)
    top = body.shoulder_y - 0.1 * body.head
    hem = top + piece.image.height * scale
    hem = min(hem, body.crotch_y + 0.6 * body.head) if until is None else until
    rows = _rows(round(top), round(hem), height)
    edges = _torso_edges(body, rows, 0.5 * body.head)
    _place(canvas, piece, rows, top, (scale, scale), (lo, hi), edges, canvas.person, canvas.fitted)
    if shape.sleeve > 0:
        _sleeves(canvas, piece, shape.sleeve * scale, shape.long_sleeves, (lo, hi), top)


def _sleeves(
    canvas: Canvas,
    piece: Piece,
    length: float,
    long_sleeves: bool,
    span: tuple[float, float],
    top: float,
) -> None:
    """Each arm covered from its shoulder as far down it as the garment's sleeve reaches."""
    body = canvas.body
    height, width = canvas.alpha.shape
    image = piece.image.convert("RGBA")
    for side, arm, zone in zip((-1, 1), body.arms, canvas.arm_zones, strict=False):
        (sx, sy), (hx, hy) = arm.shoulder, arm.hand
        axis = np.array([hx - sx, hy - sy], dtype=np.float32)
        reach = float(np.hypot(*axis))
        if reach < 1:
            continue
        axis /= reach
        limit = reach - 0.55 * body.head if arm.hand_box is not None else reach
        if long_sleeves:
            length = max(length, limit)
        length = min(length, limit)
        ys, xs = np.nonzero(zone)
        if not len(ys):
            continue
        along = (xs - sx) * axis[0] + (ys - sy) * axis[1]
        keep = (along <= length) & (ys >= top)
        if not keep.any():
            continue
        ys, xs, along = ys[keep], xs[keep], along[keep]
        # The sleeve's own fabric: the garment's picture beside its body, stretched along the arm.
        columns = (0, max(1, round(span[0]))) if side < 0 else (round(span[1]), image.width)
        sleeve = image.crop((columns[0], 0, max(columns[0] + 1, columns[1]), image.height))
        box = sleeve.getchannel("A").point(lambda v: 255 if v > 128 else 0).getbbox()
        if box is None:
            continue
        cloth = np.asarray(sleeve.crop(box).resize((16, 32)), dtype=np.float32)
        opaque = cloth[..., 3:] / 255
        solid = (cloth[..., :3] * opaque).sum(axis=(0, 1)) / max(1.0, float(opaque.sum()))
        fabric = cloth[..., :3] * opaque + solid * (1 - opaque)
        across = (xs - xs.min()) / max(1, xs.max() - xs.min())
        down = along / max(1.0, along.max())
        texture = fabric[(down * 31).astype(int), (across * 15).astype(int)]
        colour = np.zeros_like(canvas.colour)
        alpha = np.zeros_like(canvas.alpha)
        colour[ys, xs] = 0.8 * texture + 0.2 * solid
        alpha[ys, xs] = canvas.person[ys, xs] * _below(body, height, width)[ys, xs]
        canvas.lay(colour, alpha)


# --- bottoms and one-pieces -------------------------------------------------------------------


def _place_bottom(canvas: Canvas, piece: Piece) -> None:
    body = canvas.body
    shape = measure(piece.image)
    height, _ = canvas.alpha.shape
    hips_y = round((body.belt_y + body.crotch_y) / 2)
    hips = max(_lower_width(canvas, hips_y), 1.2 * body.head)
    scale = hips * (1.0 if canvas.fitted else 1.04) / max(1.0, shape.waist)
    top = float(body.belt_y)  # the top of a belt or waistband: the change of colour found
    image = piece.image
    if piece.legs:
        stretch = (body.ankle_y - top) / max(1, image.height) / scale
        scale_y = scale * min(max(stretch, 0.75), 1.5)
    else:
        scale_y = scale
    hem = min(top + image.height * scale_y, body.ankle_y)
    rows = _rows(round(top), round(hem), height)
    edges = _lower_edges(canvas, rows)
    where = canvas.person if piece.legs else _between(canvas, rows, edges)
    span = (0.0, float(image.width))
    if not piece.legs:  # a skirt keeps its own flare, as photographed, on either model
        _place(canvas, piece, rows, top, (scale, scale_y), span, edges, where, False)
        return
    if piece.legs and canvas.fitted:
        crotch = min(max(round(body.crotch_y), rows[0] if len(rows) else 0), height)
        upper, lower = rows[rows < crotch], rows[rows >= crotch]
        waist_edges = _lower_edges(canvas, upper)
        _place(canvas, piece, upper, top, (scale, scale_y), span, waist_edges, where, True)
        _place_legs(canvas, piece, lower, top, (scale, scale_y))
        return
    _place(canvas, piece, rows, top, (scale, scale_y), span, edges, where, canvas.fitted)


def _place_legs(
    canvas: Canvas, piece: Piece, rows: np.ndarray, top: float, scale: tuple[float, float]
) -> None:
    """Fitted trouser legs: each of the garment's legs stretched over each of the person's,
    row by row (the legs' outlines; legs pressed together are parted at the middle)."""
    if not len(rows):
        return
    image = piece.image
    colour, alpha = _scaled(piece, image.width * scale[0], image.height * scale[1])
    gh, gw = alpha.shape
    fy = gh / max(1, image.height)
    body = canvas.body
    legs = (canvas.person > 0.5) & (canvas.free > 0.5)
    out_colour = np.zeros_like(canvas.colour)
    out_alpha = np.zeros_like(canvas.alpha)
    middle = body.centre_x
    for y in rows:
        gy = min(gh - 1, max(0, int((y - top) * fy / scale[1])))
        garment_row = alpha[gy] > 0.5
        if not garment_row.any():
            continue
        g_centre = gw / 2
        g_left = np.flatnonzero(garment_row[: int(g_centre)])
        g_right = np.flatnonzero(garment_row[int(g_centre) :]) + int(g_centre)
        person_row = legs[y]
        b_left = np.flatnonzero(person_row[:middle])
        b_right = np.flatnonzero(person_row[middle:]) + middle
        for g_run, b_run in ((g_left, b_left), (g_right, b_right)):
            if not len(g_run) or not len(b_run):
                continue
            b0, b1 = int(b_run[0]), int(b_run[-1]) + 1
            xs = np.arange(b0, b1)
            gx = g_run[0] + (xs - b0) * (g_run[-1] + 1 - g_run[0]) / max(1, b1 - b0)
            ix = np.clip(gx.astype(np.int32), 0, gw - 1)
            out_colour[y, b0:b1] = colour[gy, ix]
            out_alpha[y, b0:b1] = np.maximum(alpha[gy, ix], 0.0) * canvas.person[y, b0:b1]
    canvas.lay(out_colour, out_alpha * canvas.free)


def _lower_width(canvas: Canvas, y: int) -> float:
    left, right = _lower_edges(canvas, np.array([min(max(y, 0), canvas.alpha.shape[0] - 1)]))
    return float(right[0] - left[0])


def _between(canvas: Canvas, rows: np.ndarray, edges: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Where a skirt may go: over the waist's outline, and from the hips down wherever its
    own outline reaches (it hides the gap between the legs and flares over the backdrop as a
    skirt does in a photo), except over the arms and hands."""
    where = canvas.person.copy()
    left, right = edges
    inside = (canvas.xs[None, :] >= left[:, None]) & (canvas.xs[None, :] < right[:, None])
    inside |= (rows >= canvas.body.belt_y + 0.3 * canvas.body.head)[:, None]
    where[rows] = np.maximum(where[rows], inside)
    return where


def _place_one_piece(canvas: Canvas, piece: Piece) -> None:
    body = canvas.body
    height, _ = canvas.alpha.shape
    image = piece.image
    lo, hi = _bodice(piece)
    shape = measure(piece.image, (lo, hi))
    chest = body.torso_width(body.chest_y)
    scale = chest * (1.0 if canvas.fitted else 1.04) / max(1.0, hi - lo)
    top = body.shoulder_y - 0.1 * body.head
    hem = min(top + image.height * scale, body.ankle_y)
    waist = body.belt_y
    upper = _rows(round(top), waist, height)
    bodice = _torso_edges(body, upper, 0.5 * body.head, capped=True)
    _place(
        canvas, piece, upper, top, (scale, scale), (lo, hi), bodice, canvas.person, canvas.fitted
    )
    lower = _rows(waist, round(hem), height)
    # The skirt keeps its own flare, centred, within the hips' and legs' outline.
    edges = _lower_edges(canvas, lower)
    where = _between(canvas, lower, edges)
    _place(canvas, piece, lower, top, (scale, scale), (lo, hi), edges, where, False)
    if shape.sleeve > 0.15 * (hi - lo):
        _sleeves(canvas, piece, shape.sleeve * scale, shape.long_sleeves, (lo, hi), top)


def _bodice(piece: Piece) -> tuple[float, float]:
    """The columns of a one-piece's bodice, under the arms (about a fifth of the way down)."""
    alpha = np.asarray(piece.image.getchannel("A")) > 128
    height = alpha.shape[0]
    rows = alpha[round(0.15 * height) : round(0.3 * height) + 1]
    filled = rows.any(axis=0)
    if not filled.any():
        return 0.0, float(alpha.shape[1])
    columns = np.flatnonzero(filled)
    return float(columns[0]), float(columns[-1] + 1)

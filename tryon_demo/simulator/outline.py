"""The person's outline, skin and face in a picture: what :mod:`.body` measures from.

The silhouette is what differs from the backdrop, read from the picture's left and right edges
on each row and blended across (a wall's gradient, a floor, a vignette are backdrop), with the
backdrop's grain setting how large a difference counts; specks are dropped, the person's own
connected shape kept, and small holes wholly inside it filled. Skin is found by the usual
chroma rule, then by the face's own colour. The face is the skin at the top of the silhouette,
down to where it narrows to the neck.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

Box = tuple[int, int, int, int]


# --- the silhouette -------------------------------------------------------------------------


def silhouette(rgb: list[np.ndarray]) -> np.ndarray | None:
    height, width = rgb[0].shape
    strip = max(3, width // 40)
    across = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    difference = np.zeros((height, width), dtype=np.float32)
    grain = 0.0
    mismatch = np.zeros(height, dtype=bool)
    for channel in rgb:
        left = _smooth(channel[:, :strip].mean(axis=1))
        right = _smooth(channel[:, -strip:].mean(axis=1))
        backdrop = left[:, None] * (1 - across) + right[:, None] * across
        np.maximum(difference, np.abs(channel - backdrop), out=difference)
        grain = max(grain, float(np.median(np.abs(channel[:, :strip] - left[:, None]))))
        mismatch |= np.abs(left - right) > 40
    mask = difference > max(24.0, 5.0 * grain)
    image = Image.fromarray((mask * 255).astype(np.uint8))
    # Specks off (a small opening), then the one shape the person is, holes filled.
    image = image.filter(ImageFilter.MinFilter(3)).filter(ImageFilter.MaxFilter(3))
    kept = _largest_shape(image)
    if kept is None:
        return None
    covered = float(kept.mean())
    rows = np.flatnonzero(kept.any(axis=1))
    if (
        mismatch.mean() > 0.3
        or covered > 0.7
        or covered < 0.02
        or rows[-1] - rows[0] < 0.35 * height
    ):
        return None  # a busy backdrop, or nothing that stands like a person
    kept = _fill_small_holes(kept, round(0.004 * height * width))
    return kept


def _smooth(values: np.ndarray) -> np.ndarray:
    """A column's values averaged over 9 rows (the backdrop's grain is not a change)."""
    padded = np.pad(values.astype(np.float32), 4, mode="edge")
    return np.convolve(padded, np.ones(9, dtype=np.float32) / 9, "valid")


def _largest_shape(image: Image.Image) -> np.ndarray | None:
    """The largest connected shape of the mask, with the large parts beside it (arms hanging
    free of the body, a head a collar's shadow parts from the shoulders)."""
    mask = np.asarray(image) > 127
    runs, roots = _connected(mask)
    if not runs:
        return None
    area: dict[int, int] = {}
    span: dict[int, tuple[int, int]] = {}
    for (_, start, end), root in zip(runs, roots, strict=True):
        area[root] = area.get(root, 0) + end - start
        lo, hi = span.get(root, (start, end))
        span[root] = (min(lo, start), max(hi, end))
    best = max(area, key=area.__getitem__)
    lo, hi = span[best]
    margin = 0.5 * (hi - lo)  # arms hanging free of the body, a head parted by a collar
    keep = {
        root
        for root in area
        if area[root] >= 0.03 * area[best]
        and span[root][0] < hi + margin
        and lo - margin < span[root][1]
    }
    kept = np.zeros_like(mask)
    for (y, start, end), root in zip(runs, roots, strict=True):
        if root in keep:
            kept[y, start:end] = True
    return kept


def _connected(mask: np.ndarray) -> tuple[list[tuple[int, int, int]], list[int]]:
    """The mask's runs and, for each, a label shared by the runs it touches (a run joins the
    previous row's runs it overlaps, diagonals included): a few thousand runs, not a pass per
    pixel."""
    runs = _runs(mask)
    parent = list(range(len(runs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_row: dict[int, list[int]] = {}
    for index, (y, _, _) in enumerate(runs):
        by_row.setdefault(y, []).append(index)
    for index, (y, start, end) in enumerate(runs):
        for other in by_row.get(y - 1, ()):
            _, o_start, o_end = runs[other]
            if o_start <= end and start <= o_end:
                parent[root(other)] = root(index)
    return runs, [root(i) for i in range(len(runs))]


def _runs(mask: np.ndarray) -> list[tuple[int, int, int]]:
    """Every row's runs of set pixels as ``(row, start, end)``."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    ys, xs = np.nonzero(np.diff(padded, axis=1))
    edges = xs.reshape(-1, 2)
    return [(int(y), int(a), int(b)) for y, (a, b) in zip(ys[::2], edges, strict=True)]


def _fill_small_holes(mask: np.ndarray, most: int) -> np.ndarray:
    """Backdrop-coloured parts wholly enclosed in the person (a fold as light as the wall) and
    smaller than ``most`` pixels; a gap open to the picture's edge (between legs that part at
    the feet, between an arm and the body) stays backdrop."""
    height, width = mask.shape

    def between(m: np.ndarray, axis: int) -> np.ndarray:
        ahead = np.maximum.accumulate(m, axis=axis)
        behind = np.flip(np.maximum.accumulate(np.flip(m, axis=axis), axis=axis), axis=axis)
        return ahead & behind

    if not (between(mask, 0) & between(mask, 1) & ~mask).any():
        return mask  # nothing enclosed at all: no need to label the backdrop
    runs, roots = _connected(~mask)
    area: dict[int, int] = {}
    open_to_edge: set[int] = set()
    for (y, start, end), root in zip(runs, roots, strict=True):
        area[root] = area.get(root, 0) + end - start
        if y in (0, height - 1) or start == 0 or end == width:
            open_to_edge.add(root)
    filled = mask.copy()
    for (y, start, end), root in zip(runs, roots, strict=True):
        if root not in open_to_edge and area[root] < most:
            filled[y, start:end] = True
    return filled


# --- skin and the face ----------------------------------------------------------------------


def _ycrcb(rgb: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r, g, b = rgb
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return y, 128 + 0.5 * r - 0.4187 * g - 0.0813 * b, 128 - 0.1687 * r - 0.3313 * g + 0.5 * b


def skin_rule(rgb: list[np.ndarray]) -> np.ndarray:
    """Skin of any tone, by the usual rule on chroma (it also takes some clothes)."""
    y, cr, cb = _ycrcb(rgb)
    return (cr > 135) & (cr < 180) & (cb > 80) & (cb < 130) & (y > 35)


def skin_like(rgb: list[np.ndarray], colour: tuple[float, float, float]) -> np.ndarray:
    """Skin of this person's tone: near the face's chroma, not much darker than the face."""
    y, cr, cb = _ycrcb(rgb)
    near = np.hypot(cr - colour[1], cb - colour[2]) < 9.5
    return near & (y > 0.42 * colour[0]) & (y < 1.35 * colour[0] + 20)


def find_face(person: np.ndarray | None, skin: np.ndarray) -> Box | None:
    """The head's box: from the crown to the chin, as wide as the face."""
    height, width = skin.shape
    if person is not None:
        rows = np.flatnonzero(person.any(axis=1))
        crown = int(rows[0])
        # The head: the top of the silhouette, down to where it widens into the shoulders.
        widths = person.sum(axis=1)
        head_w = float(np.median(widths[crown : crown + max(3, (rows[-1] - crown) // 14)]))
        region = np.zeros_like(person)
        region[crown : min(height, crown + round(3.0 * max(head_w, 8)))] = True
        candidates = skin & person & region
    else:
        crown, head_w = 0, 0.0
        candidates = skin.copy()
        candidates[height // 2 :] = False
    if candidates.sum() < 30:
        return _head_of(person) if person is not None else None
    # Each row's extent of skin (eyes and mouth are holes in it, not its ends).
    present = candidates.any(axis=1)
    lefts = np.argmax(candidates, axis=1)
    rights = width - np.argmax(candidates[:, ::-1], axis=1)
    extent = np.where(present, rights - lefts, 0)
    solid = extent >= 4
    starts = np.flatnonzero(solid[:-4] & solid[1:-3] & solid[2:-2] & solid[3:-1])
    if not len(starts):
        return None
    first = int(starts[0])
    # The face ends at its chin: where the skin has narrowed most of the way to the neck
    # (the narrowest rows below it), or where it widens into skin-coloured clothes.
    # The face's widest row, looked for within about a head's height (not the shoulders').
    reach = round(1.1 * head_w) if head_w > 8 else max(8, height // 8)
    end = min(height - 3, first + max(4, reach))
    for y in range(first + 4, end):  # bare shoulders widen the skin at once: not the face
        if extent[y : y + 3].min() > 1.3 * extent[first:y].max():
            end = y
            break
    peak_y = first + int(np.argmax(extent[first:end]))
    peak = float(extent[peak_y])
    window = extent[round(peak_y + 0.3 * peak) : round(peak_y + 1.3 * peak)]
    window = window[window > 0]
    neck = float(np.percentile(window, 25)) if len(window) else 0.5 * peak
    chin = peak_y
    for y in range(peak_y, height - 3):
        chin = y
        ahead = extent[y : y + 3]
        if ahead.max() <= neck + 0.25 * (peak - neck) or ahead.min() > 1.5 * peak:
            break
    face_rows = slice(first, max(first + 1, chin))
    left = int(np.percentile(lefts[face_rows][present[face_rows]], 10))
    right = int(np.percentile(rights[face_rows][present[face_rows]], 90))
    head = max(chin - crown, round(1.2 * peak))
    # A head is about 1.2-1.3 times as tall as it is wide (hair included): long hair hiding
    # the neck must not stretch it down to the shoulders.
    most = min(1.7 * peak, 1.35 * head_w) if head_w > 8 else 1.7 * peak
    chin = crown + min(head, round(most))
    pad = round(0.08 * (right - left))
    return (left - pad, crown, right + pad, chin)


def face_colour(
    rgb: list[np.ndarray], skin: np.ndarray, box: Box
) -> tuple[float, float, float] | None:
    """The face's skin colour (Y, Cr, Cb): the brighter half of the skin-coloured pixels in
    its box (brown hair passes the chroma rule too, and is darker than the skin it frames)."""
    x0, y0, x1, y1 = (max(0, v) for v in box)
    y, cr, cb = _ycrcb([c[y0:y1, x0:x1] for c in rgb])
    inside = skin[y0:y1, x0:x1]
    if inside.sum() < 20:
        return None
    inside &= y >= np.median(y[inside])
    return float(np.median(y[inside])), float(np.median(cr[inside])), float(np.median(cb[inside]))


def face_skin(rgb: list[np.ndarray], colour: tuple[float, float, float]) -> np.ndarray:
    """Skin as bright as a lit face of this colour: what the face is found on (hair, even
    brown, is darker; shadowed skin elsewhere is found by :func:`skin_like`)."""
    y, _, _ = _ycrcb(rgb)
    return skin_like(rgb, colour) & (y >= 0.7 * colour[0])


def _head_of(person: np.ndarray) -> Box | None:
    """A head where no skin shows (a grey photo, a face turned away): the top of the outline,
    down to where it widens into shoulders."""
    rows = np.flatnonzero(person.any(axis=1))
    crown = int(rows[0])
    widths = person.sum(axis=1)
    top_width = float(np.median(widths[crown : crown + max(3, (rows[-1] - crown) // 20)]))
    if top_width < 4:
        return None
    wide = np.flatnonzero(widths[crown:] > 1.8 * top_width)
    head = int(wide[0]) if len(wide) else round(1.3 * top_width)
    head = min(max(head, round(1.0 * top_width)), round(1.6 * top_width))
    xs = np.flatnonzero(person[crown : crown + head].any(axis=0))
    return (int(xs[0]), crown, int(xs[-1]) + 1, crown + head)

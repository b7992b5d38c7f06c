"""Where the person's parts are in their picture: found, not assumed.

1. **The silhouette**: what differs from the backdrop. The backdrop at each pixel is read from
   the picture's left and right edges on that row, blended across (a wall's gradient, a floor,
   a vignette are backdrop), and its grain sets how large a difference counts. Specks are
   dropped, only the person's own connected shape is kept, and small enclosed holes (a fold
   as light as the wall) are filled.
2. **The face**: the skin of the head at the top of the silhouette (a skin-colour rule, then the
   face's own colour for everything else); its width gives the head's height, and from it the
   proportions of a standing adult say where to look for the rest.
3. **The rest, measured where the picture shows it**: the shoulders (where the outline widens
   below the neck), the belt (the strongest change of colour across the middle between the chest
   and the hips), the crotch (where the legs part), what is in frame (a half-length photo has no
   legs), and the arms: skin of the face's colour beside and below the torso, narrow parts of
   the outline standing apart from it, and the arm's width up to the shoulder where a sleeve
   hides the skin. The torso is the silhouette without the arms.

Everything is NumPy on the result-sized picture (at most 1024 px), a few tens of milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from .outline import Box, face_colour, face_skin, find_face, silhouette, skin_like, skin_rule

#: Parts are found on a copy this tall (the result's masks are scaled back up).
_WORK_HEIGHT = 450


@dataclass
class Arm:
    """One arm: from its shoulder towards its hand, and its pixels."""

    shoulder: tuple[float, float]
    hand: tuple[float, float]
    mask: np.ndarray  # bool, the picture's size
    #: Where the hand is (its skin), ``None`` when it is out of the frame or hidden.
    hand_box: Box | None


@dataclass
class Body:
    """The parts of the person found in a picture (the picture's pixels)."""

    size: tuple[int, int]
    found: bool
    #: Soft silhouette 0..1 (``None`` when no person stands out from the backdrop).
    silhouette: np.ndarray | None
    #: The head, hair included, down to the chin.
    face: Box
    head: float  # the head's height, crown to chin
    centre_x: int
    chin_y: int
    shoulder_y: int
    chest_y: int
    belt_y: int
    crotch_y: int
    knee_y: int
    ankle_y: int
    legs_in_frame: bool
    arms: list[Arm]
    #: Per row, the torso's left and right edge (without the arms); -1 where there is none.
    torso_left: np.ndarray
    torso_right: np.ndarray

    @property
    def height(self) -> int:
        return round(self.head * 7.5)

    def arm_mask(self) -> np.ndarray:
        masks = [arm.mask for arm in self.arms]
        return np.logical_or.reduce(masks) if masks else np.zeros(self.size[::-1], dtype=bool)

    def torso_width(self, y: int) -> int:
        y = min(max(y, 0), self.size[1] - 1)
        if self.torso_left[y] < 0:
            return round(1.6 * self.head)
        return int(self.torso_right[y] - self.torso_left[y])


def find_body(person: Image.Image) -> Body:
    """The parts of the person in ``person`` (an RGB picture)."""
    scale = min(1.0, _WORK_HEIGHT / person.height)
    small = person.convert("RGB")
    if scale < 1.0:
        size = (max(8, round(person.width * scale)), _WORK_HEIGHT)
        small = small.resize(size, Image.Resampling.BILINEAR)
    rgb = np.asarray(small, dtype=np.float32)
    channels = [rgb[..., c] for c in range(3)]
    outline = silhouette(channels)
    any_skin = skin_rule(channels)
    face = find_face(outline, any_skin)
    if face is None:
        return _nobody(person.size)
    colour = face_colour(channels, any_skin, face)
    if colour is not None:  # found again on the face's own colour: hair is no face
        face = find_face(outline, face_skin(channels, colour)) or face
    skin = skin_like(channels, colour) if colour is not None else any_skin
    work = _measure(channels, outline, skin, face, small.size)
    return _scaled(work, person.size)


# --- measuring ------------------------------------------------------------------------------


def _measure(
    rgb: list[np.ndarray],
    person: np.ndarray | None,
    skin: np.ndarray,
    face: Box,
    size: tuple[int, int],
) -> Body:
    """The parts at the working size, from the face down, measured where the picture allows."""
    height = size[1]
    crown, chin = face[1], face[3]
    head = float(max(8, chin - crown))
    centre = (face[0] + face[2]) // 2
    if person is None:  # a busy backdrop: a person of the usual build under the face
        person = _figure(size, centre, crown, head)
    run_width = _run_widths(person, centre)
    shoulder_y = _shoulders(run_width, chin, head)
    chest_y = round(shoulder_y + 0.75 * head)
    belt_y = _belt_line(rgb, centre, shoulder_y, head)
    crotch_y = _crotch(person, centre, belt_y, head)
    bottom = int(np.flatnonzero(person.any(axis=1))[-1])
    ankle_y = round(crotch_y + 3.2 * head)
    if bottom < height - 3:  # the feet (and their shadow) are in the picture: ankles above
        ankle_y = min(ankle_y, round(bottom - 0.45 * head))
    arms = [_arm(person, skin, side, centre, shoulder_y, crotch_y, head) for side in (-1, 1)]
    arm_pixels = np.logical_or.reduce([a.mask for a in arms])
    left, right = _torso_edges(person & ~arm_pixels, centre, round(shoulder_y - 0.3 * head))
    return Body(
        size=size,
        found=True,
        silhouette=person.astype(np.float32),
        face=(face[0], crown, face[2], chin),
        head=head,
        centre_x=centre,
        chin_y=chin,
        shoulder_y=shoulder_y,
        chest_y=chest_y,
        belt_y=belt_y,
        crotch_y=crotch_y,
        knee_y=round(crotch_y + 1.7 * head),
        ankle_y=ankle_y,
        legs_in_frame=height > crotch_y + 0.8 * head,
        arms=arms,
        torso_left=left,
        torso_right=right,
    )


def _run_widths(person: np.ndarray, centre: int) -> np.ndarray:
    """Per row, the width of the silhouette's run through the middle column (0 if none)."""
    height, width = person.shape
    widths = np.zeros(height, dtype=np.int32)
    column = min(max(centre, 0), width - 1)
    for y in np.flatnonzero(person[:, column]):
        row = person[y]
        left = column - int(np.argmin(row[column::-1])) if not row[: column + 1].all() else 0
        ahead = row[column:]
        right = column + (int(np.argmin(ahead)) if not ahead.all() else len(ahead))
        widths[y] = right - left
    return widths


def _shoulders(widths: np.ndarray, chin: int, head: float) -> int:
    """Where the outline has widened from the neck to most of the shoulders' width."""
    low, high = round(chin + 0.2 * head), round(chin + 1.0 * head)
    span = widths[low : min(high, len(widths))]
    prior = round(chin + 0.42 * head)
    if len(span) < 3 or span.max() < 1.2 * head:
        return prior
    reached = np.flatnonzero(span >= 0.8 * span.max())
    found = low + int(reached[0])
    return min(max(found, round(chin + 0.25 * head)), round(chin + 0.65 * head))


def _belt_line(rgb: list[np.ndarray], centre: int, shoulder_y: int, head: float) -> int:
    """The strongest change of colour down the body's middle, between chest and hips: where
    a top meets trousers or a skirt (a belt, a waistband). Without one, where it usually is."""
    prior = round(shoulder_y + 1.8 * head)
    half = max(2, round(0.3 * head))
    strip = slice(max(0, centre - half), centre + half)
    profile = np.stack([c[:, strip].mean(axis=1) for c in rgb], axis=1)
    k = max(2, round(0.12 * head))
    low = max(round(shoulder_y + 1.1 * head), k)
    high = min(round(shoulder_y + 2.4 * head), len(profile) - k)
    if high <= low:
        return prior
    sums = np.cumsum(np.vstack([np.zeros((1, 3)), profile]), axis=0)
    ys = np.arange(low, high)
    below = (sums[ys + k] - sums[ys]) / k
    above = (sums[ys] - sums[ys - k]) / k
    change = np.abs(below - above).sum(axis=1)
    best = int(np.argmax(change))
    return int(ys[best]) if change[best] > 30 else prior


def _crotch(person: np.ndarray, centre: int, belt_y: int, head: float) -> int:
    """Where the legs part: the middle turns to backdrop with legs on both sides."""
    height, width = person.shape
    column = min(max(centre, 0), width - 1)
    for y in range(round(belt_y + 0.3 * head), min(height, round(belt_y + 1.4 * head))):
        row = person[y]
        reach = round(0.9 * head)
        if (
            not row[column]
            and row[max(0, column - reach) : column].any()
            and row[column : column + reach].any()
        ):
            return y
    return round(belt_y + 0.75 * head)


def _arm(
    person: np.ndarray,
    skin: np.ndarray,
    side: int,
    centre: int,
    shoulder_y: int,
    crotch_y: int,
    head: float,
) -> Arm:
    """One arm: bare skin beside the torso, a narrow part of the outline standing apart from
    it, and, where a sleeve hides the skin, the arm's width in from the outline's edge."""
    height, width = person.shape
    xs = np.arange(width)
    beside = (xs - centre) * side > 0.55 * head
    top, last = round(shoulder_y + 0.1 * head), min(height, round(crotch_y + 0.75 * head))
    arm = np.zeros_like(person)
    skin_rows = np.zeros(height, dtype=bool)
    bare = skin & person & beside[None, :]
    bare[:top] = False
    bare[last:] = False
    # Below the crotch, skin in the columns of bare legs (skin that goes on down past where
    # hands end) is legs, not a hand.
    below = round(crotch_y + 1.1 * head)
    if below < height:
        legs = np.flatnonzero(skin[below] & person[below])
        if len(legs):
            bare[crotch_y:, max(0, int(legs[0]) - 2) : int(legs[-1]) + 3] = False
    skin_rows = bare.any(axis=1)
    skin_widths = bare.sum(axis=1)
    measured = skin_widths[skin_rows]
    arm_width = float(np.median(measured)) * 1.15 if len(measured) > 3 else 0.4 * head
    arm_width = min(max(arm_width, 0.25 * head), 0.6 * head)
    lowest = int(np.flatnonzero(skin_rows)[-1]) if skin_rows.any() else crotch_y
    for y in range(top, min(lowest + 1, height)):
        row = person[y]
        filled = np.flatnonzero(row & beside)
        if not len(filled):
            continue
        outer = int(filled[0]) if side < 0 else int(filled[-1])
        runs = _row_runs(row)
        own = next((r for r in runs if r[0] <= outer < r[1]), (outer, outer + 1))
        # Standing apart: another part of the body (the torso, a leg) lies between this run
        # and the middle on this side. The run nearest the middle is the body itself, even
        # below the crotch where the middle column is backdrop.
        near_side = [r for r in runs if r[0] <= centre < r[1] or (r[0] - centre) * side > 0]
        inner = min(near_side, key=lambda r: abs((r[0] + r[1]) / 2 - centre))
        apart = own != inner and own[1] - own[0] < 0.8 * head
        if apart:
            arm[y, own[0] : own[1]] = True
            continue
        reach = max(arm_width, float(skin_widths[y]))
        if side < 0:
            arm[y, outer : round(outer + reach)] = True
        else:
            arm[y, max(0, round(outer - reach)) : outer + 1] = True
        arm[y] |= bare[y]
    arm &= person
    hand_box: Box | None = None
    if skin_rows.any() and lowest < height - 3:
        hand_top = max(top, round(lowest - 0.55 * head))
        ys, hx = np.nonzero(bare[hand_top : lowest + 1])
        if len(hx):
            hand_box = (int(hx.min()), hand_top + int(ys.min()), int(hx.max()) + 1, lowest + 1)
    rows = np.flatnonzero(arm.any(axis=1))
    if len(rows):
        end_y = int(rows[-1])
        end_x = float(np.flatnonzero(arm[end_y]).mean())
        start_x = float(np.flatnonzero(arm[rows[0]]).mean())
    else:
        end_y, end_x, start_x = lowest, centre + side * head, centre + side * head
    return Arm(
        shoulder=(start_x, float(shoulder_y)),
        hand=(end_x, float(end_y)),
        mask=arm,
        hand_box=hand_box,
    )


def _row_runs(row: np.ndarray) -> list[tuple[int, int]]:
    padded = np.zeros(len(row) + 2, dtype=np.int8)
    padded[1:-1] = row
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in edges.reshape(-1, 2)]


def _torso_edges(torso: np.ndarray, centre: int, top: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row (from ``top``), the edges of the part of ``torso`` around the middle column."""
    height = torso.shape[0]
    left = np.full(height, -1, dtype=np.int32)
    right = np.full(height, -1, dtype=np.int32)
    for y in range(max(0, top), height):
        runs = _row_runs(torso[y])
        if not runs:
            continue
        run = min(
            runs,
            key=lambda r: (
                0 if r[0] <= centre < r[1] else min(abs(r[0] - centre), abs(r[1] - centre))
            ),
        )
        left[y], right[y] = run
    return left, right


def _figure(size: tuple[int, int], centre: int, crown: int, head: float) -> np.ndarray:
    """A standing person of the usual build below a face, for a busy backdrop."""
    width, height = size
    ys = np.arange(height)[:, None]
    xs = np.arange(width)[None, :]
    below = (ys - crown) / head
    half = np.interp(
        below,
        [0, 1.0, 1.2, 1.45, 2.0, 3.2, 4.0, 7.5],
        [0.35, 0.35, 0.25, 0.95, 0.85, 0.8, 0.8, 0.3],
    )
    return (np.abs(xs - centre) <= half * head) & (below >= 0) & (below <= 7.5)


def _nobody(size: tuple[int, int]) -> Body:
    """No face stands out: nothing is to be dressed."""
    width, height = size
    empty = np.full(height, -1, dtype=np.int32)
    return Body(
        size=size, found=False, silhouette=None, face=(0, -1, 0, -1), head=height / 7.5,
        centre_x=width // 2, chin_y=0, shoulder_y=0, chest_y=0, belt_y=0, crotch_y=0, knee_y=0,
        ankle_y=0, legs_in_frame=False, arms=[], torso_left=empty, torso_right=empty.copy(),
    )  # fmt: skip


def _scaled(body: Body, size: tuple[int, int]) -> Body:
    """``body`` measured on the working copy, in the full picture's pixels."""
    factor = size[1] / body.size[1]
    if abs(factor - 1.0) < 1e-6:
        return body

    def s(v: float) -> int:
        return round(v * factor)

    def up(mask: np.ndarray) -> np.ndarray:
        image = Image.fromarray((mask.astype(np.float32) * 255).astype(np.uint8))
        return np.asarray(image.resize(size, Image.Resampling.BILINEAR), dtype=np.float32) / 255

    rows = np.minimum((np.arange(size[1]) / factor).astype(np.int32), body.size[1] - 1)
    left, right = body.torso_left[rows], body.torso_right[rows]
    return Body(
        size=size,
        found=body.found,
        silhouette=None if body.silhouette is None else up(body.silhouette),
        face=(s(body.face[0]), s(body.face[1]), s(body.face[2]), s(body.face[3])),
        head=body.head * factor,
        centre_x=s(body.centre_x),
        chin_y=s(body.chin_y),
        shoulder_y=s(body.shoulder_y),
        chest_y=s(body.chest_y),
        belt_y=s(body.belt_y),
        crotch_y=s(body.crotch_y),
        knee_y=s(body.knee_y),
        ankle_y=s(body.ankle_y),
        legs_in_frame=body.legs_in_frame,
        arms=[
            Arm(
                shoulder=(arm.shoulder[0] * factor, arm.shoulder[1] * factor),
                hand=(arm.hand[0] * factor, arm.hand[1] * factor),
                mask=up(arm.mask) > 0.5,
                hand_box=None if arm.hand_box is None else tuple(s(v) for v in arm.hand_box),  # type: ignore[arg-type]
            )
            for arm in body.arms
        ],
        torso_left=np.where(left >= 0, np.round(left * factor), -1).astype(np.int32),
        torso_right=np.where(right >= 0, np.round(right * factor), -1).astype(np.int32),
    )

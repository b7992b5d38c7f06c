"""Where the body is in the person's picture: head, shoulders, torso, hips, legs, hands.

The silhouette is what differs from the backdrop, taken row by row from the picture's left and
right edges (so a vertical gradient or a studio sweep still counts as backdrop). When the
backdrop is busy and no clean silhouette stands out, the body comes from the usual proportions
of a person standing in the middle of the frame. Everything is measured on a copy about
200 pixels tall, in a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageChops, ImageFilter

from .garment import Runs, row_runs

_WORK_HEIGHT = 200
_DIFFERENCE = 22  # a channel this far from the row's backdrop colour is the person
Box = tuple[int, int, int, int]


@dataclass
class Body:
    """Landmarks in the full picture's pixels."""

    box: Box
    centre_x: int
    neck_y: int
    shoulder_y: int
    #: Width across the shoulders and chest (with the arms when they touch the body).
    torso_width: int
    waist_y: int
    crotch_y: int
    ankle_y: int
    #: Left and right edge of the legs just below the crotch.
    hips: tuple[int, int]
    face: Box
    #: Where the hands are, when the arms could be followed to them.
    hands: list[tuple[int, int]]
    #: The person's silhouette at full size (``None`` when the backdrop was too busy).
    silhouette: Image.Image | None

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]


def find_body(person: Image.Image) -> Body:
    """The body's landmarks in ``person`` (an RGB picture)."""
    scale = _WORK_HEIGHT / person.height
    small = person.resize(
        (max(8, round(person.width * scale)), _WORK_HEIGHT), Image.Resampling.BILINEAR
    )
    mask = _silhouette(small)
    if mask is None:
        return _scaled(_proportional(small.size), 1 / scale, None)
    body = _measure(row_runs(mask), mask.size)
    if body is None:
        return _scaled(_proportional(small.size), 1 / scale, None)
    # The outline a fitted garment is trimmed to: found again at twice the size so its
    # diagonals (arms) do not show steps, with a pixel's grace so no garment edge is eaten.
    fine = person.resize((small.width * 2, small.height * 2), Image.Resampling.BILINEAR)
    outline = _silhouette(fine, check=False) or mask.resize(fine.size)
    outline = outline.filter(ImageFilter.MaxFilter(3)).filter(ImageFilter.GaussianBlur(1.0))
    full = outline.resize(person.size, Image.Resampling.BICUBIC)
    return _scaled(body, 1 / scale, full)


def _silhouette(small: Image.Image, check: bool = True) -> Image.Image | None:
    width, height = small.size
    strip = max(2, width // 40)
    left = small.crop((0, 0, strip, height)).resize((1, height), Image.Resampling.BOX)
    right = small.crop((width - strip, 0, width, height)).resize((1, height), Image.Resampling.BOX)
    edges = ImageChops.difference(left, right).convert("L")
    backdrop = Image.blend(left, right, 0.5).resize((width, height), Image.Resampling.NEAREST)
    difference = ImageChops.difference(small, backdrop)
    channels = difference.split()
    strongest = ImageChops.lighter(channels[0], ImageChops.lighter(channels[1], channels[2]))
    mask = strongest.point(lambda v: 255 if v > _DIFFERENCE else 0)
    mask = mask.filter(ImageFilter.MinFilter(3)).filter(ImageFilter.MaxFilter(3))
    box = mask.getbbox()
    if box is None:
        return None
    covered = sum(mask.histogram()[128:]) / (width * height)
    mismatched = sum(edges.point(lambda v: 255 if v > _DIFFERENCE else 0).histogram()[128:])
    # A busy backdrop: the two edges disagree, or "the person" fills most of the frame.
    if check and (mismatched > 0.25 * height or covered > 0.6 or box[3] - box[1] < 0.4 * height):
        return None
    return mask


def _centre_run(row: list[tuple[int, int]], x: float) -> tuple[int, int] | None:
    for start, end in row:
        if start <= x < end:
            return start, end
    return None


def _measure(runs: Runs, size: tuple[int, int]) -> Body | None:
    rows = [y for y, row in enumerate(runs) if row]
    top, bottom = rows[0], rows[-1] + 1
    height = bottom - top
    head = [r for r in runs[top : top + max(1, height // 12)] if r]
    centre = sum((r[0][0] + r[-1][1]) / 2 for r in head) / len(head)

    def width_at(y: int) -> int:
        run = _centre_run(runs[min(max(y, 0), len(runs) - 1)], centre)
        return run[1] - run[0] if run else 0

    neck_y = min(
        range(top + round(0.1 * height), top + round(0.22 * height)),
        key=lambda y: width_at(y) or 10**6,
    )
    neck_w = max(1, width_at(neck_y))
    shoulder_y = next(
        (y for y in range(neck_y, top + round(0.3 * height)) if width_at(y) > 2.2 * neck_w),
        -1,
    )
    if abs(shoulder_y - (top + 0.19 * height)) > 0.05 * height:
        # Long hair or a collar hides the neck: a standing adult's shoulders are at about a
        # fifth of their height.
        neck_y, shoulder_y = top + round(0.14 * height), top + round(0.19 * height)
    # The chest below the armpits, where arms that hang free are apart from the body.
    chest_rows = range(shoulder_y + round(0.06 * height), shoulder_y + round(0.15 * height))
    chest = [width_at(y) for y in chest_rows]
    torso_width = sorted(chest)[len(chest) // 2] if chest else round(0.25 * height)
    torso_width = min(max(torso_width, round(0.16 * height)), round(0.36 * height))
    crotch_y = next(
        (
            y
            for y in range(top + round(0.4 * height), top + round(0.8 * height))
            if _centre_run(runs[y], centre) is None
            and any(e <= centre and e > centre - torso_width for _, e in runs[y])
            and any(s >= centre and s < centre + torso_width for s, _ in runs[y])
        ),
        top + round(0.48 * height),
    )
    hip_row = runs[min(crotch_y + round(0.03 * height), len(runs) - 1)]
    lefts = [r for r in hip_row if r[1] <= centre + 1]
    rights = [r for r in hip_row if r[0] >= centre - 1]
    hips = (
        lefts[-1][0] if lefts else round(centre - 0.1 * height),
        rights[0][1] if rights else round(centre + 0.1 * height),
    )
    face_rows = runs[top:neck_y]
    face = (
        min((r[0][0] for r in face_rows if r), default=round(centre - 0.06 * height)),
        top,
        max((r[-1][1] for r in face_rows if r), default=round(centre + 0.06 * height)),
        neck_y,
    )
    hands = _hands(runs, shoulder_y, crotch_y, height, size[0])
    return Body(
        box=(min(r[0][0] for r in runs if r), top, max(r[-1][1] for r in runs if r), bottom),
        centre_x=round(centre),
        neck_y=neck_y,
        shoulder_y=shoulder_y,
        torso_width=torso_width,
        waist_y=crotch_y - round(0.12 * height),
        crotch_y=crotch_y,
        ankle_y=bottom - round(0.035 * height),
        hips=hips,
        face=face,
        hands=hands,
        silhouette=None,
    )


def _hands(
    runs: Runs, shoulder_y: int, crotch_y: int, height: int, width: int
) -> list[tuple[int, int]]:
    """Where the hands are: follow each side's outer edge down from the shoulder until it
    jumps inward (the arm ended); the hand is just above and inside that point."""
    hands: list[tuple[int, int]] = []
    start, end = shoulder_y + round(0.05 * height), min(crotch_y + round(0.1 * height), len(runs))
    for side in (-1, 1):
        edge = [
            (y, (runs[y][0][0] if side < 0 else width - runs[y][-1][1]))
            for y in range(start, end)
            if runs[y]
        ]
        for i in range(1, len(edge)):
            if edge[i][1] - edge[i - 1][1] > 0.025 * height:
                y, inset = edge[i - 1]
                x = inset if side < 0 else width - inset
                hands.append((x - side * round(0.03 * height), y - round(0.02 * height)))
                break
    return hands


def _proportional(size: tuple[int, int]) -> Body:
    """A person standing in the middle of the frame, with the usual proportions."""
    width, height = size
    top, bottom = round(0.03 * height), round(0.97 * height)
    h = bottom - top
    centre = width // 2
    return Body(
        box=(round(centre - 0.25 * h), top, round(centre + 0.25 * h), bottom),
        centre_x=centre,
        neck_y=top + round(0.13 * h),
        shoulder_y=top + round(0.17 * h),
        torso_width=round(0.26 * h),
        waist_y=top + round(0.4 * h),
        crotch_y=top + round(0.48 * h),
        ankle_y=bottom - round(0.035 * h),
        hips=(round(centre - 0.1 * h), round(centre + 0.1 * h)),
        face=(round(centre - 0.065 * h), top, round(centre + 0.065 * h), top + round(0.13 * h)),
        hands=[],
        silhouette=None,
    )


def _scaled(body: Body, factor: float, silhouette: Image.Image | None) -> Body:
    def s(v: float) -> int:
        return round(v * factor)

    return Body(
        box=(s(body.box[0]), s(body.box[1]), s(body.box[2]), s(body.box[3])),
        centre_x=s(body.centre_x),
        neck_y=s(body.neck_y),
        shoulder_y=s(body.shoulder_y),
        torso_width=s(body.torso_width),
        waist_y=s(body.waist_y),
        crotch_y=s(body.crotch_y),
        ankle_y=s(body.ankle_y),
        hips=(s(body.hips[0]), s(body.hips[1])),
        face=(s(body.face[0]), s(body.face[1]), s(body.face[2]), s(body.face[3])),
        hands=[(s(x), s(y)) for x, y in body.hands],
        silhouette=silhouette,
    )

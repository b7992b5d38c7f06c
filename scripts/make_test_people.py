"""Make the photo-like test people the simulator's realism checks run on, with their part maps.

No photograph can be downloaded here, so these are rendered: a room's wall and floor with a
skirting board, soft light and a shadow, a person with shaded skin of their own tone, hair, a
face, clothes with folds, a belt and shoes, then lens blur, sensor noise and JPEG compression.
Beside each ``NAME.jpg`` go ``NAME-parts.png`` (one grey level per part, see ``PARTS``) and
``NAME.json`` (the part legend and where the belt is), which the tests read as ground truth:
the simulator never sees them.

People: ``standing`` (full length, arms hanging by the hips, touching them), ``legs-together``
(full length, long hair, legs touching from hip to ankle), ``half-length`` (head to hips, no legs
in the frame, larger) and ``white-shirt`` (a white collared shirt against a beige wall, from the
head to the shins: the picture that made every create answer HTTP 500).

Run ``python -m scripts.make_test_people``; the output is deterministic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "people"
SUPER = 3  # shapes are drawn this many times larger, then averaged: smooth edges

#: Part -> grey level in the part map (0 is the backdrop).
PARTS: dict[str, int] = {
    "backdrop": 0,
    "hair": 10,
    "face": 20,
    "neck": 30,
    "shoulders": 40,
    "chest": 50,
    "waist": 60,
    "hips": 70,
    "thighs": 80,
    "knees": 90,
    "shins": 100,
    "feet": 110,
    "upper_arms": 120,
    "forearms": 130,
    "hands": 140,
}

Colour = tuple[int, int, int]
Point = tuple[float, float]


@dataclass
class Person:
    """Where a person stands and what they wear, in head heights (``h``) from the crown."""

    name: str
    size: tuple[int, int]
    crown: Point  # x of the body's middle, y of the top of the head
    h: float  # head height in pixels (a standing adult is about 7.5 of them)
    skin: Colour
    hair: Colour
    top: Colour
    trousers: Colour
    wall: Colour
    floor: Colour | None
    long_hair: bool = False
    shoulders: float = 0.95  # half the shoulders' width, in heads
    hips: float = 0.8
    legs_apart: float = 0.42  # the hip joints' distance from the middle, in heads
    arm_out: float = 0.0  # how far the elbows and wrists stand out from the body, in heads
    collar: bool = False
    seed: int = 1
    landmarks: dict[str, int] = field(default_factory=dict)


PEOPLE = [
    Person(
        "standing", (600, 900), (300, 42), 107, skin=(198, 146, 112), hair=(46, 34, 28),
        top=(92, 112, 96), trousers=(46, 62, 92), wall=(214, 218, 222), floor=(150, 128, 104),
        seed=11,
    ),
    Person(
        "legs-together", (600, 900), (292, 46), 106, skin=(128, 86, 62), hair=(24, 20, 20),
        top=(168, 84, 70), trousers=(58, 56, 60), wall=(198, 208, 200), floor=(120, 118, 116),
        long_hair=True, shoulders=0.86, hips=0.76, legs_apart=0.3, arm_out=0.22, seed=12,
    ),
    Person(
        "half-length", (600, 800), (300, 70), 196, skin=(232, 196, 170), hair=(120, 82, 50),
        top=(66, 92, 140), trousers=(40, 40, 46), wall=(206, 200, 212), floor=None,
        shoulders=0.9, arm_out=0.05, seed=13,
    ),
    Person(
        "white-shirt", (600, 900), (304, 40), 130, skin=(214, 168, 136), hair=(60, 44, 32),
        top=(240, 240, 236), trousers=(70, 72, 78), wall=(226, 212, 186), floor=(168, 150, 126),
        collar=True, seed=14,
    ),
]  # fmt: skip


class Canvas:
    """Shapes drawn large on a mask, then averaged down: coverage in 0..1."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.size = size

    def mask(self, draw: object) -> np.ndarray:
        w, h = self.size
        big = Image.new("L", (w * SUPER, h * SUPER), 0)
        draw(ImageDraw.Draw(big), SUPER)  # type: ignore[operator]
        small = big.resize((w, h), Image.Resampling.BOX)
        return np.asarray(small, dtype=np.float32) / 255.0


def limb(points: list[Point], radii: list[float]) -> object:
    """A tapered limb through ``points``, as overlapping discs (its joints are round)."""

    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        for (x0, y0), (x1, y1), r0, r1 in zip(points, points[1:], radii, radii[1:], strict=False):
            steps = max(2, int(np.hypot(x1 - x0, y1 - y0) / 2))
            for t in np.linspace(0, 1, steps):
                x, y, r = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, r0 + (r1 - r0) * t
                d.ellipse(((x - r) * s, (y - r) * s, (x + r) * s, (y + r) * s), fill=255)

    return draw


def polygon(points: list[Point]) -> object:
    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        d.polygon([(x * s, y * s) for x, y in points], fill=255)

    return draw


def ellipse(box: tuple[float, float, float, float]) -> object:
    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        d.ellipse(tuple(v * s for v in box), fill=255)

    return draw


def smooth_noise(rng: np.random.Generator, size: tuple[int, int], cells: int) -> np.ndarray:
    """Low-frequency noise in -1..1: a few random values per side, smoothly enlarged."""
    w, h = size
    grid = rng.uniform(0, 255, (max(2, cells * h // w), cells)).astype(np.uint8)
    big = Image.fromarray(grid).resize((w, h), Image.Resampling.BICUBIC)
    return np.asarray(big, dtype=np.float32) / 127.5 - 1.0


def dome(mask: np.ndarray, radius: float) -> np.ndarray:
    """Roundness: 1 along a shape's middle, falling off to its edges (a blurred mask)."""
    image = Image.fromarray((mask * 255).astype(np.uint8))
    blurred = np.asarray(image.filter(ImageFilter.GaussianBlur(radius)), dtype=np.float32) / 255
    return np.clip(blurred * 2 - 0.35, 0, 1)


def paint(canvas: np.ndarray, mask: np.ndarray, colour: np.ndarray | Colour) -> None:
    m = mask[..., None]
    canvas[:] = canvas * (1 - m) + np.asarray(colour, dtype=np.float32) * m


def shaded(colour: Colour, mask: np.ndarray, radius: float, light: float = 0.3) -> np.ndarray:
    """``colour`` lit as a rounded surface: darker towards the edges, lighter on the left."""
    roundness = dome(mask, radius)
    lit = dome(np.roll(mask, (-int(radius / 3), -int(radius / 2)), axis=(0, 1)), radius)
    level = 0.72 + 0.3 * roundness + light * 0.25 * (lit - roundness)
    return np.asarray(colour, dtype=np.float32) * level[..., None]


def folds(
    rng: np.random.Generator, size: tuple[int, int], period: float, angle: float, depth: float
) -> np.ndarray:
    """Cloth folds: soft stripes at ``angle`` whose course wanders, as 1 +/- ``depth``."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    wander = smooth_noise(rng, size, 6) * period * 0.8
    phase = (x * np.cos(angle) + y * np.sin(angle) + wander) * (2 * np.pi / period)
    ridge = np.sin(phase) ** 3  # sharp creases, broad flats
    return 1.0 + depth * ridge * (0.5 + 0.5 * smooth_noise(rng, size, 4))


def render(p: Person) -> tuple[Image.Image, Image.Image, dict[str, int]]:
    rng = np.random.default_rng(p.seed)
    w, hgt = p.size
    cx, top = p.crown
    h = p.h
    c = Canvas(p.size)

    def Y(heads: float) -> float:
        return top + heads * h

    # --- the room -------------------------------------------------------------------------
    y, x = np.mgrid[0:hgt, 0:w].astype(np.float32)
    wall = np.asarray(p.wall, dtype=np.float32)
    light = 1.04 - 0.1 * (y / hgt) - 0.09 * ((x - w * 0.4) / w) ** 2 * 4
    texture = 1 + 0.018 * smooth_noise(rng, p.size, 24) + 0.012 * smooth_noise(rng, p.size, 7)
    img = wall * (light * texture)[..., None]
    floor_y = Y(7.25) if p.floor else hgt * 2
    if p.floor is not None:
        floor = np.asarray(p.floor, dtype=np.float32)
        boards = (
            1
            + 0.05 * np.sin(x / 37 + smooth_noise(rng, p.size, 5) * 2)
            + 0.025 * (smooth_noise(rng, p.size, 40))
        )
        depth = np.clip((y - floor_y) / (hgt - floor_y + 1), 0, 1)
        ground = floor * ((0.86 + 0.14 * depth) * boards)[..., None]
        skirting = (y >= floor_y - 0.12 * h) & (y < floor_y)
        img = np.where((y >= floor_y)[..., None], ground, img)
        img = np.where(skirting[..., None], np.float32(236) * light[..., None] * 0.98, img)
        img[np.abs(y - floor_y + 0.12 * h) < 1.2] *= 0.85  # the board's top edge

    # --- the body's outline, part by part -------------------------------------------------
    s = p.shoulders
    shoulder_y, armpit_y, chest_y, belt_y, crotch_y = Y(1.42), Y(1.95), Y(2.5), Y(3.2), Y(3.95)
    knee_y, ankle_y = Y(5.65), Y(7.15)
    torso_pts = [
        (cx - 0.25 * h, Y(1.22)), (cx + 0.25 * h, Y(1.22)),
        (cx + (s - 0.12) * h, shoulder_y - 0.06 * h), (cx + s * h, shoulder_y + 0.12 * h),
        (cx + (s - 0.12) * h, armpit_y), (cx + 0.7 * h, Y(2.75)), (cx + p.hips * h, Y(3.45)),
        (cx + (p.hips - 0.02) * h, crotch_y), (cx - (p.hips - 0.02) * h, crotch_y),
        (cx - p.hips * h, Y(3.45)), (cx - 0.7 * h, Y(2.75)), (cx - (s - 0.12) * h, armpit_y),
        (cx - s * h, shoulder_y + 0.12 * h), (cx - (s - 0.12) * h, shoulder_y - 0.06 * h),
    ]  # fmt: skip
    torso = c.mask(polygon(torso_pts))
    legs, knees_m, feet = [], [], []
    for side in (-1, 1):
        hip = (cx + side * p.legs_apart * h, Y(3.75))
        knee = (cx + side * (p.legs_apart - 0.06) * h, knee_y)
        ankle = (cx + side * (p.legs_apart - 0.1) * h, ankle_y)
        legs.append(c.mask(limb([hip, knee, ankle], [0.4 * h, 0.25 * h, 0.14 * h])))
        toe = ankle[0] + side * 0.12 * h
        feet.append(
            c.mask(ellipse((toe - 0.2 * h, ankle_y - 0.05 * h, toe + 0.2 * h, ankle_y + 0.3 * h)))
        )
        knees_m.append(knee)
    leg = np.maximum(legs[0], legs[1])
    foot = np.maximum(feet[0], feet[1])
    arms_upper, arms_fore, hands = [], [], []
    for side in (-1, 1):
        joint = (cx + side * (s - 0.16) * h, shoulder_y + 0.14 * h)
        elbow = (cx + side * (s - 0.06 + p.arm_out) * h, Y(2.85))
        wrist = (cx + side * (s - 0.12 + 1.5 * p.arm_out) * h, Y(3.85))
        arms_upper.append(c.mask(limb([joint, elbow], [0.21 * h, 0.17 * h])))
        arms_fore.append(c.mask(limb([elbow, wrist], [0.16 * h, 0.11 * h])))
        hand_c = (wrist[0] + side * 0.02 * h, wrist[1] + 0.33 * h)
        hands.append(
            c.mask(
                ellipse(
                    (
                        hand_c[0] - 0.13 * h,
                        hand_c[1] - 0.3 * h,
                        hand_c[0] + 0.13 * h,
                        hand_c[1] + 0.3 * h,
                    )
                )
            )
        )
    upper = np.maximum(arms_upper[0], arms_upper[1])
    fore = np.clip(np.maximum(arms_fore[0], arms_fore[1]) - upper, 0, 1)
    hand = np.clip(np.maximum(hands[0], hands[1]) - np.maximum(fore, upper) * 0.0, 0, 1)
    neck = c.mask(polygon([(cx - 0.21 * h, Y(0.7)), (cx + 0.21 * h, Y(0.7)),
                           (cx + 0.24 * h, Y(1.4)), (cx - 0.24 * h, Y(1.4))]))  # fmt: skip
    head = c.mask(ellipse((cx - 0.37 * h, Y(0.0), cx + 0.37 * h, Y(1.0))))
    ears = c.mask(ellipse((cx - 0.43 * h, Y(0.42), cx - 0.3 * h, Y(0.66)))) + c.mask(
        ellipse((cx + 0.3 * h, Y(0.42), cx + 0.43 * h, Y(0.66)))
    )
    hair_top = c.mask(ellipse((cx - 0.41 * h, Y(-0.06), cx + 0.41 * h, Y(0.62))))
    hair_cut = c.mask(polygon([(cx - 0.6 * h, Y(0.34)), (cx - 0.2 * h, Y(0.22)),
                               (cx + 0.3 * h, Y(0.26)), (cx + 0.6 * h, Y(0.4)),
                               (cx + 0.6 * h, Y(1.2)), (cx - 0.6 * h, Y(1.2))]))  # fmt: skip
    hair = np.clip(hair_top - hair_cut, 0, 1)
    back_hair = np.zeros_like(hair)
    if p.long_hair:
        back_hair = c.mask(
            polygon([(cx - 0.44 * h, Y(0.3)), (cx + 0.44 * h, Y(0.3)),
                     (cx + 0.58 * h, Y(1.75)), (cx - 0.58 * h, Y(1.75))])
        )  # fmt: skip
        hair = np.maximum(
            hair,
            c.mask(
                polygon(
                    [
                        (cx - 0.43 * h, Y(0.3)),
                        (cx - 0.3 * h, Y(0.3)),
                        (cx - 0.34 * h, Y(1.6)),
                        (cx - 0.56 * h, Y(1.7)),
                    ]
                )
            ),
        )
        right = polygon([(cx + 0.43 * h, Y(0.3)), (cx + 0.3 * h, Y(0.3)),
                         (cx + 0.34 * h, Y(1.6)), (cx + 0.56 * h, Y(1.7))])  # fmt: skip
        hair = np.maximum(hair, c.mask(right))

    person_m = np.clip(np.maximum.reduce([torso, leg, foot, upper, fore, hand, neck, head,
                                          back_hair, ears]), 0, 1)  # fmt: skip
    # --- shadows on the floor and the wall ------------------------------------------------
    shadow = np.zeros_like(person_m)
    if p.floor is not None:
        contact = c.mask(
            ellipse((cx - 1.3 * h, ankle_y + 0.15 * h, cx + 1.5 * h, ankle_y + 0.42 * h))
        )
        shadow = np.maximum(shadow, 0.45 * dome(contact, 0.25 * h))
    cast = np.roll(person_m, (int(0.05 * h), int(0.12 * h)), axis=(0, 1))
    cast_img = Image.fromarray((cast * 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(0.35 * h)
    )
    shadow = np.maximum(shadow, 0.1 * np.asarray(cast_img, dtype=np.float32) / 255)
    img *= (1 - shadow)[..., None]

    # --- skin, clothes and hair -----------------------------------------------------------
    skin = p.skin
    paint(
        img,
        back_hair,
        shaded(p.hair, back_hair, 0.3 * h) * folds(rng, p.size, 5, 1.5, 0.25)[..., None],
    )
    trouser_m = np.clip(np.maximum(leg, torso * (y >= belt_y)), 0, 1)
    trouser_folds = folds(rng, p.size, 0.5 * h, 1.35, 0.1) * folds(rng, p.size, 0.3 * h, 0.2, 0.05)
    knee_creases = np.zeros_like(leg)
    for kx, ky in knees_m:
        knee_creases += np.exp(-(((x - kx) / (0.3 * h)) ** 2 + ((y - ky) / (0.25 * h)) ** 2))
    trouser_folds *= 1 - 0.1 * knee_creases * (0.5 + 0.5 * np.sin(y / (0.035 * h)))
    paint(img, trouser_m, shaded(p.trousers, trouser_m, 0.3 * h) * trouser_folds[..., None])
    # Trouser legs end at the ankles; shoes under them.
    paint(img, foot, shaded((34, 30, 30), foot, 0.1 * h, 0.8))
    top_m = np.clip(torso * (y < belt_y + 0.02 * h), 0, 1)
    sleeve_end = shoulder_y + 0.55 * (Y(2.85) - shoulder_y)
    sleeve_m = np.clip(upper * (y < sleeve_end), 0, 1)
    shirt_folds = folds(rng, p.size, 0.45 * h, 0.7, 0.09) * folds(rng, p.size, 0.55 * h, 2.3, 0.07)
    tucked = np.exp(-(((y - (belt_y - 0.1 * h)) / (0.12 * h)) ** 2))
    shirt_folds *= 1 - 0.1 * tucked * (0.5 + 0.5 * np.sin(x / (0.05 * h)))  # gathered
    belt_m = np.clip(torso * (np.abs(y - belt_y) < 0.075 * h), 0, 1)
    skin_arm = np.clip(np.maximum(upper * (y >= sleeve_end), fore), 0, 1)
    paint(img, skin_arm, shaded(skin, skin_arm, 0.12 * h))
    paint(img, hand, shaded(tuple(int(v * 1.03) for v in skin), hand, 0.1 * h))  # type: ignore[arg-type]
    paint(img, top_m, shaded(p.top, top_m, 0.45 * h) * shirt_folds[..., None])
    paint(img, sleeve_m, shaded(p.top, sleeve_m, 0.14 * h) * shirt_folds[..., None])
    # Arms in front of the torso where they overlap it: redraw the bare part on top.
    bare = np.clip(np.maximum(upper * (y >= sleeve_end), fore) - 0.0, 0, 1)
    paint(img, bare, shaded(skin, bare, 0.12 * h))
    paint(img, hand, shaded(tuple(int(v * 1.03) for v in skin), hand, 0.1 * h))  # type: ignore[arg-type]
    paint(img, belt_m, shaded((70, 44, 30), belt_m, 0.3 * h, 0.6))
    buckle = c.mask(ellipse((cx - 0.1 * h, belt_y - 0.065 * h, cx + 0.1 * h, belt_y + 0.065 * h)))
    paint(img, buckle, (176, 160, 120))
    # Neck, with the collar's shadow under the chin.
    neck_col = (
        shaded(skin, neck, 0.12 * h)
        * (1 - 0.25 * np.clip((Y(1.0) + 0.1 * h - y) / (0.1 * h), 0, 1))[..., None]
    )
    paint(img, neck, neck_col)
    if p.collar:
        for side in (-1, 1):
            corners = [(cx, Y(1.42)), (cx + side * 0.26 * h, Y(1.12)),
                       (cx + side * 0.4 * h, Y(1.3)), (cx + side * 0.16 * h, Y(1.55))]  # fmt: skip
            flap = c.mask(polygon(corners))
            paint(img, flap, shaded(p.top, flap, 0.06 * h) * 0.98)
        placket = c.mask(polygon([(cx - 0.03 * h, Y(1.42)), (cx + 0.03 * h, Y(1.42)),
                                  (cx + 0.03 * h, belt_y), (cx - 0.03 * h, belt_y)]))  # fmt: skip
        paint(img, placket, np.asarray(p.top, dtype=np.float32) * 0.9)
        for k in range(5):
            by = Y(1.65 + 0.33 * k)
            paint(
                img,
                c.mask(ellipse((cx - 0.03 * h, by - 0.03 * h, cx + 0.03 * h, by + 0.03 * h))),
                (200, 200, 196),
            )
    else:
        neckline = c.mask(ellipse((cx - 0.26 * h, Y(1.12), cx + 0.26 * h, Y(1.42)))) * torso
        paint(img, neckline, shaded(skin, neckline, 0.08 * h))
    # Head: ears, face, features, hair.
    paint(img, ears, shaded(tuple(int(v * 0.95) for v in skin), ears, 0.05 * h))  # type: ignore[arg-type]
    paint(img, head, shaded(skin, head, 0.3 * h, 0.5))
    for side in (-1, 1):
        ex = cx + side * 0.16 * h
        paint(
            img, c.mask(ellipse((ex - 0.085 * h, Y(0.43), ex + 0.085 * h, Y(0.5)))), (236, 232, 228)
        )
        paint(
            img, c.mask(ellipse((ex - 0.04 * h, Y(0.425), ex + 0.04 * h, Y(0.505)))), (52, 40, 34)
        )
        brow = c.mask(polygon([(ex - 0.1 * h, Y(0.37)), (ex + 0.1 * h, Y(0.36)),
                               (ex + 0.1 * h, Y(0.385)), (ex - 0.1 * h, Y(0.395))]))  # fmt: skip
        paint(img, brow, np.asarray(p.hair, dtype=np.float32) * 0.9)
    nose = c.mask(polygon([(cx - 0.02 * h, Y(0.5)), (cx + 0.03 * h, Y(0.5)),
                           (cx + 0.07 * h, Y(0.66)), (cx - 0.06 * h, Y(0.67))]))  # fmt: skip
    paint(img, nose * 0.45, np.asarray(skin, dtype=np.float32) * 0.78)
    mouth = c.mask(ellipse((cx - 0.12 * h, Y(0.75), cx + 0.12 * h, Y(0.81))))
    paint(img, mouth, (150, 70, 66))
    strands = folds(rng, p.size, 0.04 * h, 1.2, 0.2)
    paint(img, hair, shaded(p.hair, hair, 0.2 * h, 0.8) * strands[..., None])

    # --- the camera -----------------------------------------------------------------------
    photo = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(0.6)
    )
    grain = rng.normal(0, 3.2, (hgt, w, 1)) + rng.normal(0, 1.6, (hgt, w, 3))
    photo = Image.fromarray(
        np.clip(np.asarray(photo, dtype=np.float32) + grain, 0, 255).astype(np.uint8)
    )

    # --- the part map -------------------------------------------------------------------------
    labels = np.zeros((hgt, w), dtype=np.uint8)

    def label(mask: np.ndarray, name: str) -> None:
        labels[mask > 0.5] = PARTS[name]

    band = np.zeros((hgt, w), dtype=bool)
    label(leg * (y < knee_y - 0.25 * h), "thighs")
    label(leg * (np.abs(y - knee_y) <= 0.25 * h), "knees")
    label(leg * (y > knee_y + 0.25 * h), "shins")
    label(foot, "feet")
    for name, y0, y1 in (("shoulders", 0, armpit_y), ("chest", armpit_y, chest_y + 0.3 * h),
                         ("waist", chest_y + 0.3 * h, belt_y), ("hips", belt_y, hgt)):  # fmt: skip
        band = (y >= y0) & (y < y1)
        label(torso * band, name)
    label(back_hair, "hair")
    label(neck, "neck")
    label(upper, "upper_arms")
    label(fore, "forearms")
    label(hand, "hands")
    label(np.maximum(head, ears), "face")
    label(hair, "hair")
    parts = Image.fromarray(labels)
    landmarks = {
        "belt_y": round(belt_y),
        "shoulder_y": round(shoulder_y),
        "crotch_y": round(crotch_y),
        "knee_y": round(knee_y),
        "chin_y": round(Y(1.0)),
        "legs_in_frame": int(knee_y < hgt),
    }
    return photo, parts, landmarks


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for person in PEOPLE:
        photo, parts, landmarks = render(person)
        photo.save(OUT / f"{person.name}.jpg", quality=88)
        parts.save(OUT / f"{person.name}-parts.png", optimize=True)
        info = {"parts": PARTS, "landmarks": landmarks}
        (OUT / f"{person.name}.json").write_text(json.dumps(info, indent=1) + "\n")
        print(f"{person.name}: {(OUT / f'{person.name}.jpg').stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()

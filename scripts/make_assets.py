"""Draw the example people and garments in ``assets/`` with Pillow.

They are made for this project (no photos of unclear licence), in the manner of a designer's
product illustrations: full-body people facing the camera in a fitted base layer (a tank top and
cycling shorts, so any garment dresses over them), shaded as rounded forms on a studio sweep;
garments laid flat on a white product-photo background, with an outline, fabric grain, folds and
seams. Run ``python scripts/make_assets.py`` to redraw them; the output is deterministic.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent / "assets"
PERSON_SIZE = (768, 1024)
GARMENT_SIZE = (768, 768)

Colour = tuple[int, int, int]
Point = tuple[float, float]


def _shade(colour: Colour, amount: int) -> Colour:
    return tuple(max(0, min(255, c + amount)) for c in colour)  # type: ignore[return-value]


def _backdrop(size: tuple[int, int], top: Colour, bottom: Colour) -> Image.Image:
    """A studio sweep: a vertical gradient from ``top`` to ``bottom``."""
    column = Image.new("RGB", (1, size[1]))
    for y in range(size[1]):
        t = y / (size[1] - 1)
        column.putpixel(
            (0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    return column.resize(size, Image.Resampling.NEAREST)


def _rounded(image: Image.Image, mask: Image.Image, depth: float, light: float = 0.35) -> None:
    """Shade the part of ``image`` under ``mask`` as a rounded form lit from the upper left:
    darker towards its edges and its right side, a soft highlight on the left."""
    width, height = image.size
    inner = mask.filter(ImageFilter.GaussianBlur(depth))
    rim = ImageChops.multiply(mask, ImageChops.invert(inner))  # bright near the edges
    side = Image.linear_gradient("L").rotate(90, expand=True).resize((width, height))
    side = ImageChops.multiply(side.point(lambda v: round(v * light)), mask)
    shadow = ImageChops.lighter(rim.point(lambda v: v * 6 // 10), side)
    image.paste((20, 16, 24), mask=shadow.point(lambda v: v * 7 // 10))
    glow = ImageChops.multiply(inner, ImageChops.invert(side.point(lambda v: min(255, v * 3))))
    image.paste((255, 255, 255), mask=glow.point(lambda v: v // 12))


def _texture(image: Image.Image, mask: Image.Image, strength: int, seed: int) -> None:
    """Fabric grain: fine noise with a slight horizontal weave, only under ``mask``."""
    random.seed(seed)
    noise = Image.effect_noise(image.size, 40).filter(ImageFilter.BoxBlur(0.6))
    weave = Image.new("L", image.size, 128)
    draw = ImageDraw.Draw(weave)
    for y in range(0, image.size[1], 3):
        draw.line([(0, y), (image.size[0], y)], fill=120 + random.randint(-6, 6))
    grain = ImageChops.add(noise, weave, scale=2.0)
    dark = ImageChops.multiply(grain.point(lambda v: max(0, 128 - v) * strength // 16), mask)
    light = ImageChops.multiply(grain.point(lambda v: max(0, v - 128) * strength // 16), mask)
    image.paste((0, 0, 0), mask=dark)
    image.paste((255, 255, 255), mask=light)


# --- people ---------------------------------------------------------------------------------


def person(
    skin: Colour,
    hair: Colour,
    top: Colour,
    shorts: Colour,
    backdrop: tuple[Colour, Colour],
    long_hair: bool,
    arms_out: bool,
    shoes: Colour = (48, 48, 56),
) -> Image.Image:
    """A person standing facing the camera, about seven and a half heads tall."""
    image = _backdrop(PERSON_SIZE, *backdrop)
    floor = Image.new("L", PERSON_SIZE, 0)
    ImageDraw.Draw(floor).ellipse((244, 955, 524, 1000), fill=70)
    image.paste((0, 0, 0), mask=floor.filter(ImageFilter.GaussianBlur(14)))
    cx = 384
    # Parts of one colour are drawn into one mask and shaded together, so limbs have no seams.
    parts: list[tuple[Colour, list[Callable[[ImageDraw.ImageDraw], None]], float]] = []

    def add(colour: Colour, draw: Callable[[ImageDraw.ImageDraw], None], depth: float) -> None:
        if parts and parts[-1][0] == colour and parts[-1][2] == depth:
            parts[-1][1].append(draw)
        else:
            parts.append((colour, [draw], depth))

    if long_hair:
        add(
            hair,
            lambda d: d.rounded_rectangle((cx - 76, 88, cx + 76, 336), radius=64, fill=255),
            14,
        )
    # The body's skin in one piece: shoulders, arms and hands (a small gap from the body so the
    # outline reads), neck, legs.
    spread = 58 if arms_out else 22
    for side in (-1, 1):
        shoulder = (cx + side * 98, 288)
        elbow = (cx + side * (120 + spread * 0.45), 432)
        wrist = (cx + side * (126 + spread), 560)
        add(skin, _limb(shoulder, elbow, 38, 30), 12)
        add(skin, _limb(elbow, wrist, 30, 22), 12)
        add(skin, _ellipse(wrist[0] + side * 2, wrist[1] + 24, 19, 28), 12)
    add(
        skin, lambda d: d.rounded_rectangle((cx - 100, 268, cx + 100, 330), radius=26, fill=255), 12
    )
    add(skin, lambda d: d.rounded_rectangle((cx - 25, 196, cx + 25, 292), radius=12, fill=255), 12)
    for side in (-1, 1):
        hip = (cx + side * 48, 548)
        knee = (cx + side * 52, 752)
        ankle = (cx + side * 50, 944)
        add(skin, _limb(hip, knee, 64, 44), 12)
        add(skin, _limb(knee, ankle, 44, 26), 12)
    for side in (-1, 1):
        add(shoes, _ellipse(cx + side * 58, 962, 38, 18), 6)
    add(skin, _ellipse(cx, 160, 58, 74), 16)
    add(hair, lambda d: d.chord((cx - 62, 80, cx + 62, 200), start=180, end=360, fill=255), 10)
    # The base layer: a fitted tank top and cycling shorts.
    add(
        top,
        lambda d: d.polygon(
            [
                (cx - 74, 270),
                (cx - 40, 270),
                (cx, 300),
                (cx + 40, 270),
                (cx + 74, 270),
                (cx + 86, 330),
                (cx + 80, 420),
                (cx + 90, 505),
                (cx - 90, 505),
                (cx - 80, 420),
                (cx - 86, 330),
            ],
            fill=255,
        ),
        16,
    )
    add(
        shorts,
        lambda d: d.polygon(
            [
                (cx - 92, 495),
                (cx + 92, 495),
                (cx + 100, 640),
                (cx + 8, 640),
                (cx, 570),
                (cx - 8, 640),
                (cx - 100, 640),
            ],
            fill=255,
        ),
        12,
    )
    for colour, draws, depth in parts:
        layer = Image.new("RGB", PERSON_SIZE, colour)
        mask = Image.new("L", PERSON_SIZE, 0)
        for draw in draws:
            draw(ImageDraw.Draw(mask))
        mask = mask.filter(ImageFilter.GaussianBlur(0.8))
        _rounded(layer, mask, depth)
        image.paste(layer, mask=mask)
    _face(image, cx, skin, hair)
    return image


def _limb(a: Point, b: Point, wa: float, wb: float) -> Callable[[ImageDraw.ImageDraw], None]:
    """A tapered limb from ``a`` (width ``wa``) to ``b`` (width ``wb``) with round ends."""

    def draw(d: ImageDraw.ImageDraw) -> None:
        (ax, ay), (bx, by) = a, b
        length = max(1.0, ((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5)
        nx, ny = -(by - ay) / length, (bx - ax) / length
        d.polygon(
            [
                (ax + nx * wa / 2, ay + ny * wa / 2),
                (bx + nx * wb / 2, by + ny * wb / 2),
                (bx - nx * wb / 2, by - ny * wb / 2),
                (ax - nx * wa / 2, ay - ny * wa / 2),
            ],
            fill=255,
        )
        d.ellipse((ax - wa / 2, ay - wa / 2, ax + wa / 2, ay + wa / 2), fill=255)
        d.ellipse((bx - wb / 2, by - wb / 2, bx + wb / 2, by + wb / 2), fill=255)

    return draw


def _ellipse(x: float, y: float, rx: float, ry: float) -> Callable[[ImageDraw.ImageDraw], None]:
    return lambda d: d.ellipse((x - rx, y - ry, x + rx, y + ry), fill=255)


def _face(image: Image.Image, cx: int, skin: Colour, hair: Colour) -> None:
    d = ImageDraw.Draw(image)
    dark = (38, 30, 28)
    for side in (-1, 1):
        ex = cx + side * 22
        d.ellipse((ex - 8, 150, ex + 8, 162), fill=(250, 248, 246))
        d.ellipse((ex - 5, 151, ex + 5, 161), fill=dark)
        d.line([(ex - 12, 138 + (side > 0)), (ex + 12, 137)], fill=_shade(hair, -10), width=4)
    d.line([(cx, 162), (cx - 4, 188), (cx + 3, 190)], fill=_shade(skin, -45), width=2)
    d.arc((cx - 17, 196, cx + 17, 214), start=20, end=160, fill=(168, 78, 78), width=4)
    for side in (-1, 1):  # cheeks
        blush = Image.new("L", image.size, 0)
        ImageDraw.Draw(blush).ellipse((cx + side * 34 - 12, 178, cx + side * 34 + 12, 194), fill=50)
        image.paste((220, 110, 110), mask=blush.filter(ImageFilter.GaussianBlur(5)))


# --- garments -------------------------------------------------------------------------------


def _garment(
    colour: Colour,
    outline: list[Point] | None,
    seed: int,
    details: Callable[[Image.Image, ImageDraw.ImageDraw, Image.Image], None] | None = None,
    shapes: Callable[[ImageDraw.ImageDraw], None] | None = None,
) -> Image.Image:
    """A garment laid flat on white: filled shape, grain, folds, outline, floor shadow."""
    mask = Image.new("L", GARMENT_SIZE, 0)
    draw_mask = ImageDraw.Draw(mask)
    if outline:
        draw_mask.polygon(outline, fill=255)
    if shapes:
        shapes(draw_mask)
    layer = Image.new("RGB", GARMENT_SIZE, colour)
    if details:
        details(layer, ImageDraw.Draw(layer), mask)
    _texture(layer, mask, 3, seed)
    _rounded(layer, mask, 26, light=0.18)
    folds = Image.new("L", GARMENT_SIZE, 0)
    random.seed(seed)
    fd = ImageDraw.Draw(folds)
    for _ in range(7):
        x = random.randint(160, 608)
        fd.line(
            [(x, random.randint(120, 300)), (x + random.randint(-30, 30), 700)], fill=70, width=6
        )
    folds = ImageChops.multiply(folds.filter(ImageFilter.GaussianBlur(7)), mask)
    layer.paste(_shade(colour, -60), mask=folds)
    edge = ImageChops.subtract(mask, mask.filter(ImageFilter.MinFilter(5)))
    layer.paste(_shade(colour, -70), mask=edge)
    image = Image.new("RGB", GARMENT_SIZE, (255, 255, 255))
    floor = Image.new("L", GARMENT_SIZE, 0)
    ImageDraw.Draw(floor).ellipse((190, 712, 578, 742), fill=24)
    image.paste((120, 120, 120), mask=floor.filter(ImageFilter.GaussianBlur(12)))
    image.paste(layer, mask=mask.filter(ImageFilter.GaussianBlur(0.7)))
    return image


def _stitches(d: ImageDraw.ImageDraw, points: list[Point], colour: Colour) -> None:
    for (ax, ay), (bx, by) in itertools.pairwise(points):
        steps = max(1, int(((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5 // 10))
        for i in range(steps):
            t0, t1 = i / steps, (i + 0.55) / steps
            d.line(
                [
                    (ax + (bx - ax) * t0, ay + (by - ay) * t0),
                    (ax + (bx - ax) * t1, ay + (by - ay) * t1),
                ],
                fill=colour,
                width=2,
            )


TEE = [
    (262, 118),
    (334, 100),
    (384, 132),
    (434, 100),
    (506, 118),
    (640, 226),
    (586, 300),
    (532, 262),
    (534, 664),
    (234, 664),
    (236, 262),
    (182, 300),
    (128, 226),
]


def tshirt(colour: Colour, stripe: Colour | None) -> Image.Image:
    def details(layer: Image.Image, d: ImageDraw.ImageDraw, mask: Image.Image) -> None:
        if stripe:
            stripes = Image.new("L", GARMENT_SIZE, 0)
            sd = ImageDraw.Draw(stripes)
            for y in range(150, 660, 56):
                sd.rectangle((0, y, 768, y + 22), fill=255)
            layer.paste(stripe, mask=ImageChops.multiply(stripes, mask))
        d.arc((334, 76, 434, 150), start=10, end=170, fill=_shade(colour, -50), width=12)
        _stitches(d, [(240, 648), (528, 648)], _shade(colour, -45))
        _stitches(d, [(140, 236), (192, 286)], _shade(colour, -45))
        _stitches(d, [(628, 236), (576, 286)], _shade(colour, -45))

    return _garment(colour, TEE, 1 + (stripe is not None), details)


def hoodie(colour: Colour) -> Image.Image:
    body = [(258, 150), (510, 150), (560, 210), (552, 668), (216, 668), (208, 210)]

    def shapes(d: ImageDraw.ImageDraw) -> None:
        d.polygon(body, fill=255)
        d.ellipse((300, 62, 468, 226), fill=255)
        for side in (-1, 1):  # sleeves angled out, a gap from the body
            d.polygon(
                [
                    (384 + side * 128, 152),
                    (384 + side * 176, 206),
                    (384 + side * 282, 600),
                    (384 + side * 226, 624),
                    (384 + side * 178, 300),
                ],
                fill=255,
            )

    def details(layer: Image.Image, d: ImageDraw.ImageDraw, mask: Image.Image) -> None:
        dark = _shade(colour, -40)
        d.ellipse((326, 92, 442, 212), fill=dark)
        d.rounded_rectangle((290, 470, 478, 584), radius=22, fill=_shade(colour, -14))
        d.line([(300, 478), (290, 584)], fill=dark, width=3)
        d.line([(468, 478), (478, 584)], fill=dark, width=3)
        d.line([(368, 210), (360, 330)], fill=(238, 238, 238), width=6)
        d.line([(400, 210), (408, 330)], fill=(238, 238, 238), width=6)
        d.rectangle((216, 640, 552, 668), fill=_shade(colour, -22))

    return _garment(colour, None, 3, details, shapes)


def jacket(colour: Colour) -> Image.Image:
    body = [(262, 112), (506, 112), (556, 190), (550, 676), (218, 676), (212, 190)]

    def shapes(d: ImageDraw.ImageDraw) -> None:
        d.polygon(body, fill=255)
        for side in (-1, 1):
            d.polygon(
                [
                    (384 + side * 122, 114),
                    (384 + side * 176, 180),
                    (384 + side * 276, 606),
                    (384 + side * 222, 628),
                    (384 + side * 180, 290),
                ],
                fill=255,
            )

    def details(layer: Image.Image, d: ImageDraw.ImageDraw, mask: Image.Image) -> None:
        dark = _shade(colour, -48)
        d.polygon([(332, 112), (384, 300), (436, 112)], fill=(248, 246, 242))
        d.polygon([(300, 112), (384, 336), (344, 150)], fill=dark)
        d.polygon([(468, 112), (384, 336), (424, 150)], fill=dark)
        d.line([(384, 336), (384, 676)], fill=dark, width=4)
        for y in (392, 474, 556):
            d.ellipse((394, y, 412, y + 18), fill=(92, 64, 40))
        for side in (-1, 1):
            d.line([(384 + side * 60, 520), (384 + side * 140, 520)], fill=dark, width=4)

    return _garment(colour, None, 4, details, shapes)


def jeans(colour: Colour) -> Image.Image:
    outline = [
        (254, 66),
        (514, 66),
        (532, 250),
        (566, 696),
        (414, 696),
        (386, 296),
        (382, 296),
        (354, 696),
        (202, 696),
        (236, 250),
    ]

    def details(layer: Image.Image, d: ImageDraw.ImageDraw, mask: Image.Image) -> None:
        seam = (222, 168, 86)
        d.rectangle((254, 66, 514, 108), fill=_shade(colour, -24))
        _stitches(d, [(254, 104), (514, 104)], seam)
        _stitches(d, [(384, 108), (384, 250)], seam)
        d.arc((262, 100, 352, 190), start=0, end=90, fill=seam, width=3)
        d.arc((416, 100, 506, 190), start=90, end=180, fill=seam, width=3)
        _stitches(d, [(238, 250), (206, 690)], _shade(colour, 40))
        _stitches(d, [(530, 250), (562, 690)], _shade(colour, 40))
        d.ellipse((378, 78, 390, 90), fill=(200, 170, 90))
        fade = Image.new("L", GARMENT_SIZE, 0)
        ImageDraw.Draw(fade).ellipse((250, 300, 350, 520), fill=70)
        ImageDraw.Draw(fade).ellipse((418, 300, 518, 520), fill=70)
        layer.paste(_shade(colour, 50), mask=fade.filter(ImageFilter.GaussianBlur(24)))

    return _garment(colour, outline, 5, details)


def skirt(colour: Colour, dots: Colour) -> Image.Image:
    outline = [(276, 150), (492, 150), (616, 612), (152, 612)]

    def details(layer: Image.Image, d: ImageDraw.ImageDraw, mask: Image.Image) -> None:
        pattern = Image.new("L", GARMENT_SIZE, 0)
        pd = ImageDraw.Draw(pattern)
        for row, y in enumerate(range(190, 600, 52)):
            for x in range(140 + (row % 2) * 26, 640, 52):
                pd.ellipse((x, y, x + 14, y + 14), fill=255)
        layer.paste(dots, mask=ImageChops.multiply(pattern, mask))
        d.rectangle((276, 130, 492, 176), fill=_shade(colour, -10))
        for x in (330, 384, 438):
            d.line([(x, 178), (x + (x - 384) * 0.8, 608)], fill=_shade(colour, -25), width=3)

    def shapes(d: ImageDraw.ImageDraw) -> None:
        d.polygon(outline, fill=255)
        d.rectangle((276, 130, 492, 176), fill=255)

    return _garment(colour, None, 6, details, shapes)


def dress(colour: Colour, belt: Colour) -> Image.Image:
    outline = [
        (306, 56),
        (336, 56),
        (384, 118),
        (432, 56),
        (462, 56),
        (494, 200),
        (486, 330),
        (626, 696),
        (142, 696),
        (282, 330),
        (274, 200),
    ]

    def details(layer: Image.Image, d: ImageDraw.ImageDraw, mask: Image.Image) -> None:
        d.rectangle((270, 318, 498, 348), fill=belt)
        d.rounded_rectangle((366, 314, 402, 352), radius=4, outline=_shade(belt, -50), width=4)
        for x in (330, 384, 438):
            d.line([(x, 352), (x + (x - 384) * 2.2, 690)], fill=_shade(colour, -30), width=3)

    return _garment(colour, outline, 7, details)


PEOPLE = {
    "person-ava": dict(
        skin=(241, 200, 170),
        hair=(92, 58, 40),
        top=(120, 124, 134),
        shorts=(58, 62, 74),
        backdrop=((228, 233, 240), (198, 206, 220)),
        long_hair=True,
        arms_out=False,
    ),
    "person-ben": dict(
        skin=(198, 140, 105),
        hair=(30, 26, 24),
        top=(96, 104, 98),
        shorts=(52, 54, 62),
        backdrop=((238, 233, 224), (214, 204, 190)),
        long_hair=False,
        arms_out=False,
    ),
    "person-chloe": dict(
        skin=(132, 88, 64),
        hair=(22, 18, 16),
        top=(150, 142, 160),
        shorts=(70, 64, 80),
        backdrop=((226, 238, 232), (192, 214, 206)),
        long_hair=True,
        arms_out=True,
    ),
    "person-dev": dict(
        skin=(226, 178, 140),
        hair=(60, 44, 36),
        top=(130, 120, 112),
        shorts=(48, 58, 78),
        backdrop=((238, 230, 242), (208, 198, 222)),
        long_hair=False,
        arms_out=True,
    ),
}

GARMENTS = {
    "top-tshirt-red": lambda: tshirt((200, 40, 52), None),
    "top-tshirt-striped": lambda: tshirt((30, 58, 110), (236, 236, 240)),
    "top-hoodie-green": lambda: hoodie((62, 130, 92)),
    "top-jacket-camel": lambda: jacket((186, 140, 88)),
    "bottom-jeans": lambda: jeans((52, 84, 140)),
    "bottom-skirt-polka": lambda: skirt((36, 36, 44), (240, 240, 240)),
    "onepiece-dress-yellow": lambda: dress((240, 190, 44), (150, 96, 30)),
}


def main() -> None:
    (ROOT / "people").mkdir(parents=True, exist_ok=True)
    (ROOT / "garments").mkdir(parents=True, exist_ok=True)
    for name, spec in PEOPLE.items():
        person(**spec).save(ROOT / "people" / f"{name}.jpg", quality=92)  # type: ignore[arg-type]
    for name, draw in GARMENTS.items():
        draw().save(ROOT / "garments" / f"{name}.png", optimize=True)
    (ROOT / "ui").mkdir(parents=True, exist_ok=True)
    no_result = Image.new("RGB", (256, 256), (238, 240, 244))
    d = ImageDraw.Draw(no_result)
    d.line([(88, 88), (168, 168)], fill=(170, 176, 188), width=10)
    d.line([(168, 88), (88, 168)], fill=(170, 176, 188), width=10)
    no_result.save(ROOT / "ui" / "no-result.png")
    print(f"Wrote {len(PEOPLE)} people and {len(GARMENTS)} garments to {ROOT}")


if __name__ == "__main__":
    main()

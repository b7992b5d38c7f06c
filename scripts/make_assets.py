"""Draw the example people and garments in ``assets/`` with Pillow.

They are made for this project (no photos of unclear licence): flat illustrations of full-body
people facing the camera, and garments on a white product-photo background. Run
``python scripts/make_assets.py`` to redraw them; the output is deterministic.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent / "assets"
PERSON_SIZE = (768, 1024)
GARMENT_SIZE = (768, 768)

Colour = tuple[int, int, int]


def _backdrop(size: tuple[int, int], top: Colour, bottom: Colour) -> Image.Image:
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(size[1]):
        t = y / (size[1] - 1)
        draw.line(
            [(0, y), (size[0], y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    return image


def person(
    skin: Colour,
    hair: Colour,
    top: Colour,
    legs: Colour,
    backdrop: tuple[Colour, Colour],
    long_hair: bool,
    arms_out: bool,
) -> Image.Image:
    image = _backdrop(PERSON_SIZE, *backdrop)
    shadow = Image.new("L", PERSON_SIZE, 0)
    ImageDraw.Draw(shadow).ellipse((234, 940, 534, 990), fill=90)
    image.paste((0, 0, 0), mask=shadow.filter(ImageFilter.GaussianBlur(12)))
    d = ImageDraw.Draw(image)
    cx = 384
    if long_hair:
        d.rounded_rectangle((cx - 78, 90, cx + 78, 330), radius=60, fill=hair)
    # legs and shoes
    d.polygon([(cx - 92, 560), (cx - 4, 560), (cx - 14, 930), (cx - 80, 930)], fill=legs)
    d.polygon([(cx + 4, 560), (cx + 92, 560), (cx + 80, 930), (cx + 14, 930)], fill=legs)
    d.rounded_rectangle((cx - 96, 918, cx - 8, 958), radius=16, fill=(45, 45, 52))
    d.rounded_rectangle((cx + 8, 918, cx + 96, 958), radius=16, fill=(45, 45, 52))
    # arms
    if arms_out:
        d.polygon([(cx - 110, 300), (cx - 80, 330), (cx - 190, 560), (cx - 222, 540)], fill=top)
        d.polygon([(cx + 110, 300), (cx + 80, 330), (cx + 190, 560), (cx + 222, 540)], fill=top)
        d.ellipse((cx - 236, 530, cx - 186, 590), fill=skin)
        d.ellipse((cx + 186, 530, cx + 236, 590), fill=skin)
    else:
        d.polygon([(cx - 112, 296), (cx - 78, 310), (cx - 120, 590), (cx - 156, 584)], fill=top)
        d.polygon([(cx + 112, 296), (cx + 78, 310), (cx + 120, 590), (cx + 156, 584)], fill=top)
        d.ellipse((cx - 164, 572, cx - 114, 632), fill=skin)
        d.ellipse((cx + 114, 572, cx + 164, 632), fill=skin)
    # torso, neck, head
    d.polygon([(cx - 112, 290), (cx + 112, 290), (cx + 98, 580), (cx - 98, 580)], fill=top)
    d.rectangle((cx - 24, 230, cx + 24, 296), fill=skin)
    d.polygon([(cx - 34, 290), (cx + 34, 290), (cx, 330)], fill=skin)
    d.ellipse((cx - 62, 110, cx + 62, 262), fill=skin)
    d.chord((cx - 66, 100, cx + 66, 220), start=180, end=360, fill=hair)
    d.ellipse((cx - 30, 172, cx - 18, 184), fill=(40, 32, 30))
    d.ellipse((cx + 18, 172, cx + 30, 184), fill=(40, 32, 30))
    d.arc((cx - 20, 200, cx + 20, 226), start=20, end=160, fill=(150, 70, 70), width=3)
    return image


def _garment_canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", GARMENT_SIZE, (255, 255, 255))
    return image, ImageDraw.Draw(image)


def _shadowed(shape: Image.Image) -> Image.Image:
    """A soft floor shadow under the garment, as in a product photo."""
    mask = Image.new("L", GARMENT_SIZE, 0)
    ImageDraw.Draw(mask).ellipse((170, 690, 598, 730), fill=60)
    shadow = mask.filter(ImageFilter.GaussianBlur(14))
    base = Image.new("RGB", GARMENT_SIZE, (255, 255, 255))
    base.paste((150, 150, 150), mask=shadow)
    garment_mask = Image.eval(shape.convert("L"), lambda v: 255 if v < 250 else 0)
    base.paste(shape, mask=garment_mask)
    return base


def tshirt(colour: Colour, stripe: Colour | None) -> Image.Image:
    image, d = _garment_canvas()
    body = [
        (250, 120),
        (330, 100),
        (384, 140),
        (438, 100),
        (518, 120),
        (650, 230),
        (590, 310),
        (540, 270),
        (540, 660),
        (228, 660),
        (228, 270),
        (178, 310),
        (118, 230),
    ]
    d.polygon(body, fill=colour)
    if stripe:
        for y in range(330, 640, 70):
            d.rectangle((228, y, 540, y + 26), fill=stripe)
    d.arc(
        (330, 80, 438, 170), start=20, end=160, fill=tuple(max(0, c - 50) for c in colour), width=10
    )
    return _shadowed(image)


def hoodie(colour: Colour) -> Image.Image:
    image, d = _garment_canvas()
    dark = tuple(max(0, c - 40) for c in colour)
    d.polygon(
        [
            (240, 140),
            (528, 140),
            (640, 260),
            (640, 640),
            (580, 650),
            (560, 300),
            (560, 660),
            (208, 660),
            (208, 300),
            (188, 650),
            (128, 640),
            (128, 260),
        ],
        fill=colour,
    )
    d.ellipse((300, 70, 468, 220), fill=dark)
    d.ellipse((326, 96, 442, 210), fill=colour)
    d.rounded_rectangle((290, 470, 478, 580), radius=20, fill=dark)
    d.line([(370, 210), (362, 330)], fill=(240, 240, 240), width=6)
    d.line([(398, 210), (406, 330)], fill=(240, 240, 240), width=6)
    return _shadowed(image)


def jeans(colour: Colour) -> Image.Image:
    image, d = _garment_canvas()
    seam = tuple(min(255, c + 60) for c in colour)
    d.polygon(
        [(250, 70), (518, 70), (560, 690), (410, 690), (384, 260), (358, 690), (208, 690)],
        fill=colour,
    )
    d.rectangle((250, 70, 518, 110), fill=tuple(max(0, c - 30) for c in colour))
    d.line([(384, 110), (384, 250)], fill=seam, width=4)
    d.arc((270, 110, 350, 190), start=0, end=90, fill=seam, width=4)
    d.arc((418, 110, 498, 190), start=90, end=180, fill=seam, width=4)
    return _shadowed(image)


def skirt(colour: Colour, dots: Colour) -> Image.Image:
    image, d = _garment_canvas()
    outline = [(270, 140), (498, 140), (620, 620), (148, 620)]
    d.polygon(outline, fill=colour)
    fabric = Image.new("L", GARMENT_SIZE, 0)
    ImageDraw.Draw(fabric).polygon(outline, fill=255)
    pattern = Image.new("L", GARMENT_SIZE, 0)
    pd = ImageDraw.Draw(pattern)
    for row, y in enumerate(range(190, 600, 60)):
        for x in range(150 + (row % 2) * 30, 630, 60):
            pd.ellipse((x, y, x + 16, y + 16), fill=255)
    image.paste(dots, mask=ImageChops.multiply(pattern, fabric))
    d.rectangle((270, 120, 498, 170), fill=tuple(max(0, c - 40) for c in colour))
    return _shadowed(image)


def dress(colour: Colour, belt: Colour) -> Image.Image:
    image, d = _garment_canvas()
    d.polygon(
        [
            (300, 60),
            (340, 60),
            (384, 120),
            (428, 60),
            (468, 60),
            (500, 330),
            (620, 690),
            (148, 690),
            (268, 330),
        ],
        fill=colour,
    )
    d.rectangle((268, 320, 500, 350), fill=belt)
    return _shadowed(image)


def jacket(colour: Colour) -> Image.Image:
    image, d = _garment_canvas()
    dark = tuple(max(0, c - 45) for c in colour)
    d.polygon(
        [
            (250, 110),
            (518, 110),
            (640, 240),
            (640, 650),
            (580, 660),
            (560, 320),
            (560, 670),
            (208, 670),
            (208, 320),
            (188, 660),
            (128, 650),
            (128, 240),
        ],
        fill=colour,
    )
    d.polygon([(330, 110), (384, 300), (438, 110)], fill=(250, 250, 250))
    d.polygon([(300, 110), (384, 330), (330, 110)], fill=dark)
    d.polygon([(468, 110), (384, 330), (438, 110)], fill=dark)
    d.line([(384, 330), (384, 670)], fill=dark, width=4)
    for y in (380, 460, 540):
        d.ellipse((392, y, 408, y + 16), fill=(230, 200, 120))
    return _shadowed(image)


PEOPLE = {
    "person-ava": dict(
        skin=(241, 200, 170),
        hair=(92, 58, 40),
        top=(235, 235, 238),
        legs=(70, 80, 110),
        backdrop=((226, 232, 240), (196, 206, 220)),
        long_hair=True,
        arms_out=False,
    ),
    "person-ben": dict(
        skin=(198, 140, 105),
        hair=(30, 26, 24),
        top=(215, 218, 222),
        legs=(60, 62, 70),
        backdrop=((238, 232, 222), (214, 204, 190)),
        long_hair=False,
        arms_out=False,
    ),
    "person-chloe": dict(
        skin=(120, 80, 58),
        hair=(22, 18, 16),
        top=(240, 240, 240),
        legs=(90, 96, 104),
        backdrop=((222, 236, 230), (190, 212, 204)),
        long_hair=True,
        arms_out=True,
    ),
    "person-dev": dict(
        skin=(226, 178, 140),
        hair=(60, 44, 36),
        top=(225, 225, 228),
        legs=(54, 70, 96),
        backdrop=((236, 228, 240), (208, 198, 220)),
        long_hair=False,
        arms_out=True,
    ),
}

GARMENTS = {
    "top-tshirt-red": lambda: tshirt((206, 44, 56), None),
    "top-tshirt-striped": lambda: tshirt((30, 58, 110), (236, 236, 240)),
    "top-hoodie-green": lambda: hoodie((62, 130, 92)),
    "top-jacket-camel": lambda: jacket((186, 140, 88)),
    "bottom-jeans": lambda: jeans((52, 84, 140)),
    "bottom-skirt-polka": lambda: skirt((36, 36, 44), (240, 240, 240)),
    "onepiece-dress-yellow": lambda: dress((244, 196, 48), (180, 120, 30)),
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

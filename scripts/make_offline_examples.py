"""Render every example pair through the offline simulator's try-on, for the README.

Writes ``docs/offline-examples.png`` (each example garment, and a composed top + bottom, on each
example person, as v1 dresses them) and ``docs/offline-v1-vs-v1-5.png`` (the same pairs on
v1 and v1-5 side by side), and ``assets/ui/example-result.png`` (the page's example before the
first run). Run ``python -m scripts.make_offline_examples`` after changing the
renderer or the assets; the output is deterministic.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from tryon_demo.pictures.outfit import compose_outfit
from tryon_demo.simulator.render import compose_tryon

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
TILE = (180, 240)
LABEL = 26
V1, V15 = "kolors-virtual-try-on-v1", "kolors-virtual-try-on-v1-5"


def _tile(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.thumbnail(TILE, Image.Resampling.LANCZOS)
    framed = Image.new("RGB", TILE, (255, 255, 255))
    framed.paste(image, ((TILE[0] - image.width) // 2, (TILE[1] - image.height) // 2))
    return framed


def _garments() -> dict[str, tuple[bytes, tuple[str, ...]]]:
    garments = {
        path.stem: (path.read_bytes(), ()) for path in sorted((ASSETS / "garments").glob("*.png"))
    }
    outfit = compose_outfit(
        ASSETS / "garments" / "top-tshirt-striped.png", ASSETS / "garments" / "bottom-jeans.png"
    )
    garments["outfit: striped tee + jeans"] = (outfit.png, ("top", "bottom"))
    return garments


def _grid(rows: list[tuple[str, list[Image.Image]]], header: list[str]) -> Image.Image:
    columns = max(len(tiles) for _, tiles in rows)
    width, height = TILE[0] * columns, (TILE[1] + LABEL) * len(rows) + LABEL
    grid = Image.new("RGB", (width, height), (246, 247, 249))
    draw = ImageDraw.Draw(grid)
    font = ImageFont.load_default(size=14)
    for column, text in enumerate(header):
        draw.text((column * TILE[0] + TILE[0] // 2, LABEL // 2), text, fill=(40, 44, 52),
                  font=font, anchor="mm")  # fmt: skip
    for row, (label, tiles) in enumerate(rows):
        y = LABEL + row * (TILE[1] + LABEL)
        draw.text((8, y + LABEL // 2), label, fill=(40, 44, 52), font=font, anchor="lm")
        for column, tile in enumerate(tiles):
            grid.paste(tile, (column * TILE[0], y + LABEL))
    return grid


def main() -> None:
    people = {path.stem: path.read_bytes() for path in sorted((ASSETS / "people").glob("*.jpg"))}
    garments = _garments()
    rows = []
    for name, (garment, kinds) in garments.items():
        model = V15 if kinds else V1  # v1 takes a single garment
        tiles = [_tile(garment)] + [
            _tile(compose_tryon(person, garment, model, kinds)) for person in people.values()
        ]
        rows.append((name, tiles))
    header = ["garment", *people]
    _grid(rows, header).save(ROOT / "docs" / "offline-examples.png", optimize=True)
    person = people["person-chloe"]
    compare = []
    for name, (garment, kinds) in garments.items():
        if kinds:
            continue
        tiles = [_tile(garment)] + [
            _tile(compose_tryon(person, garment, model, kinds)) for model in (V1, V15)
        ]
        compare.append((name, tiles))
    _grid(compare, ["garment", "v1: laid flat", "v1-5: fitted"]).save(
        ROOT / "docs" / "offline-v1-vs-v1-5.png", optimize=True
    )
    # The page's result area shows this pair before the first run (labelled "Example").
    example = compose_tryon(person, garments["top-hoodie-green"][0], V15)
    (ASSETS / "ui" / "example-result.png").write_bytes(example)
    print("Wrote docs/offline-examples.png, docs/offline-v1-vs-v1-5.png and the page example")


if __name__ == "__main__":
    main()

"""The outfit composer: two garment photos become the one picture v1-5 expects."""

from __future__ import annotations

import asyncio
import base64
import io
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests import pictures
from tests.conftest import StartSimulator
from tryon_demo.errors import ImageError, InputError
from tryon_demo.flow import outfit
from tryon_demo.flow.pipeline import Pipeline
from tryon_demo.pictures import prepare_image
from tryon_demo.pictures.outfit import CANVAS_WIDTH, MARGIN, check_combination, compose_outfit
from tryon_demo.settings import Settings

PATH = "/kling/v1/images/kolors-virtual-try-on"


def bottom_photo() -> bytes:
    """Blue trousers on white, a different height from the top."""
    image = Image.new("RGB", (500, 700), "white")
    image.paste((40, 60, 150), (150, 60, 350, 660))
    return pictures.encode(image, "JPEG", quality=95)


def composed_image() -> Image.Image:
    return Image.open(io.BytesIO(compose_outfit(pictures.garment_png(), bottom_photo()).png))


def test_the_top_sits_above_the_bottom_on_white() -> None:
    image = composed_image().convert("RGB")
    column = [image.getpixel((CANVAS_WIDTH // 2, y)) for y in range(image.height)]
    reds = [y for y, (r, g, b) in enumerate(column) if r > 150 and g < 90]
    blues = [y for y, (r, g, b) in enumerate(column) if b > 120 and r < 90]
    assert reds and blues
    assert max(reds) < min(blues)
    assert image.getpixel((5, 5)) == (255, 255, 255)


def test_both_pieces_share_a_common_width_centred_within_the_margins() -> None:
    image = composed_image().convert("RGB")
    assert image.width == CANVAS_WIDTH
    for y in (image.height // 4, 3 * image.height // 4):
        row = [x for x in range(image.width) if min(image.getpixel((x, y))) < 200]
        assert row
        assert min(row) >= MARGIN - 2 and max(row) <= CANVAS_WIDTH - MARGIN + 2
        assert abs((min(row) + max(row)) / 2 - CANVAS_WIDTH / 2) < 40


def test_the_result_declares_its_pieces_and_passes_preparation_untouched() -> None:
    outfit = compose_outfit(pictures.garment_png(), bottom_photo())
    prepared = prepare_image(outfit.png)
    assert prepared.report.passthrough
    assert (
        Image.open(io.BytesIO(base64.b64decode(prepared.payload))).text["kolors-garments"]
        == "top,bottom"
    )


def test_the_simulator_takes_the_outfit_on_v1_5_and_refuses_it_on_v1(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator()
    cloth = prepare_image(compose_outfit(pictures.garment_png(), bottom_photo()).png).payload
    person = base64.b64encode(pictures.person_jpeg()).decode()
    headers = {"Authorization": "Bearer k"}
    ok = requests.post(
        server.url + PATH,
        json={
            "model_name": "kolors-virtual-try-on-v1-5",
            "human_image": person,
            "cloth_image": cloth,
        },
        headers=headers,
        timeout=10,
    )
    refused = requests.post(
        server.url + PATH,
        json={
            "model_name": "kolors-virtual-try-on-v1",
            "human_image": person,
            "cloth_image": cloth,
        },
        headers=headers,
        timeout=10,
    )
    assert ok.json()["code"] == 0
    assert refused.json()["code"] == 1201


@pytest.mark.parametrize(
    "kinds",
    [
        ("top", "top"),
        ("bottom", "bottom"),
        ("one-piece", "one-piece"),
        ("top", "one-piece"),
        ("bottom", "one-piece"),
    ],
)
def test_combinations_the_model_rejects_are_refused(kinds: tuple[str, str]) -> None:
    with pytest.raises(InputError, match="is not a combination the model accepts"):
        check_combination(kinds)  # type: ignore[arg-type]


@pytest.mark.parametrize("kinds", [("top", "bottom"), ("bottom", "top"), ("one-piece",), ("top",)])
def test_a_top_with_a_bottom_or_a_single_piece_is_accepted(kinds: tuple[str, ...]) -> None:
    check_combination(kinds)  # type: ignore[arg-type]


def test_a_link_cannot_be_composed() -> None:
    with pytest.raises(ImageError, match="Top garment: the composer needs an uploaded picture"):
        compose_outfit("https://example.com/top.jpg", bottom_photo())


def test_a_blank_picture_is_refused() -> None:
    with pytest.raises(ImageError, match="Bottom garment: the picture is blank"):
        compose_outfit(
            pictures.garment_png(), pictures.encode(Image.new("RGB", (400, 400), "white"), "PNG")
        )


def test_very_long_pieces_are_shrunk_to_stay_within_the_size_limit() -> None:
    tall = Image.new("RGB", (400, 2400), "white")
    tall.paste((40, 60, 150), (100, 0, 300, 2400))
    outfit = compose_outfit(pictures.encode(tall, "PNG"), pictures.encode(tall, "PNG"))
    assert outfit.size[1] <= 1500


def test_the_pipeline_saves_a_composed_outfit_for_the_garment_input(tmp_path: Path) -> None:
    pipeline = Pipeline.build(Settings(), tmp_path)
    top, bottom = tmp_path / "top.png", tmp_path / "bottom.jpg"
    top.write_bytes(pictures.garment_png())
    bottom.write_bytes(bottom_photo())
    path = asyncio.run(outfit.compose(pipeline, top, bottom, ("top", "bottom")))
    assert Image.open(path).text["kolors-garments"] == "top,bottom"


def test_the_pipeline_names_the_missing_piece(tmp_path: Path) -> None:
    pipeline = Pipeline.build(Settings(), tmp_path)
    with pytest.raises(ImageError, match="add the bottom garment too"):
        asyncio.run(outfit.compose(pipeline, pictures.garment_png(), None, ("top", "bottom")))


def test_the_pipeline_refuses_marked_combinations_before_composing(tmp_path: Path) -> None:
    pipeline = Pipeline.build(Settings(), tmp_path)
    with pytest.raises(InputError, match="a one-piece garment is worn alone"):
        asyncio.run(outfit.compose(pipeline, None, None, ("one-piece", "top")))

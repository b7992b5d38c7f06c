"""Sizes and orientation (``pictures/geometry.py``): the API's minimum side, the long-side limit
and EXIF orientation."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image, ImageDraw

from tests import pictures
from tests.payloads import assert_api_acceptable, decoded, said
from tests.pictures import jpeg_with_orientation
from tryon_demo.errors import ImageError
from tryon_demo.flow.prepare import prepare_submission
from tryon_demo.pictures import prepare_image
from tryon_demo.pictures.rules import API_MAX_BYTES


def test_a_rotated_photo_over_the_long_side_is_reported_by_its_upright_size() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = pictures.person((2000, 1000))  # shown 1000 wide and 2000 tall
    prepared = prepare_image(pictures.encode(stored, "JPEG", exif=exif.tobytes()))
    assert decoded(prepared).size == (750, 1500)
    assert said(prepared) == (
        "turned upright from EXIF orientation 6",
        "downscaled 1000 x 2000 to 750 x 1500",
    )


def test_exif_orientation_is_applied_so_phone_photos_arrive_upright() -> None:
    prepared = prepare_image(pictures.exif_rotated_jpeg())
    image = assert_api_acceptable(prepared)
    assert image.size == (400, 600)
    top, bottom = image.getpixel((200, 100)), image.getpixel((200, 500))
    assert top[0] > 200 and top[2] < 60  # red on top
    assert bottom[2] > 200 and bottom[0] < 60  # blue below
    assert any("EXIF orientation 6" in action for action in map(str, said(prepared)))


def test_a_12mp_jpeg_over_10mb_is_downscaled_under_the_limit() -> None:
    data = pictures.noisy_jpeg_over_10mb()
    assert len(data) > API_MAX_BYTES
    prepared = prepare_image(data)
    image = assert_api_acceptable(prepared)
    assert max(image.size) == 1500
    assert prepared.report.original_size == (4000, 3000)


def test_downscaling_never_takes_the_short_side_below_300() -> None:
    panorama = pictures.encode(pictures.person((6000, 320)), "JPEG")
    image = assert_api_acceptable(prepare_image(panorama))
    assert image.height >= 300


def test_an_image_smaller_than_300_pixels_is_refused_with_its_size() -> None:
    with pytest.raises(
        ImageError, match=r"Person image: it is 200 x 200 pixels.*at least 300 x 300"
    ):
        prepare_image(pictures.small_image(), field="Person image")


def test_a_png_with_exif_orientation_is_turned_upright() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees clockwise when shown
    buffer = io.BytesIO()
    pictures.garment((500, 400)).save(buffer, format="PNG", exif=exif)
    prepared = prepare_image(buffer.getvalue())
    assert prepared.report.final_size == (400, 500)
    assert any("upright" in action for action in map(str, said(prepared)))


@pytest.mark.parametrize("size", [(300, 300), (300, 301), (301, 300)])
@pytest.mark.parametrize("field", ["Person image", "Garment image"])
def test_a_side_of_exactly_300_pixels_is_accepted(size: tuple[int, int], field: str) -> None:
    data = pictures.encode(pictures.person(size), "JPEG", quality=90)
    prepared = prepare_image(data, field=field)
    assert prepared.report.passthrough
    assert prepared.report.final_size == size


@pytest.mark.parametrize("size", [(299, 300), (300, 299), (299, 299)])
@pytest.mark.parametrize("field", ["Person image", "Garment image"])
def test_a_side_of_299_pixels_is_refused_naming_the_image(
    size: tuple[int, int], field: str
) -> None:
    data = pictures.encode(pictures.person(size), "JPEG", quality=90)
    with pytest.raises(
        ImageError, match=rf"^{field}: it is {size[0]} x {size[1]} pixels; .*at least 300 x 300"
    ) as caught:
        prepare_image(data, field=field)
    assert caught.value.field == field


@pytest.mark.parametrize(("size", "accepted"), [((300, 300), True), ((299, 400), False)])
def test_a_pil_image_follows_the_same_minimum(size: tuple[int, int], accepted: bool) -> None:
    if accepted:
        assert prepare_image(pictures.person(size)).report.final_size == size
    else:
        with pytest.raises(ImageError, match="at least 300 x 300"):
            prepare_image(pictures.person(size))


@pytest.mark.parametrize(
    ("human_size", "cloth_size", "refused"),
    [
        ((300, 300), (300, 300), None),
        ((299, 300), (300, 300), "Person image"),
        ((300, 300), (300, 299), "Garment image"),
    ],
)
def test_both_inputs_of_a_submission_are_held_to_the_minimum(
    human_size: tuple[int, int], cloth_size: tuple[int, int], refused: str | None
) -> None:
    human = pictures.encode(pictures.person(human_size), "JPEG")
    cloth = pictures.encode(pictures.garment(cloth_size), "PNG")
    if refused is None:
        body = prepare_submission(human, cloth).body
        assert base64.b64decode(body["human_image"]) == human
        assert base64.b64decode(body["cloth_image"]) == cloth
    else:
        with pytest.raises(ImageError, match=rf"^{refused}: it is \d+ x 299|^{refused}: it is 299"):
            prepare_submission(human, cloth)


@pytest.mark.parametrize(("size", "sent"), [((1500, 900), (1500, 900)), ((900, 1500), (900, 1500))])
def test_a_long_side_of_exactly_the_limit_is_sent_as_it_is(
    size: tuple[int, int], sent: tuple[int, int]
) -> None:
    prepared = prepare_image(pictures.encode(pictures.person(size), "JPEG"))
    assert prepared.report.passthrough
    assert prepared.report.final_size == sent


@pytest.mark.parametrize(("size", "sent"), [((1501, 900), (1500, 899)), ((900, 1501), (899, 1500))])
def test_a_long_side_one_pixel_over_the_limit_is_downscaled_to_it(
    size: tuple[int, int], sent: tuple[int, int]
) -> None:
    prepared = prepare_image(pictures.encode(pictures.person(size), "JPEG"))
    assert decoded(prepared).size == sent
    assert not prepared.report.passthrough


def test_a_downscale_is_reported_with_both_sizes() -> None:
    prepared = prepare_image(pictures.encode(pictures.person((2000, 1200)), "PNG"))
    assert "downscaled 2000 x 1200 to 1500 x 900" in said(prepared)


def test_a_pil_image_with_exif_orientation_is_turned_upright() -> None:
    opened = Image.open(io.BytesIO(pictures.exif_rotated_jpeg()))
    prepared = prepare_image(opened)
    assert prepared.report.final_size == (400, 600)
    assert "turned upright from EXIF orientation 6" in said(prepared)


@pytest.mark.parametrize(
    ("orientation", "size", "action"),
    [
        (1, (600, 400), None),
        (2, (600, 400), "turned upright from EXIF orientation 2"),
        (8, (400, 600), "turned upright from EXIF orientation 8"),
        (9, (600, 400), None),  # not a valid orientation: left as it is
        (0, (600, 400), None),
    ],
)
def test_only_valid_exif_orientations_turn_the_picture(
    orientation: int, size: tuple[int, int], action: str | None
) -> None:
    prepared = prepare_image(jpeg_with_orientation(pictures.person((600, 400)), orientation))
    assert decoded(prepared).size == size
    if action is None:
        assert prepared.report.passthrough
    else:
        assert action in said(prepared)


def test_a_turned_picture_keeps_its_fine_detail_along_both_sides() -> None:
    # Stored 2000 x 1000 with stripes 2 px wide across its width; shown 1000 wide and 2000
    # tall, it is shrunk to 750 x 1500, where they are still 1.5 px wide, not a grey blur.
    stored = Image.new("L", (2000, 1000), 0)
    draw = ImageDraw.Draw(stored)
    for x in range(0, 2000, 4):
        draw.rectangle((x, 0, x + 1, 999), fill=255)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, format="PNG", exif=exif)
    image = decoded(prepare_image(buffer.getvalue())).convert("L")
    assert image.size == (750, 1500)
    column = [image.getpixel((375, y)) for y in range(600, 900)]
    assert max(column) - min(column) > 150

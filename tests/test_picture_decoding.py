"""Opening and decoding within budget (``pictures/decoding.py``): damaged files, bombs, the pixel
and memory budgets, and JPEGs decoded at a reduced scale."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from tests import pictures
from tests.payloads import assert_api_acceptable, decoded, said
from tests.pictures import jpeg_with_orientation
from tryon_demo.errors import ImageError
from tryon_demo.pictures import ImageLimits, prepare_image


def test_a_24mp_phone_photo_is_decoded_at_reduced_size_and_downscaled() -> None:
    prepared = prepare_image(pictures.phone_photo_24mp())
    assert assert_api_acceptable(prepared).size == (1500, 1000)
    assert tuple(map(str, said(prepared))) == (
        "downscaled 6000 x 4000 to 1500 x 1000 (decoded at reduced size)",
    )


def test_a_truncated_png_is_refused_as_damaged() -> None:
    data = pictures.garment_png()
    with pytest.raises(ImageError, match="damaged or cut off"):
        prepare_image(data[: len(data) * 2 // 3])


def test_a_png_with_a_corrupted_byte_is_refused_as_damaged() -> None:
    data = bytearray(pictures.garment_png())
    data[len(data) // 2] ^= 0xFF  # inside the image data: its chunk CRC no longer matches
    with pytest.raises(
        ImageError, match=r"^Garment image: the file is damaged or cut off"
    ) as caught:
        prepare_image(bytes(data), field="Garment image")
    assert caught.value.field == "Garment image"


def test_a_truncated_jpeg_is_refused_as_damaged() -> None:
    with pytest.raises(ImageError, match="damaged or cut off"):
        prepare_image(pictures.truncated_jpeg())


def test_a_text_file_named_jpg_is_refused_as_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(pictures.text_file())
    with pytest.raises(ImageError, match="Garment image: this file is not an image"):
        prepare_image(path, field="Garment image")


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(ImageError, match=r"Person image: the picture is larger than .*bomb"):
        prepare_image(pictures.decompression_bomb(), field="Person image")


def test_a_picture_over_the_pixel_budget_is_refused_with_its_claimed_size() -> None:
    huge = pictures.encode(Image.new("1", (13000, 10000)), "PNG")
    with pytest.raises(ImageError, match=r"it claims 13000 x 10000 pixels \(130 MP\)"):
        prepare_image(huge)


BOMB = "this app will decode; it may be a decompression bomb. Use a normal photo."


def bomb_png(size: tuple[int, int]) -> bytes:
    return pictures.encode(Image.new("1", size), "PNG")


@pytest.mark.parametrize(
    ("source", "limits", "message"),
    [
        (
            pictures.truncated_jpeg(),
            None,
            "Garment image: the file is damaged or cut off (truncated) and cannot be decoded. "
            "Export or download it again.",
        ),
        (
            bomb_png((13000, 10000)),
            None,
            "Garment image: it claims 13000 x 10000 pixels (130 MP) and is larger than the 40 MP "
            + BOMB,
        ),
        (
            bomb_png((3000, 2000)),
            ImageLimits(max_input_pixels=5_999_999),
            "Garment image: it claims 3000 x 2000 pixels (6 MP) and is larger than the 6 MP "
            + BOMB,
        ),
        (
            Image.new("RGB", (3000, 2000)),
            ImageLimits(max_input_pixels=5_999_999),
            "Garment image: it claims 3000 x 2000 pixels (6 MP) and is larger than the 6 MP "
            + BOMB,
        ),
        (
            bomb_png((2500, 1400)),
            ImageLimits(max_input_pixels=3_000_000),
            "Garment image: it claims 2500 x 1400 pixels (4 MP) and is larger than the 3 MP "
            + BOMB,
        ),
        (
            bomb_png((2500, 1401)),
            ImageLimits(max_input_pixels=3_500_000),
            "Garment image: it claims 2500 x 1401 pixels (4 MP) and is larger than the 4 MP "
            + BOMB,
        ),
        (
            Image.new("RGB", (300, 250)),
            None,
            "Garment image: it is 300 x 250 pixels; the API needs at least 300 x 300. "
            "Use a larger picture.",
        ),
    ],
    ids=[
        "damaged",
        "bomb",
        "over-budget",
        "pil-over-budget",
        "half-MP-claimed",
        "half-MP-budget",
        "pil-small",
    ],
)
def test_every_decoding_refusal_names_the_image_and_the_rule(
    source: object, limits: ImageLimits | None, message: str
) -> None:
    with pytest.raises(ImageError) as caught:
        prepare_image(source, field="Garment image", limits=limits)  # type: ignore[arg-type]
    assert caught.value.message == message
    assert caught.value.field == "Garment image"


def test_a_picture_of_exactly_the_pixel_budget_is_decoded() -> None:
    budget = ImageLimits(max_input_pixels=540_000)
    assert prepare_image(pictures.person_jpeg((600, 900)), limits=budget).report.passthrough
    prepared = prepare_image(
        pictures.person((600, 900)), limits=ImageLimits(max_input_pixels=540_000)
    )
    assert prepared.report.final_size == (600, 900)


def test_a_large_rotated_jpeg_is_still_decoded_at_reduced_size() -> None:
    data = jpeg_with_orientation(pictures.person((4000, 2000)), 6)  # shown 2000 x 4000
    prepared = prepare_image(data)
    assert decoded(prepared).size == (750, 1500)
    assert "downscaled 2000 x 4000 to 750 x 1500 (decoded at reduced size)" in (said(prepared))


@pytest.mark.parametrize(
    ("data", "limits", "message"),
    [
        (b"not an image at all", None, "Person image: this file is not an image this app can read"),
        (pictures.truncated_jpeg(), None, "Person image: the file is damaged"),
        # Damaged pictures that need converting fail later, while being decoded to convert.
        (pictures.rgba_png()[:-200], None, "Person image: the file is damaged"),
        (pictures.webp()[:-200], None, "Person image: the file is damaged"),
    ],
)
def test_bytes_that_cannot_be_decoded_are_refused_naming_the_image(
    data: bytes, limits: ImageLimits | None, message: str
) -> None:
    with pytest.raises(ImageError) as caught:
        prepare_image(data, field="Person image", limits=limits)
    assert caught.value.message.startswith(message)
    assert caught.value.field == "Person image"


def test_a_decompression_bomb_is_refused_word_for_word_with_the_image_it_names() -> None:
    with pytest.raises(ImageError) as caught:
        prepare_image(pictures.decompression_bomb(), field="Person image")
    assert (caught.value.message, caught.value.field) == (
        "Person image: the picture is larger than the 40 MP this app will decode; it may be a "
        "decompression bomb. Use a normal photo.",
        "Person image",
    )


def test_a_picture_over_the_memory_budget_is_refused_with_its_mode_and_rounded_megabytes() -> None:
    # 13.5 MB needed and 5.5 MB allowed: both halves round to the even neighbour (14 and 6).
    limits = ImageLimits(max_decoded_bytes=5_500_000)
    with pytest.raises(ImageError) as caught:
        prepare_image(Image.new("RGBA", (2500, 1350)), field="Garment image", limits=limits)
    assert (caught.value.message, caught.value.field) == (
        "Garment image: it claims 2500 x 1350 pixels in RGBA mode, which would take 14 MB of "
        "memory to decode; this app decodes at most 6 MB per picture. Use a smaller picture.",
        "Garment image",
    )


@pytest.mark.parametrize(("mode", "bytes_per_pixel"), [("RGBA", 4), ("L", 1), ("I;16", 2)])
def test_a_picture_needing_exactly_the_decoded_bytes_budget_is_decoded(
    mode: str, bytes_per_pixel: int
) -> None:
    limits = ImageLimits(max_decoded_bytes=400 * 300 * bytes_per_pixel)
    prepared = prepare_image(Image.new(mode, (400, 300)), limits=limits)
    assert prepared.report.final_size == (400, 300)


def test_a_png_with_a_damaged_chunk_after_its_pixels_is_refused_as_damaged() -> None:
    data = pictures.garment_png()
    text = b"tEXt" + b"Comment\x00hello"
    chunk = struct.pack(">I", len(text) - 4) + text + struct.pack(">I", zlib.crc32(text) ^ 1)
    with pytest.raises(ImageError, match="damaged or cut off"):
        prepare_image(data[:-12] + chunk + data[-12:])  # before IEND, after the pixels


def grey_jpeg(size: tuple[int, int]) -> bytes:
    return pictures.encode(pictures.person(size).convert("L"), "JPEG", quality=90)


@pytest.mark.parametrize(
    ("size", "long_side", "final", "reduced"),
    [
        ((800, 600), 400, (400, 300), True),  # exactly twice the target: decoded at 1/2
        ((800, 603), 400, (400, 302), False),  # a row short of twice the target's height
        ((603, 800), 400, (302, 400), False),  # a column short of twice the target's width
        ((803, 600), 400, (402, 300), False),  # wider than twice the height but not the width
        ((2400, 1601), 1200, (1200, 800), True),  # decoded 1200 x 801: one row is cut
        ((1601, 2400), 1200, (800, 1200), True),  # decoded 801 x 1200: one column is cut
    ],
)
def test_a_jpeg_is_decoded_at_half_scale_only_when_that_still_covers_the_target(
    size: tuple[int, int], long_side: int, final: tuple[int, int], reduced: bool
) -> None:
    prepared = prepare_image(grey_jpeg(size), limits=ImageLimits(max_long_side=long_side))
    tail = " (decoded at reduced size)" if reduced else ""
    assert said(prepared) == (
        "converted L to RGB",
        f"downscaled {size[0]} x {size[1]} to {final[0]} x {final[1]}{tail}",
    )
    assert decoded(prepared).size == final


@pytest.mark.parametrize(
    ("size", "limits", "final"),
    [
        ((1200, 800), ImageLimits(max_long_side=0, max_input_pixels=960_000), (1200, 800)),
        ((1200, 800), ImageLimits(max_long_side=0, max_input_pixels=959_999), (600, 400)),
        ((1200, 800), ImageLimits(max_long_side=0, max_decoded_bytes=960_000), (1200, 800)),
        ((2401, 1600), ImageLimits(max_long_side=0, max_input_pixels=960_799), (601, 400)),
        ((2400, 1601), ImageLimits(max_long_side=0, max_input_pixels=960_799), (600, 401)),
        # A budget-forced scale that leaves the width short of the target and the height not.
        ((3000, 600), ImageLimits(max_long_side=1502, max_input_pixels=1_000_000), (1500, 300)),
    ],
)
def test_a_grey_jpeg_over_the_budget_is_decoded_at_the_largest_scale_that_fits(
    size: tuple[int, int], limits: ImageLimits, final: tuple[int, int]
) -> None:
    # libjpeg rounds a reduced side up: 2401 / 4 decodes 601 wide, which the budget counts.
    assert prepare_image(grey_jpeg(size), limits=limits).report.final_size == final


@pytest.mark.parametrize(
    ("max_decoded_bytes", "final"), [(3_840_000, (1200, 800)), (3_839_999, (600, 400))]
)
def test_a_cmyk_jpeg_counts_four_bytes_a_pixel_when_its_decoding_scale_is_chosen(
    max_decoded_bytes: int, final: tuple[int, int]
) -> None:
    data = pictures.encode(pictures.person((1200, 800)).convert("CMYK"), "JPEG", quality=90)
    limits = ImageLimits(max_long_side=0, max_decoded_bytes=max_decoded_bytes)
    assert prepare_image(data, limits=limits).report.final_size == final


def test_a_jpeg_sent_as_it_is_is_held_to_the_pixel_budget_at_the_scale_that_checks_it() -> None:
    # Proving it whole decodes it at 1/8: 100 x 125 pixels of an 800 x 1000 photo.
    data = pictures.person_jpeg((800, 1000))
    within = ImageLimits(max_long_side=0, max_input_pixels=12_500)
    assert prepare_image(data, limits=within).report.passthrough
    with pytest.raises(ImageError) as caught:
        prepare_image(
            data,
            field="Garment image",
            limits=ImageLimits(max_long_side=0, max_input_pixels=12_499),
        )
    assert (caught.value.message, caught.value.field) == (
        "Garment image: it claims 800 x 1000 pixels (1 MP) and is larger than the 0 MP " + BOMB,
        "Garment image",
    )

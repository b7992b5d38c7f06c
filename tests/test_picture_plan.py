"""The plan (``pictures/plan.py``): what preparation will do, decided from a header and the
limits alone, and carried out by Run exactly as decided."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests import pictures
from tests.payloads import decoded, said
from tryon_demo.errors import ImageError
from tryon_demo.pictures import ImageLimits, prepare_image
from tryon_demo.pictures.decoding import decode_as_planned, read_header
from tryon_demo.pictures.geometry import target_size
from tryon_demo.pictures.plan import Header, drafted_size, plan_picture
from tryon_demo.text.messages import msg


def header_of(data: bytes) -> Header:
    with Image.open(io.BytesIO(data)) as image:
        return read_header(image, len(data), "Image")


def test_a_plan_needs_no_file_only_a_header() -> None:
    header = Header("JPEG", "RGB", (1200, 1600), file_bytes=400_000, scalable=True)
    plan = plan_picture(header, ImageLimits())
    assert (plan.passthrough, plan.final_format, plan.final_size) == (False, "JPEG", (1125, 1500))
    assert plan.actions == (
        msg("prep.downscaled", width=1200, height=1600, new_width=1125, new_height=1500),
    )


@pytest.mark.parametrize(
    ("header", "steps"),
    [
        (Header("PNG", "RGBA", (500, 500), file_bytes=9), ["prep.flattened"]),
        (Header("PNG", "P", (500, 500), colour_key=True, file_bytes=9), ["prep.flattened"]),
        (Header("PNG", "P", (500, 500), file_bytes=9), ["prep.converted_mode"]),
        (Header("PNG", "I;16", (500, 500), file_bytes=9), ["prep.high_bit_depth"]),
        (Header("JPEG", "CMYK", (500, 500), file_bytes=9, scalable=True), ["prep.converted_mode"]),
        (
            Header("GIF", "P", (500, 500), colour_key=True, frames=3, file_bytes=9),
            ["prep.converted_format", "prep.first_frame", "prep.flattened"],
        ),
        (
            Header("JPEG", "RGB", (4000, 2000), orientation=6, file_bytes=9, scalable=True),
            ["prep.upright", "prep.downscaled_reduced"],
        ),
        (Header("JPEG", "RGB", (500, 500), file_bytes=11 * 2**20), ["prep.over_bytes"]),
        (Header("in-memory", "RGB", (500, 500)), ["prep.reencoded"]),
        (Header("JPEG", "RGB", (500, 500), file_bytes=9, scalable=True), ["prep.as_is"]),
    ],
    ids=[
        "alpha",
        "keyed",
        "palette",
        "16-bit",
        "cmyk",
        "animated-gif",
        "turned",
        "over-10-MB",
        "in-memory",
        "as-is",
    ],
)
def test_the_steps_come_from_the_header_in_one_order(header: Header, steps: list[str]) -> None:
    assert [action.key for action in plan_picture(header, ImageLimits()).actions] == steps


def test_a_plan_refuses_what_run_refuses_naming_the_picture() -> None:
    with pytest.raises(ImageError) as caught:
        plan_picture(Header("PNG", "RGB", (299, 900), file_bytes=9), ImageLimits(), "Person image")
    assert caught.value.message.startswith("Person image: it is 299 x 900 pixels")


def test_the_sent_size_keeps_the_long_side_within_the_limit_and_the_short_side_at_300() -> None:
    limits = ImageLimits()
    assert target_size((1200, 1600), limits) == (1125, 1500)
    assert target_size((1500, 900), limits) == (1500, 900)
    assert target_size((6000, 320), limits) == (5625, 300)  # a panorama keeps 300 px
    assert target_size((6000, 4000), ImageLimits(max_long_side=0)) == (6000, 4000)


@pytest.mark.parametrize(
    ("size", "long_side"),
    [
        ((800, 600), 400),
        ((800, 603), 400),
        ((803, 600), 400),
        ((2401, 1601), 1200),
        ((1601, 2400), 1200),
        ((3000, 2000), 300),
        ((2999, 1999), 360),
        ((1234, 987), 0),
    ],
)
def test_the_decoded_size_the_plan_counts_is_the_one_pillow_decodes(
    size: tuple[int, int], long_side: int
) -> None:
    data = pictures.encode(Image.new("L", size, 128), "JPEG")
    limits = ImageLimits(max_long_side=long_side)
    plan = plan_picture(header_of(data), limits)
    with Image.open(io.BytesIO(data)) as image:
        decode_as_planned(image, plan, "Image", limits)
        assert image.size == plan.decoded
        image.load()
        assert image.size == plan.decoded


@pytest.mark.parametrize("side", [300, 301, 307, 315, 2399, 2400, 2401])
def test_the_one_eighth_proof_decodes_what_the_plan_says(side: int) -> None:
    data = pictures.encode(Image.new("RGB", (side, 320)), "JPEG")
    plan = plan_picture(header_of(data), ImageLimits(max_long_side=0))
    assert plan.passthrough and plan.draft is not None
    with Image.open(io.BytesIO(data)) as image:
        image.draft(None, plan.draft)
        assert image.size == plan.decoded == drafted_size((side, 320), plan.draft)


@pytest.mark.parametrize(
    "make",
    [
        pictures.rgba_png,
        pictures.cmyk_jpeg,
        pictures.png_16bit,
        pictures.exif_rotated_jpeg,
        pictures.webp,
        pictures.gif,
        pictures.phone_photo_24mp,
        pictures.person_jpeg,
    ],
)
def test_run_carries_out_the_plan_it_was_given(make: object) -> None:
    data = make()  # type: ignore[operator]
    plan = plan_picture(header_of(data), ImageLimits())
    prepared = prepare_image(data)
    assert prepared.report.actions == plan.actions
    assert decoded(prepared).size == plan.final_size == prepared.report.final_size
    assert prepared.report.passthrough == plan.passthrough


def test_with_the_long_side_unlimited_the_plan_warns_of_a_shrink_and_run_reports_it() -> None:
    limits = ImageLimits(max_long_side=0, max_output_bytes=2 * 2**20)
    data = pictures.noisy_jpeg_over_10mb()
    plan = plan_picture(header_of(data), limits)
    assert plan.may_shrink and plan.final_size == (4000, 3000)
    prepared = prepare_image(data, limits=limits)
    assert prepared.report.actions[: len(plan.actions)] == plan.actions
    width, height = decoded(prepared).size
    assert said(prepared)[len(plan.actions) :] == (
        f"downscaled to {width} x {height} to stay under 10 MB",
    )


def test_with_the_default_limits_no_picture_needs_a_shrink_beyond_the_plan() -> None:
    # The largest picture the default limits send: a 40 MP panorama whose short side is held
    # at 300 px. Even at the most bytes a pixel can take, it fits the API's 10 MB.
    header = Header("PNG", "RGB", (40_000, 1000), file_bytes=9)
    plan = plan_picture(header, ImageLimits())
    assert plan.final_size == (12_000, 300) and not plan.may_shrink

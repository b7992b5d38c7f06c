"""Pixels to the JPEG the API takes (``pictures/normalise.py``): colour modes, transparency,
formats, encoding and the byte limit."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from PIL import Image, ImageDraw

from tests import pictures
from tests.payloads import assert_api_acceptable, centre_pixel, decoded, said
from tryon_demo.pictures import ImageLimits, prepare_image


def test_a_cmyk_jpeg_becomes_rgb() -> None:
    prepared = prepare_image(pictures.cmyk_jpeg())
    image = assert_api_acceptable(prepared)
    colour = image.getpixel((300, 600))
    assert all(abs(a - b) < 30 for a, b in zip(colour, pictures.PERSON_COLOUR, strict=True))
    assert "converted CMYK to RGB" in map(str, said(prepared))


def test_transparency_is_flattened_onto_white() -> None:
    prepared = prepare_image(pictures.rgba_png())
    image = assert_api_acceptable(prepared)
    assert image.getpixel((10, 10)) == (255, 255, 255)
    assert image.getpixel((250, 250))[0] > 180
    assert "flattened onto white (transparent parts turn white)" in map(str, said(prepared))


def test_a_palette_png_with_transparency_is_flattened() -> None:
    image = assert_api_acceptable(prepare_image(pictures.palette_png()))
    assert image.mode == "RGB"


def test_a_16_bit_png_keeps_its_tones_instead_of_turning_white() -> None:
    prepared = prepare_image(pictures.png_16bit())
    image = assert_api_acceptable(prepared)
    assert image.getpixel((0, 200))[0] < 10
    assert 100 < image.getpixel((200, 200))[0] < 160
    assert image.getpixel((399, 200))[0] > 245


@pytest.mark.parametrize(
    ("make", "fmt"),
    [
        (pictures.webp, "WEBP"),
        (pictures.gif, "GIF"),
        (pictures.bmp, "BMP"),
        (pictures.tiff, "TIFF"),
    ],
)
def test_formats_the_api_refuses_are_converted_to_jpeg(make, fmt: str) -> None:  # type: ignore[no-untyped-def]
    prepared = prepare_image(make())
    assert assert_api_acceptable(prepared).format == "JPEG"
    assert prepared.report.original_format == fmt
    assert any(f"converted {fmt} to JPEG" in action for action in map(str, said(prepared)))


def test_a_greyscale_jpeg_is_sent_as_rgb() -> None:
    assert assert_api_acceptable(prepare_image(pictures.greyscale_jpeg())).mode == "RGB"


def test_with_the_long_side_limit_off_an_oversized_file_is_re_encoded_under_10mb() -> None:
    prepared = prepare_image(pictures.noisy_jpeg_over_10mb(), limits=ImageLimits(max_long_side=0))
    assert_api_acceptable(prepared)
    assert not prepared.report.passthrough


def test_an_image_still_too_heavy_after_re_encoding_is_shrunk_until_it_fits() -> None:
    limits = ImageLimits(max_long_side=0, max_output_bytes=2 * 2**20)
    prepared = prepare_image(pictures.noisy_jpeg_over_10mb(), limits=limits)
    assert len(base64.b64decode(prepared.payload)) <= 2 * 2**20
    # Shrunk by the square root of the excess (pixels go with bytes), a little more for margin:
    # once, and not far below what fits.
    width, height = decoded(prepared).size
    assert 1000 < width < 4000 and abs(height - width * 3 / 4) <= 1
    actions = [str(action) for action in said(prepared)]
    shrinks = [a for a in actions if "stay under 10 MB" in a]
    assert shrinks == [f"downscaled to {width} x {height} to stay under 10 MB"]


def test_a_heic_photo_becomes_a_jpeg_when_pillow_heif_is_installed() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")  # in requirements-dev.txt: CI runs this
    pillow_heif.register_heif_opener()
    heic = pictures.encode(pictures.person(), "HEIF", quality=90)
    prepared = prepare_image(heic)
    assert prepared.report.original_format == "HEIF"
    assert assert_api_acceptable(prepared).format == "JPEG"


@pytest.mark.parametrize(
    ("mode", "value", "grey"),
    [
        ("I;16", 32768, 128),
        ("I;16B", 32768, 128),
        ("I;16L", 32768, 128),
        ("I", 32768, 128),
        ("F", 0.5, 127),
    ],
)
def test_high_bit_depth_pictures_keep_their_tones(mode: str, value: float, grey: int) -> None:
    prepared = prepare_image(Image.new(mode, (320, 320), value))  # type: ignore[arg-type]
    assert all(abs(c - grey) <= 1 for c in centre_pixel(prepared))
    assert said(prepared) == (f"converted {mode} (high bit depth) to 8-bit RGB",)


def transparent(mode: str) -> Image.Image:
    if mode in {"P", "L"}:  # a colour marked transparent, as in a GIF or a PNG's tRNS chunk
        image = Image.new(mode, (320, 320), 3)
        image.info["transparency"] = 3
        return image
    return Image.new(mode, (320, 320), (0,) * len(mode))


@pytest.mark.parametrize("mode", ["RGBA", "LA", "PA", "RGBa", "P", "L"])
def test_transparent_pixels_of_every_kind_become_white(mode: str) -> None:
    prepared = prepare_image(transparent(mode))
    assert all(c >= 253 for c in centre_pixel(prepared))
    assert said(prepared) == ("flattened onto white (transparent parts turn white)",)


@pytest.mark.parametrize(
    ("mode", "value", "action"),
    [
        # An alpha channel is flattened whatever its pixels say: the plan reads only the header.
        ("RGBA", (10, 20, 30, 255), "flattened onto white (transparent parts turn white)"),
        ("P", 0, "converted P to RGB"),
        ("L", 7, "converted L to RGB"),
    ],
)
def test_opaque_pictures_are_converted_without_whitening(
    mode: str, value: object, action: str
) -> None:
    prepared = prepare_image(Image.new(mode, (320, 320), value))  # type: ignore[arg-type]
    assert max(centre_pixel(prepared)) < 40
    assert said(prepared) == (action,)


@pytest.mark.parametrize("quality", [90, 60])
def test_a_re_encoded_picture_is_an_optimised_jpeg_at_the_configured_quality(quality: int) -> None:
    prepared = prepare_image(pictures.person(), limits=ImageLimits(jpeg_quality=quality))
    expected = pictures.encode(pictures.person(), "JPEG", quality=quality, optimize=True)
    assert base64.b64decode(prepared.payload) == expected


def test_a_premultiplied_la_picture_is_flattened_not_an_unexpected_error() -> None:
    # Found by the mutation run: Pillow converts "La" only to "LA", and the ValueError escaped.
    picture = Image.new("LA", (400, 400), (90, 0)).convert("La")
    prepared = prepare_image(picture)
    assert said(prepared) == ("flattened onto white (transparent parts turn white)",)
    assert decoded(prepared).getpixel((5, 5)) == (255, 255, 255)


def test_an_rgb_picture_with_a_transparent_colour_is_flattened_onto_white() -> None:
    picture = Image.new("RGB", (400, 400), (10, 20, 30))
    picture.info["transparency"] = (10, 20, 30)
    prepared = prepare_image(picture)
    assert said(prepared) == ("flattened onto white (transparent parts turn white)",)
    assert decoded(prepared).getpixel((5, 5)) == (255, 255, 255)


@pytest.mark.parametrize(
    "make", [pictures.person, lambda: transparent("RGBA")], ids=["rgb", "rgba"]
)
def test_the_callers_own_picture_is_left_open_and_unchanged(
    make: Callable[[], Image.Image],
) -> None:
    caller_picture = make()
    before = caller_picture.tobytes()
    prepare_image(caller_picture)
    assert caller_picture.tobytes() == before  # a closed picture raises ValueError here


def cut_out(opaque: bool) -> Image.Image:
    """1001 x 801, shrunk 2.5 times to 400 x 320: transparent (or black) on the left, blue on
    the right, a red band along the bottom; every edge of it is coloured."""
    image = Image.new("RGBA", (1001, 801), (0, 0, 0, 255 if opaque else 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle((500, 0, 1000, 700), fill=(0, 0, 255, 255))
    draw.rectangle((0, 701, 1000, 800), fill=(255, 0, 0, 255))
    return image


def near(colour: tuple[int, ...], expected: tuple[int, int, int], within: int = 40) -> bool:
    return all(abs(a - b) <= within for a, b in zip(colour, expected, strict=True))


@pytest.mark.parametrize(
    ("opaque", "mode", "left", "actions"),
    [
        (False, "RGBA", (255, 255, 255), ("flattened onto white (transparent parts turn white)",)),
        (True, "RGBA", (0, 0, 0), ("flattened onto white (transparent parts turn white)",)),
        (True, "RGB", (0, 0, 0), ()),
    ],
    ids=["transparent", "opaque", "rgb"],
)
def test_a_large_picture_is_shrunk_edge_to_edge_with_its_transparency_flattened(
    opaque: bool, mode: str, left: tuple[int, int, int], actions: tuple[str, ...]
) -> None:
    picture = cut_out(opaque).convert(mode)
    prepared = prepare_image(picture, limits=ImageLimits(max_long_side=400))
    assert said(prepared) == (*actions, "downscaled 1001 x 801 to 400 x 320")
    image = decoded(prepared)
    assert image.size == (400, 320)
    for corner, colour in [
        ((0, 0), left),
        ((399, 0), (0, 0, 255)),
        ((0, 319), (255, 0, 0)),
        ((399, 319), (255, 0, 0)),
        ((100, 150), left),
        ((300, 150), (0, 0, 255)),
    ]:
        assert near(image.getpixel(corner), colour), corner


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_a_picture_with_an_alpha_channel_shrunk_by_under_2_is_flattened(mode: str) -> None:
    # Shrunk before it is flattened: Pillow averages premultiplied alpha itself.
    picture = Image.new("RGBA", (796, 796), (10, 20, 30, 255))
    picture.putpixel((398, 398), (10, 20, 30, 254))
    prepared = prepare_image(picture.convert(mode), limits=ImageLimits(max_long_side=400))
    assert said(prepared) == (
        "flattened onto white (transparent parts turn white)",
        "downscaled 796 x 796 to 400 x 400",
    )


def test_a_shrunk_palette_picture_is_averaged_not_sampled() -> None:
    stripes = Image.new("P", (800, 800), 0)
    stripes.putpalette([0, 0, 0, 255, 255, 255])
    ImageDraw.Draw(stripes).line([(0, 0), (0, 0)])
    for x in range(1, 800, 2):
        ImageDraw.Draw(stripes).line([(x, 0), (x, 799)], fill=1)
    prepared = prepare_image(stripes, limits=ImageLimits(max_long_side=400))
    image = decoded(prepared)
    assert image.size == (400, 400)
    assert all(100 < c < 155 for c in image.getpixel((200, 200)))  # grey, not a black or white
    assert said(prepared) == ("converted P to RGB", "downscaled 800 x 800 to 400 x 400")


@pytest.mark.parametrize(
    ("mode", "value", "grey"),
    [("I;16", 65280, 255), ("I;16N", 32768, 128), ("I", 65280, 255), ("F", 0.998, 254)],
)
def test_high_bit_depth_tones_keep_their_top_eight_bits(mode: str, value: float, grey: int) -> None:
    prepared = prepare_image(Image.new(mode, (320, 320), value))  # type: ignore[arg-type]
    assert centre_pixel(prepared) == (grey, grey, grey)


def test_a_one_bit_png_with_a_transparent_colour_is_flattened_onto_white() -> None:
    data = pictures.encode(Image.new("1", (320, 320), 0), "PNG", transparency=0)
    prepared = prepare_image(data)
    assert centre_pixel(prepared) == (255, 255, 255)
    assert said(prepared) == ("flattened onto white (transparent parts turn white)",)


def test_an_output_of_exactly_the_byte_limit_is_not_shrunk() -> None:
    size = prepare_image(pictures.person()).report.final_bytes
    assert size is not None
    prepared = prepare_image(pictures.person(), limits=ImageLimits(max_output_bytes=size))
    assert (prepared.report.final_size, said(prepared)) == ((600, 900), ("re-encoded as JPEG",))


@pytest.mark.parametrize("mode", ["L", "RGBA"])
def test_a_picture_four_times_too_large_is_shrunk_in_one_go(mode: str) -> None:
    picture = pictures.person((1700, 1700)).convert(mode)
    prepared = prepare_image(picture, limits=ImageLimits(max_long_side=400))
    assert decoded(prepared).size == (400, 400)
    assert said(prepared)[-1] == "downscaled 1700 x 1700 to 400 x 400"

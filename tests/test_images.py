"""Image preparation: every real-world image becomes a valid payload or a clear refusal."""

from __future__ import annotations

import base64
import errno
import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests import pictures
from tryon_demo.errors import ImageError
from tryon_demo.flow.prepare import prepare_submission
from tryon_demo.pictures import images
from tryon_demo.pictures.images import API_MAX_BYTES, ImageLimits, PreparedImage, prepare_image
from tryon_demo.settings import Settings


def said(prepared: PreparedImage) -> tuple[str, ...]:
    """What preparation reports it did, in English."""
    return tuple(map(str, prepared.report.actions))


def decoded(prepared: PreparedImage) -> Image.Image:
    """Open the payload exactly as the API would."""
    assert not prepared.payload.startswith("data:")
    image = Image.open(io.BytesIO(base64.b64decode(prepared.payload, validate=True)))
    image.load()
    return image


def assert_api_acceptable(prepared: PreparedImage) -> Image.Image:
    image = decoded(prepared)
    assert image.format in {"JPEG", "PNG"}
    assert image.mode == "RGB"
    assert min(image.size) >= 300
    assert len(base64.b64decode(prepared.payload)) <= API_MAX_BYTES
    return image


def test_an_acceptable_jpeg_is_sent_byte_for_byte() -> None:
    data = pictures.person_jpeg()
    prepared = prepare_image(data)
    assert base64.b64decode(prepared.payload) == data
    assert prepared.report.passthrough
    assert prepared.report.original_bytes == prepared.report.final_bytes == len(data)


def test_a_file_path_is_read_and_reported_as_a_file(tmp_path: Path) -> None:
    path = tmp_path / "me.jpg"
    path.write_bytes(pictures.person_jpeg())
    prepared = prepare_image(path)
    assert prepared.report.source == "file"
    assert prepared.report.final_size == (600, 900)


def test_a_string_path_works_like_a_path(tmp_path: Path) -> None:
    path = tmp_path / "me.jpg"
    path.write_bytes(pictures.person_jpeg())
    assert prepare_image(str(path)).report.source == "file"


def test_an_http_url_passes_through_unchanged() -> None:
    url = "https://gw.alicdn.com/imgextra/i1/1860536677/O1CN012wEzZ11zC7RDNm0Jr_!!1860536677.jpg"
    prepared = prepare_image(url)
    assert prepared.payload == url
    assert prepared.is_url
    assert prepared.report.source == "url"
    assert isinstance(prepared.report.elapsed_ms, float)


def test_an_invalid_long_link_is_quoted_to_80_characters() -> None:
    url = "https://a.example/" + "x" * 100 + " y"
    with pytest.raises(ImageError) as caught:
        prepare_image(url)
    assert caught.value.message == f"Image: {url[:80]!r} is not a valid web address."


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


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/a.jpg", "javascript:alert(1)"]
)
def test_links_with_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(ImageError, match="only http:// and https:// links"):
        prepare_image(url, field="Person image")


def test_a_data_url_is_decoded_and_sent_without_its_prefix() -> None:
    data = pictures.person_jpeg()
    prepared = prepare_image("data:image/jpeg;base64," + base64.b64encode(data).decode())
    assert base64.b64decode(prepared.payload) == data


def test_a_pil_image_is_encoded() -> None:
    prepared = prepare_image(pictures.person())
    assert assert_api_acceptable(prepared).size == (600, 900)
    assert prepared.report.source == "pil"
    assert said(prepared) == ("re-encoded as JPEG",)


def test_exif_orientation_is_applied_so_phone_photos_arrive_upright() -> None:
    prepared = prepare_image(pictures.exif_rotated_jpeg())
    image = assert_api_acceptable(prepared)
    assert image.size == (400, 600)
    top, bottom = image.getpixel((200, 100)), image.getpixel((200, 500))
    assert top[0] > 200 and top[2] < 60  # red on top
    assert bottom[2] > 200 and bottom[0] < 60  # blue below
    assert any("EXIF orientation 6" in action for action in map(str, said(prepared)))


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
    assert "flattened transparency onto white" in map(str, said(prepared))


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


def test_a_12mp_jpeg_over_10mb_is_downscaled_under_the_limit() -> None:
    data = pictures.noisy_jpeg_over_10mb()
    assert len(data) > API_MAX_BYTES
    prepared = prepare_image(data)
    image = assert_api_acceptable(prepared)
    assert max(image.size) == 1500
    assert prepared.report.original_size == (4000, 3000)


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


def test_a_24mp_phone_photo_is_decoded_at_reduced_size_and_downscaled() -> None:
    prepared = prepare_image(pictures.phone_photo_24mp())
    assert assert_api_acceptable(prepared).size == (1500, 1000)
    assert tuple(map(str, said(prepared))) == (
        "downscaled 6000 x 4000 to 1500 x 1000 (decoded at reduced size)",
    )


def test_downscaling_never_takes_the_short_side_below_300() -> None:
    panorama = pictures.encode(pictures.person((6000, 320)), "JPEG")
    image = assert_api_acceptable(prepare_image(panorama))
    assert image.height >= 300


def test_an_image_smaller_than_300_pixels_is_refused_with_its_size() -> None:
    with pytest.raises(
        ImageError, match=r"Person image: it is 200 x 200 pixels.*at least 300 x 300"
    ):
        prepare_image(pictures.small_image(), field="Person image")


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


def test_a_png_with_exif_orientation_is_turned_upright() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees clockwise when shown
    buffer = io.BytesIO()
    pictures.garment((500, 400)).save(buffer, format="PNG", exif=exif)
    prepared = prepare_image(buffer.getvalue())
    assert prepared.report.final_size == (400, 500)
    assert any("upright" in action for action in map(str, said(prepared)))


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


def test_an_upload_over_the_app_limit_is_refused_with_both_sizes() -> None:
    with pytest.raises(
        ImageError, match=r"the file is 2\.0 MB; this app accepts files up to 1\.0 MB"
    ):
        prepare_image(b"\xff" * 2 * 2**20, limits=ImageLimits(max_input_bytes=2**20))


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(ImageError, match="the file is empty"):
        prepare_image(b"")


@pytest.mark.parametrize("value", [None, "", "   "])
def test_nothing_given_is_refused(value: str | None) -> None:
    with pytest.raises(ImageError, match="nothing was given"):
        prepare_image(value, field="Person image")


def test_a_missing_file_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"'nope\.jpg' was not found"):
        prepare_image(tmp_path / "nope.jpg")


def test_the_report_says_what_was_done() -> None:
    report = prepare_image(pictures.webp()).report.to_dict()
    assert report["original_format"] == "WEBP"
    assert report["final_format"] == "JPEG"
    assert report["final_size"] == (600, 900)
    assert isinstance(report["elapsed_ms"], float)


# --- the rules' exact boundaries ------------------------------------------------------------


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


def padded_to(data: bytes, size: int) -> bytes:
    """A JPEG made exactly ``size`` bytes long with bytes after its end marker (which decoders
    ignore, as they do a camera's trailing data)."""
    assert data.endswith(b"\xff\xd9") and len(data) <= size
    return data + b"\x00" * (size - len(data))


def test_a_jpeg_of_exactly_10_mb_is_sent_byte_for_byte() -> None:
    data = padded_to(pictures.person_jpeg(), API_MAX_BYTES)
    prepared = prepare_image(data)
    assert prepared.report.passthrough
    assert len(base64.b64decode(prepared.payload)) == API_MAX_BYTES


def test_a_jpeg_one_byte_over_10_mb_is_re_encoded_under_it() -> None:
    data = padded_to(pictures.person_jpeg(), API_MAX_BYTES + 1)
    prepared = prepare_image(data)
    assert not prepared.report.passthrough
    assert len(base64.b64decode(prepared.payload)) < API_MAX_BYTES


def test_a_file_of_exactly_the_upload_limit_is_accepted_and_one_byte_more_refused() -> None:
    data = pictures.person_jpeg()
    assert prepare_image(data, limits=ImageLimits(max_input_bytes=len(data))).payload
    with pytest.raises(ImageError, match="this app accepts files up to"):
        prepare_image(data, limits=ImageLimits(max_input_bytes=len(data) - 1))


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


def test_a_heic_photo_becomes_a_jpeg_when_pillow_heif_is_installed() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")  # in requirements-dev.txt: CI runs this
    pillow_heif.register_heif_opener()
    heic = pictures.encode(pictures.person(), "HEIF", quality=90)
    prepared = prepare_image(heic)
    assert prepared.report.original_format == "HEIF"
    assert assert_api_acceptable(prepared).format == "JPEG"


def test_the_test_pictures_are_the_same_on_every_run() -> None:
    # A failure on a noisy picture can only be replayed if the picture comes back the same.
    assert pictures.truncated_jpeg() == pictures.truncated_jpeg()
    assert pictures.noise(16) == pictures.noise(16) != pictures.noise(16, seed=1)


# --- every refusal, word for word, with the image it names ------------------------------------

LONG_URL = "https://a.example/" + "p" * 2100
BOMB = "this app will decode; it may be a decompression bomb. Use a normal photo."


def bomb_png(size: tuple[int, int]) -> bytes:
    return pictures.encode(Image.new("1", size), "PNG")


@pytest.mark.parametrize(
    ("source", "limits", "message"),
    [
        (
            None,
            None,
            "Garment image: nothing was given. Upload a picture or paste an http(s) link.",
        ),
        (
            "https:// spaces in/it.jpg",
            None,
            "Garment image: 'https:// spaces in/it.jpg' is not a valid web address.",
        ),
        (
            "https:///no-host.jpg",
            None,
            "Garment image: 'https:///no-host.jpg' is not a valid web address.",
        ),
        (
            "https://a.example/a b.jpg",
            None,
            "Garment image: 'https://a.example/a b.jpg' is not a valid web address.",
        ),
        (LONG_URL, None, "Garment image: the link is longer than 2048 characters."),
        ("data:image/png,abc", None, "Garment image: only base64 data: URLs are supported."),
        (
            "data:image/png;base64,a*b",
            None,
            "Garment image: the data: URL does not hold valid base64.",
        ),
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
        "none",
        "space-host",
        "no-host",
        "space-path",
        "long-link",
        "data-not-base64",
        "data-bad-base64",
        "damaged",
        "bomb",
        "over-budget",
        "pil-over-budget",
        "half-MP-claimed",
        "half-MP-budget",
        "pil-small",
    ],
)
def test_every_refusal_names_the_image_and_the_rule(
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


def test_files_that_cannot_be_read_are_refused_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    for path, message in (
        (tmp_path / "nope.jpg", "Person image: file 'nope.jpg' was not found."),
        (folder, "Person image: 'photos' is a folder, not an image file."),
        (empty, "Person image: the file is empty."),
    ):
        with pytest.raises(ImageError) as caught:
            prepare_image(path, field="Person image")
        assert (caught.value.message, caught.value.field) == (message, "Person image")


def test_a_link_of_exactly_2048_characters_is_passed_on() -> None:
    url = "https://a.example/" + "p" * (2048 - len("https://a.example/"))
    prepared = prepare_image(url)
    assert prepared.payload == url
    assert prepared.report.passthrough
    assert said(prepared) == (
        "sent as a link: the API downloads it (jpg/png, <= 10 MB, >= 300 x 300)",
    )


def test_a_data_url_with_a_comma_in_its_base64_part_is_refused() -> None:
    data = base64.b64encode(pictures.person_jpeg()).decode()
    with pytest.raises(ImageError, match="does not hold valid base64"):
        prepare_image(f"data:image/jpeg;base64,{data},{data}")


def test_settings_set_the_long_side_upload_and_pixel_limits() -> None:
    settings = Settings(max_long_side=800, max_input_bytes=1234, max_input_pixels=5678)
    limits = ImageLimits.from_settings(settings)
    assert (limits.max_long_side, limits.max_input_bytes, limits.max_input_pixels) == (
        800,
        1234,
        5678,
    )


def test_a_downscale_is_reported_with_both_sizes() -> None:
    prepared = prepare_image(pictures.encode(pictures.person((2000, 1200)), "PNG"))
    assert "downscaled 2000 x 1200 to 1500 x 900" in said(prepared)


def test_a_pil_image_keeps_its_format_name_in_the_report() -> None:
    opened = Image.open(io.BytesIO(pictures.encode(pictures.person(), "WEBP")))
    assert prepare_image(opened).report.original_format == "WEBP"
    assert prepare_image(pictures.person()).report.original_format == "in-memory"


def test_a_pil_image_with_exif_orientation_is_turned_upright() -> None:
    opened = Image.open(io.BytesIO(pictures.exif_rotated_jpeg()))
    prepared = prepare_image(opened)
    assert prepared.report.final_size == (400, 600)
    assert "turned upright from EXIF orientation 6" in said(prepared)


def centre_pixel(prepared: PreparedImage) -> tuple[int, ...]:
    return tuple(decoded(prepared).getpixel((160, 160)))


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
    assert said(prepared) == ("flattened transparency onto white",)


@pytest.mark.parametrize(("mode", "value"), [("RGBA", (10, 20, 30, 255)), ("P", 0), ("L", 7)])
def test_opaque_pictures_are_converted_without_whitening(mode: str, value: object) -> None:
    prepared = prepare_image(Image.new(mode, (320, 320), value))  # type: ignore[arg-type]
    assert max(centre_pixel(prepared)) < 40
    assert said(prepared) == (f"converted {mode} to RGB",)


@pytest.mark.parametrize("quality", [90, 60])
def test_a_re_encoded_picture_is_an_optimised_jpeg_at_the_configured_quality(quality: int) -> None:
    prepared = prepare_image(pictures.person(), limits=ImageLimits(jpeg_quality=quality))
    expected = pictures.encode(pictures.person(), "JPEG", quality=quality, optimize=True)
    assert base64.b64decode(prepared.payload) == expected


def test_the_report_times_preparation_in_milliseconds() -> None:
    prepared = prepare_image(pictures.phone_photo_24mp())  # tens of milliseconds at least
    assert 1.0 < prepared.report.elapsed_ms < 120_000


def test_a_passthrough_reports_everything_and_keeps_the_bytes() -> None:
    data = pictures.garment_png()
    prepared = prepare_image(data)
    assert prepared.data == data
    assert prepared.report.to_dict() | {"elapsed_ms": 0} == {
        "source": "bytes",
        "original_format": "PNG",
        "original_size": (500, 500),
        "original_bytes": len(data),
        "final_format": "PNG",
        "final_size": (500, 500),
        "final_bytes": len(data),
        "actions": ["already acceptable: sent byte for byte"],
        "passthrough": True,
        "elapsed_ms": 0,
    }


@pytest.mark.parametrize("as_data_url", [False, True])
def test_converted_bytes_report_their_source_and_original_size(as_data_url: bool) -> None:
    data = pictures.webp()
    source: object = data
    if as_data_url:
        source = "data:image/webp;base64," + base64.b64encode(data).decode()
    prepared = prepare_image(source)  # type: ignore[arg-type]
    assert (prepared.report.source, prepared.report.original_bytes) == ("bytes", len(data))
    assert prepared.data == base64.b64decode(prepared.payload)


def test_only_an_animated_picture_reports_using_its_first_frame() -> None:
    frames = [pictures.garment(), pictures.garment().rotate(90)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    animated = said(prepare_image(buffer.getvalue()))
    still = said(prepare_image(pictures.gif()))
    assert "used the first frame of an animated image" in animated
    assert "used the first frame of an animated image" not in still


def jpeg_with_orientation(stored: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return pictures.encode(stored, "JPEG", quality=90, exif=exif.tobytes())


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


def test_a_large_rotated_jpeg_is_still_decoded_at_reduced_size() -> None:
    data = jpeg_with_orientation(pictures.person((4000, 2000)), 6)  # shown 2000 x 4000
    prepared = prepare_image(data)
    assert decoded(prepared).size == (750, 1500)
    assert "downscaled 2000 x 4000 to 750 x 1500 (decoded at reduced size)" in (said(prepared))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("C:photo.jpg", "Person image: file 'C:photo.jpg' was not found."),
        (
            "ws://a.example/p.jpg",
            "Person image: only http:// and https:// links can be sent to the API, not ws: "
            "links. Upload the file instead.",
        ),
    ],
)
def test_a_drive_letter_is_a_file_and_any_other_scheme_a_refused_link(
    text: str, message: str
) -> None:
    with pytest.raises(ImageError) as caught:
        prepare_image(text, field="Person image")
    assert (caught.value.message, caught.value.field) == (message, "Person image")


def test_a_plain_http_link_in_capitals_passes_through() -> None:
    assert prepare_image("HTTP://a.example/p.jpg").payload == "HTTP://a.example/p.jpg"
    assert prepare_image("http://a.example/p.jpg").is_url


@pytest.mark.parametrize(
    ("data", "limits", "message"),
    [
        (b"", None, "Person image: the file is empty."),
        (b"\xff" * 2048, ImageLimits(max_input_bytes=1024), "Person image: the file is 0.0 MB"),
        (b"not an image at all", None, "Person image: this file is not an image this app can read"),
        (pictures.truncated_jpeg(), None, "Person image: the file is damaged"),
        # Damaged pictures that need converting fail later, while being decoded to convert.
        (pictures.rgba_png()[:-200], None, "Person image: the file is damaged"),
        (pictures.webp()[:-200], None, "Person image: the file is damaged"),
    ],
)
def test_refused_bytes_name_the_image(
    data: bytes, limits: ImageLimits | None, message: str
) -> None:
    with pytest.raises(ImageError) as caught:
        prepare_image(data, field="Person image", limits=limits)
    assert caught.value.message.startswith(message)
    assert caught.value.field == "Person image"


def test_a_converted_picture_reports_its_final_bytes_and_that_it_was_not_passed_through() -> None:
    prepared = prepare_image(pictures.webp())
    report = prepared.report
    assert report.final_bytes == len(base64.b64decode(prepared.payload))
    assert report.passthrough is False
    assert isinstance(report.elapsed_ms, float) and report.elapsed_ms > 0
    passed_through = prepare_image(pictures.person_jpeg()).report
    assert passed_through.passthrough and passed_through.elapsed_ms > 0


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("   ", "Person image: nothing was given."),
        (
            "data:image/jpeg;base64," + base64.b64encode(pictures.small_image()).decode(),
            "Person image: it is 200 x 200 pixels",
        ),
    ],
)
def test_text_inputs_name_the_image_they_were_given_for(source: str, message: str) -> None:
    with pytest.raises(ImageError) as caught:
        prepare_image(source, field="Person image")
    assert caught.value.message.startswith(message)
    assert caught.value.field == "Person image"


def test_a_premultiplied_la_picture_is_flattened_not_an_unexpected_error() -> None:
    # Found by the mutation run: Pillow converts "La" only to "LA", and the ValueError escaped.
    picture = Image.new("LA", (400, 400), (90, 0)).convert("La")
    prepared = prepare_image(picture)
    assert said(prepared) == ("flattened transparency onto white",)
    assert decoded(prepared).getpixel((5, 5)) == (255, 255, 255)


def test_an_rgb_picture_with_a_transparent_colour_is_flattened_onto_white() -> None:
    picture = Image.new("RGB", (400, 400), (10, 20, 30))
    picture.info["transparency"] = (10, 20, 30)
    prepared = prepare_image(picture)
    assert said(prepared) == ("flattened transparency onto white",)
    assert decoded(prepared).getpixel((5, 5)) == (255, 255, 255)


# --- what the mutation run found no test for --------------------------------------------------


class SteppedClock:
    """A ``time`` stand-in whose ``perf_counter`` reads the given instants in turn."""

    def __init__(self, *instants: float) -> None:
        self.instants = iter(instants)

    def perf_counter(self) -> float:
        return next(self.instants)


def test_the_report_gives_the_elapsed_milliseconds_to_two_decimals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(images, "time", SteppedClock(100.0, 100.1234567))
    assert prepare_image("https://a.example/p.jpg").report.elapsed_ms == 123.46


def test_a_file_that_cannot_be_read_is_refused_by_name_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "locked.jpg"
    path.write_bytes(pictures.person_jpeg())

    def denied(self: Path) -> bytes:  # the tests run as root, for whom no file is locked
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(ImageError) as caught:
        prepare_image(path, field="Person image")
    assert (caught.value.message, caught.value.field) == (
        "Person image: file 'locked.jpg' could not be read (Permission denied).",
        "Person image",
    )


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
        (False, "RGBA", (255, 255, 255), ("flattened transparency onto white",)),
        (True, "RGBA", (0, 0, 0), ("converted RGBA to RGB",)),
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
def test_one_barely_transparent_pixel_is_still_reported_after_shrinking(mode: str) -> None:
    # Shrinking by just under 2 averages its alpha of 254 away; it was judged before.
    picture = Image.new("RGBA", (796, 796), (10, 20, 30, 255))
    picture.putpixel((398, 398), (10, 20, 30, 254))
    prepared = prepare_image(picture.convert(mode), limits=ImageLimits(max_long_side=400))
    assert said(prepared) == (
        "flattened transparency onto white",
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
    assert said(prepared) == ("flattened transparency onto white",)


def test_a_png_with_a_damaged_chunk_after_its_pixels_is_refused_as_damaged() -> None:
    data = pictures.garment_png()
    text = b"tEXt" + b"Comment\x00hello"
    chunk = struct.pack(">I", len(text) - 4) + text + struct.pack(">I", zlib.crc32(text) ^ 1)
    with pytest.raises(ImageError, match="damaged or cut off"):
        prepare_image(data[:-12] + chunk + data[-12:])  # before IEND, after the pixels


def test_an_output_of_exactly_the_byte_limit_is_not_shrunk() -> None:
    size = prepare_image(pictures.person()).report.final_bytes
    assert size is not None
    prepared = prepare_image(pictures.person(), limits=ImageLimits(max_output_bytes=size))
    assert (prepared.report.final_size, said(prepared)) == ((600, 900), ("re-encoded as JPEG",))


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


@pytest.mark.parametrize("mode", ["L", "RGBA"])
def test_a_picture_four_times_too_large_is_shrunk_in_one_go(mode: str) -> None:
    picture = pictures.person((1700, 1700)).convert(mode)
    prepared = prepare_image(picture, limits=ImageLimits(max_long_side=400))
    assert decoded(prepared).size == (400, 400)
    assert said(prepared)[-1] == "downscaled 1700 x 1700 to 400 x 400"

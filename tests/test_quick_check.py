"""The note a picture gets as soon as it is chosen, from its header alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from tests import pictures
from tryon_demo.errors import ImageError
from tryon_demo.pictures import ImageLimits, prepare_image, quick_check
from tryon_demo.pictures.rules import API_MAX_BYTES
from tryon_demo.text.messages import msg


def written(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def note(path: Path, lang: str = "en", limits: ImageLimits | None = None) -> str:
    said = quick_check(path, msg("field.person"), limits)
    assert said is not None
    return said.render(lang)


def test_a_picture_too_small_is_refused_with_its_size_and_the_rule(tmp_path: Path) -> None:
    shown = note(written(tmp_path, "small.jpg", pictures.small_image()))
    assert "refused" in shown and "200 x 200" in shown and "at least 300 x 300" in shown


def test_a_text_file_named_jpg_is_refused_as_not_an_image(tmp_path: Path) -> None:
    shown = note(written(tmp_path, "fake.jpg", pictures.text_file()))
    assert "refused" in shown and "not an image" in shown


def test_a_webp_says_it_will_be_sent_as_jpeg(tmp_path: Path) -> None:
    shown = note(written(tmp_path, "g.webp", pictures.webp()))
    assert "WEBP" in shown and "will be sent as JPEG" in shown


def test_an_acceptable_picture_gets_its_format_and_size(tmp_path: Path) -> None:
    shown = note(written(tmp_path, "p.jpg", pictures.person_jpeg((600, 900))))
    assert shown == "JPEG, 600 x 900: fine."


def test_the_note_reads_in_chinese(tmp_path: Path) -> None:
    shown = note(written(tmp_path, "small.jpg", pictures.small_image()), "zh")
    assert shown.startswith("将被拒绝") and "200 x 200" in shown


def test_the_check_never_decodes_the_pixels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = written(tmp_path, "p.jpg", pictures.person_jpeg())

    def no_decode(*_: object) -> None:
        raise AssertionError("decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decode)
    assert "fine" in note(path)


def run_refusal(path: Path, limits: ImageLimits) -> str:
    """What Run says when it refuses the picture."""
    with pytest.raises(ImageError) as refused:
        prepare_image(path, field=msg("field.person"), limits=limits)
    return refused.value.msg.render("en")


def test_a_picture_over_the_pixel_budget_is_refused_at_once_as_run_would(tmp_path: Path) -> None:
    limits = ImageLimits(max_input_pixels=1_000_000)
    path = written(tmp_path, "big.png", pictures.garment_png((1200, 1000)))
    said = quick_check(path, msg("field.person"), limits)
    assert said is not None and said.key == "check.refused"
    assert said.render("en") == f"Will be refused: {run_refusal(path, limits)}"
    assert "1200 x 1000" in said.render("en") and "1 MP" in said.render("en")


def test_a_picture_over_the_memory_budget_is_refused_at_once_as_run_would(tmp_path: Path) -> None:
    limits = ImageLimits(max_decoded_bytes=2_000_000)  # 600 x 900 RGB takes 2.16 MB
    path = written(tmp_path, "p.png", pictures.encode(pictures.person(), "PNG"))
    said = quick_check(path, msg("field.person"), limits)
    assert said is not None
    assert said.render("en") == f"Will be refused: {run_refusal(path, limits)}"


def test_a_jpeg_that_fits_the_budget_at_a_reduced_scale_is_not_refused(tmp_path: Path) -> None:
    # 4.8 MP over a 2 MP budget, but its decoder can work at 1/2 scale (1.2 MP), as Run does.
    limits = ImageLimits(max_input_pixels=2_000_000)
    path = written(tmp_path, "p.jpg", pictures.person_jpeg((2400, 2000)))
    assert note(path, limits=limits) == "JPEG, 2400 x 2000: fine."
    assert prepare_image(path, limits=limits).report.final_format == "JPEG"


def test_a_picture_pillow_refuses_to_open_is_refused_as_a_decompression_bomb(
    tmp_path: Path,
) -> None:
    path = written(tmp_path, "bomb.png", pictures.decompression_bomb())
    shown = note(path)
    assert shown.startswith("Will be refused:") and "decompression bomb" in shown


def rotated_jpeg(stored: tuple[int, int]) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6
    return pictures.encode(pictures.person(stored), "JPEG", quality=80, exif=exif.tobytes())


def png_of_bytes(total: int) -> bytes:
    """A 600 x 900 PNG padded after its end to ``total`` bytes."""
    data = pictures.encode(pictures.person(), "PNG")
    return data + b"\0" * (total - len(data))


@pytest.mark.parametrize(
    ("name", "make", "said"),
    [
        (
            "small.jpg",
            pictures.small_image,
            "Will be refused: Person image: it is 200 x 200 pixels; the API needs at least "
            "300 x 300. Use a larger picture.",
        ),
        (
            "fake.jpg",
            pictures.text_file,
            "Will be refused: Person image: this file is not an image this app can read. "
            "Use a JPG or PNG photo.",
        ),
        (
            "bomb.png",
            pictures.decompression_bomb,
            "Will be refused: Person image: the picture is larger than the 40 MP this app will "
            "decode; it may be a decompression bomb. Use a normal photo.",
        ),
        (
            "warned.png",  # over Pillow's warning limit (89 MP), under its refusal (179 MP)
            lambda: pictures.encode(Image.new("1", (9500, 9500)), "PNG"),
            "Will be refused: Person image: it claims 9500 x 9500 pixels (90 MP) and is larger "
            "than the 40 MP this app will decode; it may be a decompression bomb. "
            "Use a normal photo.",
        ),
        (
            "g.webp",
            pictures.webp,
            "WEBP, 600 x 900: will be sent as JPEG (the API takes only JPG and PNG).",
        ),
        ("ten.png", lambda: png_of_bytes(API_MAX_BYTES), "PNG, 600 x 900: fine."),
        (
            "eleven.png",  # 11.0600004 MB: one part in a thousand less would read 11.0
            lambda: png_of_bytes(11_597_251),
            "PNG, 11.1 MB: will be made smaller than 10 MB before sending.",
        ),
        ("turned.jpg", lambda: rotated_jpeg((4000, 2000)), "JPEG, 4000 x 2000: fine."),
    ],
    ids=["small", "not-image", "bomb", "warned", "webp", "10-MB", "11-MB", "turned"],
)
def test_every_note_reads_word_for_word(
    tmp_path: Path, name: str, make: Callable[[], bytes], said: str
) -> None:
    assert note(written(tmp_path, name, make())) == said


def test_the_check_never_decodes_a_png_either(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = written(tmp_path, "g.png", pictures.garment_png())
    decoded: list[str | None] = []
    load = ImageFile.ImageFile.load

    def counted(image: ImageFile.ImageFile) -> object:
        decoded.append(image.format)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counted)
    assert note(path) == "PNG, 500 x 500: fine."
    assert decoded == []

"""The note a picture gets as soon as it is chosen, from its header alone."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from tests import pictures
from tryon_demo.errors import ImageError
from tryon_demo.pictures import ImageLimits, PreparedImage, prepare_image, quick_check
from tryon_demo.pictures.rules import API_MAX_BYTES
from tryon_demo.text.messages import Msg, msg


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
    assert "WEBP" in shown and "will be sent as JPEG, 600 x 900" in shown


def test_an_acceptable_picture_gets_its_format_size_and_that_it_is_sent_as_it_is(
    tmp_path: Path,
) -> None:
    shown = note(written(tmp_path, "p.jpg", pictures.person_jpeg((600, 900))))
    assert shown == "JPEG, 600 x 900 — already acceptable: sent byte for byte."


def test_the_note_reads_in_chinese(tmp_path: Path) -> None:
    shown = note(written(tmp_path, "small.jpg", pictures.small_image()), "zh")
    assert shown.startswith("将被拒绝") and "200 x 200" in shown


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
    assert note(path, limits=limits) == (
        "JPEG, 2400 x 2000 — will be sent as JPEG, 1200 x 1000: downscaled 2400 x 2000 to "
        "1200 x 1000 (decoded at reduced size)."
    )
    assert prepare_image(path, limits=limits).report.final_size == (1200, 1000)


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
            "WEBP, 600 x 900 — will be sent as JPEG, 600 x 900: converted WEBP to JPEG (the API "
            "takes only JPG and PNG).",
        ),
        (
            "ten.png",
            lambda: png_of_bytes(API_MAX_BYTES),
            "PNG, 600 x 900 — already acceptable: sent byte for byte.",
        ),
        (
            "eleven.png",  # 11.0000004 MB: rounded up, so it never reads as 11.0
            lambda: png_of_bytes(11 * 2**20 + 1),
            "PNG, 600 x 900 — will be sent as JPEG, 600 x 900: re-encoded as JPEG: the file is "
            "11.1 MB, over the API's 10 MB.",
        ),
        (
            "turned.jpg",  # stored 4000 x 2000, shown 2000 x 4000
            lambda: rotated_jpeg((4000, 2000)),
            "JPEG, 2000 x 4000 — will be sent as JPEG, 750 x 1500: turned upright from EXIF "
            "orientation 6, downscaled 2000 x 4000 to 750 x 1500 (decoded at reduced size).",
        ),
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
    assert note(path) == "PNG, 500 x 500 — already acceptable: sent byte for byte."
    assert decoded == []


# --- the note says what Run will do, from the same plan -----------------------------------------

PERSON = msg("field.person")


def noisy_png(size: tuple[int, int]) -> bytes:
    """Noise does not compress: 2300 x 2300 RGB makes a PNG of about 15 MB."""
    noise = Image.frombytes("RGB", size, pictures.noise(size[0] * size[1] * 3))
    return pictures.encode(noise, "PNG", compress_level=1)


def planned(note: Msg) -> tuple[Msg, ...]:
    """The steps a note names (``prep.*`` messages, wherever they sit in it), in order."""
    found: list[Msg] = []

    def walk(value: object) -> None:
        if isinstance(value, Msg):
            if value.key.startswith("prep."):
                found.append(value)
            for inner in value.params.values():
                walk(inner)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(note)
    return tuple(found)


def animated_gif() -> bytes:
    frames = [pictures.garment(), pictures.garment().rotate(90), pictures.garment().rotate(45)]
    return pictures.encode(frames[0], "GIF", save_all=True, append_images=frames[1:])


#: The pictures of issue 25, each as the note and Run see it with the app's default limits.
SAME_PICTURES: dict[str, Callable[[], bytes]] = {
    "transparent-png": pictures.rgba_png,
    "1200x1600-jpeg": lambda: pictures.person_jpeg((1200, 1600)),
    "15MB-png": lambda: noisy_png((2300, 2300)),
    "exif-rotated-jpeg": pictures.exif_rotated_jpeg,
    "cmyk-jpeg": pictures.cmyk_jpeg,
    "16-bit-png": pictures.png_16bit,
    "small-valid-jpeg": pictures.person_jpeg,
    "too-small-jpeg": pictures.small_image,
    "webp": pictures.webp,
    "truncated-jpeg": pictures.truncated_jpeg,
    "truncated-png": lambda: pictures.rgba_png()[:-200],
    "truncated-animated-gif": lambda: animated_gif()[:4218],  # cut inside the second frame
}


def run_or_refusal(path: Path, limits: ImageLimits) -> PreparedImage | ImageError:
    """What Run makes of the picture: the prepared image, or the refusal."""
    try:
        return prepare_image(path, field=PERSON, limits=limits)
    except ImageError as refused:
        return refused


@pytest.mark.parametrize("name", list(SAME_PICTURES))
def test_the_note_and_run_agree_on_every_step_and_the_final_size(tmp_path: Path, name: str) -> None:
    path = written(tmp_path, name, SAME_PICTURES[name]())
    limits = ImageLimits()
    note = quick_check(path, PERSON, limits)
    assert note is not None
    run = run_or_refusal(path, limits)
    if isinstance(run, ImageError):
        assert (note.key, note.params.get("reason")) == ("check.refused", run.msg)
        return
    assert note.key != "check.refused"
    assert planned(note) == run.report.actions  # the very same steps, in the same order
    sent = Image.open(io.BytesIO(base64.b64decode(run.payload)))
    for lang in ("en", "zh"):
        shown = note.render(lang)
        assert f"{sent.width} x {sent.height}" in shown, (lang, shown)
        assert str(sent.format) in shown
        for action in run.report.actions:
            assert action.render(lang) in shown, (lang, shown)


@pytest.mark.parametrize(
    ("make", "final"),
    [
        (pictures.rgba_png, "JPEG, 500 x 500"),
        (lambda: pictures.person_jpeg((1200, 1600)), "JPEG, 1125 x 1500"),
        (lambda: noisy_png((2300, 2300)), "JPEG, 1500 x 1500"),
        (pictures.exif_rotated_jpeg, "JPEG, 400 x 600"),
    ],
    ids=["transparent", "1200x1600", "15MB", "turned"],
)
def test_a_picture_run_changes_is_never_called_fine(
    tmp_path: Path, make: Callable[[], bytes], final: str
) -> None:
    shown = note(written(tmp_path, "picture", make()))
    assert "fine" not in shown and f"will be sent as {final}" in shown


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (pictures.truncated_jpeg, "cut.jpg"),
        (lambda: pictures.garment_png()[:-300], "cut.png"),
        (lambda: pictures.rgba_png()[:-200], "cut-transparent.png"),
    ],
)
def test_a_damaged_file_is_named_at_once(
    tmp_path: Path, make: Callable[[], bytes], name: str
) -> None:
    assert note(written(tmp_path, name, make())) == (
        "Will be refused: Person image: the file is damaged or cut off (truncated) and cannot "
        "be decoded. Export or download it again."
    )


def test_the_check_proves_a_jpeg_whole_at_one_eighth_scale_and_decodes_nothing_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = written(tmp_path, "p.jpg", pictures.person_jpeg((2400, 3200)))
    decoded: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def counted(image: ImageFile.ImageFile) -> object:
        decoded.append(image.size)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counted)
    assert "1125 x 1500" in note(path)
    assert decoded == [(300, 400)]

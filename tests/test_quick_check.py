"""The note a picture gets as soon as it is chosen, from its header alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import ImageFile

from tests import pictures
from tryon_demo.images import quick_check
from tryon_demo.messages import msg


def written(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def note(path: Path, lang: str = "en") -> str:
    said = quick_check(path, msg("field.person"))
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

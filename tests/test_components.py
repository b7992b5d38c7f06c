"""The upload component hands the original file over untouched."""

from __future__ import annotations

from pathlib import Path

from gradio.data_classes import FileData

from tests import pictures
from tryon_demo.ui.components import OriginalImage


def test_an_upload_pillow_cannot_open_reaches_the_app_unopened(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(pictures.text_file())
    assert OriginalImage(type="filepath").preprocess(FileData(path=str(path))) == str(path)


def test_an_upload_arrives_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "phone.jpg"
    data = pictures.exif_rotated_jpeg()
    path.write_bytes(data)
    received = OriginalImage(type="filepath").preprocess(FileData(path=str(path)))
    assert Path(received).read_bytes() == data


def test_a_webcam_shot_sent_inline_is_passed_as_its_data_url() -> None:
    payload = FileData(path="", url="data:image/png;base64,iVBORw0KGgo=")
    assert (
        OriginalImage(type="filepath").preprocess(payload) == "data:image/png;base64,iVBORw0KGgo="
    )


def test_nothing_uploaded_is_none() -> None:
    assert OriginalImage(type="filepath").preprocess(None) is None


def test_it_renders_with_the_stock_image_front_end() -> None:
    assert OriginalImage().get_block_name() == "image"

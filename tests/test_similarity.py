"""The SSIM the page-shrinking tests judge quality by tells a picture from a worse one."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageFilter

from tests import pictures
from tests.similarity import ssim

THRESHOLD = 0.98  # what the browser's shrunk photos must reach against the server's


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return Image.open(io.BytesIO(pictures.camera_photo((1125, 1500), seed=3))).convert("RGB")


def reencoded(photo: Image.Image, quality: int) -> Image.Image:
    return Image.open(io.BytesIO(pictures.encode(photo, "JPEG", quality=quality)))


def test_the_same_picture_scores_one(photo: Image.Image) -> None:
    assert ssim(photo, photo.copy()) == pytest.approx(1.0)


def test_a_high_quality_jpeg_of_it_passes(photo: Image.Image) -> None:
    assert ssim(photo, reencoded(photo, 90)) >= THRESHOLD


@pytest.mark.parametrize(
    "worse",
    [
        pytest.param(lambda p: reencoded(p, 75), id="jpeg quality 75"),
        pytest.param(lambda p: p.filter(ImageFilter.GaussianBlur(1)), id="blurred by 1 px"),
        pytest.param(lambda p: p.resize((562, 750)).resize(p.size), id="half the resolution"),
        pytest.param(lambda p: p.transpose(Image.Transpose.FLIP_TOP_BOTTOM), id="upside down"),
    ],
)
def test_a_visibly_worse_picture_fails(photo: Image.Image, worse: object) -> None:
    assert ssim(photo, worse(photo)) < THRESHOLD  # type: ignore[operator]


def test_pictures_of_different_sizes_are_refused(photo: Image.Image) -> None:
    with pytest.raises(ValueError, match="sizes differ"):
        ssim(photo, photo.resize((100, 100)))

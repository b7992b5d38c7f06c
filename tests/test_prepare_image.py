"""``prepare_image`` and its report (``pictures/prepare.py``): what is sent byte for byte, what is
re-encoded, and what the report says."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from tests import pictures
from tests.payloads import assert_api_acceptable, said
from tryon_demo.pictures import ImageLimits, prepare, prepare_image
from tryon_demo.pictures.rules import API_MAX_BYTES
from tryon_demo.settings import Settings


def test_an_acceptable_jpeg_is_sent_byte_for_byte() -> None:
    data = pictures.person_jpeg()
    prepared = prepare_image(data)
    assert base64.b64decode(prepared.payload) == data
    assert prepared.report.passthrough
    assert prepared.report.original_bytes == prepared.report.final_bytes == len(data)


def test_a_pil_image_is_encoded() -> None:
    prepared = prepare_image(pictures.person())
    assert assert_api_acceptable(prepared).size == (600, 900)
    assert prepared.report.source == "pil"
    assert said(prepared) == ("re-encoded as JPEG",)


def test_the_report_says_what_was_done() -> None:
    report = prepare_image(pictures.webp()).report.to_dict()
    assert report["original_format"] == "WEBP"
    assert report["final_format"] == "JPEG"
    assert report["final_size"] == (600, 900)
    assert isinstance(report["elapsed_ms"], float)


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


def test_the_test_pictures_are_the_same_on_every_run() -> None:
    # A failure on a noisy picture can only be replayed if the picture comes back the same.
    assert pictures.truncated_jpeg() == pictures.truncated_jpeg()
    assert pictures.noise(16) == pictures.noise(16) != pictures.noise(16, seed=1)


def test_settings_set_the_long_side_upload_and_pixel_limits() -> None:
    settings = Settings(max_long_side=800, max_input_bytes=1234, max_input_pixels=5678)
    limits = ImageLimits.from_settings(settings)
    assert (limits.max_long_side, limits.max_input_bytes, limits.max_input_pixels) == (
        800,
        1234,
        5678,
    )


def test_a_pil_image_keeps_its_format_name_in_the_report() -> None:
    opened = Image.open(io.BytesIO(pictures.encode(pictures.person(), "WEBP")))
    assert prepare_image(opened).report.original_format == "WEBP"
    assert prepare_image(pictures.person()).report.original_format == "in-memory"


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


def test_only_an_animated_picture_reports_using_its_first_frame() -> None:
    frames = [pictures.garment(), pictures.garment().rotate(90)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    animated = said(prepare_image(buffer.getvalue()))
    still = said(prepare_image(pictures.gif()))
    assert "used the first frame of an animated image" in animated
    assert "used the first frame of an animated image" not in still


def test_a_converted_picture_reports_its_final_bytes_and_that_it_was_not_passed_through() -> None:
    prepared = prepare_image(pictures.webp())
    report = prepared.report
    assert report.final_bytes == len(base64.b64decode(prepared.payload))
    assert report.passthrough is False
    assert isinstance(report.elapsed_ms, float) and report.elapsed_ms > 0
    passed_through = prepare_image(pictures.person_jpeg()).report
    assert passed_through.passthrough and passed_through.elapsed_ms > 0


class SteppedClock:
    """A ``time`` stand-in whose ``perf_counter`` reads the given instants in turn."""

    def __init__(self, *instants: float) -> None:
        self.instants = iter(instants)

    def perf_counter(self) -> float:
        return next(self.instants)


def test_the_report_gives_the_elapsed_milliseconds_to_two_decimals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(prepare, "time", SteppedClock(100.0, 100.1234567))
    assert prepare_image("https://a.example/p.jpg").report.elapsed_ms == 123.46

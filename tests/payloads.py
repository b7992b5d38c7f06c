"""Reading a prepared picture back as the API would, for the tests of ``tryon_demo.pictures``."""

from __future__ import annotations

import base64
import io

from PIL import Image

from tryon_demo.pictures import PreparedImage
from tryon_demo.pictures.rules import API_MAX_BYTES


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
    """The payload, decoded, after checking it meets every rule of the API."""
    image = decoded(prepared)
    assert image.format in {"JPEG", "PNG"}
    assert image.mode == "RGB"
    assert min(image.size) >= 300
    assert len(base64.b64decode(prepared.payload)) <= API_MAX_BYTES
    return image


def centre_pixel(prepared: PreparedImage) -> tuple[int, ...]:
    """The colour at (160, 160) of the payload, the centre of the 320 px test pictures."""
    return tuple(decoded(prepared).getpixel((160, 160)))

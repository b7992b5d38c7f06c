"""The API's rules for a picture, and the limits this app holds every picture to.

The API takes an http(s) URL or raw base64 of a JPEG or PNG of at most 10 MB and at least
300 x 300 pixels; this app adds its own limits on what it reads and decodes
(``TRYON_MAX_LONG_SIDE``, ``TRYON_MAX_UPLOAD_MB``, ``TRYON_MAX_PIXELS``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import Settings
from ..text.messages import Msg

API_MAX_BYTES = 10 * 1024 * 1024
API_MIN_SIDE = 300
API_FORMATS = frozenset({"JPEG", "PNG"})
#: The name an image goes by in messages when the caller gives none.
IMAGE_FIELD = Msg("field.image")


@dataclass(frozen=True)
class ImageLimits:
    """The rules preparation enforces; defaults follow the API and :class:`Settings`."""

    #: Longest side sent to the API; 0 sends originals untouched when the API accepts them.
    max_long_side: int = 1500
    max_input_bytes: int = 40 * 1024 * 1024
    #: Pixels this app decodes at most (``TRYON_MAX_PIXELS``); JPEGs count at their reduced
    #: decoding scale. The API needs about 1500 px, so 40 MP is plenty.
    max_input_pixels: int = 40_000_000
    #: Memory one decoded picture may take: pixels times Pillow's bytes per pixel for its mode
    #: (4 for RGB, RGBA and CMYK, 2 for 16-bit grey, 1 for grey and palettes).
    max_decoded_bytes: int = 160_000_000
    max_output_bytes: int = API_MAX_BYTES
    min_side: int = API_MIN_SIDE
    jpeg_quality: int = 90

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageLimits:
        """Limits configured by ``TRYON_MAX_LONG_SIDE``, ``TRYON_MAX_UPLOAD_MB`` and
        ``TRYON_MAX_PIXELS``."""
        return cls(
            max_long_side=settings.max_long_side,
            max_input_bytes=settings.max_input_bytes,
            max_input_pixels=settings.max_input_pixels,
        )

"""Pictures: decode, check and prepare them as the API accepts them, and compose outfits. No
HTTP server, no Gradio. May import ``text``, ``errors`` and ``settings``.

The rest of the app uses the names below; the modules each do one job: ``sources`` (reading
what was given), ``decoding`` and ``memory`` (the header, the decode budget and gate),
``geometry`` (sizes), ``normalise`` (pixels to JPEG), ``prepare`` and ``check`` (Run and the
quick check)."""

from .check import quick_check
from .memory import limit_malloc_arenas
from .prepare import PreparationReport, PreparedImage, prepare_image
from .rules import ImageLimits
from .sources import ImageSource

__all__ = [
    "ImageLimits",
    "ImageSource",
    "PreparationReport",
    "PreparedImage",
    "limit_malloc_arenas",
    "prepare_image",
    "quick_check",
]

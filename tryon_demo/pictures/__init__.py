"""Pictures: decode, check and prepare them as the API accepts them, and compose outfits. No
HTTP server, no Gradio. May import ``text``, ``errors`` and ``settings``.

The rest of the app uses the names below; the modules each do one job: ``sources`` (reading
what was given), ``decoding`` and ``memory`` (the header, decoding, the decode gate),
``geometry`` (sizes), ``plan`` (what will be done, from the header and the limits),
``normalise`` (doing it to the pixels), ``prepare`` and ``check`` (Run, and the note that
reports the same plan)."""

from .check import quick_check
from .geometry import target_size
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
    "target_size",
]

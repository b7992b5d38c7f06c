"""Composing an outfit: a top and a bottom combined into one garment picture for v1.5."""

from __future__ import annotations

from pathlib import Path

from ..errors import ImageError
from ..pictures.images import ImageSource
from ..pictures.outfit import check_combination, compose_outfit
from ..text.messages import msg
from .admit import ANYONE, Visitor
from .pipeline import Pipeline


def compose(
    pipeline: Pipeline,
    top: ImageSource | None,
    bottom: ImageSource | None,
    kinds: tuple[str, str],
    *,
    visitor: Visitor = ANYONE,
) -> Path:
    """Combine a top and a bottom into one garment picture; returns its path in the work
    folder.

    It costs no credits but does cost the server two decodes, so it counts against the
    visitor's lookup rate (``TRYON_RATE_QUERY``), checked before any picture is read.
    """
    pipeline.limiter.acquire_query(visitor.address)
    check_combination(kinds)  # type: ignore[arg-type]
    if top is None or bottom is None:
        missing = "top" if top is None else "bottom"
        raise ImageError(msg("outfit.add_missing", piece=msg(f"piece.{missing}")), field=missing)
    outfit = compose_outfit(top, bottom)
    path = pipeline.files.path("outfit.png")
    path.write_bytes(outfit.png)
    return path

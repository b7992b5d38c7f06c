"""Composing an outfit: a top and a bottom combined into one garment picture for v1.5."""

from __future__ import annotations

from pathlib import Path

from ..errors import ImageError
from ..pictures import ImageSource
from ..pictures.outfit import check_combination
from ..text.messages import msg
from . import prepare
from .admit import ANYONE, Door, Need, Visitor
from .pipeline import Pipeline


async def compose(
    pipeline: Pipeline,
    top: ImageSource | None,
    bottom: ImageSource | None,
    kinds: tuple[str, str],
    *,
    visitor: Visitor = ANYONE,
) -> Path:
    """Combine a top and a bottom into one garment picture; returns its path in the work
    folder.

    It costs no credits but does cost the server two decodes, so it is admitted on the
    visitor's lookup rate (``TRYON_RATE_QUERY``), before any picture is read.
    """
    async with await pipeline.admission.enter(visitor, Door.OUTFIT, Need.PICTURES) as passed:
        check_combination(kinds)  # type: ignore[arg-type]
        if top is None or bottom is None:
            missing = "top" if top is None else "bottom"
            piece = msg(f"piece.{missing}")
            raise ImageError(msg("outfit.add_missing", piece=piece), field=missing)
        outfit = await prepare.outfit(passed, top, bottom)
    path = pipeline.files.path("outfit.png")
    path.write_bytes(outfit.png)
    return path

"""The note under a picture just chosen: what Run will make of it, told before Run.

It reads the picture's header and proves a JPEG or PNG whole (a decode at 1/8 scale), so it is
work done for the visitor like any other: it passes the one admission path first, on the
visitor's lookup rate (``TRYON_RATE_QUERY``), and decodes within the address's share.
"""

from __future__ import annotations

from pathlib import Path

from ..text.messages import Msg
from . import prepare
from .admit import ANYONE, Door, Need, Visitor
from .pipeline import Pipeline


async def check_picture(
    pipeline: Pipeline, path: str | Path, field: str | Msg, *, visitor: Visitor = ANYONE
) -> Msg:
    """The quick check's note for the picture at ``path``: the refusal Run would give, or what
    Run will send. Raises the admission's refusal (a rate) as a :class:`TryOnError`."""
    async with await pipeline.admission.enter(visitor, Door.CHECK, Need.PICTURES) as passed:
        return await prepare.note(passed, path, field)

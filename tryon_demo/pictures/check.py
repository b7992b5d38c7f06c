"""The quick check: the note shown under a picture as soon as it is chosen, saying exactly what
Run will do to it, from the same plan Run carries out (:func:`~.plan.plan_picture`).

The plan needs only the header; a JPEG or PNG is also proven whole the way Run proves one it
sends as it is (a PNG's chunk checksums, a JPEG read at 1/8 scale), so a damaged file is named
at once. Other formats (WebP, GIF, HEIC, ...) are proven only when Run decodes them.
"""

from __future__ import annotations

import os

from ..errors import ImageError
from ..text.messages import Msg, msg
from .decoding import open_header, prove_whole, read_header
from .plan import Plan, plan_picture
from .rules import ImageLimits
from .sources import read_file


def quick_check(
    path: str | os.PathLike[str], field: str | Msg, limits: ImageLimits | None = None
) -> Msg:
    """What Run will make of the picture at ``path`` under ``limits``: the refusal Run would
    give, or every step it will take and the format and size it will send."""
    limits = limits or ImageLimits()
    try:
        plan = _plan_and_prove(path, field, limits)
    except ImageError as refused:
        return msg("check.refused", reason=refused.msg)
    return describe(plan)


def _plan_and_prove(path: str | os.PathLike[str], field: str | Msg, limits: ImageLimits) -> Plan:
    read = read_file(path, field, limits)
    image = open_header(read.data, field, limits)
    try:
        plan = plan_picture(read_header(image, len(read.data), field), limits, field)
        prove_whole(image, read.data, field, limits)
    finally:
        image.close()
    return plan


def describe(plan: Plan) -> Msg:
    """The note for ``plan``: the picture as chosen, and what Run will send and why."""
    width, height = plan.upright
    if plan.passthrough:
        return msg(
            "check.as_is",
            format=plan.header.format,
            width=width,
            height=height,
            actions=plan.actions,
        )
    note = msg(
        "check.will_change",
        format=plan.header.format,
        width=width,
        height=height,
        final_format=plan.final_format,
        final_width=plan.final_size[0],
        final_height=plan.final_size[1],
        actions=plan.actions,
    )
    return Msg.join([note, msg("check.may_shrink")]) if plan.may_shrink else note

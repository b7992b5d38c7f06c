"""The prepare step: a visitor's pictures read, checked and made into a create request.

A visitor's pictures are decoded only with an admission :class:`~.admit.Pass` (:func:`submission`,
:func:`picture`, :func:`outfit`), off the event loop. What a caller gave (an upload, a link, a
``data:`` URL) becomes an :class:`ImageSource` here, never a path on this server it chose; the
request shown on the page carries no megabytes of base64.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ..api.client import TryOnClient
from ..errors import ImageError, InputError
from ..pictures import (
    ImageLimits,
    ImageSource,
    PreparedImage,
    prepare_image,
    quick_check,
)
from ..pictures.outfit import ComposedOutfit, compose_outfit
from ..settings import DEFAULT_MODEL
from ..text.messages import Msg, msg
from .admit import Pass
from .pools import decode_off_loop, off_loop

_LINK = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


@dataclass(frozen=True)
class Submission:
    """A create request ready to send, and how its two images were prepared."""

    body: dict[str, str]
    human: PreparedImage
    cloth: PreparedImage

    def preview(self) -> dict[str, Any]:
        """The body as it will be sent, each base64 image shortened to its start and size."""
        return request_preview(self.body)

    def notes(self) -> tuple[Msg, Msg]:
        """What preparation did to each picture, for the page's notes."""
        return (
            msg("prep.note", field=msg("field.person"), actions=self.human.report.actions),
            msg("prep.note", field=msg("field.garment"), actions=self.cloth.report.actions),
        )


def shorten_payload(value: str) -> str:
    """``"/9j/4AAQSk... (183 KB)"`` for base64; a URL is shown whole."""
    if value.lower().startswith(("http://", "https://")):
        return value
    size_kb = len(value) * 3 / 4 / 1024
    return f"{value[:12]}... ({size_kb:,.0f} KB)"


def request_preview(body: dict[str, str]) -> dict[str, Any]:
    """A copy of a create body safe and short enough to display."""
    return {
        key: shorten_payload(value) if key in ("human_image", "cloth_image") else value
        for key, value in body.items()
    }


async def precheck(passed: Pass, *pictures: tuple[ImageSource | None, str | Msg]) -> None:
    """Refuse now what a picture's header already refuses (no picture, not a picture, too
    small, too many pixels, damaged), before a wait in line: the quick check of an uploaded
    file, its header and a decode at 1/8 scale at most. Links and ``data:`` URLs are judged
    when they are prepared."""
    passed.check_pictures()
    if not passed.waits:
        return  # prepared at once: the full preparation says all this
    limits = ImageLimits.from_settings(passed.admission.settings)
    for source, field in pictures:
        if source is None:
            raise ImageError(msg("image.nothing", field=field), field=field)
        if isinstance(source, Path):
            note = await off_loop(partial(quick_check, source, field, limits))
            if note is not None and note.key == "check.refused":
                reason = note.params["reason"]
                raise ImageError(reason if isinstance(reason, Msg) else str(reason), field=field)


async def submission(
    passed: Pass,
    human: ImageSource | None,
    cloth: ImageSource | None,
    model_name: str = DEFAULT_MODEL,
    callback_url: str | None = None,
) -> Submission:
    """Both pictures prepared for the create ``passed`` was admitted for."""
    limits = ImageLimits.from_settings(passed.admission.settings)
    async with passed.decoding():
        return await decode_off_loop(
            partial(prepare_submission, human, cloth, model_name, callback_url, limits=limits)
        )


async def picture(passed: Pass, source: ImageSource | None, field: str | Msg) -> PreparedImage:
    """One picture prepared (a lookbook's person, or one of its garments)."""
    limits = ImageLimits.from_settings(passed.admission.settings)
    async with passed.decoding():
        return await decode_off_loop(partial(prepare_image, source, field=field, limits=limits))


async def note(passed: Pass, path: str | Path, field: str | Msg) -> Msg:
    """What Run will make of the picture at ``path`` (the quick check), holding one of the
    visitor's decode shares: proving a picture whole reads it at 1/8 scale."""
    limits = ImageLimits.from_settings(passed.admission.settings)
    async with passed.decoding():
        return await decode_off_loop(partial(quick_check, path, field, limits))


async def outfit(passed: Pass, top: ImageSource, bottom: ImageSource) -> ComposedOutfit:
    """A top and a bottom composed into one garment picture."""
    async with passed.decoding():
        return await decode_off_loop(partial(compose_outfit, top, bottom))


def prepare_submission(
    human: ImageSource | None,
    cloth: ImageSource | None,
    model_name: str = DEFAULT_MODEL,
    callback_url: str | None = None,
    *,
    limits: ImageLimits | None = None,
) -> Submission:
    """Prepare both images and build the create body; raises :class:`InputError` on bad input."""
    human_image = prepare_image(human, field=msg("field.person"), limits=limits)
    cloth_image = prepare_image(cloth, field=msg("field.garment"), limits=limits)
    return submission_of(human_image, cloth_image, model_name, callback_url)


def submission_of(
    human_image: PreparedImage,
    cloth_image: PreparedImage,
    model_name: str = DEFAULT_MODEL,
    callback_url: str | None = None,
) -> Submission:
    """The create body for two prepared images; refuses the person photo as the garment."""
    if human_image.payload == cloth_image.payload:
        raise InputError(msg("image.same_as_person", field=msg("field.garment")))
    body = TryOnClient.create_body(
        human_image.payload,
        cloth_image.payload,
        model_name=model_name or DEFAULT_MODEL,
        callback_url=(callback_url or "").strip() or None,
    )
    return Submission(body=body, human=human_image, cloth=cloth_image)


def api_image_source(value: Any, field_name: str | Msg) -> ImageSource | None:
    """The image a caller of the web app gave: an uploaded file (Gradio's file dict, already
    checked to be in the upload folder) or an http(s)/data: link. A bare string is never read
    as a path on this server."""
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        path = value.get("path")
        if isinstance(path, str) and path:
            return Path(path)
        raise ImageError(msg("input.upload_without_file", field=field_name), field=field_name)
    if isinstance(value, str):
        text = value.strip()
        if _LINK.match(text):
            return text  # image preparation accepts http(s) and data: and names any other scheme
        raise ImageError(
            msg("input.not_upload_or_link", field=field_name, text=repr(text[:60])),
            field=field_name,
        )
    raise ImageError(
        msg("input.unsupported_value", field=field_name, type=type(value).__name__),
        field=field_name,
    )


def local_path(source: ImageSource | None) -> Path | None:
    """The file behind ``source`` when it is one on this server (for the before/after pair)."""
    if isinstance(source, Path):
        return source
    return None

"""Reading a picture from where it was given: a path, bytes, a PIL image, a ``data:`` URL or
an http(s) link, with the checks that come before any byte of it is parsed (nothing given, a
link that is no web address, a missing or empty file, a file over the upload limit)."""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from PIL import Image

from ..errors import ImageError
from ..text.messages import Msg, msg
from .rules import ImageLimits

MAX_URL_LENGTH = 2048
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")

SourceKind = Literal["url", "file", "bytes", "pil"]
ImageSource = str | bytes | os.PathLike[str] | Image.Image


@dataclass(frozen=True)
class Link:
    """An http(s) link the API downloads itself, checked to be a web address."""

    url: str


@dataclass(frozen=True)
class Encoded:
    """A picture's file bytes, within the upload limit, from a file or from bytes."""

    data: bytes
    kind: Literal["file", "bytes"]


def read_source(
    source: ImageSource | None, field: str | Msg, limits: ImageLimits
) -> Link | Encoded | Image.Image:
    """What ``source`` holds: a link, the bytes of a file, or the caller's PIL image.

    Raises :class:`ImageError` naming ``field`` when nothing usable was given.
    """
    if source is None:
        raise ImageError(msg("image.nothing", field=field), field=field)
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, bytes | bytearray | memoryview):
        return _encoded(bytes(source), "bytes", field, limits)
    if isinstance(source, str):
        text = source.strip()
        if not text:
            raise ImageError(msg("image.nothing", field=field), field=field)
        match = _SCHEME.match(text)
        # A one-letter "scheme" is a Windows drive (C:\...), not a URL.
        if match and len(match.group(1)) > 1:
            scheme = match.group(1).lower()
            if scheme in {"http", "https"}:
                return Link(_checked_link(text, field))
            if scheme == "data":
                return _encoded(_decode_data_url(text, field), "bytes", field, limits)
            raise ImageError(msg("image.scheme", field=field, scheme=scheme), field=field)
    return read_file(source, field, limits)


def read_file(path: str | os.PathLike[str], field: str | Msg, limits: ImageLimits) -> Encoded:
    """The bytes of the file at ``path``, refused by name when missing, a folder, unreadable,
    empty or over the upload limit."""
    return _encoded(_read_file(Path(path), field, limits), "file", field, limits)


def _encoded(
    data: bytes, kind: Literal["file", "bytes"], field: str | Msg, limits: ImageLimits
) -> Encoded:
    check_input_size(len(data), field, limits)
    return Encoded(data, kind)


def _checked_link(url: str, field: str | Msg) -> str:
    parts = urlsplit(url)
    if not parts.hostname or any(ch.isspace() for ch in url):
        raise ImageError(msg("image.bad_url", field=field, url=repr(url[:80])), field=field)
    if len(url) > MAX_URL_LENGTH:
        raise ImageError(msg("image.url_too_long", field=field, most=MAX_URL_LENGTH), field=field)
    return url


def _decode_data_url(text: str, field: str | Msg) -> bytes:
    header, _, body = text.partition(",")
    if ";base64" not in header.lower():
        raise ImageError(msg("image.data_not_base64", field=field), field=field)
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ImageError(msg("image.data_bad_base64", field=field), field=field) from None


def _read_file(path: Path, field: str | Msg, limits: ImageLimits) -> bytes:
    try:
        size = path.stat().st_size
    except (OSError, ValueError):
        raise ImageError(
            msg("image.not_found", field=field, name=repr(path.name)), field=field
        ) from None
    if path.is_dir():
        raise ImageError(msg("image.is_folder", field=field, name=repr(path.name)), field=field)
    check_input_size(size, field, limits)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImageError(
            msg("image.unreadable", field=field, name=repr(path.name), reason=exc.strerror),
            field=field,
        ) from None


def check_input_size(size: int, field: str | Msg, limits: ImageLimits) -> None:
    """Refuse an empty file and one over the upload limit (``TRYON_MAX_UPLOAD_MB``)."""
    if size == 0:
        raise ImageError(msg("image.empty", field=field), field=field)
    if size > limits.max_input_bytes:
        raise ImageError(
            msg(
                "image.too_large",
                field=field,
                size_mb=_mb(size),
                most_mb=_mb(limits.max_input_bytes),
            ),
            field=field,
        )


def _mb(size: int) -> float:
    return size / 2**20

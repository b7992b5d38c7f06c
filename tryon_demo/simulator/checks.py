"""What the simulated API checks before it accepts a request: the credentials, the images,
the garment combination, the callback address and the paging parameters."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
import time
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

from ..hosting.netpolicy import is_loopback_host
from .config import SimulatorConfig
from .contract import GARMENTS_KEY, MAX_IMAGE_BYTES, MIN_SIDE, Reject


@dataclass
class ImageParam:
    """An image parameter: its bytes and decoded picture, or neither for a link."""

    data: bytes | None
    image: Image.Image | None
    #: Garment kinds the picture declares in its ``kolors-garments`` metadata, if any.
    labels: list[str]


def authenticate(config: SimulatorConfig, header: str) -> None:
    """Accept a bearer key (any, or one of ``api_keys``) or a JWT signed with a known secret."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Reject(401, 1001, "Authorization header is empty or not a Bearer token")
    if token.count(".") == 2 and config.jwt_secrets:
        _verify_jwt(config.jwt_secrets, token)
        return
    if config.api_keys is not None and token not in config.api_keys:
        raise Reject(401, 1002, "Authorization is invalid")


def _verify_jwt(jwt_secrets: dict[str, str], token: str) -> None:
    head, claims_part, signature = token.split(".")
    try:
        claims = json.loads(_b64url_decode(claims_part))
        secret = jwt_secrets[claims["iss"]]
    except (ValueError, KeyError, TypeError):
        raise Reject(401, 1002, "Authorization is invalid") from None
    expected = hmac.new(secret.encode(), f"{head}.{claims_part}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(_b64url_decode(signature), expected):
        raise Reject(401, 1002, "Authorization is invalid")
    now = time.time()
    if now < claims.get("nbf", 0):
        raise Reject(401, 1003, "Authorization is not yet valid")
    if now >= claims.get("exp", 0):
        raise Reject(401, 1004, "Authorization has expired")


def _b64url_decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise Reject(401, 1002, "Authorization is invalid") from None


def image_param(body: dict[str, Any], name: str) -> ImageParam:
    """The image parameter ``name`` checked against the contract's rules."""
    value = body.get(name)
    if value is None or value == "":
        raise Reject(400, 1201, f"{name} is required")
    if not isinstance(value, str):
        raise Reject(400, 1201, f"{name} must be a string (URL or base64)")
    if value[:5].lower() == "data:":
        raise Reject(400, 1201, f"{name} must be raw base64 without the 'data:' prefix")
    if value[:8].lower().startswith(("http://", "https://")):
        if not urlsplit(value).hostname:
            raise Reject(400, 1201, f"{name} is not a valid URL")
        return ImageParam(None, None, [])
    if len(value) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise Reject(400, 1201, f"{name} is larger than 10MB")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Reject(400, 1201, f"{name} is neither an http(s) URL nor valid base64") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise Reject(400, 1201, f"{name} is larger than 10MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            fmt = image.format
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Reject(400, 1201, f"{name} is not a valid image") from None
    except (OSError, SyntaxError, ValueError):
        raise Reject(400, 1201, f"{name} could not be decoded (damaged or truncated)") from None
    if fmt not in ("JPEG", "PNG"):
        raise Reject(400, 1201, f"{name} format {fmt} is not supported; use jpg, jpeg or png")
    if min(width, height) < MIN_SIDE:
        raise Reject(400, 1201, f"{name} resolution {width}x{height} is below the minimum 300x300")
    return ImageParam(data, image, _garment_labels(image))


def _garment_labels(image: Image.Image) -> list[str]:
    text = getattr(image, "text", {}).get(GARMENTS_KEY) if image.format == "PNG" else None
    if text is None:
        comment = image.info.get("comment", b"")
        comment = comment.decode("utf-8", "replace") if isinstance(comment, bytes) else str(comment)
        prefix = GARMENTS_KEY + "="
        text = comment[len(prefix) :] if comment.startswith(prefix) else None
    return [part.strip() for part in text.split(",") if part.strip()] if text else []


def check_garments(model: str, garments: list[str]) -> None:
    """Refuse the garment combinations the contract says each model refuses."""
    if len(garments) < 2:
        return
    if model == "kolors-virtual-try-on-v1":
        raise Reject(
            400, 1201, "kolors-virtual-try-on-v1 takes a single garment; use v1-5 for top + bottom"
        )
    if sorted(garments) != ["bottom", "top"]:
        raise Reject(
            400,
            1201,
            f"Garment combination {'+'.join(garments)} is not supported; "
            "v1-5 takes one garment or a top + bottom",
        )


def callback_param(config: SimulatorConfig, value: Any) -> str | None:
    """The callback URL, refused when it leaves this machine (unless allowed)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise Reject(400, 1201, "callback_url must be a string")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Reject(400, 1201, "callback_url must be an http(s) URL")
    if not config.allow_external_callbacks and not is_loopback_host(parts.hostname):
        raise Reject(
            400,
            1201,
            "The offline simulator only calls back to this machine (localhost / 127.0.0.1)",
        )
    return value


def int_param(query: Any, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within ``low..high``."""
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Reject(400, 1201, f"{name} must be an integer") from None
    if not low <= value <= high:
        raise Reject(400, 1201, f"{name} must be between {low} and {high}")
    return value

"""Request authentication: a gateway bearer key, or the official API's short-lived JWT.

Both are ``requests`` auth objects so the secret lives in one place and is added to each
request at the last moment; neither ever shows its secret in ``repr``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterable

from requests import PreparedRequest
from requests.auth import AuthBase

from ..settings import Settings

JWT_LIFETIME = 1800
#: Renew a cached token this long before it expires, so a slow request never carries a stale one.
JWT_REFRESH_MARGIN = 300


class BearerAuth(AuthBase):
    """``Authorization: Bearer <key>`` for the gateway."""

    def __init__(self, key: str) -> None:
        self._key = key

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._key}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(key=***)"

    def credentials(self) -> tuple[str, ...]:
        """What this auth sends, for redaction: the key."""
        return (self._key,)


def make_jwt(access_key: str, secret_key: str, now: float, lifetime: int = JWT_LIFETIME) -> str:
    """An HS256 JWT as the official API wants it.

    Claims: ``iss`` the access key, ``exp`` now + 30 min, ``nbf`` now - 5 s.

    Written out here rather than pulling in a JWT library: HS256 signing is a dozen lines.
    """
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"iss": access_key, "exp": int(now) + lifetime, "nbf": int(now) - 5}
    signing_input = f"{_b64url(_json(header))}.{_b64url(_json(claims))}"
    signature = hmac.new(secret_key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


class JwtAuth(AuthBase):
    """``Authorization: Bearer <JWT>`` for the official API, cached until shortly before expiry."""

    def __init__(self, access_key: str, secret_key: str) -> None:
        self._access_key = access_key
        self._secret_key = secret_key
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        #: Every token made that may still be valid (token, expiry): a server can echo any of
        #: them, so redaction must know them all, not only the current one.
        self._issued: list[tuple[str, float]] = []

    def token(self, now: float | None = None) -> str:
        """The current token, made anew when the cached one is close to expiry."""
        now = time.time() if now is None else now
        with self._lock:
            if self._token is None or now >= self._expires - JWT_REFRESH_MARGIN:
                self._token = make_jwt(self._access_key, self._secret_key, now)
                self._expires = int(now) + JWT_LIFETIME
                self._issued = [(t, e) for t, e in self._issued if e > now]
                self._issued.append((self._token, self._expires))
            return self._token

    def credentials(self) -> tuple[str, ...]:
        """What this auth knows or sends, for redaction: both keys and every token made in the
        last 30 minutes, each also without its header (the part that is the same for all)."""
        with self._lock:
            tokens = [t for t, _ in self._issued]
        parts = [t.split(".", 1)[1] for t in tokens]  # payload + signature
        return (self._access_key, self._secret_key, *tokens, *parts)

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request

    def __repr__(self) -> str:
        return "JwtAuth(access_key=***, secret_key=***)"


def auth_for(settings: Settings) -> AuthBase | None:
    """The auth object the settings call for; ``None`` offline."""
    if settings.mode == "official" and settings.access_key and settings.secret_key:
        return JwtAuth(settings.access_key, settings.secret_key)
    if settings.mode == "gateway" and settings.api_key:
        return BearerAuth(settings.api_key)
    return None


def credentials_of(auth: object) -> Iterable[str]:
    """The secrets an auth object holds or has sent (nothing for ``None`` or unknown auth)."""
    credentials = getattr(auth, "credentials", None)
    return credentials() if callable(credentials) else ()


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

"""Request authentication: the bearer key, the official API's JWT and which one settings pick."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
import requests

from tryon_demo.api.auth import (
    JWT_LIFETIME,
    BearerAuth,
    JwtAuth,
    auth_for,
    credentials_of,
    make_jwt,
)
from tryon_demo.settings import Settings


def decode_segment(segment: str) -> dict[str, Any]:
    padded = segment + "=" * (-len(segment) % 4)
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return value


def authorised(auth: requests.auth.AuthBase) -> str:
    request = requests.Request("GET", "http://127.0.0.1/").prepare()
    return str(auth(request).headers["Authorization"])


def test_a_bearer_key_is_sent_as_an_authorization_header() -> None:
    assert authorised(BearerAuth("sk-abc")) == "Bearer sk-abc"


def test_the_jwt_carries_the_claims_the_official_api_wants_and_lives_30_minutes() -> None:
    token = make_jwt("ak-1", "secret-1", now=1_700_000_000.7)
    header, claims, _ = token.split(".")
    assert decode_segment(header) == {"alg": "HS256", "typ": "JWT"}
    assert decode_segment(claims) == {
        "iss": "ak-1",
        "exp": 1_700_000_000 + 30 * 60,
        "nbf": 1_700_000_000 - 5,
    }
    assert JWT_LIFETIME == 1800


def test_the_jwt_is_signed_with_hmac_sha256_of_the_secret_without_padding() -> None:
    token = make_jwt("ak-1", "secret-1", now=1_700_000_000)
    signing_input, signature = token.rsplit(".", 1)
    expected = hmac.new(b"secret-1", signing_input.encode(), hashlib.sha256).digest()
    assert signature == base64.urlsafe_b64encode(expected).rstrip(b"=").decode()
    assert "=" not in token
    assert " " not in base64.urlsafe_b64decode(token.split(".")[1] + "==").decode()  # compact


def test_every_part_of_the_jwt_is_unpadded_base64url() -> None:
    # Many moments, so that some parts end in every base64url letter (X included).
    for now in range(1_700_000_000, 1_700_000_400):
        header, claims, signature = make_jwt("ak-1", "secret-1", now=now).split(".")
        expected_claims = {"iss": "ak-1", "exp": now + 1800, "nbf": now - 5}
        compact = json.dumps(expected_claims, separators=(",", ":")).encode()
        assert claims == base64.urlsafe_b64encode(compact).rstrip(b"=").decode()
        digest = hmac.new(b"secret-1", f"{header}.{claims}".encode(), hashlib.sha256).digest()
        assert signature == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_jwt_auth_sends_its_current_token() -> None:
    auth = JwtAuth("ak", "sk")
    header = authorised(auth)
    assert header == f"Bearer {auth.token()}"
    assert decode_segment(header.split(".")[1])["iss"] == "ak"


def test_the_jwt_is_renewed_five_minutes_before_it_expires() -> None:
    auth = JwtAuth("ak", "sk")
    start = 1_000_000
    first = auth.token(now=start)
    assert auth.token(now=start + JWT_LIFETIME - 300 - 1) == first
    renewed = auth.token(now=start + JWT_LIFETIME - 300)
    assert renewed != first
    assert decode_segment(renewed.split(".")[1])["exp"] == start + JWT_LIFETIME - 300 + 1800
    # The renewed token is cached in its turn.
    assert auth.token(now=start + JWT_LIFETIME - 299) == renewed


def test_neither_auth_shows_its_secret_in_repr() -> None:
    assert repr(BearerAuth("sk-secret")) == "BearerAuth(key=***)"
    assert repr(JwtAuth("ak-secret", "sk-secret")) == "JwtAuth(access_key=***, secret_key=***)"


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (Settings(api_key="sk-gw"), "Bearer sk-gw"),
        (Settings(access_key="ak-1", secret_key="sk-1"), "JWT"),
        (Settings(api_key="sk-gw", access_key="ak-1", secret_key="sk-1"), "JWT"),
        (Settings(), None),
        (Settings(api_key="sk-gw", force_offline=True), None),
        (Settings(access_key="ak-1", secret_key="sk-1", force_offline=True), None),
        (Settings(api_key="sk-gw", secret_key="stray"), "Bearer sk-gw"),
    ],
    ids=["gateway", "official", "official-wins", "none", "offline", "offline-official", "stray"],
)
def test_settings_pick_the_auth(settings: Settings, expected: str | None) -> None:
    auth = auth_for(settings)
    if expected is None:
        assert auth is None
    elif expected == "JWT":
        assert isinstance(auth, JwtAuth)
        assert decode_segment(authorised(auth).split(".")[1])["iss"] == "ak-1"
    else:
        assert auth is not None and authorised(auth) == expected


def test_the_secrets_of_an_auth_are_what_it_holds_and_nothing_for_others() -> None:
    assert tuple(credentials_of(BearerAuth("sk-abc-123"))) == ("sk-abc-123",)
    assert tuple(credentials_of(None)) == ()
    assert tuple(credentials_of(object())) == ()  # an auth that does not say: nothing to find


def test_an_official_auth_lists_each_token_also_without_its_header() -> None:
    auth = JwtAuth("ak-1", "sk-2")
    token = auth.token(now=1_800_000_000)
    _header, rest = token.split(".", 1)
    assert tuple(credentials_of(auth)) == ("ak-1", "sk-2", token, rest)
    assert rest.count(".") == 1  # the claims and the signature, both kept

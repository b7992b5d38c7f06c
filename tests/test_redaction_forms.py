"""Key redaction covers the encodings a hostile API was seen to echo (found by an attack run)."""

from __future__ import annotations

import base64

import pytest

from tryon_demo.errors import redact

KEY = "sk-FAKE-KEY-0123456789-must-never-leak"


@pytest.mark.parametrize(
    "echo",
    [
        KEY.encode().hex(),
        KEY.encode().hex().upper(),
        base64.encodebytes(b"Authorization: Bearer " + KEY.encode() * 3).decode(),  # 76 columns
        KEY[:8] + "\u200b" + KEY[8:],  # zero-width space
        KEY[:8] + "\u00ad" + KEY[8:],  # soft hyphen
        KEY.removeprefix("sk-"),  # the secret part a gateway might print
        KEY[::-1],
        KEY.upper(),
    ],
    ids=[
        "hex",
        "HEX",
        "mime-base64",
        "zero-width-space",
        "soft-hyphen",
        "no-prefix",
        "reversed",
        "upper",
    ],
)
def test_an_echoed_key_is_redacted_in_this_encoding_too(echo: str) -> None:
    shown = redact(f"upstream said: {echo}", [KEY])
    assert "***" in shown
    assert KEY not in shown.replace("\u200b", "").replace("\u00ad", "")
    assert echo not in shown
    assert KEY.encode().hex() not in shown.lower()
    assert "".join(echo.split()) not in "".join(shown.split())


def test_text_without_a_key_is_left_as_it_is() -> None:
    text = "line one\nline two\u200b with a soft\u00adhyphen"
    assert redact(text, [KEY]) == text


def _escaped(text: str, form: str) -> str:
    return "".join(form.format(ord(ch)) for ch in text)


@pytest.mark.parametrize(
    "echo",
    [
        _escaped(KEY, "\\u{:04x}"),  # every character a JSON escape, in plain text
        KEY[:6] + _escaped(KEY[6:12], "\\u{:04X}") + KEY[12:],  # only a few
        _escaped(KEY, "\\x{:02x}"),  # Python's repr of bytes
    ],
    ids=["u-escapes", "some-u-escapes", "x-escapes"],
)
def test_a_key_hidden_behind_backslash_escapes_in_plain_text_is_redacted(echo: str) -> None:
    shown = redact(f"upstream said: {echo} (end)", [KEY])
    assert "***" in shown
    # However a reader decodes the escapes left in the text, the key does not appear.
    assert KEY not in shown.encode().decode("unicode_escape")
    assert shown.endswith(" (end)")


def test_a_key_with_slashes_echoed_as_escaped_slashes_is_redacted() -> None:
    key = "sk-FAKE/KEY/0123456789/never"
    shown = redact("echo: " + key.replace("/", "\\/"), [key])
    assert shown == "echo: ***"

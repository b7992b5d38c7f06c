"""Who may look a task up again: an ownership token per task, signed with a server secret.

With the owner's key (or the shared offline simulator) every visitor's tasks live in one API
account, and the API answers any task id to whoever holds the key. So the app hands the creator
of a task a token, ``HMAC(secret, task_id)``, and answers a later lookup of that task only when
the token comes with it. The token is all the proof there is: the page keeps it in the browser
(so it survives a reload), API and MCP callers get it beside the task JSON. The secret lives in
the state folder (created once, readable by this user only), so tokens survive a restart too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_FILE = "owner-secret.key"
SECRET_BYTES = 32
#: Keeps a task token from ever equalling a signature made for another purpose with the secret.
_TASK_PREFIX = b"task-owner:"


def load_secret(state_dir: Path) -> bytes:
    """The server's signing secret, made (32 random bytes, mode 0600) on first use.

    The secret is written to a file of its own first and then linked into place, which fails if
    the file exists: two processes starting at once agree on one secret, and a reader never sees
    a half-written one.
    """
    path = state_dir / SECRET_FILE
    try:
        secret = path.read_bytes()
    except FileNotFoundError:
        secret = b""
    if len(secret) >= SECRET_BYTES:
        return secret
    fresh = secrets.token_bytes(SECRET_BYTES)
    scratch = state_dir / f".{SECRET_FILE}.{secrets.token_hex(8)}"
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(fresh)
        if secret:  # cut short by a crash mid-write long ago: it signs nothing reliably
            os.replace(scratch, path)
            return fresh
        try:
            os.link(scratch, path)
        except FileExistsError:
            return path.read_bytes()  # another process was first: use its secret
        return fresh
    finally:
        scratch.unlink(missing_ok=True)


def issue_token(secret: bytes, task_id: str) -> str:
    """The token that proves its holder created ``task_id`` (43 URL-safe characters)."""
    digest = hmac.new(secret, _TASK_PREFIX + task_id.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def token_valid(secret: bytes, task_id: str, token: str | None) -> bool:
    """Whether ``token`` was issued for ``task_id`` by the holder of ``secret``.

    Compared in constant time, so the answer's timing tells nothing about a near miss.
    """
    if not isinstance(token, str) or not token:  # a stored value of another shape: no right
        return False
    return hmac.compare_digest(issue_token(secret, task_id), token.strip())


def browser_secret(secret: bytes) -> str:
    """The key Gradio encrypts the page's stored tokens with (``gr.BrowserState``).

    Derived from the server secret so a browser's stored tokens are still readable after a
    restart (Gradio's default is a new random key per launch).
    """
    return hmac.new(secret, b"browser-state", hashlib.sha256).hexdigest()

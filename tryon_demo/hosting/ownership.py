"""Who may look a task up again: an ownership token per task, signed with a server secret.

With the owner's key (or the shared offline simulator) every visitor's tasks live in one API
account, and the API answers any task id to whoever holds the key. So the app hands the creator
of a task a token, ``HMAC(secret, task_id)``, and answers a later lookup of that task only when
the token comes with it. The token is all the proof there is: the page keeps it in the browser
(so it survives a reload), API and MCP callers get it beside the task JSON. The secret lives in
the state folder (created once, readable by this user only), so tokens survive a restart too;
deleting or replacing the file revokes every token within :data:`RECHECK_SECONDS`, without a
restart (:class:`OwnerSecret`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

SECRET_FILE = "owner-secret.key"
SECRET_BYTES = 32
#: Keeps a task token from ever equalling a signature made for another purpose with the secret.
_TASK_PREFIX = b"task-owner:"
#: How often, at most, the secret file is looked at again: deleting or replacing it revokes
#: every token issued with the old secret this long afterwards at the latest.
RECHECK_SECONDS = 2.0
#: The shape of every token :func:`issue_token` makes (43 URL-safe characters).
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")


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


class OwnerSecret:
    """The secret in ``state_dir``, read again when its file changes.

    The file's identity (device, inode, size, modification time) is looked at no more often
    than every ``recheck`` seconds (:data:`RECHECK_SECONDS`), so a lookup costs a ``stat`` at
    most that often. When the file was deleted a new secret is made (every old token is then
    revoked); when it was replaced, the new one is used.
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        recheck: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.state_dir = state_dir
        self.recheck = RECHECK_SECONDS if recheck is None else recheck
        self._clock = clock
        self._lock = threading.Lock()
        self._secret = load_secret(state_dir)
        self._identity = self._file_identity()
        self._checked = clock()

    def current(self) -> bytes:
        """The secret as the file holds it now (as of at most ``recheck`` seconds ago)."""
        with self._lock:
            now = self._clock()
            if now - self._checked >= self.recheck:
                self._checked = now
                identity = self._file_identity()
                if identity is None or identity != self._identity:
                    self._secret = load_secret(self.state_dir)
                    self._identity = self._file_identity()
            return self._secret

    def _file_identity(self) -> tuple[int, ...] | None:
        try:
            found = (self.state_dir / SECRET_FILE).stat()
        except OSError:
            return None
        return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)


#: A secret as the functions below take it: its bytes, or the file they are read from.
Secret = bytes | OwnerSecret


def _key(secret: Secret) -> bytes:
    return secret.current() if isinstance(secret, OwnerSecret) else secret


def issue_token(secret: Secret, task_id: str) -> str:
    """The token that proves its holder created ``task_id`` (43 URL-safe characters)."""
    key = _key(secret)
    digest = hmac.new(key, _TASK_PREFIX + task_id.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def token_valid(secret: Secret, task_id: str, token: object) -> bool:
    """Whether ``token`` was issued for ``task_id`` by the holder of ``secret``.

    Anything not shaped like a token (another type, other characters, another length) is no
    right and no error; a well-shaped one is compared as bytes in constant time, so the
    answer's timing tells nothing about a near miss.
    """
    if not well_formed(token):
        return False
    assert isinstance(token, str)
    expected = issue_token(secret, task_id).encode("ascii")
    return hmac.compare_digest(expected, token.strip().encode("ascii"))


def well_formed(token: object) -> bool:
    """Whether ``token`` has the shape of a token this server issues (surrounding spaces
    allowed). Says nothing about whether it is valid."""
    return isinstance(token, str) and TOKEN_PATTERN.fullmatch(token.strip()) is not None


def browser_secret(secret: Secret) -> str:
    """The key ``gr.BrowserState`` scrambles the page's stored values with.

    It is not a secret from the visitor: Gradio sends it to every page in ``/config``, and the
    browser uses it there. It only keeps the stored values from being plain text in the
    browser's storage. Derived from the server secret so that what a browser stored is still
    readable after a restart (Gradio's default is a new random key per launch).
    """
    return hmac.new(_key(secret), b"browser-state", hashlib.sha256).hexdigest()

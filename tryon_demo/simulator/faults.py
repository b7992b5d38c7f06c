"""Fault injection: seeded dice, the errors a gateway answers with, dropped connections, and
replies that echo the caller's credentials back (to test that clients redact them)."""

from __future__ import annotations

import base64
import random
import threading
from typing import Any

from .config import Faults
from .contract import API_PATH, CONTRACT_ERRORS, Malformed, Reject

#: Stands in for the ``\\u``-escaped credentials while a reply is built; replaced in the JSON
#: text itself, so the escapes reach the client as escapes (``json.dumps`` would not write them).
ESCAPED_MARK = "@@ECHO-ESCAPED@@"


class FaultDice:
    """Seeded dice: the same seed fires the same faults in the same order, so runs repeat."""

    def __init__(self, seed: int) -> None:
        self._dice = random.Random(seed)
        self._lock = threading.Lock()
        self.fired = 0

    def roll(self, share: float) -> bool:
        """True for a share of calls."""
        if share <= 0:
            return False
        with self._lock:
            hit = self._dice.random() < share
            self.fired += hit
            return hit


def inject(faults: Faults, dice: FaultDice, kind: str) -> None:
    """Raise the fault (an error envelope or a malformed reply) this request draws, if any."""
    if faults.applies_to not in ("all", kind):
        return
    if faults.error_code is not None and dice.roll(faults.error_share):
        status, message = CONTRACT_ERRORS[faults.error_code]
        raise Reject(status, faults.error_code, message + " (simulated)")
    if dice.roll(faults.rate_limit_share):
        raise Reject(429, 1302, "Too many requests, please slow down (simulated)")
    if dice.roll(faults.server_error_share):
        raise Reject(500, 5000, "Internal server error (simulated)")
    if dice.roll(faults.malformed_share):
        raise Malformed()


def echo_text(authorization: str) -> str:
    """The received ``Authorization`` value in every form a careless API might echo it.

    Plain (the whole header, so an official key's bearer JWT appears exactly as received),
    the token ``\\u``-escaped (as :data:`ESCAPED_MARK`, see :func:`escape_marks`), and base64
    of the token and of the header. Empty when there was no header.
    """
    if not authorization:
        return ""
    token = authorization.partition(" ")[2].strip() or authorization
    b64_token = base64.b64encode(token.encode()).decode()
    b64_header = base64.b64encode(authorization.encode()).decode()
    return (
        f"[echo] Authorization: {authorization} | token {token} | escaped {ESCAPED_MARK} "
        f"| base64 {b64_token} | header base64 {b64_header}"
    )


def escape_marks(json_text: str, authorization: str) -> str:
    """Write the token ``\\u``-escaped into a reply's JSON text wherever the mark stands."""
    token = authorization.partition(" ")[2].strip() or authorization
    escaped = "".join(f"\\u{ord(char):04x}" for char in token)
    return json_text.replace(ESCAPED_MARK, escaped)


class DropConnections:
    """ASGI wrapper: abort a share of API connections without any reply, as a flaky network or
    an overloaded gateway does. It must wrap the app directly under uvicorn, whose ``send`` is
    bound to its request cycle and so reaches the socket's transport; under another server (or
    inside Starlette's middleware, which wraps ``send``) the fault does nothing."""

    def __init__(self, app: Any, simulator: Any) -> None:
        self.app = app
        self.simulator = simulator

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        faults = self.simulator.config.faults
        is_api = scope["type"] == "http" and API_PATH in scope["path"]
        if is_api and scope["method"] == "POST":
            with self.simulator.lock:
                self.simulator.creates_received += 1
        if is_api and faults.drop_share > 0:
            kind = "create" if scope["method"] == "POST" else "query"
            if faults.applies_to in ("all", kind) and self.simulator.roll(faults.drop_share):
                transport = getattr(getattr(send, "__self__", None), "transport", None)
                if transport is not None:
                    with self.simulator.lock:
                        self.simulator.requests_seen += 1
                    transport.abort()
                    # Return only once uvicorn has seen the disconnect, so it does not log the
                    # missing response as an application error.
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    return
        await self.app(scope, receive, send)

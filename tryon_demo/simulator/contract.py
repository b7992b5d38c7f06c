"""What the API contract fixes: paths, error codes and messages, ids and the clock."""

from __future__ import annotations

import secrets
import string
import time

API_PATH = "/v1/images/kolors-virtual-try-on"
PREFIXES = ("/kling", "")
RESULTS_PATH = "/simulator/results"
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MIN_SIDE = 300
MAX_BODY_BYTES = 32 * 1024 * 1024
#: Metadata key our outfit composer writes so the simulator can tell a combination apart.
GARMENTS_KEY = "kolors-garments"
#: Real task ids look like ``CjikY2gHPbcAAAAABI5n9g``: 22 letters and digits. No ``-`` or
#: ``_``, so an id never starts with a dash that a command line would take for an option.
ID_ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 22

#: Every error of the contract: business code -> (HTTP status, the API's message).
CONTRACT_ERRORS: dict[int, tuple[int, str]] = {
    1000: (401, "Authentication failed"),
    1001: (401, "Authorization is empty"),
    1002: (401, "Authorization is invalid"),
    1003: (401, "Authorization is not yet valid"),
    1004: (401, "Authorization has expired"),
    1100: (429, "Account exception"),
    1101: (429, "Account in arrears (postpaid scenario)"),
    1102: (429, "Resource pack depleted or expired (prepaid scenario)"),
    1103: (403, "Unauthorized access to requested resource, such as API/model"),
    1200: (400, "Invalid request parameters"),
    1201: (400, "Invalid parameters, such as incorrect key or illegal value"),
    1202: (404, "The requested method is invalid"),
    1203: (404, "The requested resource does not exist, such as the model"),
    1300: (400, "Trigger strategy of the platform"),
    1301: (400, "Trigger the content security policy of the platform"),
    1302: (429, "The API request is too fast, please slow down the request frequency"),
    1303: (429, "parallel task over resource pack limit"),
    1304: (429, "Trigger the platform's IP whitelisting policy"),
    5000: (500, "Server internal error"),
    5001: (503, "Server temporarily unavailable, usually due to maintenance"),
    5002: (504, "Server internal timeout, usually due to a backlog"),
}


class Reject(Exception):
    """An error envelope to answer with."""

    def __init__(self, http_status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.http_status, self.code, self.message = http_status, code, message


class Malformed(Reject):
    """The malformed-reply fault: answer what a broken gateway sends instead of JSON."""

    def __init__(self) -> None:
        super().__init__(502, 0, "malformed")


def new_id() -> str:
    """A task or request id: 22 random letters and digits, like the real API's."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


def now_ms() -> int:
    """The clock the API's ``created_at`` / ``updated_at`` use: Unix milliseconds."""
    return int(time.time() * 1000)

"""One exception hierarchy for everything a person can get wrong or the API can answer.

Every error carries a message a person can act on. API errors also keep the HTTP status, the
API's business ``code``, its own ``message`` and its ``request_id`` so support can trace them.
None of them ever holds the API key: messages built from server replies are redacted first.

The message is a :class:`~tryon_demo.text.messages.Msg` (a catalogue key and its values),
rendered in the visitor's language where it is shown; ``str(error)`` and ``error.message`` are
its English.
A plain string is still accepted and is shown as it is in every language.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from .text.messages import Msg, as_msg, msg


class TryOnError(Exception):
    """Base class of every error this package raises on purpose."""

    #: Short, stable name of the cause, for the UI and for JSON output.
    kind: str = "error"
    #: Whether trying the same thing again later may work.
    retryable: bool = False
    #: The task the error concerns, once one was created (see :meth:`with_task_id`).
    task_id: str | None = None

    def __init__(
        self,
        message: str | Msg,
        *,
        http_status: int | None = None,
        code: int | None = None,
        api_message: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.msg = as_msg(message)
        #: The English rendering, for logs, the CLI and callers that read a sentence.
        self.message = self.msg.render("en")
        super().__init__(self.message)
        self.http_status = http_status
        self.code = code
        self.api_message = api_message
        self.request_id = request_id
        self.retry_after = retry_after

    @property
    def key(self) -> str:
        """The catalogue key of the message (``_verbatim`` for a plain string)."""
        return self.msg.key

    def as_msg(self) -> Msg:
        """The message as shown to a person: with the API's request_id when there is one."""
        if self.request_id:
            return msg("error.with_request_id", message=self.msg, request_id=self.request_id)
        return self.msg

    def render(self, lang: str = "en") -> str:
        """The message in ``lang``, with the request_id when there is one."""
        return self.as_msg().render(lang)

    def __str__(self) -> str:
        return self.render("en")

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, http_status={self.http_status!r}, "
            f"code={self.code!r}, request_id={self.request_id!r})"
        )

    def with_task_id(self, task_id: str | None) -> TryOnError:
        """Name the task this error concerns (in ``task_id`` and in the message), so whoever
        reads it can look the task up instead of creating, and paying for, another. Returns
        the error itself."""
        if task_id and self.task_id is None:
            self.task_id = task_id
        if task_id and task_id not in self.message:
            self.msg = Msg.join([self.msg, msg("error.task_id", task_id=task_id)])
            self.message = self.msg.render("en")
            self.args = (self.message,)
        return self

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view of the error for display; holds nothing secret."""
        return {
            "error": self.kind,
            "key": self.key,
            "message": self.message,
            "task_id": self.task_id,
            "http_status": self.http_status,
            "code": self.code,
            "api_message": self.api_message,
            "request_id": self.request_id,
            "retry_after": self.retry_after,
        }


# --- Input the app can judge itself -------------------------------------------------------


class InputError(TryOnError):
    """Something the user supplied cannot be sent; nothing reached the API."""

    kind = "invalid_input"


class ImageError(InputError):
    """An image breaks a rule that preparation cannot fix."""

    kind = "invalid_image"

    def __init__(self, message: str | Msg, *, field: str | Msg | None = None) -> None:
        super().__init__(message)
        #: The image's name in English ("Person image"), or ``None``.
        self.field = str(field) if field is not None else None


class UnsafeURLError(InputError):
    """A link points somewhere this server must not connect to (its own network, not http)."""

    kind = "unsafe_url"


class ConfigurationError(TryOnError):
    """Settings are incomplete or contradictory."""

    kind = "configuration"


# --- Answers from the API -----------------------------------------------------------------


class ApiError(TryOnError):
    """The API answered with an error envelope."""

    kind = "api_error"


class AuthenticationError(ApiError):
    """The key is missing, wrong or expired (codes 1000-1004)."""

    kind = "authentication"


class PermissionDeniedError(ApiError):
    """The key may not use this resource or model, or the IP is not allowed (1103, 1304)."""

    kind = "permission_denied"


class QuotaError(ApiError):
    """The account is abnormal, in arrears or out of resource packs (1100-1102)."""

    kind = "quota"


class RateLimitError(ApiError):
    """Too many requests or tasks at once (1302, 1303); try again after ``retry_after``."""

    kind = "rate_limited"
    retryable = True


class InvalidRequestError(ApiError):
    """The API refused the request's content (1200, 1201, 1202)."""

    kind = "invalid_request"


class TaskNotFoundError(InvalidRequestError):
    """No task with that id exists for this key (1203)."""

    kind = "task_not_found"


class ContentPolicyError(ApiError):
    """The platform's policy or content-safety check refused the images (1300, 1301)."""

    kind = "content_policy"


class ServerError(ApiError):
    """The API failed internally or is under maintenance (5000-5002)."""

    kind = "server_error"
    retryable = True


# --- Transport and task outcome -----------------------------------------------------------


class NetworkError(TryOnError):
    """The API could not be reached, or the connection broke or timed out."""

    kind = "network"
    retryable = True

    def __init__(
        self,
        message: str | Msg,
        *,
        may_have_reached_server: bool = True,
        task_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.may_have_reached_server = may_have_reached_server
        self.task_id = task_id


class UnexpectedResponseError(TryOnError):
    """The reply was not JSON, or not the contract's envelope."""

    kind = "unexpected_response"


class TaskFailedError(TryOnError):
    """The task ended with ``task_status == "failed"``."""

    kind = "task_failed"

    def __init__(self, message: str | Msg, *, task_id: str, request_id: str | None = None) -> None:
        super().__init__(message, request_id=request_id)
        self.task_id = task_id


class WaitTimeoutError(TryOnError):
    """The task did not finish within the wait limit; it may still finish at the API."""

    kind = "timeout"
    retryable = True

    def __init__(self, message: str | Msg, *, task_id: str, last_status: str | None = None) -> None:
        super().__init__(message)
        self.task_id = task_id
        self.last_status = last_status


class CancelledError(TryOnError):
    """The caller stopped waiting; the task keeps running at the API."""

    kind = "cancelled"

    def __init__(self, message: str | Msg, *, task_id: str) -> None:
        super().__init__(message)
        self.task_id = task_id


#: Advice that names the owner's settings (KLING_API_BASE, KLING_API_KEY), and what someone who
#: entered a key of their own on the page reads instead: something they can do themselves.
OWN_KEY_ADVICE = {
    "network.check": "network.check_own_key",
    "error.code.1000": "error.code.1000_own_key",
    "error.code.1001": "error.code.1001_own_key",
    "error.code.1202": "error.code.1202_own_key",
    "response.unknown_format": "response.unknown_format_own_key",
    "response.hint.404": "response.hint.404_own_key",
}


def for_own_key(error: TryOnError) -> TryOnError:
    """``error`` as told to a visitor who entered their own key: the owner's advice replaced
    (see :data:`OWN_KEY_ADVICE`). Returns the error itself."""
    told = error.msg.replaced(OWN_KEY_ADVICE)
    if told != error.msg:
        error.msg = told
        error.message = told.render("en")
        error.args = (error.message,)
    return error


def error_text(error: TryOnError, lang: str) -> str:
    """An error's message in ``lang``, with the API's request_id when there is one."""
    return error.render(lang)


def api_says(words: str) -> Msg:
    """The API's own words, labelled as such and never translated: "API says: ..."."""
    return msg("api.says", text=words)


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every secret (at least 4 characters long) in ``text`` with ``***``, in any of the
    forms a server might echo it: as is, base64 (standard or URL-safe, padded or not, alone or
    inside a longer base64 string), or hidden behind JSON ``\\u`` escapes, HTML entities or
    percent-encoding. When a secret was hidden behind an escape, the text comes back decoded
    (and redacted): the escapes are what hid it."""
    forms = _forms(tuple(s for s in secrets if s and len(s) >= 4))
    if not forms or not text:
        return text
    result = current = _replace(text, forms)
    for _ in range(4):  # escapes can nest: &#92;u0073k-...
        decoded = _unescape(current)
        if decoded == current:
            break
        scrubbed = _replace(decoded, forms)
        if scrubbed != decoded:
            result = scrubbed
        current = scrubbed
    # Base64 wrapped into lines (MIME's 76 columns) or a key broken up by invisible characters:
    # a secret that shows only once they are taken out is redacted in the text without them.
    squeezed = _INVISIBLE.sub("", result)
    if squeezed != result:
        scrubbed = _replace(squeezed, forms)
        if scrubbed != squeezed:
            result = scrubbed
    return result


def redact_json(value: Any, secrets: Iterable[str | None]) -> Any:
    """A copy of parsed JSON with :func:`redact` applied to every string, keys included."""
    values = tuple(secrets)
    if isinstance(value, str):
        return redact(value, values)
    if isinstance(value, list):
        return [redact_json(item, values) for item in value]
    if isinstance(value, dict):
        return {redact(str(k), values): redact_json(v, values) for k, v in value.items()}
    return value


#: Line breaks and the characters that are invisible on screen (zero-width, soft hyphen).
_INVISIBLE = re.compile("[\r\n\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|\\/")


def _unescape(text: str) -> str:
    if "\\" in text:
        text = _ESCAPE.sub(lambda m: chr(int(m[1] or m[2], 16)) if m[1] or m[2] else "/", text)
    if "&" in text:
        text = html.unescape(text)
    if "%" in text:
        text = unquote(text)
    return text


def _replace(text: str, forms: tuple[str, ...]) -> str:
    for form in forms:
        if form in text:
            text = text.replace(form, "***")
    return text


@lru_cache(maxsize=256)
def _forms(secrets: tuple[str, ...]) -> tuple[str, ...]:
    """Each secret, and the base64 runs that spell it wherever it sits in a base64 string."""
    forms: set[str] = set()
    for secret in secrets:
        forms.update({secret, secret[::-1], secret.upper(), secret.lower()})
        prefix, dash, rest = secret.partition("-")
        if dash and len(prefix) <= 4 and len(rest) >= 8:  # "sk-...": the part that is secret
            forms.update({rest, rest[::-1]})
        data = secret.encode()
        forms.update({data.hex(), data.hex().upper()})
        for shift in range(3):  # the secret's bytes can start at any offset in a 3-byte group
            encoded = base64.b64encode(b"\0" * shift + data).decode()
            first = -(-8 * shift // 6)  # the first character made only of the secret's bits
            last = 8 * (shift + len(data)) // 6  # one past the last such character
            core = encoded[first:last]
            forms.update({core, core.replace("+", "-").replace("/", "_")})
    # Longest first, so a secret that contains another is replaced whole.
    return tuple(sorted((f for f in forms if len(f) >= 4), key=len, reverse=True))


# What each business code means to the person in front of the app (its text is the catalogue's
# ``error.code.<code>``). The API's own message is kept beside this in ``api_message``; these
# sentences say what to do about it.
_CODE_TABLE: dict[int, type[ApiError]] = {
    1000: AuthenticationError,
    1001: AuthenticationError,
    1002: AuthenticationError,
    1003: AuthenticationError,
    1004: AuthenticationError,
    1100: QuotaError,
    1101: QuotaError,
    1102: QuotaError,
    1103: PermissionDeniedError,
    1200: InvalidRequestError,
    1201: InvalidRequestError,
    1202: InvalidRequestError,
    1203: TaskNotFoundError,
    1300: ContentPolicyError,
    1301: ContentPolicyError,
    1302: RateLimitError,
    1303: RateLimitError,
    1304: PermissionDeniedError,
    5000: ServerError,
    5001: ServerError,
    5002: ServerError,
}

_STATUS_FALLBACK: dict[int, type[ApiError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: TaskNotFoundError,
    429: RateLimitError,
}


def api_error(
    *,
    http_status: int,
    code: int | None,
    api_message: str | None,
    request_id: str | None,
    retry_after: float | None = None,
) -> ApiError:
    """Build the right :class:`ApiError` for an error envelope, deciding on the business code."""
    parts: list[Msg] = []
    if code is not None and code in _CODE_TABLE:
        cls = _CODE_TABLE[code]
        parts.append(msg(f"error.code.{code}"))
    else:
        cls = _STATUS_FALLBACK.get(http_status, ServerError if http_status >= 500 else ApiError)
        parts.append(msg("error.api_unknown", http_status=http_status, code=str(code)))
    if cls is RateLimitError:
        # The contract: back off from at least 1 s when the API names no delay itself.
        parts.append(msg("error.retry_in", seconds=max(retry_after or 0.0, 1.0)))
    if api_message and api_message.upper() not in {"SUCCEED", "SUCCESS"}:
        parts.append(api_says(api_message))
    return cls(
        Msg.join(parts),
        http_status=http_status,
        code=code,
        api_message=api_message,
        request_id=request_id,
        retry_after=retry_after,
    )

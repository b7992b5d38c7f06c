"""Typed views of the API's replies, and the strict-but-lenient parsing that builds them.

Strict about the envelope (``code`` must be an integer, ``data`` must hold a task) so that a
gateway that rewrote the reply is reported rather than misread; lenient inside the task
(unknown extra fields are kept, image items may lack ``index``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import UnexpectedResponseError, api_error
from ..text.messages import Msg, msg

TaskStatus = Literal["submitted", "processing", "succeed", "failed"]
TASK_STATUSES: frozenset[str] = frozenset({"submitted", "processing", "succeed", "failed"})
TERMINAL_STATUSES: frozenset[str] = frozenset({"succeed", "failed"})
BODY_SNIPPET = 300


@dataclass(frozen=True)
class ResultImage:
    """One output image; the URL expires about 30 days after the task."""

    url: str
    index: int | None = None


@dataclass(frozen=True)
class Task:
    """A try-on task as the API last described it."""

    task_id: str
    task_status: str
    task_status_msg: str | None = None
    created_at: int | None = None
    updated_at: int | None = None
    images: tuple[ResultImage, ...] = ()
    external_task_id: str | None = None
    request_id: str | None = None
    #: The reply exactly as received (the whole envelope, or the bare callback body).
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_terminal(self) -> bool:
        """Whether the task has ended (``succeed`` or ``failed``)."""
        return self.task_status in TERMINAL_STATUSES

    @property
    def result_url(self) -> str | None:
        """The first result image's URL, once the task has succeeded."""
        return self.images[0].url if self.images else None


def body_snippet(text: str, limit: int = BODY_SNIPPET) -> str:
    """The first part of a reply body on one line, for error messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."


def parse_json(http_status: int, text: str) -> Any:
    """Decode a reply body, turning anything that is not JSON into an unexpected-response error."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        snippet = repr(body_snippet(text))
        raise UnexpectedResponseError(
            _with_hint(
                msg("response.not_json", http_status=http_status, snippet=snippet), http_status
            ),
            http_status=http_status,
        ) from None


def unwrap_envelope(http_status: int, body: Any, retry_after: float | None = None) -> Any:
    """Return the envelope's ``data`` on ``code == 0``; raise the matching error otherwise."""
    if not isinstance(body, dict) or "code" not in body:
        raise _unknown_shape(http_status, body)
    code = body.get("code")
    message = body.get("message")
    request_id = body.get("request_id")
    message = message if isinstance(message, str) else None
    request_id = request_id if isinstance(request_id, str) else None
    if isinstance(code, bool) or not isinstance(code, int):
        raise _unknown_shape(http_status, body)
    if code != 0:
        raise api_error(
            http_status=http_status,
            code=code,
            api_message=message,
            request_id=request_id,
            retry_after=retry_after,
        )
    if not 200 <= http_status < 300:
        raise UnexpectedResponseError(
            msg("response.code0_on_error", http_status=http_status),
            http_status=http_status,
            code=code,
            request_id=request_id,
        )
    if "data" not in body:
        raise UnexpectedResponseError(
            msg("response.no_data"),
            http_status=http_status,
            code=code,
            request_id=request_id,
        )
    return body["data"]


def parse_task(data: Any, *, raw: dict[str, Any], request_id: str | None = None) -> Task:
    """Build a :class:`Task` from a task object (``data`` of create/query, or a callback)."""
    if not isinstance(data, dict):
        raise UnexpectedResponseError(
            msg("response.not_task", what=_describe(data)), request_id=request_id
        )
    task_id = data.get("task_id")
    status = data.get("task_status")
    if not isinstance(task_id, str) or not task_id:
        raise UnexpectedResponseError(
            msg("response.no_task_id", keys=_keys(data)), request_id=request_id
        )
    if not isinstance(status, str) or status not in TASK_STATUSES:
        raise UnexpectedResponseError(
            msg("response.unknown_status", task_id=task_id, status=repr(status)),
            request_id=request_id,
        )
    info = data.get("task_info")
    external = info.get("external_task_id") if isinstance(info, dict) else None
    message = data.get("task_status_msg")
    return Task(
        task_id=task_id,
        task_status=status,
        task_status_msg=message if isinstance(message, str) and message else None,
        created_at=_int_or_none(data.get("created_at")),
        updated_at=_int_or_none(data.get("updated_at")),
        images=_images(data.get("task_result"), task_id, request_id),
        external_task_id=external if isinstance(external, str) and external else None,
        request_id=request_id,
        raw=raw,
    )


def parse_task_reply(http_status: int, text: str, retry_after: float | None = None) -> Task:
    """Parse a create or query reply body into a :class:`Task` (or raise)."""
    body = parse_json(http_status, text)
    data = unwrap_envelope(http_status, body, retry_after)
    return parse_task(data, raw=body, request_id=body.get("request_id") or None)


def parse_task_list_reply(
    http_status: int, text: str, retry_after: float | None = None
) -> list[Task]:
    """Parse a list reply body; ``data`` is an array of task objects."""
    body = parse_json(http_status, text)
    data = unwrap_envelope(http_status, body, retry_after)
    request_id = body.get("request_id") or None
    if not isinstance(data, list):
        raise UnexpectedResponseError(
            msg("response.not_list", what=_describe(data)), request_id=request_id
        )
    return [parse_task(item, raw=item, request_id=request_id) for item in data]


def _images(result: Any, task_id: str, request_id: str | None) -> tuple[ResultImage, ...]:
    if result in (None, {}, ""):
        return ()
    items = result.get("images") if isinstance(result, dict) else None
    if items is None:
        return ()
    if not isinstance(items, list):
        raise UnexpectedResponseError(
            msg("response.images_not_list", task_id=task_id, what=_describe(items)),
            request_id=request_id,
        )
    images = []
    for item in items:
        url = item.get("url") if isinstance(item, dict) else None
        if not isinstance(url, str) or not url:
            raise UnexpectedResponseError(
                msg("response.image_no_url", task_id=task_id, what=_describe(item)),
                request_id=request_id,
            )
        images.append(ResultImage(url=url, index=_int_or_none(item.get("index"))))
    return tuple(images)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _keys(value: dict[Any, Any]) -> str | Msg:
    keys = ", ".join(str(k) for k in list(value)[:12])
    return keys or msg("response.none")


def _describe(value: Any) -> str | Msg:
    if isinstance(value, dict):
        return msg("response.object_with_keys", keys=_keys(value))
    if isinstance(value, list):
        # Never the items: a list where one task was expected may be the key's task list (a
        # task id that reached the list endpoint), and its ids are other visitors' tasks.
        return msg("response.list_of", count=len(value))
    return f"{type(value).__name__} {body_snippet(repr(value), 80)}"


def _unknown_shape(http_status: int, body: Any) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        _with_hint(
            msg("response.unknown_format", http_status=http_status, what=_describe(body)),
            http_status,
        ),
        http_status=http_status,
    )


#: HTTP statuses with a hint of their usual cause (``response.hint.<status>``).
_HINTED = frozenset({401, 403, 404, 429, 502, 503, 504})


def _with_hint(message: Msg, http_status: int) -> Msg:
    """``message`` followed by what the HTTP status usually means, when it is a telling one."""
    if http_status not in _HINTED:
        return message
    return Msg.join([message, msg(f"response.hint.{http_status}")])

"""Gradio's event requests, read before Gradio reads them: each within what its event needs,
no file named by a web address (Gradio would fetch it before any limit), and no owner token of
a shape the server never issues.

Gradio stores an event's inputs in the visitor's session and keeps up to 10,000 sessions, so a
page event stuffed with junk (a history "row" of megabytes) was held long after it was
answered. What a page event legitimately sends is small: a language, a task id, the browser's
history (at most 100 entries) and ownership tokens (at most 200) come to a few KB, and never
more than :data:`PAGE_EVENT_BYTES`. Only events that take a picture may carry one inline: the
page's picture events (an image, a gallery) and the API's ``/submit`` and ``/tryon``, whose
callers may send ``data:`` URLs; they keep the app-wide body cap (:mod:`.body_limit`).

An owner token is the only proof a lookup has; one in a shape the server never issues (other
characters, another length) is refused with 400 where it is an argument of its own (``/query``,
the MCP ``query`` tool), before any work. (A malformed token the page's browser store sends
back is simply no right: see :func:`.ownership.token_valid`.)

Events are told apart as Gradio does: by ``fn_index`` in the body, else by the endpoint name in
the path (``/gradio_api/run/<name>``, ``/gradio_api/call/<name>``).
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from gradio.utils import get_function_params

from ..text.i18n import language
from ..text.messages import text
from .http_common import (
    REMOTE_ADDRESS,
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    header,
    route_path,
    send_json,
)
from .ownership import well_formed

#: The most a page event without a picture may send (the history's 100 entries with long
#: result links and 200 ownership tokens come to well under half of it).
PAGE_EVENT_BYTES = 256 * 2**10
#: The argument of an endpoint that carries an ownership token.
TOKEN_ARGUMENT = "owner_token"
#: Gradio's routes that run an event: the queue, and by name (``run``, ``call``), and the
#: stream route that feeds data to a running event.
_EVENT_ROUTE = re.compile(r"^/gradio_api/(?:queue/join|(?:run|call)/([^/]+)|stream/[^/]+)/?$")
_MCP_ROUTE = re.compile(r"^/gradio_api/mcp(?:/.*)?$")
#: Input components through which a page sends a picture (inline as a ``data:`` URL at worst).
_PICTURE_TYPES = ("Image", "Gallery", "File", "Files")


@dataclass(frozen=True)
class EventRule:
    """What one event may be sent: ``max_bytes`` of body, and the positions of its
    arguments that are ownership tokens."""

    max_bytes: int
    token_positions: tuple[int, ...] = ()


@dataclass(frozen=True)
class EventRules:
    """The rule of every event of a page, by ``fn_index`` and by endpoint name."""

    by_index: Mapping[int, EventRule]
    by_name: Mapping[str, int]

    def find(self, fn_index: object, api_name: str | None) -> EventRule | None:
        """The event Gradio would run for this ``fn_index`` (or, without one, ``api_name``)."""
        if isinstance(fn_index, str) and fn_index.strip().isdigit():
            fn_index = int(fn_index)
        if isinstance(fn_index, int) and not isinstance(fn_index, bool):
            return self.by_index.get(fn_index)
        if fn_index is None and api_name is not None and api_name in self.by_name:
            return self.by_index.get(self.by_name[api_name])
        return None


def rules_of(blocks: Any, picture_bytes: int) -> EventRules:
    """The rules of a Gradio Blocks' events: ``picture_bytes`` for an event that takes a
    picture, :data:`PAGE_EVENT_BYTES` for every other."""
    by_index: dict[int, EventRule] = {}
    by_name: dict[str, int] = {}
    for index, fn in getattr(blocks, "fns", {}).items():
        inputs = list(getattr(fn, "inputs", []))
        pictures = any(_takes_picture(block) for block in inputs)
        by_index[index] = EventRule(
            picture_bytes if pictures else PAGE_EVENT_BYTES, _token_positions(fn, inputs)
        )
        name = getattr(fn, "api_name", None)
        if isinstance(name, str):
            by_name.setdefault(name, index)
    return EventRules(by_index, by_name)


def _takes_picture(block: Any) -> bool:
    if type(block).__name__ == "Api":  # an endpoint argument typed as a file
        return "gradio.FileData" in json.dumps(getattr(block, "_api_info", {}), default=str)
    return any(cls.__name__ in _PICTURE_TYPES for cls in type(block).__mro__)


def _token_positions(fn: Any, inputs: list[Any]) -> tuple[int, ...]:
    if not inputs or not all(type(block).__name__ == "Api" for block in inputs):
        return ()  # page events take tokens only from the browser's store: no right, no 400
    try:
        names = [name for name, *_ in get_function_params(fn.fn)]
    except (TypeError, ValueError, NameError):
        return ()
    return tuple(i for i, name in enumerate(names) if name == TOKEN_ARGUMENT)


def verdict(rules: EventRules, path: str, body: bytes) -> tuple[int, str, dict[str, Any]] | None:
    """Why a request to ``path`` with ``body`` is refused (status, catalogue key and its
    values), or ``None`` when it may pass."""
    event = _EVENT_ROUTE.match(path)
    if event is None:
        return _mcp_verdict(rules, body) if _MCP_ROUTE.match(path) else None
    try:
        sent = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        sent = None
    if not isinstance(sent, dict):
        # Gradio refuses it as malformed; only a body that is small cannot be a stuffing.
        return _too_large() if len(body) > PAGE_EVENT_BYTES else None
    rule = rules.find(sent.get("fn_index"), event.group(1))
    limit = rule.max_bytes if rule is not None else PAGE_EVENT_BYTES
    if len(body) > limit:
        return _too_large()
    data = sent.get("data")
    if _names_remote_file(data):
        return 400, "http.remote_file_event", {}
    if rule is not None and isinstance(data, list):
        for position in rule.token_positions:
            if position < len(data) and not _acceptable_token(data[position]):
                return 400, "http.malformed_token", {}
    return None


def _names_remote_file(value: object, depth: int = 0) -> bool:
    """Whether ``value`` holds a file whose path is a web address. Gradio would fetch it into
    its cache while reading the event, before the app's admission path (rates, the upload
    budget) could say no, and then serve it: a picture comes as an upload, or as a link the
    app itself handles once admitted (a link field, or a URL string to ``/submit``)."""
    if depth > 8:  # the page's values nest two or three deep (a gallery's items)
        return False
    if isinstance(value, dict):
        path = value.get("path")
        if isinstance(path, str) and _REMOTE.match(path):
            return True
        return any(_names_remote_file(item, depth + 1) for item in value.values())
    if isinstance(value, list):
        return any(_names_remote_file(item, depth + 1) for item in value)
    return False


#: A file path that is a web address (the same test as the ``file=`` route's, :mod:`.closed_doors`).
_REMOTE = re.compile(REMOTE_ADDRESS)


def _mcp_verdict(rules: EventRules, body: bytes) -> tuple[int, str, dict[str, Any]] | None:
    """An MCP tool call naming a token argument of a shape never issued (a tool call that
    carries a picture is not looked into: it cannot be a lookup)."""
    if len(body) > PAGE_EVENT_BYTES:
        return None
    try:
        sent = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    for call in sent if isinstance(sent, list) else [sent]:
        params = call.get("params") if isinstance(call, dict) else None
        if not isinstance(params, dict) or call.get("method") != "tools/call":
            continue
        arguments = params.get("arguments")
        rule = rules.find(None, str(params.get("name")))
        if rule is None or not rule.token_positions or not isinstance(arguments, dict):
            continue
        if not _acceptable_token(arguments.get(TOKEN_ARGUMENT)):
            return 400, "http.malformed_token", {}
    return None


def _acceptable_token(value: object) -> bool:
    """No token at all, or one shaped like those the server issues."""
    return value is None or (isinstance(value, str) and not value.strip()) or well_formed(value)


def _too_large() -> tuple[int, str, dict[str, Any]]:
    return 413, "http.event_too_large", {"kb": PAGE_EVENT_BYTES // 2**10}


_cache: weakref.WeakKeyDictionary[Any, EventRules] = weakref.WeakKeyDictionary()


def rules_from_scope(picture_bytes: int) -> Callable[[Scope], EventRules]:
    """The rules of the Gradio app serving a request (read from ``scope["app"]``, built once
    per page)."""

    def rules(scope: Scope) -> EventRules:
        get_blocks = getattr(scope.get("app"), "get_blocks", None)
        try:
            blocks = get_blocks() if callable(get_blocks) else None
        except ValueError:  # no page yet: every event is a small one
            blocks = None
        if blocks is None:
            return EventRules({}, {})
        found = _cache.get(blocks)
        if found is None:
            found = _cache[blocks] = rules_of(blocks, picture_bytes)
        return found

    return rules


class EventGuard:
    """ASGI middleware: reads an event's body (the app-wide cap in front of it bounds it),
    refuses it per :func:`verdict`, or hands it on as it came."""

    def __init__(self, app: ASGIApp, rules: Callable[[Scope], EventRules]) -> None:
        self.app = app
        self.rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope)
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or not (_EVENT_ROUTE.match(path) or _MCP_ROUTE.match(path))
        ):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client left before it finished sending
        rules = self.rules(scope)
        if len(body) > PAGE_EVENT_BYTES:  # parsing megabytes would hold up every other request
            refused = await anyio.to_thread.run_sync(verdict, rules, path, body)
        else:
            refused = verdict(rules, path, body)
        if refused is not None:
            status, key, values = refused
            lang = language(header(scope, b"accept-language") or None)
            await send_json(
                send, status, {"detail": text(key, lang, **values)}, [(b"connection", b"close")]
            )
            return
        await self.app(scope, _replay(body, receive), send)


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(bytes(message.get("body", b"")))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` once, then waits on the real one (a disconnect)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay

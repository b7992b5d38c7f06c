"""The programmatic endpoints: gradio_client, the MCP tools (TRYON_MCP_SERVER) and the tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, cast

import gradio as gr
from gradio.data_classes import FileData
from gradio.events import api as gr_api

from ..api.client import failure_reason
from ..errors import TryOnError, error_text
from ..flow import reattach
from ..flow import run as runs
from ..flow.admit import Door
from ..flow.prepare import api_image_source
from ..flow.step import Step
from ..hosting import access
from ..settings import DEFAULT_MODEL
from ..text.messages import Msg, msg
from . import api_docs
from .api_docs import documented
from .common import Context, lang_of, visitor_of


def caller_gone(request: gr.Request | None) -> Callable[[], Awaitable[bool]] | None:
    """How to tell that the caller of an endpoint outside Gradio's queue hung up, so a wait in
    the capacity queue ends with it (a page's own events are cancelled by Gradio itself).

    A plain HTTP call (``/gradio_api/run/<name>``) holds its connection open: its request
    says when it closes. A ``gradio_client`` call joins through Gradio's event stream, whose
    join request has long been answered: the caller is there while its stream is (Gradio's
    queue marks the stream's jobs dead when it closes). The MCP transport owns its request's
    stream, so for an MCP call nothing is known (``None``)."""
    inner = getattr(request, "request", None)
    if request is None or inner is None:
        return None
    path = str(inner.url.path)
    if path.endswith(("/queue/join", "/queue/join/")) or "/call/" in path:
        session = request.session_hash

        async def stream_closed() -> bool:
            try:
                queue = inner.app.get_blocks()._queue
                jobs = [
                    j for js in queue.active_jobs if js for j in js if j.session_hash == session
                ]
            except AttributeError:  # another Gradio's internals: cannot tell
                return False
            return bool(jobs) and not any(job.alive for job in jobs)

        return stream_closed
    if "/run/" in path or "/api/" in path:
        disconnected: Callable[[], Awaitable[bool]] = inner.is_disconnected
        return disconnected
    return None


def add_endpoints(ctx: Context) -> None:
    """``/submit``, ``/tryon`` and ``/query``, inside the Blocks being built."""
    pipeline, settings = ctx.pipeline, ctx.settings
    # /tryon holds a call open until its task ends: at most this many at once, more wait.
    tryons = asyncio.Semaphore(access.API_CONCURRENCY)

    @documented(api_docs.SUBMIT)
    async def submit(
        human_image: FileData | str,
        cloth_image: FileData | str,
        model_name: str = DEFAULT_MODEL,
        callback_url: str = "",
        request: gr.Request | None = None,
    ) -> dict[str, Any]:
        try:
            task = await runs.submit(
                pipeline,
                api_image_source(human_image, msg("field.person")),
                api_image_source(cloth_image, msg("field.garment")),
                model_name,
                callback_url,
                visitor=visitor_of(request, settings, gone=caller_gone(request)),
            )
        except TryOnError as exc:
            raise gr.Error(error_text(exc, lang_of(request)), print_exception=False) from None
        return _as_sent({**task.raw, "owner_token": pipeline.owners.token(task.task_id)}, request)

    @documented(api_docs.TRYON)
    async def tryon(
        human_image: FileData | str,
        cloth_image: FileData | str,
        model_name: str = DEFAULT_MODEL,
        callback_url: str = "",
        request: gr.Request | None = None,
    ) -> tuple[FileData, dict[str, Any]]:
        final: Step | None = None
        try:
            person = api_image_source(human_image, msg("field.person"))
            garment = api_image_source(cloth_image, msg("field.garment"))
        except TryOnError as exc:
            raise gr.Error(error_text(exc, lang_of(request)), print_exception=False) from None
        steps = runs.run(
            pipeline,
            person,
            garment,
            model_name,
            callback_url,
            visitor=visitor_of(request, settings, gone=caller_gone(request)),
            compare=False,
            door=Door.TRYON,
        )
        async with tryons:
            async for step in steps:
                final = step
        assert final is not None
        lang = lang_of(request)
        if final.error is not None:
            # Errors after the create name the task already (see the follow step).
            raise gr.Error(error_text(final.error, lang), print_exception=False)
        if final.phase == "failed" or final.result_path is None:
            reason = failure_reason(final.task) if final.task else msg("status.no_reason")
            said = msg("task.failed_plain", reason=reason)
            if final.task is not None:  # the caller can look it up instead of paying again
                said = Msg.join([said, msg("error.task_id", task_id=final.task.task_id)])
            raise gr.Error(said.render(lang), print_exception=False)
        assert final.task is not None
        owned = {**final.task.raw, "owner_token": pipeline.owners.token(final.task.task_id)}
        return FileData(path=str(final.result_path)), _as_sent(owned, request)

    @documented(api_docs.QUERY)
    async def query(
        task_id: str, owner_token: str = "", request: gr.Request | None = None
    ) -> dict[str, Any]:
        try:
            task = await reattach.query(
                pipeline, task_id.strip(), owner_token, visitor=visitor_of(request, settings)
            )
            return _as_sent(task.raw, request)
        except TryOnError as exc:
            raise gr.Error(error_text(exc, lang_of(request)), print_exception=False) from None

    # All three run outside Gradio's queue. Gradio's queued MCP path calls the app back over
    # HTTP as one shared loopback client: it folds /tryon's two outputs into one, cannot log
    # in when a password is set, and would count every MCP caller as one visitor. Outside
    # the queue a tool call runs with the caller's own request (its address, and the
    # AccessGuard's password check), under the same limits; ``tryons`` bounds the long ones.
    gr_api(submit, api_name="submit", concurrency_limit=None, queue=False)
    gr_api(tryon, api_name="tryon", concurrency_limit=None, queue=False)
    gr_api(query, api_name="query", concurrency_limit=None, queue=False)


def _as_sent(value: dict[str, Any], request: gr.Request | None) -> dict[str, Any]:
    """``value`` as its caller reads it: an object over the HTTP API, JSON text for an MCP tool
    call. Gradio writes a tool's non-file output with Python's ``str()`` (single quotes,
    ``None``, ``True``), which an agent cannot parse as JSON."""
    if _via_mcp(request):
        # The declared type stays the HTTP API's: Gradio documents the endpoint from it.
        return cast(dict[str, Any], json.dumps(value, ensure_ascii=False))
    return value


def _via_mcp(request: Any) -> bool:
    """Whether this call came through Gradio's MCP server (its routes: ``/gradio_api/mcp/...``).
    Such a call hands the tool the MCP request itself rather than a ``gr.Request``."""
    underlying = getattr(request, "request", None) or request
    path = str(getattr(getattr(underlying, "url", None), "path", "") or "")
    return "/gradio_api/mcp" in path

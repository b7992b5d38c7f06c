"""An offline simulator of the Kolors virtual try-on API, as an ASGI (FastAPI) app.

It speaks the contract: the gateway paths (``/kling/v1/...``) and the official ones (``/v1/...``),
the ``code / message / request_id / data`` envelope, the HTTP statuses and business codes, a task
that moves submitted -> processing -> succeed, callbacks on each status change, and result images
served by itself. Faults can be injected for tests. It never fetches anything from outside.

This module holds the routes; the checks, the task store, the faults and the rendering each
live in a module of their own.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from functools import lru_cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from PIL import Image
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..settings import DEFAULT_MODEL, MODELS
from .checks import authenticate, callback_param, check_garments, image_param, int_param
from .config import SimulatorConfig
from .contract import API_PATH, MAX_BODY_BYTES, PREFIXES, RESULTS_PATH, Reject, new_id, now_ms
from .faults import echo_text, escape_marks, inject
from .render import compose_tryon_noted, placeholder
from .store import URL_NOTE, SimTask, Simulator

log = logging.getLogger(__name__)

RENDER_FAILED = (
    "Simulated failure: the person or garment picture could not be read as a photo of a "
    "person and a garment. Try another photo."
)


def create_app(config: SimulatorConfig | None = None) -> FastAPI:
    """The simulator as a FastAPI app; ``app.state.simulator`` holds its state."""
    sim = Simulator(config)
    app = FastAPI(
        title="Kolors virtual try-on API simulator", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.simulator = sim

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        echo = _echoed(sim, request)
        if exc.status_code == 405:
            message = f"Method {request.method} is not allowed on {request.url.path}"
            return _error(404, 1202, message, echo)
        return _error(
            exc.status_code if exc.status_code < 500 else 500,
            1202 if exc.status_code == 404 else 5000,
            str(exc.detail),
            echo,
        )

    @app.get("/simulator/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "tasks": len(sim.tasks), "simulated": True}

    @app.get(RESULTS_PATH + "/{name}")
    async def result(name: str) -> Response:
        task = sim.tasks.get(name.removesuffix(".png"))
        if task is None or sim.status(task)[0] != "succeed":
            return Response("result not found", status_code=404, media_type="text/plain")
        png = _placeholder_png() if task.uses_links else sim.result_png(task)
        if png is None:  # evicted from the render store: what an expired link answers
            return Response("result expired", status_code=404, media_type="text/plain")
        return Response(
            png, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"}
        )

    for prefix in PREFIXES:
        app.add_api_route(prefix + API_PATH, _create_handler(sim), methods=["POST"])
        app.add_api_route(prefix + API_PATH, _list_handler(sim), methods=["GET"])
        app.add_api_route(prefix + API_PATH + "/{task_id}", _query_handler(sim), methods=["GET"])
    return app


def _create_handler(sim: Simulator) -> Any:
    async def create(request: Request) -> Response:
        echo = _echoed(sim, request)
        try:
            await _preamble(sim, request, "create")
            raw = await request.body()
            if len(raw) > MAX_BODY_BYTES:
                raise Reject(400, 1200, "Request body is too large")
            try:
                body = json.loads(raw)
            except ValueError:
                raise Reject(400, 1200, "Request body is not valid JSON") from None
            if not isinstance(body, dict):
                raise Reject(400, 1200, "Request body must be a JSON object")
            task = await asyncio.to_thread(_new_task, sim, body)
        except Reject as reject:
            return _error(reject.http_status, reject.code, reject.message, echo)
        base_url = str(request.base_url)
        if task.callback_url:
            sim.schedule_callbacks(task, base_url)
        data: dict[str, Any] = {
            "task_id": task.task_id,
            "task_status": "submitted",
            "created_at": task.created_at,
            "updated_at": task.created_at,
        }
        if task.external_task_id:
            data["task_info"] = {"external_task_id": task.external_task_id}
        if echo:
            data["task_status_msg"] = echo_text(echo)
        return _ok(data, echo, request_id=task.task_id)

    return create


def _query_handler(sim: Simulator) -> Any:
    async def query(request: Request, task_id: str) -> Response:
        echo = _echoed(sim, request)
        try:
            await _preamble(sim, request, "query")
            task = sim.tasks.get(task_id)
            if task is None:
                raise Reject(404, 1203, f"Task {task_id} does not exist")
        except Reject as reject:
            return _error(reject.http_status, reject.code, reject.message, echo)
        return _ok(sim.task_object(task, str(request.base_url), echo=echo_text(echo)), echo)

    return query


def _list_handler(sim: Simulator) -> Any:
    async def list_tasks(request: Request) -> Response:
        echo = _echoed(sim, request)
        try:
            await _preamble(sim, request, "query")
            page_num = int_param(request.query_params, "pageNum", 1, 1, 1000)
            page_size = int_param(request.query_params, "pageSize", 30, 1, 500)
        except Reject as reject:
            return _error(reject.http_status, reject.code, reject.message, echo)
        with sim.lock:
            tasks = list(reversed(sim.tasks.values()))
        page = tasks[(page_num - 1) * page_size : page_num * page_size]
        base_url = str(request.base_url)
        return _ok([sim.task_object(t, base_url, echo=echo_text(echo)) for t in page], echo)

    return list_tasks


async def _preamble(sim: Simulator, request: Request, kind: str) -> None:
    """Latency, authentication and injected faults, in the order a real gateway applies them."""
    faults = sim.config.faults
    with sim.lock:
        sim.requests_seen += 1
    if faults.latency > 0:
        await asyncio.sleep(faults.latency)
    authenticate(sim.config, request.headers.get("authorization", ""))
    inject(faults, sim.dice, kind)


def _new_task(sim: Simulator, body: dict[str, Any]) -> SimTask:
    """Check a create body, render its result (unless it is to fail) and keep the task."""
    model = body.get("model_name", DEFAULT_MODEL)
    if model in (None, ""):
        model = DEFAULT_MODEL
    if model not in MODELS:
        raise Reject(
            400, 1201, f"model_name is invalid: {str(model)[:60]!r}; use one of {', '.join(MODELS)}"
        )
    human = image_param(body, "human_image")
    cloth = image_param(body, "cloth_image")
    check_garments(model, cloth.labels)
    callback = callback_param(sim.config, body.get("callback_url"))
    external = body.get("external_task_id")
    if external is not None and not isinstance(external, str):
        raise Reject(400, 1201, "external_task_id must be a string")
    human_hash = hashlib.sha256(human.data).digest() if human.data is not None else None
    cloth_hash = hashlib.sha256(cloth.data).digest() if cloth.data is not None else None
    task = SimTask(
        task_id=new_id(),
        model_name=model,
        created_at=now_ms(),
        human=human_hash,
        cloth=cloth_hash,
        callback_url=callback,
        external_task_id=external or None,
        fails=False,
    )
    sim.admit(task)
    # Rolled once admitted, as before: refused creates do not move the seeded dice.
    task.fails = sim.roll(sim.config.faults.fail_share)
    if not task.fails and human_hash is not None and cloth_hash is not None:
        task.render_key = human_hash + cloth_hash + model.encode()
    try:
        if task.render_key is not None and sim.renders.get(task.render_key) is None:
            # Rendered now, while the decoded pictures are at hand, so that neither is kept: a
            # public offline demo would otherwise hold two full pictures per task. Results are
            # cached by their inputs: the demo sees the same example pictures over and over.
            assert human.image is not None and cloth.image is not None
            png, note = _render(human.image, cloth.image, model, cloth.labels)
            if png is None:
                task.fails, task.note, task.render_key = True, note, None
            else:
                sim.renders.put(task.render_key, png)
                sim.notes[task.render_key] = note
        if task.render_key is not None:
            task.note = sim.notes.get(task.render_key)
    finally:
        # The task's clock starts when its create is answered, as the client sees it: a render
        # must not eat into the time the task is reported "submitted".
        task.created_at = now_ms()
        task.rendered.set()
    return task


def _render(
    human: Image.Image, cloth: Image.Image, model: str, labels: list[str]
) -> tuple[bytes | None, str | None]:
    """The result's PNG and its note; no PNG when the pictures could not be rendered at all.

    Whatever a picture that passed the checks does to the renderer, the caller gets a task
    that fails with a message a person can act on, never an HTTP 500.
    """
    try:
        return compose_tryon_noted(human, cloth, model, labels)
    except Exception:  # any picture's failure is the task's, not the server's
        log.warning("simulated try-on could not be rendered", exc_info=True)
        return None, RENDER_FAILED


@lru_cache(maxsize=1)
def _placeholder_png() -> bytes:
    return placeholder(URL_NOTE)


def _echoed(sim: Simulator, request: Request) -> str:
    """The Authorization header this reply echoes: only with the ``echo_credentials`` fault."""
    if not sim.config.echo_credentials:
        return ""
    return request.headers.get("authorization", "")


def _json(body: dict[str, Any], status: int, echo: str) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if echo:
        text = escape_marks(text, echo)
    return Response(text, status_code=status, media_type="application/json")


def _ok(data: Any, echo: str = "", request_id: str | None = None) -> Response:
    """A success envelope; ``echo`` is the Authorization value to echo, if any."""
    said = echo_text(echo)
    body = {
        "code": 0,
        "message": f"SUCCEED {said}".strip(),
        "request_id": f"{request_id or new_id()} {said}".strip(),
        "data": data,
    }
    return _json(body, 200, echo)


def _error(http_status: int, code: int, message: str, echo: str = "") -> Response:
    """An error envelope; ``echo`` is the Authorization value to echo, if any."""
    if code == 0:  # the malformed-reply fault: what a broken gateway sends
        return HTMLResponse(
            "<html><head><title>502 Bad Gateway</title></head>"
            "<body><h1>502 Bad Gateway</h1></body></html>",
            status_code=502,
        )
    said = echo_text(echo)
    body = {
        "code": code,
        "message": f"{message} {said}".strip(),
        "request_id": f"{new_id()} {said}".strip(),
    }
    return _json(body, http_status, echo)

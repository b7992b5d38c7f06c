"""An offline simulator of the Kolors virtual try-on API, as an ASGI (FastAPI) app.

It speaks the contract: the gateway paths (``/kling/v1/...``) and the official ones (``/v1/...``),
the ``code / message / request_id / data`` envelope, the HTTP statuses and business codes, a task
that moves submitted -> processing -> succeed, callbacks on each status change, and result images
served by itself. Faults can be injected for tests. It never fetches anything from outside.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import io
import ipaddress
import json
import logging
import random
import secrets
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from PIL import Image, UnidentifiedImageError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..settings import DEFAULT_MODEL, MODELS
from .render import compose_tryon, placeholder

log = logging.getLogger(__name__)

API_PATH = "/v1/images/kolors-virtual-try-on"
PREFIXES = ("/kling", "")
RESULTS_PATH = "/simulator/results"
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MIN_SIDE = 300
MAX_BODY_BYTES = 32 * 1024 * 1024
RENDER_CACHE_SIZE = 64
#: Metadata key our outfit composer writes so the simulator can tell a combination apart.
GARMENTS_KEY = "kolors-garments"

URL_NOTE = (
    "Simulated offline: image links are not fetched, so this result is a placeholder. "
    "Upload the images to see a simulated composite."
)


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


@dataclass
class Faults:
    """Failures to inject, each a share of requests (0..1) or a switch."""

    latency: float = 0.0
    rate_limit_share: float = 0.0
    server_error_share: float = 0.0
    malformed_share: float = 0.0
    #: Share of requests whose connection is closed with no reply at all.
    drop_share: float = 0.0
    fail_share: float = 0.0
    fail_message: str = "Simulated failure: no person was found in the image."
    never_finish: bool = False
    #: Accept callback URLs but never call them: a callback lost on its way.
    drop_callbacks: bool = False
    #: Answer a share (``error_share``) of requests with this contract error code.
    error_code: int | None = None
    error_share: float = 1.0
    applies_to: Literal["all", "create", "query"] = "all"
    seed: int = 0


@dataclass
class SimulatorConfig:
    """How the simulated API behaves."""

    task_seconds: float = 3.0
    #: When the task turns from submitted to processing; default a fifth of ``task_seconds``.
    processing_after: float | None = None
    #: Accept only these bearer keys; ``None`` accepts any non-empty token.
    api_keys: frozenset[str] | None = None
    #: Official-API access key -> secret key; JWTs from these are verified.
    jwt_secrets: dict[str, str] = field(default_factory=dict)
    allow_external_callbacks: bool = False
    #: Tasks allowed to run at once before creates get 429/1303; 0 means unlimited.
    max_concurrent_tasks: int = 0
    max_tasks_kept: int = 1000
    faults: Faults = field(default_factory=Faults)


class _Reject(Exception):
    """An error envelope to answer with."""

    def __init__(self, http_status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.http_status, self.code, self.message = http_status, code, message


@dataclass
class SimTask:
    """One simulated task and what it needs to render its result."""

    task_id: str
    model_name: str
    created_at: int
    human: bytes | None
    cloth: bytes | None
    callback_url: str | None
    external_task_id: str | None
    fails: bool
    result_png: bytes | None = None
    render_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def uses_links(self) -> bool:
        return self.human is None or self.cloth is None


class Simulator:
    """The simulated API's state: its tasks, its fault dice and its clock."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.tasks: OrderedDict[str, SimTask] = OrderedDict()
        self.lock = threading.Lock()
        self.requests_seen = 0
        self.faults_fired = 0
        #: Create requests received, answered or not: what "never submitted twice" is checked on.
        self.creates_received = 0
        self.callbacks_sent: list[dict[str, Any]] = []
        self._dice = random.Random(self.config.faults.seed)
        self._callback_jobs: set[asyncio.Task[None]] = set()
        self._renders: OrderedDict[bytes, bytes] = OrderedDict()

    # --- task lifecycle -----------------------------------------------------------------

    def _milestones(self) -> tuple[float, float]:
        cfg = self.config
        processing = (
            cfg.processing_after if cfg.processing_after is not None else cfg.task_seconds / 5
        )
        return min(processing, cfg.task_seconds), cfg.task_seconds

    def status(self, task: SimTask, now_ms: int | None = None) -> tuple[str, int]:
        """The task's status at ``now_ms`` and when it last changed (ms)."""
        now_ms = _now_ms() if now_ms is None else now_ms
        processing_at, done_at = self._milestones()
        elapsed = (now_ms - task.created_at) / 1000
        if elapsed < processing_at:
            return "submitted", task.created_at
        if self.config.faults.never_finish or elapsed < done_at:
            return "processing", task.created_at + round(processing_at * 1000)
        return ("failed" if task.fails else "succeed"), task.created_at + round(done_at * 1000)

    def task_object(
        self, task: SimTask, base_url: str, now_ms: int | None = None
    ) -> dict[str, Any]:
        """The task as the API describes it."""
        status, updated = self.status(task, now_ms)
        message = ""
        if status == "failed":
            message = self.config.faults.fail_message
        elif status == "succeed" and task.uses_links:
            message = URL_NOTE
        result: dict[str, Any] = {"images": []}
        if status == "succeed":
            url = f"{base_url.rstrip('/')}{RESULTS_PATH}/{task.task_id}.png"
            result = {"images": [{"index": 0, "url": url}]}
        body: dict[str, Any] = {
            "task_id": task.task_id,
            "task_status": status,
            "task_status_msg": message,
            "created_at": task.created_at,
            "updated_at": updated,
            "task_result": result,
        }
        if task.external_task_id:
            body["task_info"] = {"external_task_id": task.external_task_id}
        return body

    def running_count(self) -> int:
        with self.lock:
            tasks = list(self.tasks.values())
        return sum(1 for t in tasks if self.status(t)[0] in {"submitted", "processing"})

    def result_png(self, task: SimTask) -> bytes:
        """Render (once) and return the task's result image.

        Renders are cached by their inputs: the composite is deterministic, and a public
        offline demo sees the same example pictures over and over.
        """
        with task.render_lock:
            if task.result_png is None:
                if task.human is not None and task.cloth is not None:
                    key = hashlib.sha256(task.human).digest() + hashlib.sha256(task.cloth).digest()
                    with self.lock:
                        cached = self._renders.get(key)
                    if cached is None:
                        cached = compose_tryon(task.human, task.cloth)
                        with self.lock:
                            self._renders[key] = cached
                            while len(self._renders) > RENDER_CACHE_SIZE:
                                self._renders.popitem(last=False)
                    task.result_png = cached
                else:
                    task.result_png = placeholder(URL_NOTE)
            return task.result_png

    # --- faults ---------------------------------------------------------------------------

    def roll(self, share: float) -> bool:
        """True for a share of calls, from a seeded die so runs repeat exactly."""
        if share <= 0:
            return False
        with self.lock:
            hit = self._dice.random() < share
            self.faults_fired += hit
            return hit

    def schedule_callbacks(self, task: SimTask, base_url: str) -> None:
        job = asyncio.get_running_loop().create_task(self._deliver(task, base_url))
        self._callback_jobs.add(job)
        job.add_done_callback(self._callback_jobs.discard)

    async def _deliver(self, task: SimTask, base_url: str) -> None:
        assert task.callback_url
        processing_at, done_at = self._milestones()
        moments = [0.0, processing_at] + ([] if self.config.faults.never_finish else [done_at])
        for moment in moments:
            delay = task.created_at / 1000 + moment - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            body = self.task_object(
                task, base_url, now_ms=task.created_at + round(moment * 1000) + 1
            )
            if self.config.faults.drop_callbacks:
                continue
            try:
                await asyncio.to_thread(requests.post, task.callback_url, json=body, timeout=(2, 5))
                self.callbacks_sent.append(body)
            except requests.RequestException as exc:
                log.info("callback to %s failed: %s", task.callback_url, exc)


def create_app(config: SimulatorConfig | None = None) -> FastAPI:
    """The simulator as a FastAPI app; ``app.state.simulator`` holds its state."""
    sim = Simulator(config)
    app = FastAPI(
        title="Kolors virtual try-on API simulator", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.simulator = sim

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            return _error(
                404, 1202, f"Method {request.method} is not allowed on {request.url.path}"
            )
        return _error(
            exc.status_code if exc.status_code < 500 else 500,
            1202 if exc.status_code == 404 else 5000,
            str(exc.detail),
        )

    @app.get("/simulator/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "tasks": len(sim.tasks), "simulated": True}

    @app.get(RESULTS_PATH + "/{name}")
    async def result(name: str) -> Response:
        task_id = name.removesuffix(".png")
        task = sim.tasks.get(task_id)
        if task is None or sim.status(task)[0] != "succeed":
            return Response("result not found", status_code=404, media_type="text/plain")
        png = await asyncio.to_thread(sim.result_png, task)
        return Response(
            png, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"}
        )

    for prefix in PREFIXES:
        app.add_api_route(prefix + API_PATH, _create_handler(sim), methods=["POST"])
        app.add_api_route(prefix + API_PATH, _list_handler(sim), methods=["GET"])
        app.add_api_route(prefix + API_PATH + "/{task_id}", _query_handler(sim), methods=["GET"])
    return app


class DropConnections:
    """ASGI wrapper: abort a share of API connections without any reply, as a flaky network or
    an overloaded gateway does. It must wrap the app directly under uvicorn, whose ``send`` is
    bound to its request cycle and so reaches the socket's transport; under another server (or
    inside Starlette's middleware, which wraps ``send``) the fault does nothing."""

    def __init__(self, app: Any, simulator: Simulator) -> None:
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


def _create_handler(sim: Simulator) -> Any:
    async def create(request: Request) -> Response:
        try:
            await _preamble(sim, request, "create")
            raw = await request.body()
            if len(raw) > MAX_BODY_BYTES:
                raise _Reject(400, 1200, "Request body is too large")
            try:
                body = json.loads(raw)
            except ValueError:
                raise _Reject(400, 1200, "Request body is not valid JSON") from None
            if not isinstance(body, dict):
                raise _Reject(400, 1200, "Request body must be a JSON object")
            task = await asyncio.to_thread(_new_task, sim, body)
        except _Reject as reject:
            return _error(reject.http_status, reject.code, reject.message)
        base_url = str(request.base_url)
        if task.callback_url:
            sim.schedule_callbacks(task, base_url)
        data = {
            "task_id": task.task_id,
            "task_status": "submitted",
            "created_at": task.created_at,
            "updated_at": task.created_at,
        }
        if task.external_task_id:
            data["task_info"] = {"external_task_id": task.external_task_id}
        return _ok(data, request_id=task.task_id)

    return create


def _query_handler(sim: Simulator) -> Any:
    async def query(request: Request, task_id: str) -> Response:
        try:
            await _preamble(sim, request, "query")
            task = sim.tasks.get(task_id)
            if task is None:
                raise _Reject(404, 1203, f"Task {task_id} does not exist")
        except _Reject as reject:
            return _error(reject.http_status, reject.code, reject.message)
        return _ok(sim.task_object(task, str(request.base_url)))

    return query


def _list_handler(sim: Simulator) -> Any:
    async def list_tasks(request: Request) -> Response:
        try:
            await _preamble(sim, request, "query")
            page_num = _int_param(request, "pageNum", 1, 1, 1000)
            page_size = _int_param(request, "pageSize", 30, 1, 500)
        except _Reject as reject:
            return _error(reject.http_status, reject.code, reject.message)
        with sim.lock:
            tasks = list(reversed(sim.tasks.values()))
        page = tasks[(page_num - 1) * page_size : page_num * page_size]
        base_url = str(request.base_url)
        return _ok([sim.task_object(t, base_url) for t in page])

    return list_tasks


async def _preamble(sim: Simulator, request: Request, kind: str) -> None:
    """Latency, authentication and injected faults, in the order a real gateway applies them."""
    faults = sim.config.faults
    with sim.lock:
        sim.requests_seen += 1
    if faults.latency > 0:
        await asyncio.sleep(faults.latency)
    _authenticate(sim.config, request.headers.get("authorization", ""))
    if faults.applies_to not in ("all", kind):
        return
    if faults.error_code is not None and sim.roll(faults.error_share):
        status, message = CONTRACT_ERRORS[faults.error_code]
        raise _Reject(status, faults.error_code, message + " (simulated)")
    if sim.roll(faults.rate_limit_share):
        raise _Reject(429, 1302, "Too many requests, please slow down (simulated)")
    if sim.roll(faults.server_error_share):
        raise _Reject(500, 5000, "Internal server error (simulated)")
    if sim.roll(faults.malformed_share):
        raise _Malformed()


class _Malformed(_Reject):
    def __init__(self) -> None:
        super().__init__(502, 0, "malformed")


def _authenticate(config: SimulatorConfig, header: str) -> None:
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _Reject(401, 1001, "Authorization header is empty or not a Bearer token")
    if token.count(".") == 2 and config.jwt_secrets:
        _verify_jwt(config.jwt_secrets, token)
        return
    if config.api_keys is not None and token not in config.api_keys:
        raise _Reject(401, 1002, "Authorization is invalid")


def _verify_jwt(jwt_secrets: dict[str, str], token: str) -> None:
    head, claims_part, signature = token.split(".")
    try:
        claims = json.loads(_b64url_decode(claims_part))
        secret = jwt_secrets[claims["iss"]]
    except (ValueError, KeyError, TypeError):
        raise _Reject(401, 1002, "Authorization is invalid") from None
    expected = hmac.new(secret.encode(), f"{head}.{claims_part}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(_b64url_decode(signature), expected):
        raise _Reject(401, 1002, "Authorization is invalid")
    now = time.time()
    if now < claims.get("nbf", 0):
        raise _Reject(401, 1003, "Authorization is not yet valid")
    if now >= claims.get("exp", 0):
        raise _Reject(401, 1004, "Authorization has expired")


def _b64url_decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise _Reject(401, 1002, "Authorization is invalid") from None


def _new_task(sim: Simulator, body: dict[str, Any]) -> SimTask:
    model = body.get("model_name", DEFAULT_MODEL)
    if model in (None, ""):
        model = DEFAULT_MODEL
    if model not in MODELS:
        raise _Reject(
            400, 1201, f"model_name is invalid: {str(model)[:60]!r}; use one of {', '.join(MODELS)}"
        )
    human, _ = _image_param(body, "human_image")
    cloth, garments = _image_param(body, "cloth_image")
    _check_garments(model, garments)
    callback = _callback_param(sim.config, body.get("callback_url"))
    external = body.get("external_task_id")
    if external is not None and not isinstance(external, str):
        raise _Reject(400, 1201, "external_task_id must be a string")
    with sim.lock:
        if external and any(t.external_task_id == external for t in sim.tasks.values()):
            raise _Reject(400, 1201, f"external_task_id {external!r} is already used")
    if sim.config.max_concurrent_tasks and sim.running_count() >= sim.config.max_concurrent_tasks:
        raise _Reject(429, 1303, "parallel task over resource pack limit")
    task = SimTask(
        task_id=_new_id(),
        model_name=model,
        created_at=_now_ms(),
        human=human,
        cloth=cloth,
        callback_url=callback,
        external_task_id=external or None,
        fails=sim.roll(sim.config.faults.fail_share),
    )
    with sim.lock:
        sim.tasks[task.task_id] = task
        while len(sim.tasks) > sim.config.max_tasks_kept:
            sim.tasks.popitem(last=False)
    return task


def _image_param(body: dict[str, Any], name: str) -> tuple[bytes | None, list[str]]:
    """Decoded image bytes (``None`` for a link) and any garment labels it declares."""
    value = body.get(name)
    if value is None or value == "":
        raise _Reject(400, 1201, f"{name} is required")
    if not isinstance(value, str):
        raise _Reject(400, 1201, f"{name} must be a string (URL or base64)")
    if value[:5].lower() == "data:":
        raise _Reject(400, 1201, f"{name} must be raw base64 without the 'data:' prefix")
    if value[:8].lower().startswith(("http://", "https://")):
        if not urlsplit(value).hostname:
            raise _Reject(400, 1201, f"{name} is not a valid URL")
        return None, []
    if len(value) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise _Reject(400, 1201, f"{name} is larger than 10MB")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _Reject(400, 1201, f"{name} is neither an http(s) URL nor valid base64") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise _Reject(400, 1201, f"{name} is larger than 10MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            fmt = image.format
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _Reject(400, 1201, f"{name} is not a valid image") from None
    except (OSError, SyntaxError, ValueError):
        raise _Reject(400, 1201, f"{name} could not be decoded (damaged or truncated)") from None
    if fmt not in ("JPEG", "PNG"):
        raise _Reject(400, 1201, f"{name} format {fmt} is not supported; use jpg, jpeg or png")
    if min(width, height) < MIN_SIDE:
        raise _Reject(400, 1201, f"{name} resolution {width}x{height} is below the minimum 300x300")
    return data, _garment_labels(image)


def _garment_labels(image: Image.Image) -> list[str]:
    text = getattr(image, "text", {}).get(GARMENTS_KEY) if image.format == "PNG" else None
    if text is None:
        comment = image.info.get("comment", b"")
        comment = comment.decode("utf-8", "replace") if isinstance(comment, bytes) else str(comment)
        prefix = GARMENTS_KEY + "="
        text = comment[len(prefix) :] if comment.startswith(prefix) else None
    return [part.strip() for part in text.split(",") if part.strip()] if text else []


def _check_garments(model: str, garments: list[str]) -> None:
    if len(garments) < 2:
        return
    if model == "kolors-virtual-try-on-v1":
        raise _Reject(
            400, 1201, "kolors-virtual-try-on-v1 takes a single garment; use v1-5 for top + bottom"
        )
    if sorted(garments) != ["bottom", "top"]:
        raise _Reject(
            400,
            1201,
            f"Garment combination {'+'.join(garments)} is not supported; "
            "v1-5 takes one garment or a top + bottom",
        )


def _callback_param(config: SimulatorConfig, value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise _Reject(400, 1201, "callback_url must be a string")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Reject(400, 1201, "callback_url must be an http(s) URL")
    if not config.allow_external_callbacks and not _is_loopback(parts.hostname):
        raise _Reject(
            400,
            1201,
            "The offline simulator only calls back to this machine (localhost / 127.0.0.1)",
        )
    return value


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _Reject(400, 1201, f"{name} must be an integer") from None
    if not low <= value <= high:
        raise _Reject(400, 1201, f"{name} must be between {low} and {high}")
    return value


def _ok(data: Any, request_id: str | None = None) -> JSONResponse:
    return JSONResponse(
        {"code": 0, "message": "SUCCEED", "request_id": request_id or _new_id(), "data": data}
    )


def _error(http_status: int, code: int, message: str) -> Response:
    if code == 0:  # the malformed-reply fault: what a broken gateway sends
        return HTMLResponse(
            "<html><head><title>502 Bad Gateway</title></head>"
            "<body><h1>502 Bad Gateway</h1></body></html>",
            status_code=502,
        )
    return JSONResponse(
        {"code": code, "message": message, "request_id": _new_id()}, status_code=http_status
    )


def _new_id() -> str:
    return secrets.token_urlsafe(16)


def _now_ms() -> int:
    return int(time.time() * 1000)

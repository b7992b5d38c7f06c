"""How the simulated API behaves: its timing, its keys, its limits and the faults it injects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: Rendered results kept in memory at most (oldest evicted first): 64 MB holds about 60
#: full-size results, and an offline demo sees the same example pictures over and over.
DEFAULT_MAX_RESULT_BYTES = 64 * 1024 * 1024


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
    #: Bytes of rendered results kept; an evicted result answers 404 like an expired link.
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
    #: A fault for testing redaction: every reply's message, request_id and task_status_msg
    #: carry the received Authorization value (plain, JSON-escaped, base64, the JWT).
    echo_credentials: bool = False
    #: Start with the tasks' clock stopped (``Simulator.release()`` starts it): for tests.
    hold_tasks: bool = False
    faults: Faults = field(default_factory=Faults)

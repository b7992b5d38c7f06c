"""Uploads cannot fill the server's disk: each client address has an hourly upload budget."""

from __future__ import annotations

from pathlib import Path

import requests

from tests.test_app import RunningApp
from tryon_demo.hosting.body_limit import UploadBudget
from tryon_demo.settings import load_settings
from tryon_demo.simulator import SimulatorServer


def upload(url: str, size: int, forwarded_for: str | None = None) -> requests.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    files = [("files", ("noise.png", b"\x89PNG" + b"\0" * size, "image/png"))]
    return requests.post(url + "gradio_api/upload", files=files, headers=headers, timeout=30)


def test_an_address_past_its_upload_budget_gets_429_and_another_address_does_not(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    settings = load_settings(
        {
            "KLING_API_KEY": "sk-test",
            "KLING_API_BASE": simulator.gateway_base,
            "TRYON_UPLOAD_BUDGET_MB": "2",
            "TRYON_TRUSTED_PROXIES": "1",  # as behind Spaces' proxy: the header names the visitor
            "TRYON_STATE_DIR": str(tmp_path / "state"),
        },
        dotenv_path=None,
    )
    with RunningApp(settings, tmp_path / "work") as app:
        first = upload(app.url, 1_500_000, "203.0.113.7")
        second = upload(app.url, 1_500_000, "203.0.113.7")
        elsewhere = upload(app.url, 1_500_000, "198.51.100.9")
    assert first.status_code == 200
    assert second.status_code == 429
    assert int(second.headers["Retry-After"]) > 0
    assert elsewhere.status_code == 200


def test_the_budget_frees_up_as_its_window_passes() -> None:
    now = [0.0]
    budget = UploadBudget(100, window=60, clock=lambda: now[0])
    assert budget.spend("a", 80) == 0
    assert budget.spend("a", 30) == 60  # refused, and nothing counted
    assert budget.spend("a", 20) == 0  # exactly the budget
    now[0] = 61.0
    assert budget.spend("a", 100) == 0

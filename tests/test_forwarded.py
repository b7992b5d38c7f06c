"""The client address a visitor's limits count under is not the visitor's to choose."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from tests import pictures
from tests.test_app import RunningApp
from tryon_demo.settings import load_settings
from tryon_demo.simulator import SimulatorServer


def test_with_no_trusted_proxy_a_forwarded_header_from_loopback_gives_no_fresh_allowance(
    simulator: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # uvicorn itself trusts X-Forwarded-For from loopback unless told otherwise: each spoofed
    # address would be a new visitor with a new allowance.
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    person, garment = tmp_path / "p.jpg", tmp_path / "g.png"
    person.write_bytes(pictures.person_jpeg())
    garment.write_bytes(pictures.garment_png())
    settings = load_settings(
        {
            "KLING_API_KEY": "sk-test",
            "KLING_API_BASE": simulator.gateway_base,
            "TRYON_RATE_PER_SESSION": "1/minute",
            "TRYON_TRUSTED_PROXIES": "0",
            "TRYON_STATE_DIR": str(tmp_path / "state"),
        },
        dotenv_path=None,
    )
    with RunningApp(settings, tmp_path / "work") as app:
        outcomes = []
        for number in range(3):
            spoofed = Client(
                app.url, verbose=False, headers={"X-Forwarded-For": f"10.9.0.{number + 1}"}
            )
            try:
                spoofed.predict(
                    handle_file(str(person)),
                    handle_file(str(garment)),
                    "kolors-virtual-try-on-v1",
                    "",
                    api_name="/submit",
                )
                outcomes.append("created")
            except Exception as exc:  # noqa: BLE001 - gradio_client's AppError carries the text
                outcomes.append(str(exc))
    assert outcomes[0] == "created"
    assert all("You have started" in outcome for outcome in outcomes[1:]), outcomes

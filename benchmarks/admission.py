"""Benchmark: the one admission path under attack, as issue 23 measured it.

``python -m benchmarks.admission`` starts the simulator and the app as separate processes on
loopback (visitors told apart by ``X-Forwarded-For`` with ``TRYON_TRUSTED_PROXIES=1``) and
prints what parked waiters hold and how an honest visitor fares beside an attacker.
``--app-root DIR`` runs another checkout's ``app.py`` (to measure the code before a change);
``--only waiting`` runs some sections. Not part of the tests: numbers depend on the
machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from benchmarks.bench import ROOT, free_port, process, rss_mb, wait_http

MODEL = "kolors-virtual-try-on-v1"
SECTIONS = ("waiting",)


def noise_png(path: Path, side: int = 1500, seed: int = 1) -> Path:
    """A picture the app sends as it is (a PNG within 1500 px and 10 MB) that no compressor
    shrinks: 6.8 MB, the issue's "large picture"."""
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    Image.fromarray(pixels, "RGB").save(path, format="PNG", compress_level=1)
    return path


def start(
    stack: ExitStack, root: Path, env: dict[str, str], *, never_finish: bool = False
) -> tuple[str, int, int]:
    """The simulator and the app (from ``root``) on free loopback ports: the app's URL, the
    app's process id and the simulator's port."""
    sim_port, app_port = free_port(), free_port()
    sim = [sys.executable, "-m", "tryon_demo", "simulate", "--port", str(sim_port)]
    if never_finish:
        sim.append("--never-finish")
    state = tempfile.mkdtemp(prefix="bench-state-")
    app_env = {
        "KLING_API_KEY": "bench-key",
        "KLING_API_BASE": f"http://127.0.0.1:{sim_port}/kling",
        "GRADIO_SERVER_PORT": str(app_port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": tempfile.mkdtemp(prefix="bench-gradio-"),
        "TRYON_STATE_DIR": state,
        "TRYON_TRUSTED_PROXIES": "1",
        "PYTHONPATH": str(root),
        **env,
    }
    stack.enter_context(process(sim, {}))
    app = stack.enter_context(_process_in(root, [sys.executable, "app.py"], app_env))
    wait_http(f"http://127.0.0.1:{sim_port}/simulator/health")
    wait_http(f"http://127.0.0.1:{app_port}/", timeout=120)
    return f"http://127.0.0.1:{app_port}/", app.pid, sim_port


def _process_in(root: Path, args: list[str], env: dict[str, str]) -> Any:
    import subprocess
    from contextlib import contextmanager

    @contextmanager
    def running() -> Any:
        proc = subprocess.Popen(
            args,
            cwd=root,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            yield proc
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    return running()


def client_from(url: str, address: str) -> Any:
    from gradio_client import Client

    return Client(url, headers={"X-Forwarded-For": address}, verbose=False)


def peak_rss(pid: int, seconds: float) -> float:
    """The largest resident size seen over ``seconds``."""
    peak = 0.0
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        peak = max(peak, rss_mb(pid))
        time.sleep(0.1)
    return peak


def bench_waiting(root: Path, folder: Path, waiters: int, report: Callable[..., None]) -> None:
    """Memory that parked waiters add: an account limit of 1 held by a task that never ends,
    then ``waiters`` visitors from as many addresses, each with two 6.8 MB pictures (uploads,
    as gradio_client and the page send them), parked in the capacity queue."""
    from gradio_client import handle_file

    person = noise_png(folder / "large-person.png", seed=1)
    garment = noise_png(folder / "large-garment.png", seed=2)
    files = (handle_file(str(person)), handle_file(str(garment)), MODEL, "")
    env = {"TRYON_API_CONCURRENCY": "1", "TRYON_QUEUE_MAX_WAIT": "600"}
    with ExitStack() as stack:
        url, pid, _ = start(stack, root, env, never_finish=True)
        holder = client_from(url, "198.51.100.1")
        holder.predict(*files, api_name="/submit")  # takes the only slot for good
        with ThreadPoolExecutor(8) as connecting:
            clients = list(
                connecting.map(lambda n: client_from(url, f"203.0.113.{n + 1}"), range(waiters))
            )
        time.sleep(2)
        idle = peak_rss(pid, 2)
        jobs = [client.submit(*files, api_name="/submit") for client in clients]
        time.sleep(15)  # uploads done, every waiter in line
        parked = peak_rss(pid, 5)
        still = sum(1 for job in jobs if not job.done())
        for job in jobs:
            job.cancel()
    added = parked - idle
    report(
        f"{waiters} parked waiters, two 6.8 MB pictures each",
        f"+{added:.0f} MB",
        f"app {idle:.0f} MB before, {parked:.0f} MB parked ({still} still waiting)",
        f"{added / waiters:.1f} MB a waiter",
    )
    report.checks[f"{waiters} parked waiters add < 100 MB"] = added < 100 and still == waiters


class Report:
    """The rows and the PASS/FAIL checks, printed at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []
        self.checks: dict[str, bool] = {}

    def __call__(self, *row: str) -> None:
        self.rows.append((row[0], row[1], row[2], row[3]))
        print(" | ".join(row), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.admission", description=__doc__)
    parser.add_argument("--app-root", type=Path, default=ROOT, help="the checkout to run")
    parser.add_argument("--only", default=",".join(SECTIONS))
    parser.add_argument("--waiters", type=int, default=10)
    args = parser.parse_args(argv)
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    folder = Path(tempfile.gettempdir()) / "kolors-bench-admission"
    folder.mkdir(exist_ok=True)
    report = Report()
    print(f"app from {args.app_root}; {os.cpu_count()} cores", flush=True)
    if "waiting" in only:
        bench_waiting(args.app_root.resolve(), folder, args.waiters, report)
    print()
    for name, ok in report.checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

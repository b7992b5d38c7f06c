"""Benchmark: the one admission path under attack, as issue 23 measured it.

``python -m benchmarks.admission`` starts the simulator and the app as separate processes on
loopback (visitors told apart by ``X-Forwarded-For`` with ``TRYON_TRUSTED_PROXIES=1``) and
prints what parked waiters hold and how an honest visitor fares beside an attacker.
``--app-root DIR`` runs another checkout's ``app.py`` (to measure the code before a change);
``--only waiting,own-key`` runs some sections. Not part of the tests: numbers depend on the
machine.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import requests
from PIL import Image

from benchmarks.bench import ROOT, free_port, process, rss_mb, wait_http

MODEL = "kolors-virtual-try-on-v1"
SECTIONS = ("waiting", "own-key")


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


def page_run(url: str, address: str, person: str, garment: str, own_key: str) -> str:
    """The page's Run, fired as a browser does (Gradio's queue protocol, a fresh session) with
    a key of the visitor's own in *Advanced*; returns the last status it showed."""
    import json
    import uuid

    config = requests.get(url + "config", timeout=30).json()
    button = next(
        c["id"] for c in config["components"] if c["props"].get("elem_id") == "run-button"
    )
    event = next(
        d for d in config["dependencies"] if [button, "click"] in [list(t) for t in d["targets"]]
    )

    def upload(path: str) -> dict[str, Any]:
        return {"path": path, "meta": {"_type": "gradio.FileData"}}

    data = [upload(person), "", upload(garment), "", MODEL, "", own_key, [], {}, None]
    session = uuid.uuid4().hex
    headers = {"X-Forwarded-For": address}
    joined = requests.post(
        url + "gradio_api/queue/join",
        json={
            "data": data,
            "event_data": None,
            "fn_index": event["id"],
            "trigger_id": button,
            "session_hash": session,
        },
        headers=headers,
        timeout=60,
    )
    joined.raise_for_status()
    last = ""
    with requests.get(
        url + "gradio_api/queue/data",
        params={"session_hash": session},
        headers=headers,
        stream=True,
        timeout=300,
    ) as stream:
        for raw in stream.iter_lines():
            line = raw.decode()
            if line.startswith("data:"):
                last = line
                if '"process_completed"' in line:
                    break
    message = json.loads(last.removeprefix("data:"))
    return json.dumps(message.get("output", {}))[:2000]


def uploaded(url: str, address: str, *paths: Path) -> list[str]:
    """``paths`` uploaded as a visitor at ``address`` would: where the app keeps them."""
    files = [("files", (p.name, p.read_bytes())) for p in paths]
    reply = requests.post(
        url + "gradio_api/upload", files=files, headers={"X-Forwarded-For": address}, timeout=60
    )
    reply.raise_for_status()
    return list(reply.json())


def bench_own_key(
    root: Path, folder: Path, attackers: int, repeat: int, report: Callable[..., None]
) -> None:
    """An honest ``/submit`` alone, then beside ``attackers`` page runs at once with a key of
    their own, from one address, under the issue's 2/minute rate a visitor. (With no limit at
    all every run is admitted work, and 34 of them, the simulator's renders included, fill two
    cores whatever the app does: that is what the rates are for.)"""
    person = noise_png(folder / "large-person.png", seed=1)
    garment = noise_png(folder / "large-garment.png", seed=2)
    honest_person = folder / "honest-person.jpg"
    with Image.open(person) as image:
        image.resize((900, 1200)).save(honest_person, quality=90)
    for label, env in (("2/minute a visitor", {"TRYON_RATE_PER_SESSION": "2/minute"}),):
        quiet, busy, done = _own_key_round(
            root, env, (person, garment, honest_person), attackers, repeat
        )
        ran = done.count("ran")
        report(
            f"honest /submit beside {attackers} own-key page runs ({label})",
            f"{busy:.2f} s",
            f"alone {quiet:.2f} s; the attack: {ran} ran, {len(done) - ran} refused",
            f"{busy / quiet:.2f}x",
        )
        name = f"honest /submit beside {attackers} own-key runs ({label}) within 2x"
        report.checks[name] = busy <= 2 * quiet


def _own_key_round(
    root: Path, env: dict[str, str], pictures: tuple[Path, Path, Path], attackers: int, repeat: int
) -> tuple[float, float, list[str]]:
    """One app with ``env``: the honest submit's median time alone and beside the attack, and
    what became of each attacking run."""
    from benchmarks.bench import raw_call

    person, garment, honest_person = pictures
    with ExitStack() as stack:
        url, _, _ = start(stack, root, env)
        api = url + "gradio_api"

        def honest(n: int) -> float:
            """Seconds one honest /submit takes (a call cut off by a timeout counts as what it
            had taken by then: more than 30 s)."""
            with requests.Session() as session:
                session.headers["X-Forwarded-For"] = f"192.0.2.{n + 1}"
                started = time.perf_counter()
                with contextlib.suppress(requests.Timeout):
                    raw_call(session, api, "submit", honest_person, garment)
                return time.perf_counter() - started

        honest(99)  # warm up
        quiet = statistics.median(honest(n) for n in range(repeat))
        files = uploaded(url, "203.0.113.66", person, garment)

        def attack(_: int) -> str:
            shown = page_run(url, "203.0.113.66", *files, "sk-attacker-own-FAKE")
            return "refused" if "You have started" in shown else "ran"

        with ThreadPoolExecutor(attackers) as pool:
            outcomes = [pool.submit(attack, n) for n in range(attackers)]
            time.sleep(1.0)
            busy = statistics.median(honest(repeat + n) for n in range(repeat))
            done = [f.result() for f in outcomes]
    return quiet, busy, done


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
    parser.add_argument("--attackers", type=int, default=34)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    folder = Path(tempfile.gettempdir()) / "kolors-bench-admission"
    folder.mkdir(exist_ok=True)
    report = Report()
    print(f"app from {args.app_root}; {os.cpu_count()} cores", flush=True)
    if "waiting" in only:
        bench_waiting(args.app_root.resolve(), folder, args.waiters, report)
    if "own-key" in only:
        bench_own_key(args.app_root.resolve(), folder, args.attackers, args.repeat, report)
    print()
    for name, ok in report.checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

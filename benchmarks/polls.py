"""Benchmark section "polls": the result's lag and the status queries per task, the plain
growing schedule against polls timed to the task, with and without callbacks.

Four apps run side by side (``python app.py``: growing or timed, callbacks on or off), each with
a simulator of its own in this process, which records when each task ended (its
``updated_at``) and counts every status query per task. All four get the same tasks at the same
moments: first a failing one (the app's first call; a failure teaches the timing nothing), then
two to learn from, then rounds of ``per_round`` ``/tryon`` calls started 0.7 s apart, every
task of a round the same length (a simulator's task length is one setting). Two runs: every
task 20 s, and 12-18 s spread evenly over the rounds in a shuffled order.

``python -m benchmarks.bench --only polls`` (part of the full run too), or
``python -m benchmarks.polls [--quick]`` for this section alone.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests

from benchmarks.bench import ROOT, Row, free_port, person_1500, raw_call, wait_http
from tryon_demo.simulator import SimulatorConfig, SimulatorServer
from tryon_demo.simulator.store import Simulator

SCHEDULES = ("growing", "timed")
STAGGER = 0.7


@dataclass
class App:
    """One app under test and the simulator it talks to."""

    schedule: str
    callbacks: bool
    server: SimulatorServer
    port: int
    queries: Counter[str] = field(default_factory=Counter)
    lags: list[float] = field(default_factory=list)
    asked: list[int] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/gradio_api"


@contextmanager
def logged_process(args: list[str], env: dict[str, str], log: IO[str]) -> Iterator[None]:
    """A child process writing to ``log``; its last lines are printed if it ends early."""
    proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=log)
    try:
        yield
    finally:
        if proc.poll() is not None:
            log.seek(0)
            print(f"{args} ended early:", *log.readlines()[-15:], sep="\n", file=sys.stderr)
        proc.terminate()
        proc.wait(timeout=10)


def count_queries(sim: Simulator) -> Counter[str]:
    """Count the status queries the simulator answers, per task id (a callback's body is made
    with an explicit ``now``; a query's is not)."""
    counts: Counter[str] = Counter()
    answer = sim.task_object

    def counted(task: Any, base_url: str, now: int | None = None, echo: str = "") -> Any:
        if now is None:
            counts[task.task_id] += 1
        return answer(task, base_url, now, echo)

    sim.task_object = counted  # type: ignore[method-assign]
    return counts


def one_tryon(app: App, person: Path, garment: Path, start_after: float = 0.0) -> tuple[float, str]:
    """One ``/tryon``: seconds from the task's end at the simulator to the call's return, and
    the task's id."""
    time.sleep(start_after)
    with requests.Session() as session:
        _, task = raw_call(session, app.base, "tryon", person, garment)
    returned = time.time()
    data = task["data"]
    return returned - float(data["updated_at"]) / 1000, str(data["task_id"])


def lengths_of(kind: str, count: int, seed: int = 29) -> list[float]:
    """Task lengths: ``fixed`` 20 s, or ``varying`` 12-18 s spread evenly, shuffled."""
    if kind == "fixed":
        return [20.0] * count
    spread = [round(12 + 6 * (i + 0.5) / count, 2) for i in range(count)]
    random.Random(seed).shuffle(spread)
    return spread


def run_kind(
    kind: str, rounds: int, per_round: int, person: Path, garment: Path
) -> tuple[list[App], list[float]]:
    """Every app through the warm-up, two tasks to learn from, then ``rounds`` rounds."""
    learn = lengths_of(kind, 2, seed=7)
    measured = lengths_of(kind, rounds)
    with ExitStack() as stack:
        configs = [(schedule, callbacks) for schedule in SCHEDULES for callbacks in (False, True)]
        servers = [stack.enter_context(SimulatorServer(SimulatorConfig())) for _ in configs]
        apps = []
        for (schedule, callbacks), server in zip(configs, servers, strict=True):
            port = free_port()  # after every simulator has its port: none can take this one
            env = {
                "KLING_API_KEY": "bench-key",
                "KLING_API_BASE": server.gateway_base,
                "GRADIO_SERVER_PORT": str(port),
                "GRADIO_ANALYTICS_ENABLED": "False",
                "TRYON_PUBLIC_URL": f"http://127.0.0.1:{port}" if callbacks else "off",
                "TRYON_POLL_SCHEDULE": schedule,
                "TRYON_STATE_DIR": stack.enter_context(tempfile.TemporaryDirectory()),
            }
            log = stack.enter_context(tempfile.NamedTemporaryFile("w+", suffix=".log"))
            stack.enter_context(logged_process([sys.executable, "app.py"], env, log))
            app = App(schedule, callbacks, server, port)
            app.queries = count_queries(server.simulator)
            apps.append(app)
            wait_http(f"http://127.0.0.1:{app.port}/", timeout=300)  # a loaded machine: slowly
        with ThreadPoolExecutor(len(apps) * per_round) as pool:
            _set(apps, 0.5, fail=True)
            list(pool.map(lambda app: _untimed(app, person, garment), apps))
            for seconds in learn:
                _set(apps, seconds)
                list(pool.map(lambda app: one_tryon(app, person, garment), apps))
            for seconds in measured:
                _set(apps, seconds)
                calls = [
                    (app, pool.submit(one_tryon, app, person, garment, index * STAGGER))
                    for app in apps
                    for index in range(per_round)
                ]
                for app, call in calls:
                    lag, task_id = call.result()
                    app.lags.append(lag)
                    app.asked.append(app.queries[task_id])
    return apps, measured


def _set(apps: list[App], seconds: float, *, fail: bool = False) -> None:
    for app in apps:
        app.server.simulator.config.task_seconds = seconds
        app.server.simulator.config.faults.fail_share = 1.0 if fail else 0.0


def _untimed(app: App, person: Path, garment: Path) -> None:
    with contextlib.suppress(RuntimeError):  # the failed task ends the call with an error
        one_tryon(app, person, garment)


KINDS = {"fixed": "20 s tasks", "varying": "12-18 s tasks"}


def bench_polls(
    inputs: dict[str, Path],
    rounds: int,
    per_round: int,
    rows: list[Row],
    checks: dict[str, bool],
    kinds: tuple[str, ...] = tuple(KINDS),
) -> None:
    """The section's rows and checks (see the module's docstring)."""
    person = person_1500(inputs)
    garment = inputs["garment"]
    for kind in kinds:
        label = KINDS[kind]
        load = os.getloadavg()[0]
        apps, measured = run_kind(kind, rounds, per_round, person, garment)
        print(f"{label}: load average {load:.1f} before, {os.getloadavg()[0]:.1f} after")
        count = len(measured) * per_round
        for callbacks in (False, True):
            old, new = (next(a for a in apps if a.schedule == s and a.callbacks == callbacks)
                        for s in SCHEDULES)  # fmt: skip
            how = "callbacks" if callbacks else "polling (no public URL)"
            rows.append(
                (
                    f"{label}, {how}: timed to the task",
                    _figures(new),
                    f"growing: {_figures(old)}",
                    f"{count} tasks after 2 to learn from",
                )
            )
            lag, asked = statistics.median(new.lags), statistics.median(new.asked)
            mean_asked = statistics.mean(new.asked)
            if callbacks:
                checks[f"{label}, callbacks, timed: median lag <= 0.1 s"] = lag <= 0.1
                checks[f"{label}, callbacks, timed: <= 2 queries per task"] = mean_asked <= 2
            elif kind == "varying":
                checks[f"{label}, no public URL, timed: median lag <= 1.0 s"] = lag <= 1.0
                checks[f"{label}, no public URL, timed: median <= 6 queries per task"] = asked <= 6


def _figures(app: App) -> str:
    lags, asked = app.lags, app.asked
    return (
        f"lag {statistics.median(lags):.2f} s median ({min(lags):.2f}-{max(lags):.2f}), "
        f"{statistics.median(asked):g} queries median ({statistics.mean(asked):.1f} mean)"
    )


def main(argv: list[str] | None = None) -> int:
    from benchmarks.bench import make_inputs

    parser = argparse.ArgumentParser(prog="python -m benchmarks.polls", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="4 rounds instead of 10")
    parser.add_argument("--kinds", default=",".join(KINDS), help="fixed, varying or both")
    args = parser.parse_args(argv)
    # Stopped from outside (timeout, kill): still stop the apps this run started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    folder = Path(tempfile.gettempdir()) / "kolors-bench-inputs"
    folder.mkdir(exist_ok=True)
    inputs = make_inputs(folder)
    rows: list[Row] = []
    checks: dict[str, bool] = {}
    kinds = tuple(kind.strip() for kind in args.kinds.split(",") if kind.strip())
    bench_polls(inputs, 4 if args.quick else 10, 2, rows, checks, kinds)
    for row in rows:
        print(" | ".join(row))
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

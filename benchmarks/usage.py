"""Benchmark: what recording a run for the owner's view costs the run.

``python -m benchmarks.usage`` prints:

1. **on the run's path**: the recorder calls one run makes (its time in line, the create, its
   end; and a refusal), with the real recorder (Prometheus counters and the SQLite queue, its
   writer thread running) against the no-op one, per run, median and p99 over many runs;
2. **end to end**: whole try-ons through the app's flow against the simulator on loopback,
   with the real recorder and with the no-op one, alternating, median per run (the difference
   is within the runs' own jitter; the first figure is the one the target is judged on);
3. **the writer and the readers**: how fast the writer thread puts events into the file, and
   how long ``/owner/usage.json``'s figures take to read from a month of a busy Space's rows.

PASS/FAIL: recording adds < 2 ms per run at the median. ``--quick`` uses fewer repetitions.
Not part of the tests: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tests import pictures
from tryon_demo.flow.pipeline import Pipeline
from tryon_demo.flow.run import run
from tryon_demo.flow.usage import NO_USAGE
from tryon_demo.flow.usage import Usage as Recorder
from tryon_demo.hosting.usage import Usage
from tryon_demo.hosting.usage_report import UsageReport
from tryon_demo.hosting.usage_store import DAY, Event, Kind, UsageStore
from tryon_demo.settings import MODELS, Settings
from tryon_demo.simulator import SimulatorConfig, SimulatorServer

#: The target: what recording may add to one run, at the median.
TARGET_MS = 2.0


def one_run(recorder: Recorder) -> None:
    """The recorder calls a run on the owner's key makes, and one refusal."""
    recorder.waited(0.8)
    recorder.created(MODELS[0])
    recorder.ended(MODELS[0], "succeed", 21.5)
    recorder.refused("picture")


def per_run_ms(recorder: Recorder, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        one_run(recorder)
        times.append((time.perf_counter() - start) * 1000)
    return times


def p99(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.99 * len(values)) - 1)]


def on_the_path(folder: Path, runs: int) -> tuple[float, float, float]:
    usage = Usage(UsageStore(folder / "path.sqlite3"))
    per_run_ms(usage, 200)  # warm up: the first label lookups, the writer's first batch
    recorded = per_run_ms(usage, runs)
    usage.close()
    bare = per_run_ms(NO_USAGE, runs)
    return statistics.median(recorded), p99(recorded), statistics.median(bare)


async def end_to_end(folder: Path, runs: int) -> tuple[float, float]:
    person, garment = folder / "person.jpg", folder / "garment.png"
    person.write_bytes(pictures.person_jpeg())
    garment.write_bytes(pictures.garment_png())
    with SimulatorServer(SimulatorConfig(task_seconds=0.05, processing_after=0.01)) as server:
        settings = Settings(
            api_key="sk-bench", api_base=server.gateway_base, poll_interval=0.02,
            poll_max_interval=0.02, public_url="off", callbacks=False,
        )  # fmt: skip
        usage = Usage(UsageStore(folder / "e2e.sqlite3"))
        pipelines = {
            "recorded": Pipeline.build(settings, folder / "work", usage=usage),
            "bare": Pipeline.build(settings, folder / "work", usage=NO_USAGE),
        }
        times: dict[str, list[float]] = {name: [] for name in pipelines}
        for index in range(runs + 4):
            for name, pipeline in pipelines.items():
                start = time.perf_counter()
                async for step in run(pipeline, person, garment, compare=False):
                    final = step
                assert final.phase == "succeed", final.status_text()
                if index >= 4:  # the first runs warm the pools and the simulator up
                    times[name].append((time.perf_counter() - start) * 1000)
        usage.close()
    return statistics.median(times["recorded"]), statistics.median(times["bare"])


#: One create, its result and its wait: what a run leaves in the records.
KINDS: tuple[tuple[Kind, str | None], ...] = (
    ("create", None),
    ("result", "succeed"),
    ("wait", None),
)


def writer_and_readers(folder: Path, per_day: int) -> tuple[float, float, int]:
    """Events per second the writer takes in; ms to read the figures from 30 days of rows."""
    store = UsageStore(folder / "month.sqlite3", keep_days=31)
    now = time.time()
    events = [
        Event(now - day * DAY - i, kind, MODELS[i % 2], detail, None, 12.0 + i % 40)
        for day in range(30)
        for i in range(per_day)
        for kind, detail in KINDS
    ]
    start = time.perf_counter()
    for event in events:
        store.add(event)
    store.flush(timeout=120)
    rate = len(events) / (time.perf_counter() - start)
    usage = Usage(store)
    report = UsageReport(usage, Settings(daily_cap=1000))
    report.figures()
    reads = []
    for _ in range(5):
        start = time.perf_counter()
        report.figures()
        reads.append((time.perf_counter() - start) * 1000)
    usage.close()
    return rate, statistics.median(reads), len(events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tryon-usage-bench-") as name:
        folder = Path(name)
        recorded, worst, bare = on_the_path(folder, 2000 if args.quick else 20000)
        e2e_recorded, e2e_bare = asyncio.run(end_to_end(folder, 10 if args.quick else 40))
        rate, read_ms, rows = writer_and_readers(folder, 100 if args.quick else 500)
    print("| what | figure |")
    print("|---|---|")
    print(f"| recorder calls of one run, real recorder, median | {recorded * 1000:.1f} µs |")
    print(f"| the same, p99 | {worst * 1000:.1f} µs |")
    print(f"| the same, no-op recorder, median | {bare * 1000:.1f} µs |")
    print(f"| a whole run end to end, recorded, median | {e2e_recorded:.1f} ms |")
    print(f"| a whole run end to end, not recorded, median | {e2e_bare:.1f} ms |")
    print(f"| the writer thread, {rows} events | {rate:,.0f} events/s |")
    print(f"| /owner/usage.json's figures from those {rows} rows, median | {read_ms:.1f} ms |")
    added = recorded - bare
    verdict = "PASS" if added < TARGET_MS else "FAIL"
    print(f"{verdict}: recording adds {added:.4f} ms per run at the median (< {TARGET_MS} ms)")


if __name__ == "__main__":
    main()

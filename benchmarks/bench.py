"""Benchmark: what the app adds on top of the API, measured side by side.

``python -m benchmarks.bench`` prints a table (each figure a median over repeated runs) and
PASS/FAIL lines for the targets in BENCHMARKS.md. It starts the simulator and the app as
separate processes on loopback, like the real deployment where the API renders elsewhere.
``--quick`` uses fewer repetitions and sessions; ``--only queue,cold`` runs some sections.
Not part of the tests: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import requests
from PIL import Image, ImageDraw, ImageFilter

from tryon_demo.pictures import ImageLimits, prepare_image, quick_check
from tryon_demo.simulator import SimulatorConfig, SimulatorServer

ROOT = Path(__file__).resolve().parent.parent
WORKING_SIDE = 1024  # the model's working size: what "no visible loss" is judged at
Row = tuple[str, str, str, str]
SECTIONS = ("prepare", "check", "payload", "app", "queue", "callbacks", "polls", "cold", "memory")


# --- test images ----------------------------------------------------------------------------


def photo_like(size: tuple[int, int], seed: int = 1) -> Image.Image:
    """A synthetic photo with smooth shading, edges and sensor-like noise, so JPEG sizes and
    decode costs resemble a phone camera's rather than a flat drawing's."""
    width, height = size
    small = Image.effect_noise((max(8, width // 64), max(8, height // 64)), 64).resize(
        size, Image.Resampling.BICUBIC
    )
    shade = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 18 + seed)
    red = Image.blend(small, shade, 0.5)
    green = Image.blend(shade.transpose(Image.Transpose.FLIP_TOP_BOTTOM), small, 0.4)
    blue = Image.blend(noise, shade, 0.7)
    image = Image.merge("RGB", (red, green, blue)).filter(ImageFilter.DETAIL)
    return Image.blend(image, Image.merge("RGB", (noise, noise, noise)), 0.08)


def make_inputs(folder: Path) -> dict[str, Path]:
    """The benchmark's images, written once into ``folder``."""
    specs: dict[str, tuple[tuple[int, int], str, dict[str, Any]]] = {
        "24 MP JPEG": ((6000, 4000), "JPEG", {"quality": 92}),
        "12 MP PNG": ((4000, 3000), "PNG", {"compress_level": 6}),
        "2 MP JPEG": ((1920, 1080), "JPEG", {"quality": 92}),
    }
    paths = {}
    for name, (size, fmt, params) in specs.items():
        path = folder / (name.replace(" ", "-") + (".jpg" if fmt == "JPEG" else ".png"))
        if not path.exists():
            photo_like(size).save(path, format=fmt, **params)
        paths[name] = path
    garment = folder / "garment.png"
    if not garment.exists():
        garment.write_bytes((ROOT / "assets" / "garments" / "top-tshirt-red.png").read_bytes())
    paths["garment"] = garment
    paths["folder"] = folder
    return paths


def naive_prepare(path: Path, limits: ImageLimits) -> bytes:
    """The obvious way: full decode, high-quality resize, re-encode, whatever the input."""
    with Image.open(path) as opened:
        rgb = opened.convert("RGB")
    scale = min(1.0, limits.max_long_side / max(rgb.size))
    size = (round(rgb.width * scale), round(rgb.height * scale))
    buffer = io.BytesIO()
    rgb.resize(size, Image.Resampling.LANCZOS).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


# --- measuring ------------------------------------------------------------------------------


def median_ms(call: Callable[[], object], repeat: int) -> float:
    call()  # warm caches and imports
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


_PEAK_CHILD = """
import sys, json
from pathlib import Path
from benchmarks.bench import naive_prepare
from tryon_demo.pictures import ImageLimits, prepare_image

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024

path = Path(sys.argv[2])
data = path.read_bytes()
before = status("VmRSS:")
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # reset the high-water mark to the current size
prepare_image(data) if sys.argv[1] == "ours" else naive_prepare(path, ImageLimits())
print(json.dumps(status("VmHWM:") - before))
"""


def peak_mb(kind: str, path: Path) -> float:
    """Peak memory one preparation adds, in a fresh process (the peak resident size during it
    minus the size before). ``ru_maxrss`` would not do: Linux carries the forking parent's
    high-water mark into the child."""
    out = subprocess.run(
        [sys.executable, "-c", _PEAK_CHILD, kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return float(out.stdout.strip())


def ssim(a: Image.Image, b: Image.Image) -> float:
    """Mean structural similarity of two same-size images on 8 x 8 blocks of luma."""
    x = np.asarray(a.convert("L"), dtype=np.float64)
    y = np.asarray(b.convert("L"), dtype=np.float64)
    h, w = (x.shape[0] // 8) * 8, (x.shape[1] // 8) * 8
    xb = x[:h, :w].reshape(h // 8, 8, w // 8, 8)
    yb = y[:h, :w].reshape(h // 8, 8, w // 8, 8)
    mx, my = xb.mean(axis=(1, 3)), yb.mean(axis=(1, 3))
    vx, vy = xb.var(axis=(1, 3)), yb.var(axis=(1, 3))
    cov = ((xb - mx[:, None, :, None]) * (yb - my[:, None, :, None])).mean(axis=(1, 3))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    value = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return float(value.mean())


def at_working_size(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    scale = WORKING_SIDE / max(image.size)
    return image.resize(
        (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS
    )


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextmanager
def process(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- the benchmark --------------------------------------------------------------------------


def bench_preparation(
    inputs: dict[str, Path], repeat: int, rows: list[Row], checks: dict[str, bool]
) -> None:
    limits = ImageLimits()
    for name in ("24 MP JPEG", "12 MP PNG", "2 MP JPEG"):
        path = inputs[name]
        data = path.read_bytes()
        ours = median_ms(partial(prepare_image, data, limits=limits), repeat)
        naive = median_ms(partial(naive_prepare, path, limits), max(3, repeat // 2))
        ours_mb, naive_mb = peak_mb("ours", path), peak_mb("naive", path)
        rows.append(
            (
                f"prepare {name}",
                f"{ours:.0f} ms, {ours_mb:.0f} MB peak",
                f"naive {naive:.0f} ms, {naive_mb:.0f} MB",
                f"{naive / ours:.1f}x faster",
            )
        )
        if name == "24 MP JPEG":
            checks["24 MP JPEG prepared in <= half the naive time"] = ours <= naive / 2
            checks["24 MP JPEG prepared in <= 150 ms"] = ours <= 150


def bench_quick_check(
    inputs: dict[str, Path], repeat: int, rows: list[Row], checks: dict[str, bool]
) -> None:
    """The note under a chosen picture: the plan from the header, a JPEG proven whole at 1/8
    scale, a PNG by its checksums; against Run preparing the same file."""
    limits = ImageLimits()
    for name in ("24 MP JPEG", "12 MP PNG", "2 MP JPEG"):
        path = inputs[name]
        note = median_ms(partial(quick_check, path, "Person image", limits), repeat)
        run = median_ms(partial(prepare_image, path, limits=limits), repeat)
        rows.append(
            (f"note for {name}", f"{note:.0f} ms", f"Run {run:.0f} ms", f"{note / run:.2f}x")
        )
        if name == "24 MP JPEG":
            # Proving a JPEG whole reads every block, as Run's decode does: never slower.
            checks["the note for a 24 MP JPEG takes less time than Run"] = note < run
        else:
            checks[f"the note for a {name} takes under a fifth of Run's time"] = note < run / 5


def bench_payload(inputs: dict[str, Path], rows: list[Row], checks: dict[str, bool]) -> None:
    person = inputs["24 MP JPEG"]
    ours = prepare_image(person)
    garment = prepare_image(inputs["garment"])
    original = person.stat().st_size + inputs["garment"].stat().st_size
    sent = len(ours.payload) + len(garment.payload)
    person_bytes = len(base64.b64decode(ours.payload))
    rows.append(
        (
            "bytes sent per try-on (24 MP photo + garment)",
            f"{sent / 1e6:.2f} MB base64",
            f"originals {original / 1e6:.2f} MB",
            f"{original / sent:.1f}x smaller",
        )
    )
    # The reference: the original decoded in full and resized with Lanczos, straight to the
    # working size; ours has been through draft decoding, a resize and a JPEG round trip.
    reference = at_working_size(person.read_bytes())
    similarity = ssim(at_working_size(base64.b64decode(ours.payload)), reference)
    rows.append(
        (
            f"quality at the model's {WORKING_SIDE} px working size",
            f"SSIM {similarity:.4f}",
            "vs the original, resized in full",
            "1.0 = identical",
        )
    )
    checks["24 MP photo payload <= 1 MB"] = person_bytes <= 1_000_000
    checks["no visible loss at working size (SSIM >= 0.98)"] = similarity >= 0.98


def raw_call(
    session: requests.Session, base: str, endpoint: str, person: Path, garment: Path
) -> list[Any]:
    """An endpoint through Gradio's documented HTTP API: upload, call, read the event stream.
    A light client, so the measurement is of the app rather than of gradio_client's threads."""
    with person.open("rb") as a, garment.open("rb") as b:
        paths = session.post(
            f"{base}/upload",
            files=[("files", (person.name, a)), ("files", (garment.name, b))],
            timeout=30,
        ).json()
    data = [{"path": p, "meta": {"_type": "gradio.FileData"}} for p in paths] + [
        "kolors-virtual-try-on-v1",
        "",
    ]
    call = f"{base}/call/{endpoint}"
    event = session.post(call, json={"data": data}, timeout=30).json()["event_id"]
    with session.get(f"{call}/{event}", stream=True, timeout=120) as stream:
        lines = [str(line) for line in stream.iter_lines(decode_unicode=True) if line]
    # The stream may carry heartbeats; the last event is the outcome.
    if lines[-2] != "event: complete":
        raise RuntimeError(f"/{endpoint} failed: {lines[-2:]}")
    result: list[Any] = json.loads(lines[-1].removeprefix("data: "))
    return result


def person_1500(inputs: dict[str, Path]) -> Path:
    """A person photo at the default size: it passes through untouched, so what is timed is
    the app and the protocol, not image preparation (which has its own rows)."""
    person = inputs["folder"] / "person-1500.jpg"
    with Image.open(inputs["2 MP JPEG"]) as image:
        image.resize((1500, 844)).save(person, quality=92)
    return person


def bench_app(
    inputs: dict[str, Path],
    repeat: int,
    sessions: int,
    task_seconds: float,
    rows: list[Row],
    checks: dict[str, bool],
) -> None:
    person = person_1500(inputs)
    garment = inputs["garment"]
    for name, task_time in (
        ("submit", task_seconds),
        ("wait", 4 * task_seconds),
    ):
        sim_port, app_port = free_port(), free_port()
        sim_args = [
            sys.executable,
            "-m",
            "tryon_demo",
            "simulate",
            "--port",
            str(sim_port),
            "--task-seconds",
            str(task_time),
        ]
        app_env = {
            "KLING_API_KEY": "bench-key",
            "KLING_API_BASE": f"http://127.0.0.1:{sim_port}/kling",
            "GRADIO_SERVER_PORT": str(app_port),
            "GRADIO_ANALYTICS_ENABLED": "False",
        }
        with process(sim_args, {}), process([sys.executable, "app.py"], app_env) as app:
            wait_http(f"http://127.0.0.1:{sim_port}/simulator/health")
            wait_http(f"http://127.0.0.1:{app_port}/")
            url = f"http://127.0.0.1:{app_port}/"
            if name == "submit":
                _bench_submit(url, sim_port, person, garment, repeat, task_time, rows, checks)
            else:
                _bench_waiting_memory(url, app.pid, sessions, task_time, rows, checks)


def _bench_submit(
    url: str,
    sim_port: int,
    person: Path,
    garment: Path,
    repeat: int,
    task_seconds: float,
    rows: list[Row],
    checks: dict[str, bool],
) -> None:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    body = {
        "model_name": "kolors-virtual-try-on-v1",
        "human_image": prepare_image(person).payload,
        "cloth_image": prepare_image(garment).payload,
    }
    http = requests.Session()
    endpoint = f"http://127.0.0.1:{sim_port}/kling/v1/images/kolors-virtual-try-on"
    bare = median_ms(
        lambda: http.post(
            endpoint, json=body, headers={"Authorization": "Bearer b"}, timeout=30
        ).json(),
        repeat,
    )
    api = url + "gradio_api"
    raw = median_ms(lambda: raw_call(http, api, "submit", person, garment), repeat)
    via_client = median_ms(
        lambda: client.predict(
            handle_file(str(person)),
            handle_file(str(garment)),
            "kolors-virtual-try-on-v1",
            "",
            api_name="/submit",
        ),
        repeat,
    )
    rows.append(
        (
            "submit through Gradio's HTTP API",
            f"{raw:.0f} ms",
            f"bare POST {bare:.0f} ms",
            f"+{raw - bare:.0f} ms",
        )
    )
    rows.append(
        (
            "submit through gradio_client",
            f"{via_client:.0f} ms",
            f"bare POST {bare:.0f} ms",
            f"+{via_client - bare:.0f} ms",
        )
    )
    # gradio_client's row is information only: it polls its own queue every 50 ms.
    checks["app overhead per submit <= 50 ms over the bare POST (HTTP API)"] = raw - bare <= 50

    def tryon(_: object = None) -> str:
        with requests.Session() as own:  # one visitor: their own connections
            _image, task = raw_call(own, api, "tryon", person, garment)  # two outputs
            return str(task["data"]["task_id"])

    one = statistics.median([timed(tryon) for _ in range(3)])
    rows.append(
        (
            "one try-on end to end (/tryon)",
            f"{one:.2f} s",
            f"task {task_seconds:g} s",
            f"{one / task_seconds:.2f}x the task",
        )
    )


def _bench_waiting_memory(
    url: str, pid: int, count: int, task_seconds: float, rows: list[Row], checks: dict[str, bool]
) -> None:
    """Memory the app holds per visitor while their task runs: links as inputs (no image work),
    long tasks, the app's resident size sampled while every session waits."""
    from gradio_client import Client

    # Connecting is not what is measured: a few at a time, so none times out reading the config.
    with ThreadPoolExecutor(8) as connecting:
        clients = list(connecting.map(lambda _: Client(url, verbose=False), range(count)))
    with ThreadPoolExecutor(count) as pool:
        links = ("https://example.com/person.jpg", "https://example.com/garment.jpg")
        clients[0].predict(*links, "kolors-virtual-try-on-v1", "", api_name="/tryon")  # warm up
        idle = rss_mb(pid)

        def wait_one(client: Any) -> object:
            return client.predict(*links, "kolors-virtual-try-on-v1", "", api_name="/tryon")

        futures = [pool.submit(wait_one, c) for c in clients]
        time.sleep(task_seconds / 2)
        waiting = rss_mb(pid)
        for future in futures:
            future.result()
    per_session = max(0.0, waiting - idle) / count
    rows.append(
        (
            f"memory while {count} sessions wait",
            f"{per_session:.2f} MB per session",
            f"app {idle:.0f} MB idle, {waiting:.0f} MB waiting",
            "",
        )
    )
    checks[f"memory per waiting session <= 2 MB ({count} sessions)"] = per_session <= 2


_NAIVE_SCRIPT = """
import sys
from PIL import Image
with Image.open(sys.argv[1]) as opened:
    rgb = opened.convert("RGB")
scale = min(1.0, 1500 / max(rgb.size))
size = (round(rgb.width * scale), round(rgb.height * scale))
rgb.resize(size, Image.Resampling.LANCZOS).save(sys.argv[2], format="JPEG", quality=95)
"""


def bench_prepare_process(
    inputs: dict[str, Path], repeat: int, rows: list[Row], checks: dict[str, bool]
) -> None:
    """``python -m tryon_demo prepare`` as a whole process (start-up and imports included),
    next to a plain script that decodes, resizes and re-encodes the same photo naively."""
    photo = inputs["24 MP JPEG"]
    out = inputs["folder"] / "naive-out.jpg"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(args: list[str]) -> Callable[[], object]:
        return partial(subprocess.run, args, capture_output=True, check=True, env=env, cwd=ROOT)

    ours = median_ms(run([sys.executable, "-m", "tryon_demo", "prepare", str(photo)]), repeat)
    naive = median_ms(run([sys.executable, "-c", _NAIVE_SCRIPT, str(photo), str(out)]), repeat)
    rows.append(
        (
            "prepare 24 MP JPEG as a whole process",
            f"{ours:.0f} ms",
            f"naive script {naive:.0f} ms",
            f"{ours / naive:.2f}x the naive time",
        )
    )
    checks["python -m tryon_demo prepare (24 MP JPEG) <= 0.7x a naive script"] = ours <= 0.7 * naive


_SIM_CHILD = """
import json, sys
from tryon_demo.simulator import SimulatorConfig, SimulatorServer
config = SimulatorConfig(task_seconds=float(sys.argv[2]), max_concurrent_tasks=int(sys.argv[3]))
server = SimulatorServer(config, port=int(sys.argv[1])).start()
print("ready", flush=True)
for _ in sys.stdin:  # one report per line asked for
    sim = server.simulator
    with sim.lock:
        tasks = [(t.created_at, t.task_id) for t in sim.tasks.values()]
    print(json.dumps({"creates": sim.creates_received, "tasks": tasks}), flush=True)
"""


def bench_queue(
    inputs: dict[str, Path],
    visitors: int,
    limit: int,
    task_seconds: float,
    rows: list[Row],
    checks: dict[str, bool],
) -> None:
    """``visitors`` people press Run at once against an account that runs ``limit`` tasks at
    a time (the simulator answers 1303 above it), with TRYON_API_CONCURRENCY set to match."""
    person, garment = person_1500(inputs), inputs["garment"]
    sim_port, app_port = free_port(), free_port()
    sim = subprocess.Popen(
        [sys.executable, "-c", _SIM_CHILD, str(sim_port), str(task_seconds), str(limit)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    app_env = {
        "KLING_API_KEY": "bench-key",
        "KLING_API_BASE": f"http://127.0.0.1:{sim_port}/kling",
        "TRYON_API_CONCURRENCY": str(limit),
        "GRADIO_SERVER_PORT": str(app_port),
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    assert sim.stdin is not None and sim.stdout is not None
    try:
        sim.stdout.readline()  # "ready"
        with process([sys.executable, "app.py"], app_env) as app:
            api = f"http://127.0.0.1:{app_port}/gradio_api"
            wait_http(f"http://127.0.0.1:{app_port}/")

            def visit(_: object = None) -> tuple[float, str]:
                with requests.Session() as own:
                    try:
                        _image, task = raw_call(own, api, "tryon", person, garment)
                        return time.monotonic() - started, str(task["data"]["task_id"])
                    except (RuntimeError, requests.RequestException, KeyError) as exc:
                        return time.monotonic() - started, f"error: {exc}"[:200]

            with ThreadPoolExecutor(visitors) as pool:
                cpu_before = cpu_seconds(app.pid)
                wall_start_ms = time.time() * 1000
                started = time.monotonic()
                outcomes = list(pool.map(visit, range(visitors)))
                total = time.monotonic() - started
                app_cpu = (cpu_seconds(app.pid) - cpu_before) * 1000 / visitors
        sim.stdin.write("report\n")
        sim.stdin.flush()
        report = json.loads(sim.stdout.readline())
    finally:
        sim.terminate()
        sim.wait(timeout=10)
    ids = [task for _, task in outcomes if not task.startswith("error")]
    errors = [task for _, task in outcomes if task.startswith("error")]
    created = len(report["tasks"])
    ideal = visitors / limit * task_seconds
    # Fairness: the k-th visitor to get a result ideally has it after (k // limit + 1) tasks.
    finishes = sorted(seconds for seconds, _ in outcomes)
    lag = max(t - (k // limit + 1) * task_seconds for k, t in enumerate(finishes))
    starts = sorted(created_at for created_at, _ in report["tasks"]) or [wall_start_ms]
    at_once = max(
        sum(1 for other in starts if start <= other < start + task_seconds * 1000)
        for start in starts
    )
    rows.append(
        (
            f"{visitors} visitors at once, account limit {limit}, {task_seconds:g} s tasks",
            f"{total:.2f} s, {len(set(ids))} results",
            f"ideal {ideal:.0f} s ({visitors} / {limit} x {task_seconds:g} s)",
            f"{total / ideal:.2f}x the ideal",
        )
    )
    rows.append(
        (
            "  creates at the API",
            f"{report['creates']} sent, {created} created",
            f"{report['creates'] - created} refused (1303), most at once {at_once}",
            f"{len(errors)} visitors saw an error",
        )
    )
    rows.append(
        (
            "  fairness: largest lag behind the ideal position",
            f"{lag:.2f} s",
            "k-th result ideally at (k // limit + 1) task times",
            "",
        )
    )
    rounds = max(1, (visitors - 1) // limit)
    first, last = ((starts[0] - wall_start_ms) / 1000, (starts[-1] - wall_start_ms) / 1000)
    rows.append(
        (
            "  slot turnover",
            f"{(last - first) / rounds:.2f} s a round of {limit}",
            f"first create {first:.2f} s after the start",
            f"last result {finishes[-1] - last:.2f} s after its create",
        )
    )
    rows.append(("  app CPU per try-on", f"{app_cpu:.0f} ms", "", ""))
    if errors:
        print(f"first error: {errors[0]}", file=sys.stderr)
    checks[f"{visitors} visitors: every one gets a result"] = len(set(ids)) == visitors
    checks[f"{visitors} visitors: no 1303 reaches the API, no create sent twice"] = (
        report["creates"] == created == visitors
    )
    checks[f"{visitors} visitors within 1.15x the ideal {ideal:.0f} s"] = total <= 1.15 * ideal


def bench_callbacks(
    inputs: dict[str, Path], tasks: int, rows: list[Row], checks: dict[str, bool]
) -> None:
    """Callbacks against polling: how long after the task ends at the API the result is back
    from ``/tryon``, and how many status queries each task costs, for 3 s and 20 s tasks.

    The simulator runs in this process (it counts the queries and records when each task
    ended); the app runs as ``python app.py`` with ``TRYON_PUBLIC_URL`` its own loopback
    address (callbacks) or ``off`` (polling as before), ``tasks`` try-ons at once.
    """
    person = inputs["folder"] / "person-1500.jpg"
    if not person.exists():
        with Image.open(inputs["2 MP JPEG"]) as image:
            image.resize((1500, 844)).save(person, quality=92)
    garment = inputs["garment"]
    with SimulatorServer(SimulatorConfig()) as server:
        sim = server.simulator
        for callbacks in (True, False):
            port = free_port()
            env = {
                "KLING_API_KEY": "bench-key",
                "KLING_API_BASE": server.gateway_base,
                "GRADIO_SERVER_PORT": str(port),
                "GRADIO_ANALYTICS_ENABLED": "False",
                "TRYON_PUBLIC_URL": f"http://127.0.0.1:{port}" if callbacks else "off",
            }
            with process([sys.executable, "app.py"], env):
                base = f"http://127.0.0.1:{port}/gradio_api"
                wait_http(f"http://127.0.0.1:{port}/")
                # Untimed: the app's first call, and the simulator's render of these pictures
                # (it caches renders; the real API has rendered before it reports the end).
                sim.config.task_seconds = 0.5
                _delay_after_end(base, person, garment)
                for seconds in (3.0, 20.0):
                    sim.config.task_seconds = seconds  # read afresh for every new task
                    queries_before = sim.requests_seen - sim.creates_received
                    # Staggered starts, as visitors arrive: the tasks' callbacks and queries do
                    # not all land at the same moment.
                    starts = [index * 0.7 for index in range(tasks)]
                    with ThreadPoolExecutor(tasks) as pool:
                        delays = list(
                            pool.map(partial(_delay_after_end, base, person, garment), starts)
                        )
                    queries = (sim.requests_seen - sim.creates_received - queries_before) / tasks
                    delay = statistics.median(delays)
                    how = "callbacks" if callbacks else "polling (no public URL)"
                    rows.append(
                        (
                            f"{seconds:.0f} s task, {how}: result after the task ended",
                            f"{delay:.2f} s median (max {max(delays):.2f})",
                            f"{queries:.1f} status queries per task",
                            f"{tasks} tasks",
                        )
                    )
                    if callbacks:
                        checks[f"callbacks, {seconds:.0f} s tasks: median delay <= 0.3 s"] = (
                            delay <= 0.3
                        )
                        checks[f"callbacks, {seconds:.0f} s tasks: <= 2 queries per task"] = (
                            queries <= 2
                        )


def _delay_after_end(base: str, person: Path, garment: Path, start_after: float = 0.0) -> float:
    """One ``/tryon``: seconds from the task's end at the simulator to the call's return."""
    time.sleep(start_after)
    with requests.Session() as session:
        _, task = raw_call(session, base, "tryon", person, garment)
    returned = time.time()
    return returned - float(task["data"]["updated_at"]) / 1000


def timed(call: Callable[[], object]) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def bench_cold_start(repeat: int, rows: list[Row], checks: dict[str, bool]) -> None:
    times = []
    for _ in range(repeat):
        port = free_port()
        started = time.monotonic()
        with process(
            [sys.executable, "app.py"],
            {
                "GRADIO_SERVER_PORT": str(port),
                "KLING_API_KEY": "",
                "GRADIO_ANALYTICS_ENABLED": "False",
            },
        ):
            wait_http(f"http://127.0.0.1:{port}/")
            times.append(time.monotonic() - started)
    cold = statistics.median(times)
    code = "import time;t=time.perf_counter();import gradio;print(time.perf_counter()-t)"
    gradio_import = statistics.median(
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(3)
    )
    rows.append(
        (
            "cold start: python app.py to page answering",
            f"{cold:.2f} s",
            f"import gradio alone {gradio_import:.2f} s",
            f"+{cold - gradio_import:.2f} s",
        )
    )
    # What the app can change is what it adds to Gradio's own import (seconds on this machine).
    checks["cold start adds <= 1 s to import gradio alone"] = cold - gradio_import <= 1


# --- memory under attack --------------------------------------------------------------------


BOMB_SIZE = (11000, 10850)  # 119 MP: the PNG of issue 11, 477 MB once decoded as RGBA


def make_bomb(folder: Path) -> Path:
    """A PNG of under half a megabyte that claims 11000 x 10850 RGBA pixels."""
    path = folder / "bomb-119mp.png"
    if not path.exists():
        image = Image.new("RGBA", BOMB_SIZE, (200, 30, 40, 255))
        ImageDraw.Draw(image).rectangle((1000, 1000, 5000, 9000), fill=(20, 30, 200, 128))
        image.save(path, format="PNG", compress_level=9)
        image.close()
    return path


def make_largest_accepted(folder: Path) -> Path:
    """A transparent PNG just under the default 40 MP budget: the most one picture may cost."""
    path = folder / "rgba-40mp.png"
    if not path.exists():
        image = Image.new("RGBA", (7300, 5479), (200, 30, 40, 255))
        ImageDraw.Draw(image).rectangle((1000, 1000, 5000, 4000), fill=(20, 30, 200, 128))
        image.save(path, format="PNG", compress_level=9)
        image.close()
    return path


def peak_mb_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak(pid: int) -> None:
    """Restart a process's high-water mark from its current resident size."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def call_outcome(base: str, endpoint: str, person: Path, garment: Path) -> str:
    """``raw_call`` that reports how the call ended instead of raising on an error."""
    try:
        raw_call(requests.Session(), base, endpoint, person, garment)
    except RuntimeError:
        return "refused"
    return "accepted"


def huge_body(megabytes: int) -> Iterator[bytes]:
    """A queue/join body carrying a ``data:`` URL of ``megabytes`` MB, made as it is sent."""
    yield b'{"data": ["data:image/png;base64,'
    chunk = b"A" * 2**20
    for _ in range(megabytes):
        yield chunk
    yield b'", null], "fn_index": 0, "session_hash": "benchbody01"}'


def bench_memory(inputs: dict[str, Path], rows: list[Row], checks: dict[str, bool]) -> None:
    """Peak memory the app adds for picture bombs and a huge body, and what it still holds
    a few seconds later. Figures are the app process's own (``VmHWM`` reset before each)."""
    bomb = make_bomb(inputs["folder"])
    largest = make_largest_accepted(inputs["folder"])
    garment = inputs["garment"]
    port = free_port()
    env = {
        "KLING_API_KEY": "",  # offline: a bomb is refused before anything would reach an API
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    with process([sys.executable, "app.py"], env) as app:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/")
        api = url + "/gradio_api"
        call_outcome(api, "tryon", garment, garment)  # warm up: imports, first call, simulator
        pictures = (
            (bomb, f"119 MP PNG bomb ({bomb.stat().st_size // 1024} KB)", BOMB_SIZE),
            (largest, "40 MP RGBA PNG (largest accepted)", (7300, 5479)),
        )
        for picture, label, size in pictures:
            for count in (1, 3):
                time.sleep(2)
                idle = rss_mb(app.pid)
                reset_peak(app.pid)
                with ThreadPoolExecutor(count) as pool:
                    outcomes = list(
                        pool.map(
                            lambda _, p=picture: call_outcome(api, "tryon", p, garment),
                            range(count),
                        )
                    )
                peak = peak_mb_of(app.pid) - idle
                time.sleep(5)
                later = rss_mb(app.pid) - idle
                rows.append(
                    (
                        f"{count} x {label} at once",
                        f"{peak:+.0f} MB peak, {later:+.0f} MB 5 s later",
                        f"app {idle:.0f} MB idle; {size[0] * size[1] * 4 / 2**20:.0f} MB "
                        "decoded each",
                        ", ".join(sorted(set(outcomes))),
                    )
                )
                if count == 3 and picture == bomb:
                    checks["3 bombs at once add <= 600 MB to peak memory"] = peak <= 600
        time.sleep(2)
        idle = rss_mb(app.pid)
        reset_peak(app.pid)
        reply = requests.post(
            f"{api}/queue/join",
            data=huge_body(80),
            headers={"Content-Type": "application/json"},
            timeout=120,
        )
        peak = peak_mb_of(app.pid) - idle
        rows.append(
            (
                "80 MB JSON body (chunked) to /queue/join",
                f"{peak:+.0f} MB peak",
                f"app {idle:.0f} MB idle",
                f"HTTP {reply.status_code}",
            )
        )
        checks["an 80 MB JSON body is refused with 413"] = reply.status_code == 413


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and sessions")
    parser.add_argument("--task-seconds", type=float, default=3.0)
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run (default all: {','.join(SECTIONS)})",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--memory", action="store_true", help="only the memory section")
    args = parser.parse_args(argv)
    repeat = 5 if args.quick else 15
    sessions = 50 if args.quick else 100
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    rows: list[Row] = []
    checks: dict[str, bool] = {}
    folder = Path(tempfile.gettempdir()) / "kolors-bench-inputs"
    folder.mkdir(exist_ok=True)
    inputs = make_inputs(folder)
    python = sys.version.split()[0]
    print(f"machine: {os.cpu_count()} cores, Python {python}; median of {repeat} runs", flush=True)
    if args.memory:  # the older switch, kept: the same as --only memory
        only = {"memory"}
    if "prepare" in only:
        bench_preparation(inputs, repeat, rows, checks)
        bench_prepare_process(inputs, max(5, repeat // 2), rows, checks)
    if "check" in only:
        bench_quick_check(inputs, repeat, rows, checks)
    if "payload" in only:
        bench_payload(inputs, rows, checks)
    if "app" in only:
        bench_app(inputs, repeat, sessions, args.task_seconds, rows, checks)
    if "queue" in only:
        bench_queue(inputs, 100, 5, 1.0, rows, checks)
    if "callbacks" in only:
        bench_callbacks(inputs, 5, rows, checks)
    if "polls" in only:
        from benchmarks.polls import bench_polls  # imports this module: not at the top

        bench_polls(inputs, 4 if args.quick else 10, 2, rows, checks)
    if "cold" in only:
        bench_cold_start(3, rows, checks)
    if "memory" in only:
        bench_memory(inputs, rows, checks)
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print()
    print(
        " | ".join(
            h.ljust(w)
            for h, w in zip(("what", "ours", "compared with", "ratio"), widths, strict=True)
        )
    )
    print("-|-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print()
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "checks": checks}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

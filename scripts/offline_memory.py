"""Memory an offline deployment adds for 40 try-ons of 6.8 MB pictures, end to end.

Starts ``python app.py`` offline on a free loopback port, sends 40 ``/tryon`` calls four at a
time with two 1500 x 1500 noise PNGs (6.8 MB each), and prints the resident memory the app
added at its peak and 5 s after the last call. Extra arguments are environment settings for
the app, e.g. ``MALLOC_ARENA_MAX=8``. Run: ``python scripts/offline_memory.py``.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from gradio_client import Client, handle_file
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
MODEL = "kolors-virtual-try-on-v1"


def noise(path: Path, seed: int) -> None:
    pixels = random.Random(seed).randbytes(1500 * 1500 * 3)
    Image.frombytes("RGB", (1500, 1500), pixels).save(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
    return 0


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="offline-memory-"))
    person, garment = work / "a.png", work / "b.png"
    noise(person, 1)
    noise(garment, 2)
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "TRYON_STATE_DIR": str(work / "state"),
        "TRYON_SIM_TASK_SECONDS": "0.5",
    }
    env.update(dict(arg.split("=", 1) for arg in sys.argv[1:]))
    url = f"http://127.0.0.1:{port}/"
    app = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(url, timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the app did not start"
                time.sleep(0.5)

        def tryon(_: object = None) -> None:
            Client(url, verbose=False).predict(
                handle_file(str(person)), handle_file(str(garment)), MODEL, "", api_name="/tryon"
            )

        tryon()  # the first call's one-off costs are not the visitors'
        time.sleep(2)
        idle = peak = rss_mb(app.pid)
        done = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_mb(app.pid))
                time.sleep(0.1)

        watcher = threading.Thread(target=watch)
        watcher.start()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(tryon, range(40)))
        done.set()
        watcher.join()
        time.sleep(5)
        print(
            f"{' '.join(sys.argv[1:]) or 'defaults'}: idle {idle} MB, "
            f"peak +{peak - idle} MB, 5 s later +{rss_mb(app.pid) - idle} MB"
        )
    finally:
        app.terminate()
        app.wait(timeout=30)


if __name__ == "__main__":
    main()

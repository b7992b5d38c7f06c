"""Benchmark: two 12 MP phone photos chosen on an emulated 4G uplink, the page shrinking them
before upload against the page uploading the originals.

``python -m benchmarks.phone_upload`` starts the app (offline) on loopback, opens it in headless
Chromium at 390 x 844, throttles the network through the DevTools protocol
(``Network.emulateNetworkConditions``: 5 Mbit/s up, 20 Mbit/s down, 70 ms round trip) and,
for a phone-like processor, slows the CPU 4 times (``Emulation.setCPUThrottlingRate``). It
chooses the two photos by the file input and prints, per case, the bytes uploaded and the time
from the choice to "ready to Run": both pictures shown and both notes under them written (the
server has them and has checked them), the longest the page froze meanwhile (its longest main
thread task), then the pictures the page made against the server's
own (size and SSIM). ``--repeat`` runs each case that many times (median).
Not part of the tests: the times depend on the machine.
"""

from __future__ import annotations

import argparse
import io
import re
import socket
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps
from playwright.sync_api import Browser, Route, sync_playwright

from tests import pictures
from tests.similarity import ssim
from tryon_demo.pictures import ImageLimits, prepare_image
from tryon_demo.settings import load_settings
from tryon_demo.ui import build_demo, launch_options

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: A good 4G connection's uplink, as DevTools' presets count it (bytes per second).
UPLINK = 5_000_000 / 8
DOWNLINK = 20_000_000 / 8
LATENCY_MS = 70
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
#: Switches the page's shrinking off: its load hook finds itself already installed.
NO_SHRINKING = "window.__tryonShrink = { off: true };"
#: Records the longest task that held the page's main thread (the page froze that long).
LONG_TASKS = """window.__longest = 0;
new PerformanceObserver((list) => {
  for (const task of list.getEntries()) {
    window.__longest = Math.max(window.__longest, task.duration);
  }
}).observe({ type: "longtask" });"""
READY = """() => ["#human", "#cloth"].every((key) =>
    document.querySelector(`${key}-image img`) &&
    (document.querySelector(`${key}-check`)?.innerText || "").trim().length > 0)"""
UPLOAD = re.compile(r".*/gradio_api/upload(\?.*)?$")


#: A browser without ``createImageBitmap``: the page draws the whole decoded picture smaller.
NO_BITMAPS = "delete window.createImageBitmap;"


@dataclass(frozen=True)
class Case:
    name: str
    shrink: bool
    cpu_slowdown: float
    init_script: str = ""


CASES = (
    Case("page shrinks, phone CPU (4x slower)", True, 4),
    Case("originals uploaded (before), phone CPU", False, 4),
    Case("page shrinks, this machine's CPU", True, 1),
    Case("originals uploaded (before), this machine's CPU", False, 1),
    Case("page shrinks without createImageBitmap, phone CPU", True, 4, NO_BITMAPS),
    Case("page shrinks without createImageBitmap, this machine's CPU", True, 1, NO_BITMAPS),
)


@dataclass
class Trial:
    uploaded: int
    ready_s: float
    #: From the choice to the first upload request: the shrinking, when the page shrinks.
    first_upload_s: float
    #: The longest the page's main thread was busy at a stretch, from the choice to ready.
    longest_task_s: float
    #: The JPEGs uploaded, person first.
    files: list[bytes]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_app(workdir: Path) -> Iterator[str]:
    settings = load_settings()
    demo = build_demo(settings, workdir=workdir)
    _, url, _ = demo.launch(
        prevent_thread_lock=True,
        quiet=True,
        server_port=free_port(),
        **launch_options(workdir, settings),
    )
    try:
        yield str(url)
    finally:
        demo.close()


def trial(browser: Browser, url: str, photos: tuple[Path, Path], case: Case) -> Trial:
    context = browser.new_context(**PHONE)
    context.add_init_script(LONG_TASKS)
    if not case.shrink:
        context.add_init_script(NO_SHRINKING)
    if case.init_script:
        context.add_init_script(case.init_script)
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.wait_for_selector("#run-button")
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": LATENCY_MS,
            "uploadThroughput": UPLINK,
            "downloadThroughput": DOWNLINK,
        },
    )
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": case.cpu_slowdown})
    bodies: list[bytes] = []
    seen: list[float] = []

    def count(route: Route) -> None:
        seen.append(time.perf_counter())
        bodies.append(route.request.post_data_buffer or b"")
        route.continue_()

    page.route(UPLOAD, count)
    page.evaluate("window.__longest = 0")
    started = time.perf_counter()
    page.locator("#human-image input[type=file]").set_input_files(str(photos[0]))
    page.locator("#cloth-image input[type=file]").set_input_files(str(photos[1]))
    page.wait_for_function(READY, polling=50)
    ready = time.perf_counter() - started
    longest = page.evaluate("window.__longest") / 1000
    shrunk = page.evaluate("window.__tryonShrink.stats ? window.__tryonShrink.stats.shrunk : 0")
    context.close()
    if shrunk != (2 if case.shrink else 0):
        raise RuntimeError(f"{case.name}: the page shrank {shrunk} photos")
    # One JPEG per multipart body; the person's upload starts first.
    files = [body[body.index(b"\xff\xd8") : body.rindex(b"\xff\xd9") + 2] for body in bodies]
    return Trial(sum(len(body) for body in bodies), ready, min(seen) - started, longest, files)


def quality(trial: Trial, photos: tuple[Path, Path]) -> None:
    """The page's JPEGs against what the server alone makes of the originals, and both against
    the photo resized (Lanczos) before any compression."""
    limits = ImageLimits.from_settings(load_settings())
    for name, sent, photo in zip(("person", "garment"), trial.files, photos, strict=True):
        server = prepare_image(photo, limits=limits)
        assert server.data is not None
        ours, theirs = (Image.open(io.BytesIO(data)) for data in (sent, server.data))
        with Image.open(photo) as original:
            upright = ImageOps.exif_transpose(original)
            ideal = upright.resize(theirs.size, Image.Resampling.LANCZOS)
        print(
            f"{name}: page {ours.size[0]} x {ours.size[1]}, {len(sent) / 1e3:.0f} KB; server "
            f"{theirs.size[0]} x {theirs.size[1]}, {len(server.data) / 1e3:.0f} KB; "
            f"SSIM page/server {ssim(ours, theirs):.4f}; against the photo resized before "
            f"compression: page {ssim(ours, ideal):.4f}, server {ssim(theirs, ideal):.4f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        photos = (base / "person.jpg", base / "garment.jpg")
        photos[0].write_bytes(pictures.camera_photo((3000, 4000), seed=1, orientation=6))
        photos[1].write_bytes(pictures.camera_photo((4000, 3000), seed=2))
        originals = sum(p.stat().st_size for p in photos)
        print(f"two 12 MP photos, {originals / 1e6:.2f} MB; uplink {UPLINK * 8 / 1e6:.0f} Mbit/s")
        with running_app(base / "work") as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            print("| case | uploaded | ready to Run | first upload starts | longest freeze |")
            print("|---|---|---|---|---|")
            shrunk = None
            for case in CASES:
                trials = [trial(browser, url, photos, case) for _ in range(args.repeat)]
                uploaded = statistics.median(t.uploaded for t in trials) / 1e6
                ready = statistics.median(t.ready_s for t in trials)
                first = statistics.median(t.first_upload_s for t in trials)
                freeze = statistics.median(t.longest_task_s for t in trials)
                print(
                    f"| {case.name} | {uploaded:.2f} MB | {ready:.2f} s | {first:.2f} s "
                    f"| {freeze:.2f} s |"
                )
                if case.shrink and not case.init_script:
                    shrunk = shrunk or trials[0]
            browser.close()
        assert shrunk is not None
        quality(shrunk, photos)


if __name__ == "__main__":
    main()

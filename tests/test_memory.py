"""Bounded memory: picture bombs refused by their header, large decodes gated, huge bodies refused.

The attacks of issue 11 (finding 3 and the body-size hole of finding 8), each as a test: a
464 KB PNG that decodes to half a gigabyte, four large decodes at once, an 80 MB JSON body.
"""

from __future__ import annotations

import json
import platform
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image, ImageDraw

from tests import pictures
from tryon_demo.errors import ImageError
from tryon_demo.pictures import ImageLimits, memory, prepare, prepare_image
from tryon_demo.settings import Settings, load_settings
from tryon_demo.ui import build_demo, launch_options

ROOT = Path(__file__).resolve().parent.parent
BOMB_SIZE = (11000, 10850)  # 119 MP: under the old 120 MP limit, 477 MB decoded as RGBA
MB = 2**20


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait on a condition, not a clock: the timeout only ends a test that would hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


# --- picture bombs -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def bomb_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The PNG of the report: 11000 x 10850 RGBA, half a megabyte on disk."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    image = Image.new("RGBA", BOMB_SIZE, (200, 30, 40, 255))
    ImageDraw.Draw(image).rectangle((1000, 1000, 5000, 9000), fill=(20, 30, 200, 128))
    image.save(path, format="PNG", compress_level=6)
    image.close()
    return path


_PREPARE_AND_MEASURE = """
import json, sys
from tryon_demo.pictures import prepare_image
from tryon_demo.errors import ImageError

def kib(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])

data = open(sys.argv[1], "rb").read()
before = kib("VmRSS:")
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # the high-water mark restarts from the current size
try:
    prepare_image(data, field="Person image")
    error = None
except ImageError as exc:
    error = str(exc)
print(json.dumps({"error": error, "peak_added_mb": (kib("VmHWM:") - before) / 1024}))
"""


def prepare_in_child(path: Path) -> dict[str, object]:
    """Prepare a picture in a fresh process: its peak memory is the preparation's own.
    (``ru_maxrss`` would not do: Linux carries the forking parent's peak into the child.)"""
    out = subprocess.run(
        [sys.executable, "-c", _PREPARE_AND_MEASURE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_a_119_mp_png_bomb_is_refused_from_its_header_without_decoding(bomb_png: Path) -> None:
    assert bomb_png.stat().st_size < 1 * MB
    result = prepare_in_child(bomb_png)
    assert result["error"] == (
        "Person image: it claims 11000 x 10850 pixels (119 MP) and is larger than the 40 MP "
        "this app will decode; it may be a decompression bomb. Use a normal photo."
    )
    decoded_mb = BOMB_SIZE[0] * BOMB_SIZE[1] * 4 / MB
    assert float(str(result["peak_added_mb"])) < decoded_mb / 20


def test_a_large_transparent_png_is_prepared_without_a_second_full_size_copy(
    tmp_path: Path,
) -> None:
    size = (4000, 3000)
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((0, 0, 1999, 2999), fill=(200, 30, 40, 255))
    path = tmp_path / "transparent.png"
    image.save(path, format="PNG", compress_level=1)
    result = prepare_in_child(path)
    assert result["error"] is None
    decoded_mb = size[0] * size[1] * 4 / MB
    assert float(str(result["peak_added_mb"])) < 1.5 * decoded_mb


def test_a_41_mp_picture_is_over_the_default_pixel_budget() -> None:
    data = pictures.encode(Image.new("1", (6500, 6400)), "PNG")  # 41.6 MP, 1 bit a pixel
    with pytest.raises(ImageError, match=r"6500 x 6400 pixels \(42 MP\).*than the 40 MP"):
        prepare_image(data)


def test_tryon_max_pixels_is_the_budget_exactly_and_one_pixel_more_is_refused() -> None:
    data = pictures.encode(pictures.person((400, 300)), "PNG")  # 120 000 pixels
    exactly = load_settings({"TRYON_MAX_PIXELS": "120000"}, dotenv_path=None)
    prepared = prepare_image(data, limits=ImageLimits.from_settings(exactly))
    assert prepared.report.final_size == (400, 300)
    one_less = load_settings({"TRYON_MAX_PIXELS": "119999"}, dotenv_path=None)
    with pytest.raises(ImageError, match=r"it claims 400 x 300 pixels"):
        prepare_image(data, limits=ImageLimits.from_settings(one_less))


def test_the_decoded_bytes_budget_counts_four_bytes_a_pixel_for_rgba_and_one_for_grey() -> None:
    limits = ImageLimits(max_input_pixels=10**9, max_decoded_bytes=6_000_000)
    grey = pictures.encode(Image.new("L", (2000, 1500), 128), "PNG")  # 3 MB decoded
    assert prepare_image(grey, limits=limits).report.final_size == (1500, 1125)
    rgba = pictures.encode(Image.new("RGBA", (2000, 1500), (9, 9, 9, 128)), "PNG")  # 12 MB
    with pytest.raises(
        ImageError,
        match=r"2000 x 1500 pixels in RGBA mode, which would take 12 MB of memory to decode; "
        r"this app decodes at most 6 MB per picture",
    ):
        prepare_image(rgba, limits=limits)


def test_a_jpeg_over_the_budget_is_decoded_at_a_reduced_scale_where_a_png_is_refused() -> None:
    limits = ImageLimits(max_input_pixels=1_000_000, max_long_side=0)
    photo = pictures.person((2000, 1500)).convert("L")  # grey: converted, never sent as it is
    prepared = prepare_image(pictures.encode(photo, "JPEG", quality=90), limits=limits)
    assert prepared.report.final_size == (1000, 750)  # decoded at 1/2: 0.75 MP
    assert "(decoded at reduced size)" in str(prepared.report.actions[-1])
    with pytest.raises(ImageError, match=r"it claims 2000 x 1500 pixels"):
        prepare_image(pictures.encode(photo, "PNG"), limits=limits)


# --- at most two large decodes at once ---------------------------------------------------------


def large_png(seed: int = 0) -> bytes:
    """5 MP with transparency: large enough to take a decode slot, quick to make and decode."""
    return pictures.encode(Image.new("RGBA", (2500, 2000), (seed, 90, 160, 200)), "PNG")


class HeldDecodes:
    """Counts decodes in progress and holds each one until released."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.release = threading.Event()

    def wrap(self, load: Callable[..., None]) -> Callable[..., None]:
        def counted(*args: object) -> None:
            with self.lock:
                self.active += 1
                self.peak = max(self.peak, self.active)
            try:
                self.release.wait(timeout=30)
                load(*args)
            finally:
                with self.lock:
                    self.active -= 1

        return counted


def test_four_large_decodes_at_once_run_two_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    held = HeldDecodes()
    monkeypatch.setattr(prepare, "load_pixels", held.wrap(prepare.load_pixels))
    data = [large_png(seed) for seed in range(4)]
    with ThreadPoolExecutor(4) as pool:
        futures: list[Future[prepare.PreparedImage]] = [pool.submit(prepare_image, d) for d in data]
        try:
            # Either the gate holds two back, or (without one) more than two decode at once.
            wait_for(
                lambda: held.active > 2 or (held.active == 2 and memory.DECODE_GATE.waiting == 2)
            )
            assert held.active == 2
        finally:
            held.release.set()
        results = [future.result(timeout=30) for future in futures]
    assert held.peak == 2
    assert all(r.report.final_size == (1500, 1200) for r in results)
    assert memory.DECODE_GATE.active == 0 and memory.DECODE_GATE.waiting == 0


def test_a_failed_large_decode_gives_its_slot_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory.DECODE_GATE, "timeout", 0.2)  # a leaked slot shows as "busy" at once
    truncated = large_png()[:-5000]
    for _ in range(3):
        with pytest.raises(ImageError, match="damaged or cut off"):
            prepare_image(truncated)
    assert prepare_image(large_png()).report.final_size == (1500, 1200)


def test_a_large_picture_that_finds_no_slot_in_time_is_refused_as_busy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory.DECODE_GATE, "timeout", 0.05)
    with memory.DECODE_GATE.slot("one"), memory.DECODE_GATE.slot("two"):
        with pytest.raises(ImageError, match="Garment image: the server is busy preparing"):
            prepare_image(large_png(), field="Garment image")
        small = pictures.encode(pictures.garment((600, 600)).convert("RGBA"), "PNG")
        assert prepare_image(small).report.final_size == (600, 600)  # small ones never wait


# --- request bodies ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app as ``app.py`` launches it (offline: no request here reaches an API)."""
    workdir = tmp_path_factory.mktemp("work")
    settings = Settings(force_offline=True)
    demo = build_demo(settings, workdir=workdir)
    _, url, _ = demo.launch(
        prevent_thread_lock=True,
        quiet=True,
        server_port=free_port(),
        **launch_options(workdir, settings),
    )
    yield url.rstrip("/")
    demo.close()


def rss_peak_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def reset_rss_peak() -> int:
    Path("/proc/self/clear_refs").write_text("5")
    return rss_peak_kib()


def huge_json(megabytes: int) -> Iterator[bytes]:
    """A queue/join body with a data: URL of ``megabytes`` MB, made as it is sent."""
    yield b'{"data": ["data:image/png;base64,'
    chunk = b"A" * MB
    for _ in range(megabytes):
        yield chunk
    yield b'", null], "fn_index": 0, "session_hash": "bodylimit01"}'


def test_an_80_mb_chunked_json_body_is_refused_with_413_before_it_is_buffered(
    app_url: str,
) -> None:
    before = reset_rss_peak()  # the app runs in this process: its peak is ours
    reply = requests.post(
        f"{app_url}/gradio_api/queue/join",
        data=huge_json(80),  # a generator: sent chunked, with no Content-Length
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    added_mb = (rss_peak_kib() - before) / 1024
    assert reply.status_code == 413
    assert "larger than the 32 MB this app accepts" in reply.json()["detail"]
    assert added_mb < 48  # at most the cap is read, not the 80 MB


def test_a_declared_80_mb_body_is_refused_before_a_byte_of_it_is_read(app_url: str) -> None:
    host, port = app_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /gradio_api/call/tryon HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 83886080\r\n\r\n"
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            piece = sock.recv(65536)
            assert piece, "the connection closed without an answer"
            answer += piece
    assert answer.startswith(b"HTTP/1.1 413 ")


@pytest.mark.parametrize(
    "path", ["/gradio_api/run/upload", "/gradio_api/call/upload", "/gradio_api/run/tryon/upload"]
)
def test_a_multipart_body_to_an_endpoint_named_upload_is_capped_too(
    app_url: str, path: str
) -> None:
    # Only Gradio's own upload route streams to disk; these read the whole body first.
    host, port = app_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\n"
            "Content-Length: 83886080\r\n\r\n".encode()
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            piece = sock.recv(65536)
            assert piece, "the connection closed without an answer"
            answer += piece
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_two_10_mb_pictures_as_data_urls_still_fit(app_url: str) -> None:
    data_url = "data:image/jpeg;base64," + "A" * (27 * MB // 2)  # 10 MB in base64
    body: dict[str, Any] = {"data": [data_url, data_url, "kolors-virtual-try-on-v1", ""]}
    reply = requests.post(f"{app_url}/gradio_api/call/submit", json=body, timeout=30)
    assert reply.status_code == 200


def test_a_file_upload_over_the_body_cap_is_left_to_gradios_own_limit(app_url: str) -> None:
    big = pictures.encode(Image.new("RGB", (600, 600)), "PNG") + b"\0" * (40 * MB)
    reply = requests.post(
        f"{app_url}/gradio_api/upload", files={"files": ("big.png", big)}, timeout=60
    )
    assert reply.status_code == 200
    assert len(reply.json()) == 1  # stored: the 100 MB max_file_size applies, not the 32 MB cap


# --- gate, arenas and trimming, pinned ---------------------------------------------------------


def test_a_large_picture_waits_up_to_a_minute_for_a_slot() -> None:
    assert memory.DecodeGate().timeout == memory.DECODE_GATE.timeout == 60.0


def test_a_large_in_memory_picture_needs_a_slot_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory.DECODE_GATE, "timeout", 0.05)
    picture = Image.new("RGBA", (2500, 2000), (9, 90, 160, 200))
    with (
        memory.DECODE_GATE.slot("one"),
        memory.DECODE_GATE.slot("two"),
        pytest.raises(ImageError) as caught,
    ):
        prepare_image(picture, field="Person image")
    assert caught.value.message.startswith("Person image: the server is busy preparing")


GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

_COUNT_ARENAS = """
import ctypes, sys, threading
from tryon_demo.pictures import limit_malloc_arenas

if sys.argv[1] == "limited":
    limit_malloc_arenas()
libc = ctypes.CDLL(None)
held, ready, done = [], threading.Barrier(7), threading.Event()

def allocate():
    held.append(bytearray(64 * 1024))  # from malloc, below its mmap threshold
    ready.wait()
    done.wait()

threads = [threading.Thread(target=allocate) for _ in range(6)]
for thread in threads:
    thread.start()
ready.wait()
text, size = ctypes.c_char_p(), ctypes.c_size_t()
libc.open_memstream.restype = ctypes.c_void_p
stream = ctypes.c_void_p(libc.open_memstream(ctypes.byref(text), ctypes.byref(size)))
libc.malloc_info(0, stream)
libc.fclose(stream)
print(text.value.decode().count("<heap nr="))
done.set()
"""


def malloc_arenas(mode: str) -> int:
    """How many malloc arenas a fresh process holds once six threads have allocated."""
    out = subprocess.run(
        [sys.executable, "-c", _COUNT_ARENAS, mode],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    return int(out.stdout)


@pytest.mark.skipif(not GLIBC, reason="malloc arenas are glibc's")
def test_six_allocating_threads_share_the_two_malloc_arenas_the_app_allows() -> None:
    assert malloc_arenas("unlimited") > 2
    assert malloc_arenas("limited") == 2


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's")
def test_malloc_trim_is_found_on_glibc_and_answers_whether_it_freed_memory() -> None:
    trim = memory._load_malloc_trim()
    assert trim is not None
    assert trim(0) in {0, 1}

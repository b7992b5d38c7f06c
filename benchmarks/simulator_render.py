"""Benchmark: what one simulated try-on create costs, through the simulator's HTTP API.

``python -m benchmarks.simulator_render`` starts a simulator in this process and sends creates
(each renders its result before it answers), distinct pictures each time so nothing is served
from the render cache: the example people with example garments on both models, and the
photo-like test people with drawn garments. It prints the median wall time and CPU time of the
process per create. CPU time is the figure to compare on a shared machine (wall time waits for
a core). ``--repeat N`` sets the repetitions. Not part of the tests: numbers depend on the
machine. To measure another tree, put it first: ``PYTHONPATH=/path/to/tree python
benchmarks/simulator_render.py``.
"""

from __future__ import annotations

import argparse
import base64
import io
import statistics
import struct
import time
import zlib
from pathlib import Path

import requests
from PIL import Image, ImageDraw

from tryon_demo.simulator import SimulatorConfig, SimulatorServer

ROOT = Path(__file__).resolve().parent.parent
PATH = "/kling/v1/images/kolors-virtual-try-on"
MODELS = ("kolors-virtual-try-on-v1", "kolors-virtual-try-on-v1-5")


def tagged(data: bytes, number: int) -> bytes:
    """The same picture made distinct (a PNG text chunk, or bytes after a JPEG's end)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return data + str(number).encode()
    chunk_data = b"n\x00" + str(number).encode()
    chunk = struct.pack(">I", len(chunk_data)) + b"tEXt" + chunk_data
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + chunk_data) & 0xFFFFFFFF)
    return data[:33] + chunk + data[33:]


def drawn_tee() -> bytes:
    image = Image.new("RGB", (500, 500), "white")
    ImageDraw.Draw(image).polygon(
        [(180, 50), (320, 50), (440, 130), (405, 200), (355, 165), (355, 460), (145, 460),
         (145, 165), (95, 200), (60, 130)],
        fill=(200, 30, 40),
    )  # fmt: skip
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def cases() -> list[tuple[str, bytes, bytes]]:
    people = sorted((ROOT / "assets" / "people").glob("*.jpg"))[:2]
    garments = sorted((ROOT / "assets" / "garments").glob("*.png"))
    found = [
        (f"{p.stem} + {g.stem}", p.read_bytes(), g.read_bytes()) for p in people for g in garments
    ]
    photos = sorted((ROOT / "tests" / "data" / "people").glob("*.jpg"))
    found += [(f"photo {p.stem} + tee", p.read_bytes(), drawn_tee()) for p in photos]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    walls: dict[str, list[float]] = {"examples": [], "photos": []}
    cpus: dict[str, list[float]] = {"examples": [], "photos": []}
    number = errors = 0
    with SimulatorServer(SimulatorConfig(task_seconds=0.0)) as server:
        for _ in range(args.repeat):
            for name, person, garment in cases():
                for model in MODELS:
                    number += 1
                    body = {
                        "model_name": model,
                        "human_image": base64.b64encode(tagged(person, number)).decode(),
                        "cloth_image": base64.b64encode(tagged(garment, number)).decode(),
                    }
                    wall, cpu = time.perf_counter(), time.process_time()
                    reply = requests.post(
                        server.url + PATH,
                        headers={"Authorization": "Bearer sk-bench"},
                        json=body,
                        timeout=120,
                    )
                    kind = "photos" if name.startswith("photo") else "examples"
                    walls[kind].append((time.perf_counter() - wall) * 1000)
                    cpus[kind].append((time.process_time() - cpu) * 1000)
                    errors += reply.status_code >= 500
    print(f"creates that answered HTTP 500: {errors}")
    for kind in walls:
        print(
            f"{kind}: {len(walls[kind])} creates, median {statistics.median(walls[kind]):.0f} ms "
            f"wall, {statistics.median(cpus[kind]):.0f} ms CPU per create"
        )


if __name__ == "__main__":
    main()

"""Measure what offline try-ons add to a process's memory (issue: offline mode grew without bound).

Starts the simulator in this process, as the app's offline mode does, sends ``--count`` try-ons
whose person and garment pictures are PNGs of about 6.8 MB each, fetches each result, and prints
the resident memory before and after. ``--distinct`` makes every picture different (worst case:
no result can be shared), otherwise the same two pictures are sent each time, as a demo does.
Run: ``python scripts/simulator_memory.py [--count 40] [--distinct]``.
"""

from __future__ import annotations

import argparse
import base64
import gc
import io
import struct
import time
import zlib

import requests
from PIL import Image

from tryon_demo.simulator import SimulatorConfig, SimulatorServer

PATH = "/kling/v1/images/kolors-virtual-try-on"


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def big_png(size: tuple[int, int], sigma: int) -> bytes:
    """A photo-sized PNG with sensor-like noise, so it is as large as a phone's."""
    noise = [Image.effect_noise(size, sigma + band * 4) for band in range(3)]
    shade = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", [Image.blend(n, shade, 0.6) for n in noise])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def tagged(png: bytes, number: int) -> bytes:
    """The same picture with a text chunk that makes its bytes (and so its hash) unique."""
    data = b"n\x00" + str(number).encode()
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + data) & 0xFFFFFFFF)
    return png[:33] + chunk + png[33:]  # after the signature and the IHDR chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--distinct", action="store_true")
    args = parser.parse_args()
    person, garment = big_png((1500, 2060), 20), big_png((1760, 1760), 22)
    print(f"pictures: person {len(person) / 1e6:.1f} MB, garment {len(garment) / 1e6:.1f} MB")
    with SimulatorServer(SimulatorConfig(task_seconds=0.05)) as server:
        session = requests.Session()
        session.headers["Authorization"] = "Bearer sk-memory"
        gc.collect()
        before = rss_mb()
        for number in range(args.count):
            human = tagged(person, number) if args.distinct else person
            cloth = tagged(garment, number) if args.distinct else garment
            body = {
                "human_image": base64.b64encode(human).decode(),
                "cloth_image": base64.b64encode(cloth).decode(),
            }
            task_id = session.post(server.url + PATH, json=body, timeout=60).json()["data"][
                "task_id"
            ]
            time.sleep(0.06)
            result = session.get(f"{server.url}/simulator/results/{task_id}.png", timeout=60)
            Image.open(io.BytesIO(result.content)).verify()
        gc.collect()
        after = rss_mb()
        renders = getattr(server.simulator, "renders", None)  # older simulators had none
        kept = renders.bytes_kept / 1e6 if renders is not None else float("nan")
    print(
        f"{args.count} try-ons{' (all pictures distinct)' if args.distinct else ''}: "
        f"RSS {before:.0f} MB -> {after:.0f} MB (+{after - before:.0f} MB); "
        f"results kept {kept:.1f} MB"
    )


if __name__ == "__main__":
    main()

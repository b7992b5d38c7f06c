"""A blank garment picture costs the simulator what a normal one does (found by an attack run:
a 3 KB all-white JPEG made it build a 4.4 GB layer)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests import pictures

ROOT = Path(__file__).resolve().parents[1]

#: Renders a try-on with the process's address space capped, so an oversized layer fails
#: with MemoryError instead of being measured with a clock.
_CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))
from tryon_demo.simulator.render import compose_tryon
person, garment = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
for model in ("kolors-virtual-try-on-v1", "kolors-virtual-try-on-v1-5"):
    assert compose_tryon(person, garment, model)[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
"""


def blank(mode: str) -> bytes:
    buffer = io.BytesIO()
    if mode == "white":
        Image.new("RGB", (400, 400), "white").save(buffer, format="JPEG")
    else:
        Image.new("RGBA", (400, 400), (0, 0, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("mode", ["white", "transparent"])
def test_a_blank_garment_renders_within_a_normal_memory_budget(mode: str, tmp_path: Path) -> None:
    person, garment = tmp_path / "person.jpg", tmp_path / "garment"
    person.write_bytes(pictures.person_jpeg())
    garment.write_bytes(blank(mode))
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(person), str(garment)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]

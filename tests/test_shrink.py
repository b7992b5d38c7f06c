"""What the page's shrinking is told: the settings' limits, and a picture to test EXIF with.
(What it does with them is tested in Chromium: tests/browser/test_phone.py.)"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

from PIL import Image, ImageOps

from tryon_demo.pictures import ImageLimits
from tryon_demo.settings import Settings
from tryon_demo.ui import build_demo
from tryon_demo.ui.shrink import shrink_config


def test_the_page_shrinks_by_the_settings_limits(tmp_path: Path) -> None:
    settings = Settings(max_long_side=1024, max_input_pixels=20_000_000, max_input_bytes=8 << 20)
    demo = build_demo(settings, workdir=tmp_path)
    hooks = [
        dep["js"] for dep in demo.config["dependencies"] if "__tryonShrink" in (dep["js"] or "")
    ]
    assert len(hooks) == 1
    config = shrink_config(ImageLimits.from_settings(settings))
    assert json.dumps(config) in hooks[0]
    assert config["maxLongSide"] == 1024
    assert config["maxPixels"] == 20_000_000
    assert config["maxBytes"] == 8 << 20
    assert config["minSide"] == 300
    assert config["quality"] == 0.93  # the server's 90, plus what browsers' encoders lose


def test_a_picture_too_large_to_decode_on_the_server_is_left_to_the_server() -> None:
    # 100 MP allowed, but one decoded picture may take 160 MB: 40 MP at 4 bytes a pixel.
    config = shrink_config(ImageLimits(max_input_pixels=100_000_000))
    assert config["maxPixels"] == 40_000_000


def test_the_orientation_probe_is_stored_on_its_side_dark_half_on_top_upright() -> None:
    config = shrink_config(ImageLimits())
    probe = Image.open(io.BytesIO(base64.b64decode(str(config["probe"]))))
    assert probe.format == "JPEG"
    assert probe.getexif()[0x0112] == 6
    upright = ImageOps.exif_transpose(probe).convert("L")
    assert list(upright.size) == config["probeUpright"] == [8, 16]
    assert config["probeDarkTop"] is True
    assert upright.getpixel((4, 3)) < 64 < 192 < upright.getpixel((4, 12))  # type: ignore[operator]

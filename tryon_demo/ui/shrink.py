"""Photos shrunk in the visitor's browser before they are uploaded (``shrink.js``).

A phone's upload is the slowest link of a try-on: two 12 MP camera photos are about 5 MB, while
Run sends the API a 1500 px JPEG of a few hundred KB. So the page makes that JPEG itself, by
the same rule as :func:`tryon_demo.pictures.prepare_image` (the long-side and pixel
limits of the settings, EXIF orientation applied, transparency onto white, a JPEG quality that
keeps at least what the server's keeps), and uploads it instead. The server then finds a
picture already at the size it would make and sends it as it is, so the API gets the same
picture size as before; a page that does not shrink (an old browser, a failure, an API client)
uploads the original and the server prepares it exactly as it always has.

Why this mechanism. Gradio 6.31 offers no option to change a file before its upload, and the
``js`` of ``upload`` events runs only once the file is on the server. A custom component would
need its own build of Gradio's image front end (Node and the ``@gradio/*`` packages) and would
have to follow every Gradio release. What Gradio does offer is JavaScript on the page (a ``js``
hook, here on the page's load event), and its image input receives files through ordinary DOM
events: a ``change`` of its file input, a ``drop`` on its upload area, and a click on its
"Paste from clipboard" button, which reads the clipboard. ``shrink.js`` listens for those three
in the capture phase on the window, before Gradio's own listeners, on the components marked
with :data:`SHRINK_CLASS` only; it holds the event back, shrinks the photo, and hands Gradio the
smaller file through the same door (the input's files and a ``change``, or a ``drop``). Gradio's
code is not touched, and its upload, progress and preview work as for any file. It also takes
Ctrl+V on a focused image. Should a Gradio release change those events, the browser tests fail;
the visitors still get today's behaviour, as the originals are then uploaded.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import gradio as gr
from PIL import Image, ImageOps

from ..pictures import ImageLimits

#: The class that marks a component whose uploads the page shrinks first.
SHRINK_CLASS = "tryon-shrink"
#: Gradio's own "Paste from clipboard" source button (its label is not translated).
PASTE_BUTTON = '[data-testid="source-select"] button[aria-label="Paste from clipboard"]'
#: After this long the original goes as it is, so a stuck decode never holds a visitor up.
TIMEOUT_MS = 20_000
#: Browsers' JPEG encoders keep a little less than Pillow's at the same quality setting
#: (Chromium at 90: SSIM 0.979 against the picture before compression, Pillow 0.982, on the
#: camera-like photos of the tests), so the page encodes this much higher: at 93 it keeps at
#: least what the server keeps, for about 15 % more bytes than the server's JPEG.
BROWSER_QUALITY_EXTRA = 3
#: Bytes per pixel of the largest decoded mode, for the server's memory budget (see plan.py).
_MOST_BYTES_PER_PIXEL = 4
_SCRIPT = Path(__file__).with_name("shrink.js")


def shrink_config(limits: ImageLimits) -> dict[str, object]:
    """What ``shrink.js`` is told: the rule of ``limits`` (the settings') and its own knobs."""
    probe, upright, dark_top = _orientation_probe()
    return {
        "className": SHRINK_CLASS,
        "pasteButton": PASTE_BUTTON,
        "maxLongSide": limits.max_long_side,
        "minSide": limits.min_side,
        # A picture the server would refuse goes as it is, so the refusal stays the server's:
        # over the pixel limit, or over the memory one picture may take decoded.
        "maxPixels": min(
            limits.max_input_pixels, limits.max_decoded_bytes // _MOST_BYTES_PER_PIXEL
        ),
        "maxBytes": limits.max_input_bytes,
        "quality": min(100, limits.jpeg_quality + BROWSER_QUALITY_EXTRA) / 100,
        "timeoutMs": TIMEOUT_MS,
        "probe": probe,
        "probeUpright": list(upright),
        "probeDarkTop": dark_top,
    }


def shrink_js(limits: ImageLimits) -> str:
    """The page's load hook that installs the shrinking, by the rule of ``limits``."""
    config = json.dumps(shrink_config(limits))
    return _SCRIPT.read_text(encoding="utf-8").replace("__CONFIG__", config)


def _orientation_probe() -> tuple[str, tuple[int, int], bool]:
    """A tiny JPEG stored on its side (EXIF orientation 6), the size it has upright, and
    whether its dark half is then on top: what a browser that applies EXIF draws."""
    stored = Image.new("L", (16, 8), 255)
    stored.paste(0, (0, 0, 8, 8))  # the left half dark
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, format="JPEG", quality=95, exif=exif.tobytes())
    with Image.open(io.BytesIO(buffer.getvalue())) as opened:
        upright = ImageOps.exif_transpose(opened)
    top = upright.getpixel((upright.width // 2, upright.height // 4))
    dark_top = isinstance(top, int | float) and top < 128
    return base64.b64encode(buffer.getvalue()).decode("ascii"), upright.size, dark_top


def wire_shrinking(demo: gr.Blocks, limits: ImageLimits) -> None:
    """Install the shrinking when the page loads, for the components marked with
    :data:`SHRINK_CLASS`; nothing runs on the server."""
    demo.load(None, None, None, js=shrink_js(limits), api_visibility="private", queue=False)

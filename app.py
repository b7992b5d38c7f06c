"""Kolors Try-On Studio: ``python app.py`` serves the page (http://127.0.0.1:7860 by default).

GRADIO_SERVER_NAME and GRADIO_SERVER_PORT are honoured, as Hugging Face Spaces sets them.
Settings that cannot work (a malformed value, KLING_API_BASE without a key) stop it at once
with a sentence saying what to set, and exit code 2.
"""

import sys

from tryon_demo.errors import ConfigurationError
from tryon_demo.ui import build_demo, launch_options

try:
    demo = build_demo()
except ConfigurationError as exc:
    print(f"Kolors Try-On Studio cannot start: {exc}", file=sys.stderr)
    sys.exit(2)

if __name__ == "__main__":
    demo.launch(**launch_options())

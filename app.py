"""Kolors Try-On Studio: ``python app.py`` serves the page (http://127.0.0.1:7860 by default).

GRADIO_SERVER_NAME and GRADIO_SERVER_PORT are honoured, as Hugging Face Spaces sets them.
"""

from tryon_demo.ui import build_demo, launch_options

demo = build_demo()

if __name__ == "__main__":
    demo.launch(**launch_options())

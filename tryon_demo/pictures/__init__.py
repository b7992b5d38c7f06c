"""Pictures: decode, check and prepare them as the API accepts them, and compose outfits. No
HTTP server, no Gradio. May import ``text``, ``errors`` and ``settings``."""

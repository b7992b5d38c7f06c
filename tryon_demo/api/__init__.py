"""The Kling try-on API as the outside world sees it: the client, its replies as dataclasses,
authentication and bounded HTTP transfers. May import ``text``, ``errors`` and ``settings``."""

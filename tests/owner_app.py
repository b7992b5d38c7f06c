"""An app launched on a free loopback port for the owner's-view tests, closed like a restart:
its usage recorder writes what it holds and is forgotten, so the next app opens the file anew."""

from __future__ import annotations

from pathlib import Path

from tests.test_app import free_port
from tryon_demo.hosting import usage
from tryon_demo.settings import Settings
from tryon_demo.ui import build_demo, launch_options


class OwnerApp:
    """The app for ``settings``, served until :meth:`close`."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        self.settings = settings
        self.demo = build_demo(settings, workdir=workdir)
        _, self.url, _ = self.demo.launch(
            prevent_thread_lock=True,
            quiet=True,
            server_port=free_port(),
            **launch_options(workdir, settings),
        )

    def close(self) -> None:
        self.demo.close()
        usage.forget(self.settings)

    def __enter__(self) -> OwnerApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

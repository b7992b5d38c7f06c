"""The fetch step: a finished task's result downloaded and kept in the work folder.

The app shows results from its own server: the page never loads the API's CDN (or, in offline
mode, the simulator's loopback address, which a visitor's browser cannot reach).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import requests
from PIL import Image, ImageOps

from ..api.models import Task
from ..errors import UnexpectedResponseError, UnsafeURLError
from ..hosting.netpolicy import download
from ..hosting.workfiles import WorkFolder
from ..settings import Settings
from ..text.messages import msg

RESULT_MAX_BYTES = 40 * 1024 * 1024


class Results:
    """Downloads results into the work folder; ``hosts`` names the API hosts they may come
    from whatever their address (the configured API, the in-process simulator)."""

    def __init__(
        self, settings: Settings, files: WorkFolder, hosts: Callable[[], tuple[str, ...]]
    ) -> None:
        self.settings = settings
        self.files = files
        self.hosts = hosts

    def fetch(self, task: Task) -> Path:
        """Download the task's result image into the work folder and return its path."""
        url = task.result_url
        if not url:
            raise UnexpectedResponseError(
                msg("result.no_image", task_id=task.task_id),
                request_id=task.request_id,
            )
        try:
            data = download(
                url,
                allowed_hosts=self.hosts(),
                budget=self.settings.connect_timeout + self.settings.read_timeout,
                max_bytes=RESULT_MAX_BYTES,
            )
        except UnsafeURLError:
            raise UnexpectedResponseError(msg("result.not_public", task_id=task.task_id)) from None
        except requests.RequestException as exc:
            raise UnexpectedResponseError(
                msg(
                    "result.download_failed",
                    task_id=task.task_id,
                    why=type(exc).__name__,
                    url=url,
                )
            ) from None
        try:
            with Image.open(io.BytesIO(data)) as image:
                suffix = ".png" if image.format == "PNG" else ".jpg"
                image.verify()
        except Exception:  # noqa: BLE001 - anything Pillow rejects is "not an image" here
            raise UnexpectedResponseError(
                msg("result.not_image", task_id=task.task_id, url=url)
            ) from None
        path = self.files.path(f"result{suffix}")
        path.write_bytes(data)
        return path

    def before_after(self, person: Path, result: Path) -> tuple[Path, Path]:
        """A before/after pair of equal size: the person scaled to the result's frame."""
        with Image.open(result) as after:
            size = after.size
        with Image.open(person) as before:
            framed = ImageOps.pad(
                ImageOps.exif_transpose(before).convert("RGB"), size, color=(255, 255, 255)
            )
        path = self.files.path("before.jpg")
        framed.save(path, format="JPEG", quality=90)
        return path, result

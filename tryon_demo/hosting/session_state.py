"""Gradio builds every component's config for each new session, API calls included; this app
only needs them when a session is saved as a deep link, so they are built then.

Gradio 6.31's ``SessionState.__init__`` computes ``config_for_block`` for every block of the page
(signature inspection and all) as soon as a session starts: about 0.2 ms per component, 20 ms
for this page, on every ``/submit`` and ``/tryon`` call. Those configs are read only by
``SessionState.components`` (the deep-link route); every other reader already computes a
missing entry itself. :func:`install` makes the first step lazy and ``components`` fill in what
is missing, so the result is the same whenever it is read, except that password fields come out
empty: ``/gradio_api/deep_link`` writes ``components`` to a file, and the visitor's own API key
(a password field) must never reach the disk. It patches only the Gradio version it was checked
against, and otherwise leaves Gradio as it is.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from copy import copy
from typing import Any

import gradio
from gradio import state_holder

log = logging.getLogger(__name__)

#: Gradio releases whose SessionState this was checked against (tests/test_session_state.py).
CHECKED_VERSIONS = frozenset({"6.31.0"})


def _lazy_init(self: Any, blocks: Any) -> None:
    self.blocks_config = copy(blocks.default_config)
    self._page_block_ids = frozenset(blocks.blocks)
    self.config_values = {}
    self.state_data = {}
    self._state_ttl = {}
    self.is_closed = False
    # As Gradio: a closed session's state is kept an hour (a second in Gradio's own e2e tests).
    self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600


def _components(self: Any) -> Iterator[dict[str, Any]]:
    for key, block in self.blocks_config.blocks.items():
        if key not in self.config_values and key in self._page_block_ids:
            self.config_values[key] = self.blocks_config.config_for_block(key, [], block)
    for config in self.config_values.values():
        if not config:
            continue
        props = config.get("props", {})
        if props.get("type") == "password" and props.get("value"):
            # A deep link is written to disk; a visitor's key must never be.
            config = {**config, "props": {**props, "value": ""}}
        yield config


_ORIGINAL_INIT = state_holder.SessionState.__init__
_ORIGINAL_COMPONENTS = state_holder.SessionState.components
_installed = False


def install() -> bool:
    """Make session configs lazy if this Gradio is a checked version; True when installed."""
    global _installed
    if _installed:
        return True
    if gradio.__version__ not in CHECKED_VERSIONS:
        log.info("gradio %s: session configs left as Gradio builds them", gradio.__version__)
        return False
    cls = state_holder.SessionState
    cls.__init__ = _lazy_init  # type: ignore[method-assign]
    cls.components = property(_components)  # type: ignore[assignment,method-assign]
    _installed = True
    return True

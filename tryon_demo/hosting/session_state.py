"""What Gradio keeps per session: nothing of what a visitor sent, and no component configs.

Gradio 6.31's ``SessionState`` keeps, beside the session's own component instances and
``gr.State`` values, a config per component (``config_values``) holding the last value each
event sent or answered for it. Only the deep-link route reads those (``SessionState.components``),
and this app refuses deep links (:mod:`.closed_doors`). Kept, they let a visitor park megabytes
per session (a history "row", a typed ``data:`` link) in each of up to 10,000 sessions, and
building them all when a session started cost 20 ms on every ``/submit`` and ``/tryon`` call.

:func:`install` makes that store one that keeps nothing and the value updates no-ops;
``components`` still answers, with the page's own configs built when read and password fields
empty (a visitor's own API key must never reach a file). It patches only the Gradio version it
was checked against, and otherwise leaves Gradio as it is.
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


class KeepNothing(dict[int, Any]):
    """A session's per-component configs: whatever Gradio stores here is dropped."""

    def __setitem__(self, key: int, value: Any) -> None:
        return None


def _init(self: Any, blocks: Any) -> None:
    self.blocks_config = copy(blocks.default_config)
    self._page_block_ids = frozenset(blocks.blocks)
    self.config_values = KeepNothing()
    self.state_data = {}
    self._state_ttl = {}
    self.is_closed = False
    # As Gradio: a closed session's state is kept an hour (a second in Gradio's own e2e tests).
    self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600


def _keep_no_value(self: Any, key: int, value: Any) -> None:
    """Gradio's ``_update_value_in_config``: the value an event sent or answered is not kept."""
    return None


def _components(self: Any) -> Iterator[dict[str, Any]]:
    for key, block in self.blocks_config.blocks.items():
        if key not in self._page_block_ids:
            continue
        config = self.blocks_config.config_for_block(key, [], block)
        if not config:
            continue
        props = config.get("props", {})
        if props.get("type") == "password" and props.get("value"):
            # A deep link is written to disk; a visitor's key must never be.
            config = {**config, "props": {**props, "value": ""}}
        yield config


_ORIGINAL_INIT = state_holder.SessionState.__init__
_ORIGINAL_COMPONENTS = state_holder.SessionState.components
_ORIGINAL_UPDATE_VALUE = state_holder.SessionState._update_value_in_config
_installed = False


def install() -> bool:
    """Keep nothing of what visitors send, if this Gradio is a checked version; True when
    installed."""
    global _installed
    if _installed:
        return True
    if gradio.__version__ not in CHECKED_VERSIONS:
        log.warning(
            "gradio %s: sessions keep what visitors send, as Gradio does (checked: %s)",
            gradio.__version__,
            ", ".join(sorted(CHECKED_VERSIONS)),
        )
        return False
    cls = state_holder.SessionState
    cls.__init__ = _init  # type: ignore[method-assign]
    cls._update_value_in_config = _keep_no_value  # type: ignore[method-assign]
    cls.components = property(_components)  # type: ignore[assignment,method-assign]
    _installed = True
    return True

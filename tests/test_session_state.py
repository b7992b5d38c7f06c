"""What a session keeps: no component configs up front, and no copy of what a visitor sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.state_holder import SessionState

from tests.conftest import FAKE_KEY
from tryon_demo.hosting import session_state
from tryon_demo.settings import Settings
from tryon_demo.ui import build_demo


def original_session(demo: gr.Blocks) -> Any:
    """A session built the way Gradio itself builds it."""
    state = SessionState.__new__(SessionState)
    session_state._ORIGINAL_INIT(state, demo)
    return state


def original_components(state: Any) -> list[dict[str, Any]]:
    return list(session_state._ORIGINAL_COMPONENTS.fget(state))  # type: ignore[attr-defined]


def test_it_is_installed_on_the_checked_gradio_version(tmp_path: Path) -> None:
    build_demo(Settings(), workdir=tmp_path)
    assert gr.__version__ in session_state.CHECKED_VERSIONS
    assert session_state.install() is True


def test_a_new_session_builds_no_component_configs(tmp_path: Path) -> None:
    demo = build_demo(Settings(), workdir=tmp_path)
    assert SessionState(demo).config_values == {}
    assert len(original_session(demo).config_values) > 50  # what Gradio would build up front


def test_the_components_read_later_match_gradios_own_for_a_fresh_session(tmp_path: Path) -> None:
    demo = build_demo(Settings(), workdir=tmp_path)
    assert list(SessionState(demo).components) == original_components(original_session(demo))


def test_a_session_keeps_no_copy_of_a_value_an_event_sent(tmp_path: Path) -> None:
    demo = build_demo(Settings(), workdir=tmp_path)
    state = SessionState(demo)
    some_id = next(iter(demo.blocks))
    state._update_value_in_config(some_id, "STUFFED" * 1000)
    state.config_values[some_id] = {"props": {"value": "STUFFED"}}
    assert state.config_values == {}
    assert "STUFFED" not in json.dumps(list(state.components), default=str)


def test_a_deep_link_never_carries_the_visitors_key(tmp_path: Path) -> None:
    demo = build_demo(Settings(), workdir=tmp_path)
    key_field = next(i for i, b in demo.blocks.items() if getattr(b, "elem_id", None) == "api-key")
    state = SessionState(demo)
    state._update_value_in_config(key_field, FAKE_KEY)
    assert FAKE_KEY not in json.dumps(list(state.components), default=str)
    assert key_field not in state.config_values  # not kept at all

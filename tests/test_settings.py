"""Settings: environment over .env, offline without a key, official keys switch auth and base."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FAKE_KEY
from tryon_demo.errors import ConfigurationError
from tryon_demo.settings import GATEWAY_BASE, OFFICIAL_BASE, load_settings


def test_no_key_means_offline_mode() -> None:
    settings = load_settings(env={}, dotenv_path=None)
    assert settings.mode == "offline"
    assert settings.base_url is None


def test_a_gateway_key_uses_the_seed_gateway_with_its_prefix() -> None:
    settings = load_settings(env={"KLING_API_KEY": FAKE_KEY}, dotenv_path=None)
    assert settings.mode == "gateway"
    assert settings.base_url == GATEWAY_BASE == "https://api.gpt.ge/kling"
    assert settings.base_host == "api.gpt.ge"


def test_official_keys_switch_to_the_official_base() -> None:
    settings = load_settings(
        env={"KLING_ACCESS_KEY": "ak", "KLING_SECRET_KEY": "sk"}, dotenv_path=None
    )
    assert settings.mode == "official"
    assert settings.base_url == OFFICIAL_BASE


def test_half_of_the_official_keys_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="both KLING_ACCESS_KEY and KLING_SECRET_KEY"):
        load_settings(env={"KLING_ACCESS_KEY": "ak"}, dotenv_path=None)


def test_the_environment_wins_over_the_dotenv_file(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("KLING_API_KEY=from-file\nTRYON_WAIT_TIMEOUT=42\n")
    settings = load_settings(env={"KLING_API_KEY": "from-env"}, dotenv_path=dotenv)
    assert settings.api_key == "from-env"
    assert settings.wait_timeout == 42


def test_a_non_numeric_timeout_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="TRYON_READ_TIMEOUT must be a number"):
        load_settings(env={"TRYON_READ_TIMEOUT": "soon"}, dotenv_path=None)


def test_an_api_base_without_a_scheme_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="KLING_API_BASE must be an https:// address"):
        load_settings(env={"KLING_API_BASE": "api.gpt.ge/kling"}, dotenv_path=None)


def test_force_offline_wins_over_a_key() -> None:
    settings = load_settings(
        env={"KLING_API_KEY": FAKE_KEY, "TRYON_OFFLINE": "1"}, dotenv_path=None
    )
    assert settings.mode == "offline"


def test_the_settings_repr_holds_no_secret() -> None:
    settings = load_settings(
        env={
            "KLING_API_KEY": FAKE_KEY,
            "KLING_ACCESS_KEY": "ak-secretish",
            "KLING_SECRET_KEY": FAKE_KEY + "2",
        },
        dotenv_path=None,
    )
    assert FAKE_KEY not in repr(settings)
    assert "ak-secretish" not in repr(settings)

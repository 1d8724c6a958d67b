"""Settings: YAML file, overridden by the environment, overridden by the command line."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.settings import SettingsFileError, load_settings


def test_defaults_match_the_contract() -> None:
    settings = load_settings()
    assert settings.llama_stack_base_url is None
    assert settings.llama_stack_api == "responses"
    assert (settings.heartbeat_interval, settings.stream_timeout, settings.drain_timeout) == (
        5,
        600,
        20,
    )
    assert (settings.max_concurrent_streams, settings.max_body_bytes) == (1000, 1048576)
    assert (settings.host, settings.port, settings.auth_mode) == ("0.0.0.0", 8080, "none")
    assert settings.resume_window == 0
    assert settings.cors_allow_origins == []


def test_environment_overrides_yaml_and_arguments_override_both(tmp_path, monkeypatch) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text("heartbeat_interval: 3\nstream_timeout: 7.5\nport: 9000\n")
    monkeypatch.setenv("HEARTBEAT_INTERVAL", "0.5")
    monkeypatch.setenv("PORT", "9100")
    settings = load_settings(config, port=9200)
    assert settings.heartbeat_interval == 0.5
    assert settings.stream_timeout == 7.5
    assert settings.port == 9200


def test_service_config_names_the_yaml_file(tmp_path, monkeypatch) -> None:
    config = tmp_path / "s.yaml"
    config.write_text("llama_stack_api: agents\ncors_allow_origins: [https://a.example]\n")
    monkeypatch.setenv("SERVICE_CONFIG", str(config))
    settings = load_settings()
    assert settings.llama_stack_api == "agents"
    assert settings.cors_allow_origins == ["https://a.example"]


def test_comma_separated_lists_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://a.example, https://b.example")
    assert load_settings().cors_allow_origins == ["https://a.example", "https://b.example"]


def test_missing_settings_file_is_an_error(tmp_path) -> None:
    with pytest.raises(SettingsFileError, match="settings file not found"):
        load_settings(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("yaml", "field"),
    [("heartbeat_interval: 0\n", "heartbeat_interval"), ("hearbeat_interval: 1\n", "hearbeat")],
)
def test_bad_values_and_unknown_keys_are_refused(tmp_path, yaml, field) -> None:
    config = tmp_path / "s.yaml"
    config.write_text(yaml)
    with pytest.raises(ValidationError, match=field):
        load_settings(config)

"""Settings: env names, durations, YAML precedence, one clear line per bad setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.config import load_settings
from connector.config_types import parse_duration
from connector.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("CONNECTOR_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(900, 900), ("900", 900), ("15m", 900), ("24h", 86400), ("30d", 2592000), ("1.5h", 5400)],
)
def test_durations_accept_seconds_and_units(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_defaults_match_the_public_contract() -> None:
    s = load_settings()
    assert s.openai.base_url == "https://api.openai.com/v1"
    assert s.sink.type == "file" and s.output.format == "ocsf" and s.checkpoint.backend == "sqlite"
    assert s.openai.tenant_stream is True and s.openai.verify_tls is True


def test_contract_env_names_set_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {
        "CONNECTOR_OPENAI__BASE_URL": "http://127.0.0.1:9/v1/",
        "CONNECTOR_OPENAI__ADMIN_KEY": "sk-admin-abcdefgh12345678",
        "CONNECTOR_OPENAI__LOOKBACK": "30d",
        "CONNECTOR_POLL__INTERVAL": "15m",
        "CONNECTOR_SINK__TYPE": "stdout",
        "CONNECTOR_SINK__PATH": str(tmp_path / "out.ndjson"),
        "CONNECTOR_CHECKPOINT__PATH": str(tmp_path / "cp.db"),
        "CONNECTOR_CHECKPOINT__BACKEND": "sqlite",
        "CONNECTOR_OUTPUT__FORMAT": "raw",
        "CONNECTOR_METRICS__PORT": "9999",
        "CONNECTOR_OPENAI__EVENT_TYPES": "login.failed,api_key.created",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    s = load_settings()
    assert s.openai.base_url == "http://127.0.0.1:9/v1"
    assert s.openai.admin_key is not None and s.openai.admin_key.get_secret_value().endswith("5678")
    assert s.openai.lookback == 30 * 86400 and s.poll.interval == 900
    assert s.sink.type == "stdout" and s.sink.path == tmp_path / "out.ndjson"
    assert s.checkpoint.path == tmp_path / "cp.db" and s.output.format == "raw"
    assert s.metrics.port == 9999
    assert s.openai.event_types == ["login.failed", "api_key.created"]


def test_env_overrides_the_yaml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("poll:\n  interval: 2h\n  overlap: 10m\nsink:\n  type: stdout\n")
    monkeypatch.setenv("CONNECTOR_POLL__INTERVAL", "30")
    s = load_settings(config)
    assert s.poll.interval == 30 and s.poll.overlap == 600 and s.sink.type == "stdout"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CONNECTOR_POLL__INTERVAL", "soon", "CONNECTOR_POLL__INTERVAL: invalid duration"),
        ("CONNECTOR_SINK__TYPE", "carrier-pigeon", "CONNECTOR_SINK__TYPE"),
        ("CONNECTOR_OUTPUT__FORMAT", "xml", "CONNECTOR_OUTPUT__FORMAT"),
        ("CONNECTOR_METRICS__PORT", "70000", "CONNECTOR_METRICS__PORT"),
        ("CONNECTOR_OPENAI__BASE_URL", "ftp://x", "CONNECTOR_OPENAI__BASE_URL"),
        ("CONNECTOR_POLL__BOGUS", "1", "CONNECTOR_POLL__BOGUS: unknown setting"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_bad_yaml_value_names_the_setting(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("poll:\n  overlap: -5\n")
    with pytest.raises(ConfigError, match="CONNECTOR_POLL__OVERLAP"):
        load_settings(config)


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "nope.yaml")


def test_the_admin_key_never_shows_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_OPENAI__ADMIN_KEY", "sk-admin-verysecretvalue123")
    s = load_settings()
    assert "verysecretvalue" not in repr(s) and "verysecretvalue" not in str(s.model_dump())

"""Settings come from knoten.toml, then KNOTEN_* variables, then explicit overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import SettingsError, load_settings


def test_defaults_put_the_database_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(environ={}, data_dir=tmp_path)
    assert settings.port == 8000
    assert settings.host == "127.0.0.1"
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'knoten.sqlite').resolve()}"


def test_environment_overrides_file_and_splits_lists(tmp_path: Path) -> None:
    config = tmp_path / "knoten.toml"
    config.write_text('[knoten]\nport = 9000\ntimezone = "Europe/Helsinki"\ngtfs = ["a.zip"]\n')
    settings = load_settings(
        config, environ={"KNOTEN_PORT": "9100", "KNOTEN_GBFS": "x/gbfs.json, y/gbfs.json"}
    )
    assert settings.port == 9100
    assert settings.timezone == "Europe/Helsinki"
    assert settings.gtfs == ("a.zip",)
    assert settings.gbfs == ("x/gbfs.json", "y/gbfs.json")


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings(environ={}, data_dir=tmp_path)
    with pytest.raises(ValueError):
        settings.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"KNOTEN_PORT": "eighty"}, "invalid setting port"),
        ({"KNOTEN_TIMEZONE": "Mars/Olympus"}, "unknown time zone"),
        ({"KNOTEN_COLOUR": "red"}, None),
    ],
)
def test_bad_values_give_one_clear_error(environ: dict[str, str], message: str | None) -> None:
    if message is None:  # unknown KNOTEN_* variables are not settings and are ignored
        assert load_settings(environ=environ).port == 8000
        return
    with pytest.raises(SettingsError, match=message):
        load_settings(environ=environ)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "knoten.toml"
    config.write_text("port = = 3\n")
    with pytest.raises(SettingsError, match="invalid TOML"):
        load_settings(config, environ={})

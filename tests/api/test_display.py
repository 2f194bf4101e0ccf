"""The station display's page: routes, languages, settings, and the contrast of its colours."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from api import create_app, load_settings
from api.display.strings import STRINGS

STATIC = Path(__file__).resolve().parents[2] / "api" / "display" / "static"


@pytest.fixture()
def client(tmp_path: Path) -> FlaskClient:
    """An app whose data folder holds a (minimal) demo city manifest naming the hub ``hbf``."""
    (tmp_path / "demo").mkdir()
    manifest = {"hub": {"gtfs_stop_id": "hbf", "ocpi_location_id": "LOC-HBF"}}
    (tmp_path / "demo" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return create_app(load_settings(environ={}, data_dir=tmp_path)).test_client()


def test_board_page_is_german_by_default_with_poll_settings(client: FlaskClient) -> None:
    response = client.get("/display/hbf")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="de">' in html
    assert 'data-api="/api/v1/hubs/hbf"' in html
    assert 'data-poll-s="20.0"' in html and 'data-stale-after-s="60.0"' in html
    assert ">Abfahrten <" in html and "Daten derzeit nicht verfügbar" in html
    assert "http://" not in html and "https://" not in html  # nothing from the internet


def test_board_page_in_english_and_with_test_timings(client: FlaskClient) -> None:
    html = client.get("/display/hbf?lang=en&poll_s=1&stale_after_s=3").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert 'data-poll-s="1.0"' in html and 'data-stale-after-s="3.0"' in html
    assert "Data currently unavailable" in html and "Abfahrten" not in html


def test_unknown_hub_is_a_404_html_page(client: FlaskClient) -> None:
    response = client.get("/display/nowhere?lang=en")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Unknown station" in html and "“nowhere”" in html and "Traceback" not in html


def test_unknown_hub_name_is_escaped(client: FlaskClient) -> None:
    html = client.get("/display/%3Cscript%3Ex").get_data(as_text=True)
    assert "<script>x" not in html and "&lt;script&gt;x" in html


@pytest.mark.parametrize("query", ["poll_s=abc", "poll_s=0", "stale_after_s=nan", "stale_after_s=99999"])
def test_bad_timing_is_a_400_html_page(client: FlaskClient, query: str) -> None:
    response = client.get(f"/display/hbf?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert query.split("=")[0] in response.get_data(as_text=True)


def test_static_script_and_styles_are_served(client: FlaskClient) -> None:
    assert client.get("/display/static/display.js").status_code == 200
    assert client.get("/display/static/display.css").status_code == 200


def test_every_language_has_every_string() -> None:
    keys = {lang: set(table) for lang, table in STRINGS.items()}
    assert keys["de"] == keys["en"]
    used = set(re.findall(r"\bT\.(\w+)|fmt\(\"(\w+)\"", (STATIC / "display.js").read_text(encoding="utf-8")))
    for dotted, formatted in used:
        assert (dotted or formatted) in keys["de"], dotted or formatted


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_reference_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#009640", "#ffffff") < 4.5 < contrast("#009640", "#000000")


def test_every_text_colour_has_aa_contrast_on_the_backgrounds() -> None:
    css = (STATIC / "display.css").read_text(encoding="utf-8")
    palette = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6});", css))
    text_colours = ["fg", "muted", "delay", "cancel", "ok", "charging", "out", "blocked", "unknown"]
    for bg in ("bg", "panel"):
        for fg in text_colours:
            ratio = contrast(palette[fg], palette[bg])
            assert ratio >= 4.5, f"--{fg} on --{bg}: {ratio:.2f}:1"


def test_a_hub_speaks_its_first_language_by_default(tmp_path: Path) -> None:
    config = tmp_path / "knoten.toml"
    config.write_text(
        '[hubs.ost]\nname = "Ostbahnhof"\nstops = ["ost"]\nlanguages = ["en", "de"]\n', encoding="utf-8"
    )
    client = create_app(load_settings(config, environ={}, data_dir=tmp_path)).test_client()
    html = client.get("/display/ost").get_data(as_text=True)
    assert '<html lang="en">' in html and "Ostbahnhof" in html
    assert '<html lang="de">' in client.get("/display/ost?lang=de").get_data(as_text=True)
    assert client.get("/display/hbf").status_code == 404  # configured hubs replace the demo's

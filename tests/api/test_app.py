"""The app factory: health, OpenAPI document, problem+json errors."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from api import create_app, load_settings


@pytest.fixture()
def client(tmp_path: Path) -> FlaskClient:
    settings = load_settings(environ={}, data_dir=tmp_path)
    return create_app(settings).test_client()


def test_health_reports_ok_with_rfc3339_time(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["timezone"] == "Europe/Berlin"
    assert datetime.fromisoformat(body["time"]).utcoffset() is not None


def test_openapi_document_lists_health(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert "/health" in spec["paths"]


def test_unknown_path_is_problem_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 404
    assert body["title"] == "Not Found"


def test_wrong_method_is_problem_json(client: FlaskClient) -> None:
    response = client.post("/health")
    assert response.status_code == 405
    assert response.get_json()["status"] == 405


def test_docs_page_is_served_with_its_own_assets(client: FlaskClient) -> None:
    """The Swagger UI page and every script, style and image it loads come from this app."""
    page = client.get("/api/v1/swagger")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "openapi.json" in html
    assert not re.findall(r"https?://", html), "the docs page must not load anything from the internet"
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|svg))"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        answer = client.get(f"/api/v1/{asset}")
        assert answer.status_code == 200 and len(answer.data) > 1000, asset

"""The app factory: health, OpenAPI document, problem+json errors."""

from __future__ import annotations

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

"""The app factory: health, OpenAPI document, problem+json errors."""

from __future__ import annotations

import importlib
import pkgutil
import re
from datetime import datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from pydantic import BaseModel

import api.routes
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


def test_no_two_route_models_share_a_schema_name(client: FlaskClient) -> None:
    """flask-openapi3 names a component schema by its model's class name, and a second model of the
    same name silently replaces the first: an answer would then be documented with another's schema."""
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    owners: dict[str, set[str]] = {}
    for info in pkgutil.iter_modules(api.routes.__path__, "api.routes."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == module.__name__:
                owners.setdefault(obj.__name__, set()).add(f"{obj.__module__}.{obj.__qualname__}")
    shared = {name: sorted(found) for name, found in owners.items() if len(found) > 1 and name in schemas}
    assert shared == {}


def test_the_charging_plan_and_the_itineraries_are_documented_with_their_own_schemas(
    client: FlaskClient,
) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]

    def ok_schema(path: str, method: str) -> dict[str, object]:
        ref = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        found: dict[str, object] = schemas[ref.rsplit("/", 1)[1]]
        return found

    assert set(ok_schema("/api/v1/charging/plan", "post")["required"]) == {"summary", "plan"}  # type: ignore[arg-type]
    assert set(ok_schema("/api/v1/plan", "get")["required"]) == {"itineraries", "query"}  # type: ignore[arg-type]


def test_the_document_lists_json_operations_and_the_metrics_text_only(client: FlaskClient) -> None:
    """The station display is an HTML page for browsers, not an API operation: it is left out of the
    document. Every documented success is JSON but the metrics, which are Prometheus text."""
    spec = client.get("/api/v1/openapi.json").get_json()
    assert client.get("/display/hbf").status_code in (200, 404)  # served, though not documented
    assert not [path for path in spec["paths"] if path.startswith("/display")]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            kinds = set(operation["responses"]["200"]["content"])
            want = (
                {"text/plain; version=0.0.4; charset=utf-8"} if path == "/metrics" else {"application/json"}
            )
            assert kinds == want, (method, path)

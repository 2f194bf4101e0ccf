"""Limits in one place: configured in knoten.toml, published in the OpenAPI document, enforced.

Also the document itself: valid OpenAPI 3.1 (openapi-spec-validator), every error documented as
problem+json on every operation, and the HTTP details (413 for chunked bodies, ``Allow`` on 405).
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from api import create_app, load_settings
from api.limits import Limits
from api.settings import SettingsError

PLAN = "/api/v1/charging/plan"


def _client(tmp_path: Path, **limits: Any) -> FlaskClient:
    settings = load_settings(environ={}, data_dir=tmp_path, limits=Limits(**limits) if limits else None)
    return create_app(settings).test_client()


def _sessions(n: int, *, days: int = 1) -> list[dict[str, Any]]:
    t0 = datetime.fromisoformat("2026-11-27T06:00:00+01:00")
    out = []
    for i in range(n):
        a = t0 + timedelta(days=i % days, minutes=7 * (i % 60))
        out.append(
            {
                "session_id": f"s{i}",
                "evse_id": f"E{i % 40}-{i // 40}",
                "arrival": a.isoformat(),
                "departure": (a + timedelta(hours=4)).isoformat(),
                "energy_kwh": 40,
                "max_kw": 11,
            }
        )
    return out


def _plan(sessions: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    body = {"sessions": sessions, "site_limit_kw": 50, "slot_minutes": 15, "objective": "min-peak"}
    body.update(changes)
    return body


def test_limits_come_from_the_toml_file_and_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "knoten.toml"
    config.write_text(
        "[knoten]\nport = 9000\n\n[limits]\ncharging_max_sessions = 50\nmax_body_bytes = 65536\n"
    )
    settings = load_settings(config, environ={"KNOTEN_LIMITS_MAX_BODY_BYTES": "131072"})
    assert settings.limits.charging_max_sessions == 50
    assert settings.limits.max_body_bytes == 131072  # the variable overrides one limit of the file
    assert settings.limits.charging_point_max_kw == 1000.0  # the others keep their defaults
    config.write_text("[limits]\ncharging_max_session = 50\n")
    with pytest.raises(SettingsError, match="charging_max_session"):
        load_settings(config, environ={})


def test_configured_limits_are_published_and_enforced(tmp_path: Path) -> None:
    client = _client(tmp_path, charging_max_sessions=3, charging_point_max_kw=50.0)
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    assert schemas["PlanRequest"]["properties"]["sessions"]["maxItems"] == 3
    assert schemas["SessionIn"]["properties"]["max_kw"]["maximum"] == 50.0
    assert schemas["SessionIn"]["properties"]["max_kw"]["exclusiveMinimum"] == 0
    assert doc["x-knoten-limits"]["charging_max_sessions"] == 3
    assert doc["x-knoten-limits"]["departures_max_limit"] == 100  # the planner's bounds, published too
    assert "description" in schemas["Limits"]["properties"]["plan_max_itineraries"]
    r = client.post(PLAN, json=_plan(_sessions(4)))
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert (r.get_json()["field"], r.get_json()["limit"], r.get_json()["constraint"]) == (
        "sessions",
        3,
        "maxItems",
    )
    session = dict(_sessions(1)[0], max_kw=60)
    problem = client.post(PLAN, json=_plan([session])).get_json()
    assert (problem["field"], problem["value"], problem["limit"]) == ("sessions[0].max_kw", 60, 50.0)
    assert client.post(PLAN, json=_plan(_sessions(3))).status_code == 200


def test_problem_size_is_bounded_before_solving(tmp_path: Path) -> None:
    client = _client(tmp_path, charging_max_session_slots=100)
    r = client.post(PLAN, json=_plan(_sessions(10)))  # 10 sessions x 15 or 16 slots
    assert r.status_code == 422
    assert (r.get_json()["field"], r.get_json()["limit"]) == ("session_slots", 100)
    assert r.get_json()["value"] > 100


def test_min_cost_without_prices_is_a_documented_rule(tmp_path: Path) -> None:
    client = _client(tmp_path)
    request_schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["PlanRequest"]
    assert {
        "required": ["prices"],
        "properties": {"prices": {"type": "array", "minItems": 1}},
    } in request_schema["anyOf"]
    for prices in (None, []):
        r = client.post(PLAN, json=_plan(_sessions(2), objective="min-cost", prices=prices))
        assert r.status_code == 422
        assert (r.get_json()["field"], r.get_json()["constraint"]) == ("prices", "rule")


def test_a_solve_beyond_its_time_budget_answers_503(tmp_path: Path) -> None:
    client = _client(tmp_path, charging_time_budget_s=0.001)
    r = client.post(PLAN, json=_plan(_sessions(600, days=20)))
    assert r.status_code == 503 and r.mimetype == "application/problem+json"
    assert r.get_json()["field"] == "limits.charging_time_budget_s"
    assert client.get("/health").status_code == 200


def test_the_openapi_document_is_valid_and_documents_every_error(tmp_path: Path) -> None:
    doc = _client(tmp_path).get("/api/v1/openapi.json").get_json()
    validate(doc)  # raises on an invalid document (e.g. securitySchemes: null)
    assert doc["openapi"].startswith("3.1")
    assert "securitySchemes" not in doc["components"]
    operations = [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]
    assert len(operations) >= 2
    for path, method, op in operations:
        for status in ("400", "404", "413", "422", "503"):
            content = op["responses"][status]["content"]
            assert content == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, (
                path,
                method,
                status,
            )


def test_405_names_the_allowed_methods(tmp_path: Path) -> None:
    client = _client(tmp_path)
    r = client.delete(PLAN)
    assert r.status_code == 405 and r.mimetype == "application/problem+json"
    assert {m.strip() for m in r.headers["Allow"].split(",")} == {"POST", "OPTIONS"}
    assert {m.strip() for m in client.put("/health").headers["Allow"].split(",")} == {
        "GET",
        "HEAD",
        "OPTIONS",
    }


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_above_the_limit_is_413(tmp_path: Path, chunked: bool) -> None:
    client = _client(tmp_path, max_body_bytes=4096)
    data = b'{"sessions": [' + b" " * 8192 + b"]}"
    if chunked:  # no Content-Length (as gunicorn passes a chunked body): the limit holds while reading
        r = client.post(
            PLAN,
            input_stream=io.BytesIO(data),
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True},
        )
    else:
        r = client.post(PLAN, data=data, content_type="application/json")
    assert r.status_code == 413 and r.mimetype == "application/problem+json"
    assert (r.get_json()["field"], r.get_json()["limit"]) == ("body", 4096)
    assert "limits.max_body_bytes" in r.get_json()["detail"]

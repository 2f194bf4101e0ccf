"""``POST /api/v1/charging/plan``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from api.settings import Settings


@pytest.fixture
def client(tmp_path: Path):  # type: ignore[no-untyped-def]
    return create_app(Settings(data_dir=tmp_path)).test_client()


def _body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sessions": [
            {
                "session_id": "a",
                "evse_id": "E1",
                "arrival": "2026-11-27T08:00:00+01:00",
                "departure": "2026-11-27T10:00:00+01:00",
                "energy_kwh": 10,
                "max_kw": 11,
            },
            {
                "session_id": "b",
                "evse_id": "E2",
                "arrival": "2026-11-27T08:10:00+01:00",
                "departure": "2026-11-27T09:00:00+01:00",
                "energy_kwh": 10,
                "max_kw": 11,
            },
        ],
        "site_limit_kw": 12,
        "slot_minutes": 15,
        "objective": "min-peak",
    }
    body.update(changes)
    return body


def test_plan_route(client) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/charging/plan", json=_body(profiles="ocpp201"))
    assert r.status_code == 200
    data = r.get_json()
    # by hand: b can take at most 11 kW x 0.75 h = 8.25 kWh (08:15-09:00) and needs 11 kW in each of
    # its slots for it; a gets its 10 kWh in the 1.25 h outside b's slots, so the least peak is 11 kW
    assert data["summary"]["energy_delivered_kwh"] == pytest.approx(18.25, abs=1e-4)
    assert data["summary"]["peak_kw"] == pytest.approx(11.0, abs=1e-4)
    energy = {"a": 0.0, "b": 0.0}
    for row in data["plan"]:
        energy[row["session_id"]] += row["power_kw"] * 0.25
    assert energy == pytest.approx({"a": 10.0, "b": 8.25}, abs=1e-4)
    assert {row["session_id"] for row in data["plan"]} == {"a", "b"}
    assert data["plan"][0]["slot_start"] == "2026-11-27T08:00:00+01:00"
    b_starts = [row["slot_start"] for row in data["plan"] if row["session_id"] == "b"]
    assert b_starts == ["2026-11-27T08:15:00+01:00", "2026-11-27T08:30:00+01:00", "2026-11-27T08:45:00+01:00"]
    assert len(data["profiles"]) == 2
    assert "/api/v1/charging/plan" in client.get("/api/v1/openapi.json").get_json()["paths"]


@pytest.mark.parametrize(
    ("change", "status", "needle"),
    [
        # well-formed, but beyond a limit or a rule: 422
        ({"site_limit_kw": 0}, 422, "site_limit_kw"),
        ({"evses": [{"evse_id": "E1", "max_kw": 11}]}, 422, "unknown EVSE 'E2'"),
        ({"objective": "min-cost"}, 422, "needs prices"),
        # malformed: 400
        ({"site_limit_kw": "twelve"}, 400, "site_limit_kw"),
        ({"colour": "red"}, 400, "colour"),
    ],
)
def test_plan_route_errors(client, change: dict[str, Any], status: int, needle: str) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/charging/plan", json=_body(**change))
    assert r.status_code == status
    assert r.mimetype == "application/problem+json"
    assert needle in r.get_json()["detail"]


def test_plan_route_session_errors(client) -> None:  # type: ignore[no-untyped-def]
    body = _body()
    body["sessions"][1]["departure"] = "2026-11-27T08:00:00+01:00"
    r = client.post("/api/v1/charging/plan", json=body)
    assert r.status_code == 422 and "not after arrival" in r.get_json()["detail"]
    body = _body()
    body["sessions"][0]["energy_kwh"] = -1
    r = client.post("/api/v1/charging/plan", json=body)
    assert r.status_code == 422 and "energy_kwh" in r.get_json()["detail"]

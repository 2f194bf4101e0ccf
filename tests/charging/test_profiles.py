"""Charging profiles validate against the official OCPP schemas; OCPI charging points parse."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import jsonschema
import pytest

from charging.errors import InvalidInputError
from charging.ocpp import ProfileSpec, ocpi_profiles, ocpp16_requests, ocpp201_requests
from charging.plan import plan
from charging.points import parse_locations
from tests.charging.charging_helpers import random_sessions


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return plan(random_sessions(17, 12, n_evse=5), 25.0, 15, "min-peak")


def _schema(shared: Path, name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((shared / "standards" / "ocpp" / name).read_text())


@pytest.mark.parametrize("unit", ["W", "A"])
def test_ocpp201_requests_validate(shared_data: Path, result, unit: str) -> None:  # type: ignore[no-untyped-def]
    schema = _schema(shared_data, "v201_SetChargingProfileRequest.json")
    requests = ocpp201_requests(result.schedule, result.grid, result.session_ids, result.evse_ids, unit=unit)
    assert len(requests) == len(result.session_ids)
    for req in requests:
        jsonschema.validate(req, schema)
        periods = req["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"]
        assert periods[0]["startPeriod"] == 0
        assert all(a["startPeriod"] < b["startPeriod"] for a, b in itertools.pairwise(periods))


@pytest.mark.parametrize("unit", ["W", "A"])
def test_ocpp16_requests_validate(shared_data: Path, result, unit: str) -> None:  # type: ignore[no-untyped-def]
    schema = _schema(shared_data, "v16_SetChargingProfile.json")
    specs = {e: ProfileSpec(230.0, 3) for e in result.evse_ids}
    for req in ocpp16_requests(
        result.schedule, result.grid, result.session_ids, result.evse_ids, unit=unit, specs=specs
    ):
        jsonschema.validate(req, schema)


def test_profiles_never_exceed_the_plan(result) -> None:  # type: ignore[no-untyped-def]
    requests = ocpp201_requests(result.schedule, result.grid, result.session_ids, result.evse_ids)
    for i, req in enumerate(requests):
        powers = result.schedule.session_power(i)
        for period in req["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"]:
            k = period["startPeriod"] // (15 * 60)
            assert period["limit"] <= powers[k] * 1000 + 1e-6
            assert period["limit"] >= powers[k] * 1000 - 1.0


def test_ocpi_profiles_shape(result) -> None:  # type: ignore[no-untyped-def]
    profiles = ocpi_profiles(result.schedule, result.grid, result.session_ids)
    some = next(iter(profiles.values()))
    assert set(some) == {"start_date_time", "duration", "charging_rate_unit", "charging_profile_period"}
    assert some["charging_profile_period"][0]["start_period"] == 0
    assert some["start_date_time"].endswith("+01:00")


def test_bad_unit(result) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match="rate unit"):
        ocpi_profiles(result.schedule, result.grid, result.session_ids, unit="kW")


def test_ocpi_location_example_parses(shared_data: Path) -> None:
    payload = json.loads((shared_data / "standards" / "ocpi-2.2.1" / "location_example.json").read_text())
    (loc,) = parse_locations(payload)
    assert loc.location_id == "LOC1" and loc.lat == pytest.approx(51.047599)
    evse = loc.evses[0]
    assert evse.evse_id == "BE*BEC*E041503001" and evse.phases == 3
    assert evse.max_power_kw == pytest.approx(3 * 220 * 16 / 1000)


def test_ocpi_envelope_and_errors() -> None:
    loc = {
        "id": "L",
        "coordinates": {"latitude": "51.68", "longitude": "7.82"},
        "evses": [
            {
                "uid": "1",
                "status": "AVAILABLE",
                "connectors": [
                    {
                        "id": "1",
                        "standard": "IEC_62196_T2",
                        "format": "SOCKET",
                        "power_type": "AC_1_PHASE",
                        "max_voltage": 230,
                        "max_amperage": 32,
                        "max_electric_power": 7400,
                    }
                ],
            }
        ],
    }
    (parsed,) = parse_locations({"data": [loc], "status_code": 1000})
    assert parsed.evses[0].max_power_kw == pytest.approx(7.4) and parsed.evses[0].phases == 1
    with pytest.raises(InvalidInputError, match="missing field 'coordinates'"):
        parse_locations({"id": "X"})

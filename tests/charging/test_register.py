"""Ladesäulenregister CSV: preamble, semicolons, decimal commas, encodings, bad rows skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from charging.errors import InvalidInputError
from charging.register import german_float, parse_register


def _header(shared_data: Path) -> str:
    text = (shared_data / "standards" / "ladesaeulenregister_header.txt").read_text(encoding="utf-8")
    return next(line for line in text.splitlines() if line.startswith("Ladeeinrichtungs-ID;"))


def _row(header: str, **values: str) -> str:
    cols = header.split(";")
    return ";".join(values.get(c, "") for c in cols)


def _csv(shared_data: Path) -> str:
    header = _header(shared_data)
    preamble = "Ladesäulenregister;;;\nStand: 01.11.2025;;;\n\nHinweis: Angaben ohne Gewähr;;;\n"
    good = _row(
        header,
        **{
            "Ladeeinrichtungs-ID": "1234",
            "Betreiber": "Stadtwerke Knotenstadt GmbH",
            "Straße": "Marktstraße",
            "Hausnummer": "3",
            "Postleitzahl": "44135",
            "Ort": "Knotenstadt",
            "Breitengrad": "51,513587",
            "Längengrad": "7,465298",
            "Nennleistung Ladeeinrichtung [kW]": "1.150,0",
            "Steckertypen1": "DC Kupplung Combo, DC CHAdeMO",
            "Nennleistung Stecker1": "150,0",
            "EVSE-ID1": "DE*SWK*E1234*1",
            "Steckertypen2": "AC Steckdose Typ 2",
            "Nennleistung Stecker2": "22",
        },
    )
    bad = _row(
        header, **{"Ladeeinrichtungs-ID": "99", "Betreiber": "X", "Breitengrad": "", "Längengrad": "7,1"}
    )
    return preamble + header + "\n" + good + "\n" + bad + "\n"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252", "utf-8"])
def test_register_rows_become_locations_with_unknown_status(shared_data: Path, encoding: str) -> None:
    result = parse_register(_csv(shared_data).encode(encoding))
    (loc,) = result.locations
    assert loc.location_id == "DE-BNETZA-1234"
    assert (loc.lat, loc.lon) == (51.513587, 7.465298)
    assert loc.name == "Stadtwerke Knotenstadt GmbH, Marktstraße 3, 44135 Knotenstadt"
    assert [e.status for e in loc.evses] == ["UNKNOWN", "UNKNOWN"]
    dc, ac = loc.evses
    assert dc.evse_id == "DE*SWK*E1234*1" and dc.max_power_kw == 150.0
    assert [c.standard for c in dc.connectors] == ["IEC_62196_T2_COMBO", "CHADEMO"]
    assert [(c.standard, c.format, c.power_type) for c in ac.connectors] == [
        ("IEC_62196_T2", "SOCKET", "AC_3_PHASE")
    ]
    assert ac.max_power_kw == 22.0
    assert result.skipped == [(7, "line 7: missing or impossible coordinates")]  # header on line 5


def test_decimal_commas() -> None:
    assert german_float("1.150,5") == 1150.5
    assert german_float("11,0") == 11.0
    assert german_float("22") == 22.0
    assert german_float(" ") is None


def test_file_without_header_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="header"):
        parse_register(b"a;b;c\n1;2;3\n")

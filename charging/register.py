"""Importer for the German federal charging-point register (BNetzA Ladesäulenregister) CSV.

The file is ';'-separated with decimal commas, starts with a few lines of preamble before the
header, and comes in UTF-8 (with BOM) or, in older files, Windows-1252. Each row is one charging
device (Ladeeinrichtung) with up to six charging points (four in the older layout); each point
becomes an OCPI-style EVSE with status ``UNKNOWN`` (the register has no live status).
Rows that cannot be used are skipped and listed with their line number.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from charging.errors import InvalidInputError
from charging.points import Connector, Evse, Location

logger = logging.getLogger(__name__)

TIME_ZONE = "Europe/Berlin"
_HEADER_STARTS = ("Ladeeinrichtungs-ID;", "Betreiber;")
#: Plug names of the register -> OCPI ConnectorType, most specific first.
_PLUGS = (
    ("combo", "IEC_62196_T2_COMBO"),
    ("ccs", "IEC_62196_T2_COMBO"),
    ("chademo", "CHADEMO"),
    ("tesla", "TESLA_S"),
    ("schuko", "DOMESTIC_F"),
    ("typ 2", "IEC_62196_T2"),
    ("type 2", "IEC_62196_T2"),
    ("typ 1", "IEC_62196_T1"),
    ("cee", "IEC_60309_2_three_32"),
)


@dataclass
class RegisterImport:
    """The locations read and the rows skipped (line number, reason)."""

    locations: list[Location] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def decode_register(raw: bytes) -> str:
    """The file's text: UTF-8 (BOM or not), else Windows-1252."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def german_float(text: str) -> float | None:
    """``"11,5"`` → 11.5 (thousands dots dropped); None for an empty field; ValueError otherwise."""
    text = text.strip()
    if not text:
        return None
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    return float(text)


def _connectors(plugs: str, power_kw: float | None, k: int) -> tuple[Connector, ...]:
    out = []
    names = [p.strip() for p in re.split(r"[,;/]", plugs) if p.strip()]
    for i, name in enumerate(names or ["unbekannt"]):
        low = name.lower()
        standard = next((std for key, std in _PLUGS if key in low), "UNKNOWN")
        dc = low.startswith("dc") or standard in ("IEC_62196_T2_COMBO", "CHADEMO")
        power_w = None if power_kw is None else round(power_kw * 1000)
        # the register gives rated power only; voltage and current are nominal values
        voltage = 400 if dc else 230
        amps = 0 if power_w is None else round(power_w / (voltage if dc else 3 * voltage))
        out.append(
            Connector(
                connector_id=f"{k}-{i + 1}",
                standard=standard,
                format="SOCKET" if "steckdose" in low or "socket" in low else "CABLE",
                power_type="DC" if dc else "AC_3_PHASE",
                max_voltage_v=voltage,
                max_amperage_a=amps,
                max_electric_power_w=power_w,
            )
        )
    return tuple(out)


def _column(header: list[str], pattern: str) -> dict[int, int]:
    """Point number -> column index for point-group columns such as ``Steckertypen3``."""
    out = {}
    for idx, name in enumerate(header):
        m = re.fullmatch(pattern, name.strip())
        if m:
            out[int(m.group(1))] = idx
    return out


def _row(header: list[str], row: list[str], line: int) -> Location:
    col = {name.strip(): i for i, name in enumerate(header)}

    def get(name: str) -> str:
        i = col.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    try:
        lat = german_float(get("Breitengrad"))
        lon = german_float(get("Längengrad"))
    except ValueError as exc:
        raise InvalidInputError(f"line {line}: bad coordinates ({exc})") from exc
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInputError(f"line {line}: missing or impossible coordinates")
    ident = get("Ladeeinrichtungs-ID") or f"line{line}"
    plugs = _column(header, r"Steckertypen(\d+)")
    powers = _column(header, r"(?:Nennleistung Stecker|P)(\d+)(?: \[kW\])?")
    evse_ids = _column(header, r"EVSE-ID(\d+)")
    evses = []
    for k in sorted(plugs):
        text = row[plugs[k]].strip() if plugs[k] < len(row) else ""
        if not text:
            continue
        try:
            p = powers.get(k)
            power = german_float(row[p]) if p is not None and p < len(row) else None
        except ValueError as exc:
            raise InvalidInputError(f"line {line}: bad power of point {k} ({exc})") from exc
        e = evse_ids.get(k)
        evse_id = row[e].strip() if e is not None and e < len(row) and row[e].strip() else None
        evses.append(Evse(f"{ident}-{k}", evse_id, "UNKNOWN", _connectors(text, power, k), lon, lat))
    address = " ".join(x for x in (get("Straße"), get("Hausnummer")) if x)
    town = " ".join(x for x in (get("Postleitzahl"), get("Ort")) if x)
    name = get("Anzeigename (Karte)") or ", ".join(x for x in (get("Betreiber"), address, town) if x)
    return Location(f"DE-BNETZA-{ident}", name or None, lon, lat, TIME_ZONE, tuple(evses))


def parse_register(raw: bytes) -> RegisterImport:
    """Parse the register CSV; raises InvalidInputError when no header line is found."""
    lines = decode_register(raw).splitlines()
    start = next((i for i, text in enumerate(lines) if text.startswith(_HEADER_STARTS)), None)
    if start is None:
        raise InvalidInputError(
            "no Ladesäulenregister header line (Ladeeinrichtungs-ID;... or Betreiber;...)"
        )
    reader = csv.reader(io.StringIO("\n".join(lines[start:])), delimiter=";", quotechar='"')
    header = next(reader)
    result = RegisterImport()
    for offset, row in enumerate(reader, start=1):
        line = start + 1 + offset
        if not any(cell.strip() for cell in row):
            continue
        try:
            result.locations.append(_row(header, row, line))
        except InvalidInputError as exc:
            result.skipped.append((line, str(exc)))
    if result.skipped:
        logger.warning("register: %d rows skipped, first: %s", len(result.skipped), result.skipped[0][1])
    return result


def load_register(path: str | Path) -> RegisterImport:
    """Read the register CSV file at ``path``."""
    return parse_register(Path(path).read_bytes())

"""Encoded polylines (Google's algorithm) at a chosen precision; the planner uses precision 6."""

from __future__ import annotations

from collections.abc import Sequence


def _encode_value(value: int, out: list[str]) -> None:
    value = ~(value << 1) if value < 0 else value << 1
    while value >= 0x20:
        out.append(chr((0x20 | (value & 0x1F)) + 63))
        value >>= 5
    out.append(chr(value + 63))


def encode(points: Sequence[tuple[float, float]], precision: int = 6) -> str:
    """Encode ``(lat, lon)`` points."""
    factor = 10**precision
    out: list[str] = []
    last_lat = last_lon = 0
    for lat, lon in points:
        ilat, ilon = round(lat * factor), round(lon * factor)
        _encode_value(ilat - last_lat, out)
        _encode_value(ilon - last_lon, out)
        last_lat, last_lon = ilat, ilon
    return "".join(out)


def decode(text: str, precision: int = 6) -> list[tuple[float, float]]:
    """Decode an encoded polyline into ``(lat, lon)`` points."""
    factor = 10**precision
    points: list[tuple[float, float]] = []
    index = lat = lon = 0
    while index < len(text):
        deltas = []
        for _ in range(2):
            shift = result = 0
            while True:
                byte = ord(text[index]) - 63
                index += 1
                result |= (byte & 0x1F) << shift
                shift += 5
                if byte < 0x20:
                    break
            deltas.append(~(result >> 1) if result & 1 else result >> 1)
        lat += deltas[0]
        lon += deltas[1]
        points.append((lat / factor, lon / factor))
    return points

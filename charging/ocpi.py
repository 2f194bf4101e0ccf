"""OCPI 2.2.1 Locations: a client (token auth, ``Link``-header pagination, ``date_from`` deltas)
and a framework-free receiver core for pushed EVSE status PATCHes.

Both are I/O-free at their core: the client is given a ``get`` callable that performs one HTTP
GET, and the receiver gets the request's parts and returns a status code and a JSON body, so the
API layer can mount it on any web framework. Payloads stay raw OCPI JSON objects (parse them
with :func:`charging.points.parse_locations`) so that they can be stored and merged unchanged.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args
from urllib.parse import urlencode, urlsplit, urlunsplit

from charging.errors import ChargingError, InvalidInputError
from charging.points import Location, parse_location

logger = logging.getLogger(__name__)

#: EVSE statuses of OCPI 2.2.1 (``Status`` enum).
EvseStatus = Literal[
    "AVAILABLE",
    "BLOCKED",
    "CHARGING",
    "INOPERATIVE",
    "OUTOFORDER",
    "PLANNED",
    "REMOVED",
    "RESERVED",
    "UNKNOWN",
]
EVSE_STATUSES = frozenset(get_args(EvseStatus))


class OcpiError(ChargingError):
    """An OCPI peer answered something unusable (HTTP error, bad envelope, bad data)."""


@dataclass(frozen=True)
class HttpAnswer:
    """One HTTP response as the client needs it."""

    status: int
    headers: Mapping[str, str]
    body: bytes


Get = Callable[[str, Mapping[str, str]], HttpAnswer]


def token_header(token: str) -> str:
    """The ``Authorization`` value of OCPI 2.2.1: ``Token`` plus the Base64-encoded token."""
    return "Token " + base64.b64encode(token.encode()).decode()


def next_link(link_header: str | None) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header (RFC 8288), or None."""
    if not link_header:
        return None
    for part in link_header.split(","):
        m = re.match(r"\s*<([^>]*)>\s*;(.*)", part)
        if m and re.search(r'rel\s*=\s*"?next"?', m.group(2)):
            return m.group(1)
    return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name.lower():
            return v
    return None


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = parts.query + ("&" if parts.query and params else "") + urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class LocationsClient:
    """Reads a CPO's ``GET /locations`` module: every page, optionally only changes since a time."""

    def __init__(
        self, url: str, token: str, get: Get, *, limit: int | None = None, max_pages: int = 10_000
    ) -> None:
        self.url = url
        self.token = token
        self.get = get
        self.limit = limit
        self.max_pages = max_pages

    def fetch(self, date_from: datetime | None = None) -> list[dict[str, Any]]:
        """Every Location (raw OCPI objects); with ``date_from`` only those changed since then."""
        params: dict[str, str] = {}
        if date_from is not None:
            params["date_from"] = date_from.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.limit is not None:
            params["limit"] = str(self.limit)
        url: str | None = _with_query(self.url, params) if params else self.url
        headers = {"Authorization": token_header(self.token), "Accept": "application/json"}
        out: list[dict[str, Any]] = []
        pages = 0
        while url is not None:
            pages += 1
            if pages > self.max_pages:
                raise OcpiError(f"{self.url}: more than {self.max_pages} pages")
            answer = self.get(url, headers)
            out.extend(self._page(url, answer))
            url = next_link(_header(answer.headers, "Link"))
        return out

    @staticmethod
    def _page(url: str, answer: HttpAnswer) -> list[dict[str, Any]]:
        if answer.status == 401:
            raise OcpiError(f"{url}: HTTP 401 (token refused)")
        if answer.status >= 400:
            raise OcpiError(f"{url}: HTTP {answer.status}")
        try:
            doc = json.loads(answer.body)
        except ValueError as exc:
            raise OcpiError(f"{url}: invalid JSON ({exc})") from exc
        if isinstance(doc, list):  # a plain export of Locations (a file served as it is)
            doc = {"data": doc}
        if not isinstance(doc, dict) or "data" not in doc:
            raise OcpiError(f"{url}: not an OCPI response (no data)")
        code = doc.get("status_code")
        if code is not None and not (isinstance(code, int) and 1000 <= code < 2000):
            raise OcpiError(f"{url}: OCPI status {code} {doc.get('status_message', '')}".rstrip())
        data = doc["data"]
        if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
            raise OcpiError(f"{url}: data is not a list of Location objects")
        return data


def location_key(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    """The identity of a Location: (country_code, party_id, id)."""
    return str(obj.get("country_code", "")), str(obj.get("party_id", "")), str(obj.get("id", ""))


def merge_locations(current: list[dict[str, Any]], changed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``current`` with every Location of a delta replaced or added (by country, party, id)."""
    by_key = {location_key(loc): loc for loc in current}
    for loc in changed:
        by_key[location_key(loc)] = loc
    return list(by_key.values())


# ---------------------------------------------------------------------------------------------
# receiver


@dataclass(frozen=True)
class ReceiverResponse:
    """What to answer: status code, JSON body and its content type."""

    status: int
    body: dict[str, Any]
    content_type: str = "application/json"


def _problem(status: int, title: str, detail: str) -> ReceiverResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return ReceiverResponse(status, body, "application/problem+json")


def _rfc3339(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


def check_evse_patch(patch: Any) -> str | None:
    """Why an EVSE PATCH body is malformed, or None when it is fine."""
    if not isinstance(patch, dict):
        return "body must be a JSON object"
    if "last_updated" not in patch:
        return "last_updated is required in a PATCH"
    if _rfc3339(patch["last_updated"]) is None:
        return "last_updated must be an RFC 3339 time with offset"
    if "status" in patch and patch["status"] not in EVSE_STATUSES:
        return f"status must be one of {', '.join(sorted(EVSE_STATUSES))}"
    for key in ("uid", "evse_id"):
        if key in patch and not isinstance(patch[key], str):
            return f"{key} must be a string"
    if "connectors" in patch and not isinstance(patch["connectors"], list):
        return "connectors must be a list"
    return None


ApplyPatch = Callable[[str, str, str, str, dict[str, Any]], bool]


class EvseStatusReceiver:
    """Receives ``PATCH /ocpi/2.2.1/locations/{country}/{party}/{location}/{evse_uid}``.

    ``apply(country_code, party_id, location_id, evse_uid, patch)`` stores a checked patch and
    returns False when the EVSE is unknown. A wrong or missing token answers 401 and a malformed
    body 400 (problem+json); neither calls ``apply``.
    """

    def __init__(self, tokens: list[str] | str, apply: ApplyPatch) -> None:
        self.tokens = [tokens] if isinstance(tokens, str) else list(tokens)
        self.apply = apply

    def authorised(self, authorization: str | None) -> bool:
        """True for ``Token <base64(token)>`` (2.2.1) or ``Token <token>`` (2.1.1) of a known token."""
        if not authorization or not authorization.startswith("Token "):
            return False
        given = authorization[6:].strip()
        for token in self.tokens:
            b64 = base64.b64encode(token.encode()).decode()
            if hmac.compare_digest(given, b64) or hmac.compare_digest(given, token):
                return True
        return False

    def handle_patch(
        self,
        authorization: str | None,
        country_code: str,
        party_id: str,
        location_id: str,
        evse_uid: str,
        body: bytes,
    ) -> ReceiverResponse:
        """Check the token and the body, then apply; returns the response to send."""
        if not self.tokens or not self.authorised(authorization):
            return _problem(401, "Unauthorized", "missing or wrong OCPI token")
        try:
            patch = json.loads(body)
        except ValueError as exc:
            return _problem(400, "Bad Request", f"body is not JSON: {exc}")
        reason = check_evse_patch(patch)
        if reason is not None:
            return _problem(400, "Bad Request", reason)
        if not self.apply(country_code, party_id, location_id, evse_uid, patch):
            return _problem(404, "Not Found", f"no EVSE {evse_uid!r} at location {location_id!r}")
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return ReceiverResponse(200, {"status_code": 1000, "status_message": "Success", "timestamp": stamp})


def apply_evse_patch(
    locations: list[dict[str, Any]], country_code: str, party_id: str, location_id: str, evse_uid: str,
    patch: Mapping[str, Any],
) -> list[dict[str, Any]] | None:  # fmt: skip
    """New raw Locations with one EVSE patched (its and its location's ``last_updated`` too), or
    None when that EVSE is not there. ``country_code``/``party_id`` are checked when the stored
    Location has them."""
    out = []
    found = False
    for loc in locations:
        same = str(loc.get("id")) == location_id and all(
            str(loc.get(k, v)) == v for k, v in (("country_code", country_code), ("party_id", party_id))
        )
        if same:
            evses = []
            for evse in loc.get("evses", []):
                if str(evse.get("uid")) == evse_uid:
                    evse = {**evse, **patch}
                    found = True
                evses.append(evse)
            loc = {**loc, "evses": evses}
            new, old = _rfc3339(patch.get("last_updated")), _rfc3339(loc.get("last_updated"))
            if found and new is not None and (old is None or new > old):
                loc["last_updated"] = patch["last_updated"]
        out.append(loc)
    return out if found else None


# ---------------------------------------------------------------------------------------------
# checking a Locations document


def _check_types(loc: Mapping[str, Any], where: str) -> list[tuple[str, str]]:
    problems = []
    for key in ("id", "country_code", "party_id", "name", "time_zone", "last_updated"):
        if key in loc and loc[key] is not None and not isinstance(loc[key], str):
            problems.append((f"{where}/{key}", f"must be a string, not {type(loc[key]).__name__}"))
    if "last_updated" in loc and _rfc3339(loc["last_updated"]) is None:
        problems.append((f"{where}/last_updated", "must be an RFC 3339 time with offset"))
    coords = loc.get("coordinates")
    if isinstance(coords, Mapping):
        for key, limit in (("latitude", 90.0), ("longitude", 180.0)):
            value = coords.get(key)
            if not isinstance(value, str):
                problems.append((f"{where}/coordinates/{key}", "must be a decimal string"))
                continue
            try:
                degrees = float(value)
            except ValueError:
                degrees = math.nan
            if not -limit <= degrees <= limit:  # also false for NaN
                problems.append((f"{where}/coordinates/{key}", f"{value!r} is not a {key} in degrees"))
    evses = loc.get("evses", [])
    if not isinstance(evses, list):
        return [*problems, (f"{where}/evses", "must be a list")]
    for j, evse in enumerate(evses):
        if not isinstance(evse, Mapping):
            problems.append((f"{where}/evses/{j}", "must be an object"))
            continue
        if "connectors" in evse and not isinstance(evse["connectors"], list):
            problems.append((f"{where}/evses/{j}/connectors", "must be a list"))
        if evse.get("status") not in EVSE_STATUSES:
            problems.append(
                (f"{where}/evses/{j}/status", f"{evse.get('status')!r} is not an OCPI EVSE status")
            )
        for k, conn in enumerate(
            evse.get("connectors", []) if isinstance(evse.get("connectors"), list) else []
        ):
            problems.extend(_connector_problems(conn, f"{where}/evses/{j}/connectors/{k}"))
    return problems


#: Connector numbers (OCPI 2.2.1 Connector object): required or not, and a plausible maximum.
_CONNECTOR_NUMBERS = {
    "max_voltage": (True, 2_000),
    "max_amperage": (True, 3_000),
    "max_electric_power": (False, 2_000_000),
}


def _connector_problems(conn: Any, where: str) -> list[tuple[str, str]]:
    """Voltage, amperage and power of a connector: positive integers within plausible maxima."""
    if not isinstance(conn, Mapping):
        return [(where, "must be an object")]
    problems = []
    for key, (required, maximum) in _CONNECTOR_NUMBERS.items():
        value = conn.get(key)
        if value is None and not required:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append((f"{where}/{key}", "must be an integer"))
        elif not 0 < value <= maximum:
            problems.append((f"{where}/{key}", f"{value} is outside 1..{maximum}"))
    return problems


def check_locations(doc: Any) -> tuple[list[Location], list[tuple[str, str]]]:
    """Every usable Location of an OCPI document (Location, list, or response envelope) and every
    problem as ``(JSON path, message)``."""
    prefix = ""
    items = doc
    if isinstance(doc, Mapping) and "data" in doc and "id" not in doc:
        items, prefix = doc["data"], "/data"
    if isinstance(items, Mapping):
        items, single = [items], True
    else:
        single = False
    if not isinstance(items, list):
        return [], [(prefix or "/", "expected a Location object or a list of them")]
    locations: list[Location] = []
    problems: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        where = prefix if single else f"{prefix}/{i}"
        if not isinstance(item, Mapping):
            problems.append((where or "/", "must be a Location object"))
            continue
        found = _check_types(item, where)
        problems.extend(found)
        if found:
            continue
        try:
            loc = parse_location(item)
        except InvalidInputError as exc:
            problems.append((where or "/", str(exc)))
            continue
        locations.append(loc)
    return locations, problems

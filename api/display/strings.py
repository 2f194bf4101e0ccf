"""Every text of the station display, one table per language (German first, the default).

The server renders the page's fixed labels from the table and hands the whole table to the
page's script as JSON, so the words of a live update come from the same place.
"""

from __future__ import annotations

DEFAULT_LANGUAGE = "de"

STRINGS: dict[str, dict[str, str]] = {
    "de": {
        "title": "Abfahrten und Angebote",
        "departures": "Abfahrten",
        "col_line": "Linie",
        "col_destination": "Ziel",
        "col_departure": "Abfahrt",
        "col_platform": "Gleis",
        "col_status": "Hinweis",
        "now": "jetzt",
        "in_min": "{n} min",
        "delay_min": "+{n} min",
        "early_min": "{n} min früher",
        "on_time": "pünktlich",
        "cancelled": "fällt aus",
        "planned": "planmäßig {t}",
        "platform_changed": "Gleiswechsel",
        "no_departures": "Keine Abfahrten in der nächsten Stunde",
        "bikes": "Leihräder",
        "bikes_available": "Räder",
        "docks_available": "freie Plätze",
        "free_floating": "{n} frei abgestellte Fahrzeuge in der Nähe",
        "no_stations": "Keine Stationen in der Nähe",
        "cars": "Carsharing",
        "cars_available": "Autos",
        "cars_vehicles": "{n} freie Fahrzeuge in der Nähe",
        "chargers": "Ladepunkte",
        "no_chargers": "Keine Ladepunkte in der Nähe",
        "status_AVAILABLE": "frei",
        "status_CHARGING": "lädt",
        "status_OUTOFORDER": "außer Betrieb",
        "status_INOPERATIVE": "außer Betrieb",
        "status_BLOCKED": "blockiert",
        "status_RESERVED": "reserviert",
        "status_PLANNED": "geplant",
        "status_REMOVED": "entfernt",
        "status_UNKNOWN": "unbekannt",
        "distance_m": "{n} m",
        "as_of": "Stand {t}",
        "stale": "veraltet",
        "unavailable": "Daten derzeit nicht verfügbar",
        "unavailable_detail": "Letzte Daten von {t}. Bitte beachten Sie die Aushänge.",
        "loading": "Daten werden geladen …",
        "not_found_title": "Unbekannte Station",
        "not_found_detail": "Für „{hub}“ ist keine Mobilitätsstation eingerichtet.",
        "bad_request_title": "Ungültige Anzeige-Einstellung",
    },
    "en": {
        "title": "Departures and offers",
        "departures": "Departures",
        "col_line": "Line",
        "col_destination": "Destination",
        "col_departure": "Departs",
        "col_platform": "Platform",
        "col_status": "Note",
        "now": "now",
        "in_min": "{n} min",
        "delay_min": "+{n} min",
        "early_min": "{n} min early",
        "on_time": "on time",
        "cancelled": "cancelled",
        "planned": "scheduled {t}",
        "platform_changed": "platform change",
        "no_departures": "No departures in the next hour",
        "bikes": "Bike share",
        "bikes_available": "bikes",
        "docks_available": "free docks",
        "free_floating": "{n} free-floating vehicles nearby",
        "no_stations": "No stations nearby",
        "cars": "Car share",
        "cars_available": "cars",
        "cars_vehicles": "{n} free vehicles nearby",
        "chargers": "Charging points",
        "no_chargers": "No charging points nearby",
        "status_AVAILABLE": "available",
        "status_CHARGING": "charging",
        "status_OUTOFORDER": "out of order",
        "status_INOPERATIVE": "out of order",
        "status_BLOCKED": "blocked",
        "status_RESERVED": "reserved",
        "status_PLANNED": "planned",
        "status_REMOVED": "removed",
        "status_UNKNOWN": "unknown",
        "distance_m": "{n} m",
        "as_of": "As of {t}",
        "stale": "outdated",
        "unavailable": "Data currently unavailable",
        "unavailable_detail": "Last data from {t}. Please see the printed timetables.",
        "loading": "Loading data …",
        "not_found_title": "Unknown station",
        "not_found_detail": "No mobility hub is set up for “{hub}”.",
        "bad_request_title": "Invalid display setting",
    },
}


def language(requested: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """The language to show: the requested one when the display has it, else ``default`` (when
    the display has it), else German."""
    for candidate in (requested, default):
        if candidate and candidate.lower() in STRINGS:
            return candidate.lower()
    return DEFAULT_LANGUAGE


def strings_for(lang: str) -> dict[str, str]:
    """The string table of ``lang`` (German when unknown)."""
    return STRINGS[language(lang)]

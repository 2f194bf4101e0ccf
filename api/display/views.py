"""The station display's routes: ``/display/<hub_id>`` and its static files.

The page is rendered on the server with the hub's name and every fixed label in the chosen
language; its script (``static/display.js``) then polls ``/api/v1/hubs/<hub_id>`` and fills in
departures, sharing offers and chargers. Unknown hubs and bad settings answer with an HTML page
(404, 400), never with a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request

from api.display.strings import STRINGS, language
from api.settings import Settings

DEFAULT_POLL_S = 20.0
DEFAULT_STALE_AFTER_S = 60.0
_SECONDS_RANGE = (0.5, 3600.0)
DEMO_HUB_NAME = "Knotenstadt Hauptbahnhof"


class DisplaySettingError(ValueError):
    """A query parameter of the display page cannot be used."""


def known_hubs(settings: Settings) -> dict[str, str]:
    """The hubs a display can show, id -> name: the configured ``[hubs.ID]`` tables, else the
    demo city's hub when the demo city is built."""
    configured: Mapping[str, Any] = getattr(settings, "hubs", None) or {}
    if configured:
        out: dict[str, str] = {}
        for hub_id, cfg in configured.items():
            name = cfg.get("name") if isinstance(cfg, Mapping) else getattr(cfg, "name", None)
            out[str(hub_id)] = str(name or hub_id)
        return out
    manifest_path = settings.data_dir / "demo" / "manifest.json"
    if not manifest_path.is_file():
        return {}
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        hub_id = str(manifest["hub"]["gtfs_stop_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {hub_id: DEMO_HUB_NAME}


def seconds_param(name: str, default: float) -> float:
    """A number of seconds from the query string, within 0.5 .. 3600; ``default`` when absent."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise DisplaySettingError(f"{name}={raw!r} is not a number of seconds") from None
    low, high = _SECONDS_RANGE
    if not low <= value <= high:  # also rejects nan
        raise DisplaySettingError(f"{name}={raw!r} must be between {low:g} and {high:g} seconds")
    return value


def create_display_blueprint(settings: Settings) -> Blueprint:
    """The display's blueprint: the board page per hub, its script and styles under /display/static."""
    bp = Blueprint(
        "display",
        __name__,
        url_prefix="/display",
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )

    def page(template: str, status: int, lang: str, **context: Any) -> Response:
        html = render_template(template, lang=lang, t=STRINGS[lang], **context)
        response = Response(html, status=status, mimetype="text/html")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Content-Language"] = lang
        return response

    @bp.get("/<hub_id>")
    def board(hub_id: str) -> Response:
        """The kiosk board of one hub."""
        lang = language(request.args.get("lang"))
        hubs = known_hubs(settings)
        if hub_id not in hubs:
            return page("display/not_found.html", 404, lang, hub_id=hub_id)
        try:
            poll_s = seconds_param("poll_s", DEFAULT_POLL_S)
            stale_after_s = seconds_param("stale_after_s", DEFAULT_STALE_AFTER_S)
        except DisplaySettingError as exc:
            return page("display/bad_request.html", 400, lang, detail=str(exc))
        return page(
            "display/board.html",
            200,
            lang,
            hub_id=hub_id,
            hub_name=hubs[hub_id],
            api_url=f"{request.script_root}/api/v1/hubs/{quote(hub_id, safe='')}",
            strings=STRINGS[lang],
            timezone=settings.timezone,
            poll_s=poll_s,
            stale_after_s=stale_after_s,
        )

    return bp

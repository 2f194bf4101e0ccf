"""The station display's routes: ``/display/<hub_id>`` and its static files.

The page is rendered on the server with the hub's name and every fixed label in the chosen
language; its script (``static/display.js``) then polls ``/api/v1/hubs/<hub_id>`` and fills in
departures, sharing offers and chargers. Unknown hubs and bad settings answer with an HTML page
(404, 400), never with a traceback.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request

from api.display.strings import STRINGS, language
from api.settings import HubConfig, Settings, resolved_hubs

DEFAULT_POLL_S = 20.0
DEFAULT_STALE_AFTER_S = 60.0
_SECONDS_RANGE = (0.5, 3600.0)


class DisplaySettingError(ValueError):
    """A query parameter of the display page cannot be used."""


def known_hubs(settings: Settings) -> dict[str, HubConfig]:
    """The hubs a display can show: the configured ``[hubs.ID]`` tables, else the demo city's hub
    when the demo city is built."""
    return resolved_hubs(settings)


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
        hubs = known_hubs(settings)
        hub = hubs.get(hub_id)
        if hub is None:
            return page("display/not_found.html", 404, language(request.args.get("lang")), hub_id=hub_id)
        lang = language(request.args.get("lang"), default=hub.languages[0])
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
            hub_name=hub.name,
            api_url=f"{request.script_root}/api/v1/hubs/{quote(hub_id, safe='')}",
            strings=STRINGS[lang],
            timezone=settings.timezone,
            poll_s=poll_s,
            stale_after_s=stale_after_s,
        )

    return bp

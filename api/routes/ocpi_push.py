"""Mount point of the OCPI 2.2.1 EVSE status receiver (``charging.ocpi.EvseStatusReceiver``).

``PATCH /ocpi/2.2.1/locations/<country_code>/<party_id>/<location_id>/<evse_uid>`` with
``Authorization: Token <base64 token>``: a wrong token answers 401, a malformed body 400
(problem+json); neither changes anything. Use ``api.live.evse_receiver(state, tokens)``.
"""

from __future__ import annotations

import json

from flask import Blueprint, Flask, Response, request

from api.settings import Settings
from charging.ocpi import EvseStatusReceiver

MAX_BODY_BYTES = 64 * 1024


def create_ocpi_push_blueprint(receiver: EvseStatusReceiver) -> Blueprint:
    """A blueprint answering pushed EVSE PATCHes with ``receiver``."""
    bp = Blueprint("ocpi_push", __name__, url_prefix="/ocpi/2.2.1")

    @bp.patch("/locations/<country_code>/<party_id>/<location_id>/<evse_uid>")
    def patch_evse(country_code: str, party_id: str, location_id: str, evse_uid: str) -> Response:
        """Receive an EVSE status update from a charge point operator."""
        body = request.get_data(cache=False)[: MAX_BODY_BYTES + 1]
        if len(body) > MAX_BODY_BYTES:
            body = b"\x00"  # too large: answered as malformed
        answer = receiver.handle_patch(
            request.headers.get("Authorization"), country_code, party_id, location_id, evse_uid, body
        )
        return Response(json.dumps(answer.body), status=answer.status, mimetype=answer.content_type)

    return bp


def register(app: Flask, settings: Settings) -> None:
    """Mount the receiver on ``app`` when push tokens are configured (``ocpi_push_tokens``);
    accepted PATCHes go into the app's live state (persisted, seen by every worker)."""
    if not settings.ocpi_push_tokens:
        return
    from api.context import services
    from api.live import evse_receiver

    receiver = evse_receiver(services(app).live, settings.ocpi_push_tokens)
    app.register_blueprint(create_ocpi_push_blueprint(receiver))
    app.config["KNOTEN_CAPABILITIES"].append("ocpi-push")

"""The kiosk display: a full-screen departure and offer board for a mobility hub.

``/display/<hub_id>`` (routes in :mod:`api.display.views`, registered by ``api/routes/display.py``)
renders the page from ``templates/display/`` with every label from :mod:`api.display.strings`;
``static/display.js`` polls ``/api/v1/hubs/<hub_id>`` (ETag, 304) every ``poll_s`` seconds (20)
and keeps the last good data for ``stale_after_s`` seconds (60) before it shows that the data is
unavailable; ``static/display.css`` lays the board out for a 1920×1080 wall screen. Nothing is
loaded from the internet.
"""

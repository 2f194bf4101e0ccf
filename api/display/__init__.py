"""The kiosk display: a full-screen departure and offer board for a mobility hub (not built yet).

Its page templates go in ``api/display/templates/`` and its static files (scripts, styles,
icons) in ``api/display/static/``; its routes register in ``api/routes/display.py`` with the
same ``register(app, settings)`` as every other capability, and read what they show from the
same planner and live state as the JSON API.
"""

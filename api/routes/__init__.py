"""HTTP routes, one module per capability, each with one ``register(app, settings)``.

``health`` (liveness), ``demo`` (the demo city's published feeds) and ``charging`` (charging
plans) exist; the intermodal planner (``plan``, ``stops``), shared mobility (``sharing``), mobility
hubs (``hubs``), metrics and the kiosk display (``display``) get their module here as they land.
A register function attaches its routes and appends its capability name to
``app.config["KNOTEN_CAPABILITIES"]`` (listed by ``/health``).
"""

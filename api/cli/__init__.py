"""The ``knoten`` command line (console script ``knoten = "api.cli:main"``).

``main.py`` holds the click group, the lazy loading of the commands and the one place where
errors become one-line messages; each capability has its commands in its own module
(``demo.py``, ``mobility.py``, ``signals.py``, ``charging.py``), imported only when used.
``progress.py`` draws progress bars on a terminal.
"""

from __future__ import annotations

from api.cli.main import main

__all__ = ["main"]

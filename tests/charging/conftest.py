"""Charging tests share plain helper functions (``charging_helpers``) next to this file.

The suite runs with ``--import-mode=importlib``, which does not put test folders on ``sys.path``;
this makes the helpers importable. ``shared_data`` comes from the top-level conftest.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

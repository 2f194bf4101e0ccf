"""Long commands draw a progress bar on a terminal and nothing elsewhere."""

from __future__ import annotations

import io

from rich.console import Console

from api.cli.progress import progress_bar


def test_bar_is_drawn_on_a_terminal() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with progress_bar("Building", console=console) as update:
        update(1, 4, "timetable")
        update(4, 4)
        console.file.flush()
        drawn = out.getvalue()
    assert "Building" in drawn


def test_nothing_is_written_off_a_terminal() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False)
    with progress_bar("Building", console=console) as update:
        update(1, 4, "timetable")
        update(4, 4)
    assert out.getvalue() == ""

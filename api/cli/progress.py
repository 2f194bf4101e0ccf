"""Progress bars for long commands: drawn by rich on a terminal (stderr), silent everywhere else.

The pure cores report progress through plain callbacks; only the command line draws.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rich.console import Console


class ProgressUpdate(Protocol):
    """``update(done, total, stage=None)``: ``done`` of ``total`` steps, optionally naming the stage."""

    def __call__(self, done: int, total: int, stage: str | None = None) -> None:
        """Report ``done`` of ``total`` steps, optionally naming the stage."""


def _ignore(done: int, total: int, stage: str | None = None) -> None:
    del done, total, stage


def _stderr_may_be_a_terminal() -> bool:
    """False only where rich's ``Console(stderr=True).is_terminal`` is surely False as well.

    rich also draws off a TTY when ``TTY_COMPATIBLE`` or ``FORCE_COLOR`` says so; then rich decides.
    """
    if "TTY_COMPATIBLE" in os.environ or "FORCE_COLOR" in os.environ:
        return True
    stream = getattr(sys.stderr, "rich_proxied_file", sys.stderr)
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty is not None and isatty())
    except ValueError:  # a closed stream
        return False


@contextmanager
def progress_bar(label: str, *, console: Console | None = None) -> Iterator[ProgressUpdate]:
    """Yield an update callback that draws a transient bar when ``console`` is a terminal.

    ``console`` defaults to stderr. Off a terminal (pipes, CI, log files) the callback does nothing.
    """
    if console is None and not _stderr_may_be_a_terminal():
        yield _ignore  # rich is not even imported: a piped or scripted command starts faster
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = console if console is not None else Console(stderr=True)
    if not console.is_terminal:
        yield _ignore
        return
    columns = (
        TextColumn("{task.description:<40}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int, stage: str | None = None) -> None:
            description = f"{label}: {stage}" if stage else label
            bar.update(task, completed=done, total=total, description=description)

        yield update

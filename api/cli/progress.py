"""Progress bars for long commands: drawn by rich on a terminal (stderr), silent everywhere else.

The pure cores report progress through plain callbacks; only the command line draws.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class ProgressUpdate(Protocol):
    """``update(done, total, stage=None)``: ``done`` of ``total`` steps, optionally naming the stage."""

    def __call__(self, done: int, total: int, stage: str | None = None) -> None: ...


def _ignore(done: int, total: int, stage: str | None = None) -> None:
    del done, total, stage


@contextmanager
def progress_bar(label: str, *, console: Console | None = None) -> Iterator[ProgressUpdate]:
    """Yield an update callback that draws a transient bar when ``console`` is a terminal.

    ``console`` defaults to stderr. Off a terminal (pipes, CI, log files) the callback does nothing.
    """
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

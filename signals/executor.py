"""Executors for sweeps: local worker processes by default, or a Dask distributed cluster.

Every task runs its simulation in a fresh process (see :func:`signals.runner.run_isolated`), so
threads suffice locally and Dask workers may run several tasks side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Progress = Callable[[int, int], None]


class Executor(Protocol):
    """Runs independent tasks and returns their results in input order."""

    def map(self, fn: Callable[[T], R], items: Sequence[T], progress: Progress | None = None) -> list[R]:
        """Apply ``fn`` to every item; ``progress(done, total)`` after each completion."""
        ...


class LocalExecutor:
    """Up to ``workers`` simulations at a time on this machine."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, int(workers))

    def map(self, fn: Callable[[T], R], items: Sequence[T], progress: Progress | None = None) -> list[R]:
        """See :class:`Executor`."""
        results: list[Any] = [None] * len(items)
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
            for done, fut in enumerate(as_completed(futures), start=1):
                results[futures[fut]] = fut.result()
                if progress:
                    progress(done, len(items))
        return results


class DaskExecutor:
    """Tasks on a Dask distributed cluster: a scheduler address (``tcp://host:8786``) or a client."""

    def __init__(self, scheduler: str | None = None, client: Any = None) -> None:
        if client is None:
            from distributed import Client

            client = Client(scheduler, timeout="20s")
            self._owns_client = True
        else:
            self._owns_client = False
        self.client = client

    def map(self, fn: Callable[[T], R], items: Sequence[T], progress: Progress | None = None) -> list[R]:
        """See :class:`Executor`."""
        from distributed import as_completed as dask_completed

        futures = [self.client.submit(fn, item, pure=False) for item in items]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * len(items)
        for done, fut in enumerate(dask_completed(futures), start=1):
            results[index[fut.key]] = fut.result()
            if progress:
                progress(done, len(items))
        return results

    def close(self) -> None:
        """Close the client if this executor created it."""
        if self._owns_client:
            self.client.close()


def make_executor(workers: int = 1, scheduler: str | None = None) -> LocalExecutor | DaskExecutor:
    """A Dask executor when ``scheduler`` is given, else local processes."""
    if scheduler:
        return DaskExecutor(scheduler)
    return LocalExecutor(workers)

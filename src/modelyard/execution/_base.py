"""The Executor contract: run independent work items somewhere, get results back.

Batch-transform partitions, tuning trials, cross-validation folds and monitoring
windows are all *independent work items*: a picklable, module-level function and
its picklable arguments. Nothing in modelyard knows where they run; it asks an
:class:`Executor`, and a conformance suite (``tests/execution``) holds every
implementation to the same contract.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, as_completed
from typing import Any, TypeVar

__all__ = ["Executor", "ProgressCallback"]

R = TypeVar("R")

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` each time a work item finishes."""


class Executor(ABC):
    """Runs independent work items and hands back their results.

    Contract (checked for every implementation by ``tests/execution``):

    - :meth:`submit` ``(fn, *args)`` starts one work item and returns a
      :class:`concurrent.futures.Future`. ``fn`` must be a module-level function and
      ``fn`` and ``args`` picklable: the item runs in another process, maybe on
      another machine, and sees nothing of the caller's memory but its arguments
      (and the files or URLs they name).
    - An exception raised by ``fn`` comes back from ``Future.result()`` with its
      type and message intact.
    - Worker processes are reused across items, so ``fn`` may keep expensive
      per-process state (a loaded model) in a module-level cache keyed by its
      arguments: it is then built once per worker process, not once per item.
    - :meth:`as_completed` yields ``(index, result)`` in completion order;
      :meth:`map` returns results in input order. Both report
      ``progress(done, total)`` after each item, and on the first failure cancel
      what has not started and re-raise it.
    - :meth:`shutdown` releases workers (cancelling pending items when asked);
      an executor is a context manager that shuts down on exit. Submitting after
      shutdown raises ``RuntimeError``.
    """

    @property
    @abstractmethod
    def workers(self) -> int:
        """How many work items can run at the same time."""

    @abstractmethod
    def submit(self, fn: Callable[..., R], /, *args: Any) -> Future[R]:
        """Start ``fn(*args)``; its result (or exception) arrives on the future."""

    @abstractmethod
    def shutdown(self, *, cancel_pending: bool = False) -> None:
        """Release the workers; with ``cancel_pending`` drop items not yet started."""

    def as_completed(
        self,
        fn: Callable[..., R],
        items: Iterable[Sequence[Any]],
        progress: ProgressCallback | None = None,
    ) -> Iterator[tuple[int, R]]:
        """Run ``fn(*item)`` for every item; yield ``(index, result)`` as each finishes."""
        futures = {self.submit(fn, *item): index for index, item in enumerate(items)}
        total = len(futures)
        done = 0
        try:
            for future in as_completed(futures):
                result = future.result()
                done += 1
                if progress is not None:
                    progress(done, total)
                yield futures[future], result
        finally:
            for future in futures:
                future.cancel()

    def map(
        self,
        fn: Callable[..., R],
        items: Iterable[Sequence[Any]],
        progress: ProgressCallback | None = None,
    ) -> list[R]:
        """Run ``fn(*item)`` for every item; results in input order."""
        results: dict[int, R] = dict(self.as_completed(fn, items, progress))
        return [results[index] for index in range(len(results))]

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *_: object) -> None:
        self.shutdown(cancel_pending=True)

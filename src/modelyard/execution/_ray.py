"""The Ray executor: work items as Ray tasks, on a cluster or on a local Ray."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from modelyard.errors import MissingDependencyError
from modelyard.execution._base import Executor

__all__ = ["RayExecutor"]

R = TypeVar("R")


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise MissingDependencyError(
            "the ray executor needs Ray: pip install 'modelyard[ray]'",
            details={"extra": "ray"},
        ) from exc
    return ray


class RayExecutor(Executor):
    """Work items as Ray tasks.

    Connects to ``address`` (``auto``, ``ray://host:port``) or, without one, starts
    a local Ray for this process and stops it on :meth:`shutdown`. A Ray already
    initialised in this process is used as it is and left running.

    Args:
        address: the cluster; ``None`` starts a local Ray.
        num_cpus: CPUs of a local Ray (default: all).
        object_store_memory: bytes of a local Ray's object store (default: Ray's).
        num_cpus_per_task: CPUs each work item reserves.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        num_cpus: int | None = None,
        object_store_memory: int | None = None,
        num_cpus_per_task: float = 1.0,
    ) -> None:
        self._ray = _import_ray()
        self._owns = False
        if not self._ray.is_initialized():
            options: dict[str, Any] = {
                "include_dashboard": False,
                "logging_level": logging.ERROR,
                "log_to_driver": False,
                "configure_logging": True,
            }
            if address:
                self._ray.init(address=address, **options)
            else:
                self._ray.init(
                    num_cpus=num_cpus, object_store_memory=object_store_memory, **options
                )
            self._owns = True
        self._per_task = num_cpus_per_task
        self._remotes: dict[Callable[..., Any], Any] = {}
        self._pending: list[Any] = []
        self._closed = False

    @property
    def workers(self) -> int:
        cpus = float(self._ray.cluster_resources().get("CPU", 1.0))
        return max(1, int(cpus // self._per_task))

    def submit(self, fn: Callable[..., R], /, *args: Any) -> Future[R]:
        if self._closed:
            raise RuntimeError("cannot submit to a RayExecutor after shutdown")
        remote = self._remotes.get(fn)
        if remote is None:
            remote = self._ray.remote(num_cpus=self._per_task, max_retries=0)(fn)
            self._remotes[fn] = remote
        ref = remote.remote(*args)
        self._pending.append(ref)
        if len(self._pending) > 256:  # forget finished tasks now and then
            _, self._pending = self._ray.wait(
                self._pending, num_returns=len(self._pending), timeout=0, fetch_local=False
            )
        future: Future[R] = ref.future()
        return future

    def shutdown(self, *, cancel_pending: bool = False) -> None:
        if self._closed:
            return
        self._closed = True
        if cancel_pending:
            for ref in self._pending:
                try:
                    self._ray.cancel(ref)
                except Exception:  # already finished or gone: nothing to cancel
                    continue
        self._pending = []
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()

    def __repr__(self) -> str:
        return f"RayExecutor(owns_ray={self._owns})"

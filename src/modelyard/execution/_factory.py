"""Build the executor a workspace's settings ask for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelyard.errors import ConfigurationError
from modelyard.execution._base import Executor

if TYPE_CHECKING:  # pydantic's import is not for worker processes, which import this package
    from modelyard.settings import Settings

__all__ = ["executor_from_settings"]


def executor_from_settings(settings: Settings, kind: str | None = None) -> Executor:
    """The ``local`` or ``ray`` executor of ``settings`` (``kind`` overrides it).

    Raises:
        ConfigurationError: an unknown executor name.
        MissingDependencyError: ``ray`` without the ``modelyard[ray]`` extra.
    """
    chosen = kind or settings.executor
    if chosen == "local":
        from modelyard.execution._local import LocalExecutor

        return LocalExecutor(settings.max_workers)
    if chosen == "ray":
        from modelyard.execution._ray import RayExecutor

        return RayExecutor(settings.ray_address, num_cpus=settings.max_workers or None)
    raise ConfigurationError(
        f"unknown executor {chosen!r}: use local or ray", details={"executor": chosen}
    )

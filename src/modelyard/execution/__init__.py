"""Execution: where independent work items run (a local process pool, or Ray)."""

from modelyard.execution._base import Executor, ProgressCallback
from modelyard.execution._factory import executor_from_settings
from modelyard.execution._local import LocalExecutor
from modelyard.execution._ray import RayExecutor

__all__ = [
    "Executor",
    "LocalExecutor",
    "ProgressCallback",
    "RayExecutor",
    "executor_from_settings",
]

"""Experiment tracking: runs with params, metrics, tags, artifacts and environment."""

from modelyard.tracking._environment import capture_environment
from modelyard.tracking._records import (
    ArtifactInfo,
    MetricPoint,
    RunComparison,
    RunInfo,
    RunStatus,
)
from modelyard.tracking._run import Run
from modelyard.tracking._search import Clause, RunPage, parse_filter, parse_order
from modelyard.tracking._store import RunStore

__all__ = [
    "ArtifactInfo",
    "Clause",
    "MetricPoint",
    "Run",
    "RunComparison",
    "RunInfo",
    "RunPage",
    "RunStatus",
    "RunStore",
    "capture_environment",
    "parse_filter",
    "parse_order",
]

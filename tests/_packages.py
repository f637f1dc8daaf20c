"""Registering stand-in model packages, for tests of the registry's bookkeeping
(version numbers, aliases, concurrency) that never load the model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modelyard.registry import ModelRegistry, ModelVersion


def stand_in_package(directory: Path, manifest: dict[str, Any]) -> Path:
    """A package directory holding only a ``model.json`` with ``manifest``."""
    directory.mkdir(parents=True)
    (directory / "model.json").write_text(json.dumps(manifest))
    return directory


def register_stand_in(
    registry: ModelRegistry, name: str, package: Path, **metrics: float
) -> ModelVersion:
    """Register ``package`` as the next version of ``name`` (a pending linear model)."""
    return registry.register(
        name,
        package,
        task="binary",
        algorithm="linear",
        metrics=dict(metrics),
        params={},
        lineage={},
        flavors=["pipeline"],
    )

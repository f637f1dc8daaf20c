"""A model's input signature: the raw columns it reads, their types, categories, nulls."""

from __future__ import annotations

from typing import Any

from modelyard.data import DatasetVersion

__all__ = ["input_kinds", "input_signature"]


def input_kinds(version: DatasetVersion, adapter: Any) -> dict[str, str]:
    """How the adapter reads each column it uses (``numeric``, ``boolean``,
    ``categorical`` or ``datetime``), in the dataset's column order. The adapter is
    made from the schema, so this is known before the recipe is fitted."""
    kinds = {
        **{name: "numeric" for name in adapter.numeric},
        **{name: "boolean" for name in adapter.boolean},
        **{name: "categorical" for name in adapter.categorical},
        **{name: "datetime" for name in adapter.datetime},
    }
    return {column.name: kinds[column.name] for column in version.columns if column.name in kinds}


def input_signature(version: DatasetVersion, recipe: Any) -> dict[str, Any]:
    """The signature recorded in the manifest, from the dataset schema and fitted recipe.

    Each input names its logical type, the adapter's kind (how it is read), whether
    training saw missing values, and for categoricals the levels seen in training
    (others are accepted and handled as unseen).
    """
    kinds = input_kinds(version, recipe.adapter)
    levels = recipe.category_levels()
    inputs = []
    for column in version.columns:
        if column.name not in kinds:
            continue
        entry: dict[str, Any] = {
            "name": column.name,
            "logical_type": column.logical_type.value,
            "kind": kinds[column.name],
            "physical_type": column.physical_type,
            "nullable": column.missing_share > 0,
        }
        if column.name in levels:
            entry["categories"] = [v for v in levels[column.name] if v != "__missing__"]
        inputs.append(entry)
    return {"inputs": inputs, "dropped": [c.name for c in version.columns if c.name not in kinds]}

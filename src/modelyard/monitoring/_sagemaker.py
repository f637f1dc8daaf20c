"""SageMaker Model Monitor's files, read and written, so a team brings its baselines along.

- ``statistics.json``: per feature, ``numerical_statistics`` (``common.num_present``,
  ``num_missing``, mean, std_dev, min, max, ``distribution.kll.buckets`` of
  ``lower_bound`` / ``upper_bound`` / ``count``) or ``string_statistics``
  (``distribution.categorical.buckets`` of ``value`` / ``count``).
- ``constraints.json``: per feature ``inferred_type``, ``completeness`` and
  ``string_constraints.domains``.
- ``constraint_violations.json``: ``{"violations": [{"feature_name",
  "constraint_check_type", "description"}]}``, the check types being SageMaker's.

Read, they become the baseline shape of ``training/_baseline.py`` (bin edges and
shares, level shares, missing share, range), so every check runs on them unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modelyard.errors import InvalidInputError

__all__ = [
    "SAGEMAKER_CHECKS",
    "baseline_from_sagemaker",
    "baseline_to_sagemaker",
    "violations_document",
]

SAGEMAKER_CHECKS = (
    "data_type_check",
    "completeness_check",
    "baseline_drift_check",
    "missing_column_check",
    "extra_column_check",
    "categorical_values_check",
)


def baseline_from_sagemaker(directory: Path) -> dict[str, Any]:
    """A baseline from ``statistics.json`` and (if present) ``constraints.json``.

    Raises:
        InvalidInputError: a file missing, not JSON, or not of SageMaker's shape.
    """
    statistics = _load(directory / "statistics.json")
    constraints_path = directory / "constraints.json"
    constraints = _load(constraints_path) if constraints_path.exists() else {"features": []}
    limits = {f.get("name"): f for f in constraints.get("features") or []}
    try:
        columns: dict[str, Any] = {}
        for feature in statistics["features"]:
            name = str(feature["name"])
            constraint = limits.get(name) or {}
            if "numerical_statistics" in feature:
                columns[name] = _numeric(feature["numerical_statistics"])
            elif "string_statistics" in feature:
                columns[name] = _strings(feature["string_statistics"], constraint)
            else:
                continue
            if "completeness" in constraint:
                columns[name]["missing_share"] = 1.0 - float(constraint["completeness"])
        rows = int((statistics.get("dataset") or {}).get("item_count") or 0)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{directory / 'statistics.json'} is not SageMaker's statistics shape: {exc!r}"
        ) from exc
    # ``monitor baseline DATASET`` names the version it described (SageMaker ignores it)
    described = (statistics.get("dataset") or {}).get("modelyard_dataset")
    return {"rows": rows, "columns": columns, "source": "sagemaker", "dataset": described}


def _numeric(stats: dict[str, Any]) -> dict[str, Any]:
    common = stats.get("common") or {}
    present = float(common.get("num_present", 0))
    missing = float(common.get("num_missing", 0))
    buckets = ((stats.get("distribution") or {}).get("kll") or {}).get("buckets") or []
    edges = [float(buckets[0]["lower_bound"])] + [float(b["upper_bound"]) for b in buckets]
    counts = [float(b["count"]) for b in buckets]
    total = sum(counts) or 1.0
    return {
        "kind": "numeric",
        "missing_share": missing / (present + missing) if present + missing else 0.0,
        "count": int(present),
        "mean": float(stats["mean"]),
        "std": float(stats["std_dev"]),
        "min": float(stats["min"]),
        "max": float(stats["max"]),
        "bin_edges": edges if buckets else [],
        "bin_shares": [c / total for c in counts],
    }


def _strings(stats: dict[str, Any], constraint: dict[str, Any]) -> dict[str, Any]:
    common = stats.get("common") or {}
    present = float(common.get("num_present", 0))
    missing = float(common.get("num_missing", 0))
    buckets = ((stats.get("distribution") or {}).get("categorical") or {}).get("buckets") or []
    total = sum(float(b["count"]) for b in buckets) or 1.0
    levels = {str(b["value"]): float(b["count"]) / total for b in buckets}
    for value in (constraint.get("string_constraints") or {}).get("domains") or []:
        levels.setdefault(str(value), 0.0)
    return {
        "kind": "categorical",
        "missing_share": missing / (present + missing) if present + missing else 0.0,
        "count": int(present + missing),
        "levels": levels,
        "other_share": 0.0,
    }


def baseline_to_sagemaker(baseline: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``statistics.json`` and ``constraints.json`` documents of a modelyard baseline."""
    rows = int(baseline.get("rows") or 0)
    features = []
    constraints = []
    for name, stats in (baseline.get("columns") or {}).items():
        missing = float(stats.get("missing_share") or 0.0)
        present = round(rows * (1 - missing))
        common = {"num_present": present, "num_missing": rows - present}
        if stats.get("kind") == "categorical":
            levels = stats.get("levels") or {}
            buckets = [{"value": k, "count": round(v * rows)} for k, v in levels.items()]
            features.append(
                {
                    "name": name,
                    "inferred_type": "String",
                    "string_statistics": {
                        "common": common,
                        "distinct_count": len(levels),
                        "distribution": {"categorical": {"buckets": buckets}},
                    },
                }
            )
            constraint: dict[str, Any] = {
                "name": name,
                "inferred_type": "String",
                "completeness": 1.0 - missing,
            }
            if float(stats.get("other_share") or 0.0) == 0.0:
                constraint["string_constraints"] = {
                    "domains": [k for k in levels if k != "__missing__"]
                }
            constraints.append(constraint)
            continue
        edges = stats.get("bin_edges") or []
        shares = stats.get("bin_shares") or []
        count = int(stats.get("count") or 0)
        buckets = [
            {"lower_bound": lo, "upper_bound": hi, "count": round(share * count)}
            for lo, hi, share in zip(edges[:-1], edges[1:], shares, strict=False)
        ]
        features.append(
            {
                "name": name,
                "inferred_type": "Fractional",
                "numerical_statistics": {
                    "common": common,
                    "mean": stats.get("mean"),
                    "sum": (stats.get("mean") or 0.0) * count,
                    "std_dev": stats.get("std"),
                    "min": stats.get("min"),
                    "max": stats.get("max"),
                    "distribution": {"kll": {"buckets": buckets}},
                },
            }
        )
        constraints.append(
            {
                "name": name,
                "inferred_type": "Fractional",
                "completeness": 1.0 - missing,
                "num_constraints": {"is_non_negative": (stats.get("min") or 0.0) >= 0},
            }
        )
    statistics = {"version": 0, "dataset": {"item_count": rows}, "features": features}
    constraint_document = {
        "version": 0,
        "features": constraints,
        "monitoring_config": {
            "evaluate_constraints": "Enabled",
            "emit_metrics": "Enabled",
            "distribution_constraints": {
                "perform_comparison": "Enabled",
                "comparison_threshold": 0.1,
                "comparison_method": "Robust",
            },
        },
    }
    return statistics, constraint_document


def violations_document(violations: list[dict[str, Any]]) -> dict[str, Any]:
    """``constraint_violations.json`` of a window: the violations of SageMaker's types."""
    return {
        "violations": [
            {
                "feature_name": v.get("feature") or "",
                "constraint_check_type": v["check"],
                "description": v["description"],
            }
            for v in violations
            if v["check"] in SAGEMAKER_CHECKS
        ]
    }


def _load(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise InvalidInputError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidInputError(f"{path} is not a JSON object")
    return document

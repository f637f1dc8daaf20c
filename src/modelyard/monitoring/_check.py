"""One window checked against a baseline: drift, data quality, estimated quality.

The result is a plain JSON document (what ``monitor history`` and the report
show) and a list of violations, each with a key naming its episode
(``drift:monthly_charges``, ``data_type_check:tenure_months``): the same key in
consecutive windows is one episode and alerts once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from modelyard.monitoring._drift import (
    FeatureDrift,
    drift_of,
    holm,
    numeric_values,
    quality_of,
)
from modelyard.monitoring._multivariate import window_error
from modelyard.monitoring._quality import estimate_binary
from modelyard.monitoring._rules import Rule
from modelyard.monitoring._window import WindowRows

__all__ = ["DEFAULT_LIMITS", "Baseline", "check_window"]

DEFAULT_LIMITS = {
    "completeness_drop": 0.1,
    "out_of_range_share": 0.05,
    "new_category_share": 0.05,
    "failed_share": 0.1,
}
PREDICTION = "__prediction__"
SIGNIFICANCE = 0.01


@dataclass(frozen=True)
class Baseline:
    """What a window is compared with: the model's inputs and its training statistics."""

    names: list[str]
    statistics: dict[str, Any]
    task: str
    positive: str | None
    threshold: float
    reference: dict[str, Any] | None = None

    def kinds(self) -> dict[str, str]:
        """Each input column's kind in the statistics (how its values are read)."""
        columns = self.statistics.get("columns") or {}
        return {n: str(columns[n].get("kind")) for n in self.names if n in columns}


def check_window(
    rows: WindowRows, baseline: Baseline, rules: list[Rule], limits: dict[str, float]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The window's result document and its violations."""
    columns: dict[str, Any] = baseline.statistics.get("columns") or {}
    drifts: list[FeatureDrift] = []
    issues = []
    for name in baseline.names:
        stats = columns.get(name)
        if stats is None:
            continue
        values = rows.columns.get(name, [])
        measured = drift_of(name, stats, values)
        if measured is not None:
            drifts.append(measured)
        issues.extend(quality_of(name, stats, values, limits))
    for adjusted, measured in zip(holm([d.chi2_pvalue for d in drifts]), drifts, strict=True):
        measured.pvalue_adjusted = adjusted
    prediction = None
    if baseline.statistics.get("scores") and len(rows.scores):
        prediction = drift_of(PREDICTION, baseline.statistics["scores"], rows.scores)
        if prediction is not None:
            prediction.pvalue_adjusted = prediction.chi2_pvalue
    violations: list[dict[str, Any]] = []
    for measured in [*drifts, *([prediction] if prediction is not None else [])]:
        broken = [str(r) for r in rules if r.violated(getattr(measured, r.metric))]
        # an effect-size rule flags a feature only when the shift is also beyond
        # sampling noise: PSI over many sparse bins runs high on small windows
        if broken and measured.pvalue_adjusted < SIGNIFICANCE:
            what = "prediction score" if measured.feature == PREDICTION else measured.feature
            violations.append(
                {
                    "key": f"drift:{measured.feature}",
                    "check": "baseline_drift_check",
                    "feature": measured.feature,
                    "description": f"{what} drifted ({', '.join(broken)}; "
                    f"psi {measured.psi:.3f}, js {measured.js_distance:.3f})",
                }
            )
    # inputs the model reads that the baseline has no statistics of: never checked
    unchecked = sorted(set(baseline.names) - set(columns))
    for issue in issues:
        violations.append(
            {
                "key": f"{issue.check}:{issue.feature}",
                "check": issue.check,
                "feature": issue.feature,
                "description": f"{issue.feature}: {issue.description}",
            }
        )
    for extra in sorted(rows.unexpected_columns):
        violations.append(
            {
                "key": f"extra_column_check:{extra}",
                "check": "extra_column_check",
                "feature": extra,
                "description": f"requests carry column {extra!r}, which the model does not read",
            }
        )
    for name, count in sorted(rows.missing_columns.items()):
        if rows.requests and count / rows.requests > limits["failed_share"]:
            violations.append(
                {
                    "key": f"missing_column_check:{name}",
                    "check": "missing_column_check",
                    "feature": name,
                    "description": f"{count:,} of {rows.requests:,} requests lack column "
                    f"{name!r}, which the model reads",
                }
            )
    multivariate = None
    if baseline.reference is not None and rows.rows:
        numbers = {
            name: numeric_values(rows.columns.get(name, []), "numeric")[0]
            for name in baseline.reference["names"]
        }
        multivariate = window_error(baseline.reference, numbers)
        if multivariate is not None and multivariate["drifted"]:
            violations.append(
                {
                    "key": "multivariate_drift",
                    "check": "multivariate_drift_check",
                    "feature": None,
                    "description": "the features no longer move together as in training "
                    f"(PCA reconstruction error {multivariate['reconstruction_error']:.3f} "
                    f"against {multivariate['reference_error']:.3f})",
                }
            )
    failed_share = rows.failed_requests / rows.requests if rows.requests else 0.0
    if failed_share > limits["failed_share"]:
        violations.append(
            {
                "key": "validation_failure_check",
                "check": "validation_failure_check",
                "feature": None,
                "description": f"{rows.failed_requests:,} of {rows.requests:,} requests failed",
            }
        )
    estimated = None
    if baseline.task == "binary":
        estimated = estimate_binary(np.asarray(rows.scores, dtype=np.float64), baseline.threshold)
    result = {
        "window": rows.window,
        "requests": rows.requests,
        "rows": rows.rows,
        "failed_requests": rows.failed_requests,
        "missing_columns": rows.missing_columns,
        "unreadable_files": rows.unreadable,
        "model_columns_without_baseline": unchecked,
        "drift": [d.to_dict() for d in drifts],
        "prediction_drift": prediction.to_dict() if prediction is not None else None,
        "multivariate": multivariate,
        "data_quality": [i.to_dict() for i in issues],
        "estimated": estimated,
        "violations": violations,
    }
    return result, violations

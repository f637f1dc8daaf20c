"""Model quality per window and variant: realised from labels, estimated before them.

Realised: the task's metrics on the rows that have a label, with the count.
Estimated (confidence-based performance estimation, CBPE, as NannyML does for
binary classification): a calibrated score ``p`` says the row is positive with
probability ``p``, so the expected confusion matrix, and the expected ROC-AUC
(every positive-negative pair weighted by ``p_i (1 - p_j)``), follow from the
scores alone. It tracks the realised figure while the model stays calibrated,
which is the case until the feature-target relation itself moves.

Variants are compared on ROC-AUC with Hanley and McNeil's standard error and a
two-sided z test (independent samples: each request went to one variant).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "VariantComparison",
    "compare_variants",
    "estimate_binary",
    "realised_binary",
]

FloatArray = npt.NDArray[np.float64]


def realised_binary(
    scores: FloatArray, labels: npt.NDArray[np.int64], threshold: float
) -> dict[str, Any]:
    """ROC-AUC and accuracy on labelled rows (``labels`` 1 for the positive class)."""
    from sklearn.metrics import roc_auc_score

    n = int(labels.size)
    result: dict[str, Any] = {"labelled": n, "roc_auc": None, "accuracy": None}
    if n == 0:
        return result
    result["accuracy"] = float(np.mean((scores >= threshold) == (labels == 1)))
    if 0 < labels.sum() < n:
        result["roc_auc"] = float(roc_auc_score(labels, scores))
    return result


def estimate_binary(scores: FloatArray, threshold: float) -> dict[str, Any]:
    """Expected ROC-AUC and accuracy from calibrated positive-class scores alone."""
    p = np.clip(scores[np.isfinite(scores)], 0.0, 1.0)
    n = int(p.size)
    if n < 2:
        return {"rows": n, "roc_auc": None, "accuracy": None}
    order = np.argsort(p, kind="stable")
    s, q = p[order], 1.0 - p[order]
    # each row as the positive one of a pair: p_i times the expected negatives scored
    # below it, ties counted half (as ROC-AUC counts them)
    group = np.searchsorted(s, s, side="left")
    group_end = np.searchsorted(s, s, side="right")
    cum = np.concatenate([[0.0], np.cumsum(q)])
    strictly_below = cum[group]
    tied = cum[group_end] - cum[group] - q
    concordant = float(np.sum(s * (strictly_below + 0.5 * tied)))
    pairs = float(s.sum() * q.sum() - np.sum(s * q))
    accuracy = float(np.mean(np.where(p >= threshold, p, 1.0 - p)))
    return {
        "rows": n,
        "roc_auc": concordant / pairs if pairs > 0 else None,
        "accuracy": accuracy,
    }


@dataclass(frozen=True)
class VariantComparison:
    """Two variants' ROC-AUC on their labelled rows, the difference and its p-value."""

    better: str
    worse: str
    metric: str
    better_value: float
    worse_value: float
    difference: float
    pvalue: float
    better_rows: int
    worse_rows: int
    significant: bool

    @property
    def verdict(self) -> str:
        """The comparison in plain words."""
        if not self.significant:
            return (
                f"no significant difference between {self.better} and {self.worse} on "
                f"{self.metric} ({self.better_value:.3f} vs {self.worse_value:.3f}, "
                f"p = {self.pvalue:.3g}, {self.better_rows:,} and {self.worse_rows:,} "
                "labelled rows)"
            )
        return (
            f"{self.better} beats {self.worse} on {self.metric} by {self.difference:.3f}, "
            f"p = {self.pvalue:.3g}, {self.better_rows:,} and {self.worse_rows:,} labelled rows"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the verdict."""
        return {**asdict(self), "verdict": self.verdict}


def compare_variants(
    groups: dict[str, tuple[FloatArray, npt.NDArray[np.int64]]], alpha: float = 0.05
) -> VariantComparison | None:
    """The two variants with the most labelled rows, compared on ROC-AUC."""
    from sklearn.metrics import roc_auc_score

    usable = {
        name: (scores, labels)
        for name, (scores, labels) in groups.items()
        if 0 < labels.sum() < labels.size
    }
    if len(usable) < 2:
        return None
    chosen = sorted(usable, key=lambda name: -usable[name][1].size)[:2]
    figures = []
    for name in chosen:
        scores, labels = usable[name]
        auc = float(roc_auc_score(labels, scores))
        figures.append((name, auc, _hanley_mcneil(auc, labels), int(labels.size)))
    figures.sort(key=lambda f: -f[1])
    (best, auc_a, var_a, n_a), (worst, auc_b, var_b, n_b) = figures
    z = (auc_a - auc_b) / math.sqrt(var_a + var_b) if var_a + var_b > 0 else 0.0
    pvalue = math.erfc(abs(z) / math.sqrt(2))
    return VariantComparison(
        best, worst, "roc_auc", auc_a, auc_b, auc_a - auc_b, pvalue, n_a, n_b, pvalue < alpha
    )


def _hanley_mcneil(auc: float, labels: npt.NDArray[np.int64]) -> float:
    positives = float(labels.sum())
    negatives = float(labels.size - positives)
    q1 = auc / (2 - auc)
    q2 = 2 * auc**2 / (1 + auc)
    return (auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)) / (
        positives * negatives
    )

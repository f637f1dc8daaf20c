"""Drift of one window against a baseline kept as bins, and data quality.

The model package's baseline (``training/_baseline.py``) keeps each numeric
column's decile edges and bin shares, each categorical column's level shares:
not the rows. So every measure here compares the window's counts over the
baseline's bins with the baseline's shares. PSI and Jensen-Shannon come from
:mod:`modelyard.profiling._shift` (the one home of those formulas, shared with
``data compare``); what needs the binned form lives here:

- chi-square goodness of fit of the window's counts against the baseline shares
  (every kind; its p-value is what the multiple-testing correction adjusts),
- Kolmogorov-Smirnov statistic at the baseline's bin edges (the largest CDF gap
  at those points: a lower bound of the exact statistic) and a binned
  Wasserstein distance in units of the baseline's standard deviation (numeric).

Drift is decided by effect size (PSI, by default above 0.2): at large windows a
p-value flags differences too small to matter. The Holm-adjusted p-value is the
second gate (below 0.01): on small windows PSI over many sparse bins runs high
by sampling noise alone.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "FeatureDrift",
    "Numbers",
    "QualityIssue",
    "drift_of",
    "holm",
    "numeric_values",
    "quality_of",
]

FloatArray = npt.NDArray[np.float64]

_EPOCH = np.datetime64("1970-01-01T00:00:00", "us")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


@dataclass(frozen=True)
class Numbers:
    """A column already read as floats (NaN: missing or of the wrong type), with how
    many values had the wrong type: what :func:`numeric_values` gives of a list."""

    values: FloatArray
    wrong: int

    def __len__(self) -> int:
        return int(self.values.size)


@dataclass
class FeatureDrift:
    """How far one feature (or the prediction score) moved in one window."""

    feature: str
    kind: str
    psi: float
    js_distance: float
    chi2_pvalue: float
    ks: float | None
    wasserstein: float | None
    rows: int
    pvalue_adjusted: float = 1.0
    bins: list[str] | None = None
    baseline_shares: list[float] | None = None
    window_shares: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {k: _finite(v) for k, v in asdict(self).items()}


@dataclass
class QualityIssue:
    """A data-quality finding of a window, in SageMaker's violation vocabulary."""

    feature: str
    check: str
    value: float
    expected: float
    description: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def numeric_values(values: Any, kind: str) -> tuple[FloatArray, int]:
    """A column's values as floats (NaN for missing) and how many had the wrong type.

    ``values``: a list, :class:`Numbers` (returned as they are) or a pyarrow array.
    Booleans become 0/1 and dates days since 1970-01-01, as the baseline counts them.
    """
    if isinstance(values, Numbers):
        return values.values, values.wrong
    if hasattr(values, "to_pylist"):  # a pyarrow array of text (dates, or numbers as text)
        values = values.to_pylist()
    if kind != "datetime":
        try:  # numbers, booleans and None (as NaN) convert in one go
            converted = np.asarray(values, dtype=np.float64)
            if converted.ndim == 1:  # not lists of equal length, which make a matrix
                return converted, 0
        except (TypeError, ValueError):
            pass  # text among them: value by value, counting what does not convert
    out = np.full(len(values), np.nan)
    wrong = 0
    for i, value in enumerate(values):
        if value is None:
            continue
        try:
            out[i] = _number(value, kind)
        except (TypeError, ValueError):
            wrong += 1
    return out, wrong


def _number(value: Any, kind: str) -> float:
    if kind == "datetime":
        moment = np.datetime64(str(value).replace("Z", "").split("+")[0], "us")
        return float((moment - _EPOCH) / np.timedelta64(1, "D"))
    if isinstance(value, bool):
        return float(value)
    if kind == "boolean" and isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE or text in _FALSE:
            return 1.0 if text in _TRUE else 0.0
        raise ValueError(value)
    if isinstance(value, str) and not value.strip():
        return math.nan
    return float(value)


def level_counts(values: Any) -> dict[str | None, int]:
    """How often each value occurs, as text (``None``: missing), counted in Arrow
    for a pyarrow array."""
    if hasattr(values, "to_pylist"):
        import pyarrow.compute as pc

        counted = pc.value_counts(values)
        levels = counted.field("values").cast("string").to_pylist()
        return dict(zip(levels, counted.field("counts").to_pylist(), strict=True))
    counts: dict[str | None, int] = {}
    for value in values:
        key = None if value is None else str(value)
        counts[key] = counts.get(key, 0) + 1
    return counts


def drift_of(feature: str, stats: dict[str, Any], values: Any) -> FeatureDrift | None:
    """Drift of one column against its baseline statistics; ``None`` without data."""
    from modelyard.profiling._shift import jensen_shannon, psi

    if stats.get("kind") == "categorical":
        levels = dict(stats.get("levels") or {})
        labels = list(levels)
        expected = np.array([levels[k] for k in labels] + [stats.get("other_share", 0.0)])
        index = {label: i for i, label in enumerate(labels)}
        actual = np.zeros(len(labels) + 1)
        for value, count in level_counts(values).items():
            key = "__missing__" if value is None else value
            actual[index.get(key, len(labels))] += count
        ks = wasserstein = None
        bins: list[str] = [*labels, "other"]
    elif stats.get("kind") == "boolean" and stats.get("mean") is not None:
        # a 0/1 column's deciles collapse to one bin: compare the share of true instead
        numbers, _ = numeric_values(values, "boolean")
        present = numbers[np.isfinite(numbers)]
        ones = float(np.count_nonzero(present >= 0.5))
        actual = np.array([present.size - ones, ones])
        share = min(max(float(stats["mean"]), 0.0), 1.0)
        expected = np.array([1.0 - share, share])
        gap = abs(share - ones / present.size) if present.size else 0.0
        std = float(stats.get("std") or 0.0)
        ks, wasserstein = gap, gap / std if std > 0 else gap
        bins = ["false", "true"]
    else:
        edges = np.asarray(stats.get("bin_edges") or [], dtype=np.float64)
        shares = np.asarray(stats.get("bin_shares") or [], dtype=np.float64)
        if edges.size < 2 or shares.size != edges.size - 1:
            return None
        numbers, _ = numeric_values(values, str(stats.get("kind")))
        present = numbers[np.isfinite(numbers)]
        positions = np.searchsorted(edges[1:-1], present, side="right")
        actual = np.bincount(positions, minlength=shares.size).astype(np.float64)
        expected = shares
        ks, wasserstein = _cdf_gaps(expected, actual, edges, float(stats.get("std") or 0.0))
        bins = [f"{lo:.4g}-{hi:.4g}" for lo, hi in itertools.pairwise(edges.tolist())]
    total = actual.sum()
    if total == 0 or expected.sum() <= 0:
        return None
    return FeatureDrift(
        feature,
        kind if (kind := str(stats.get("kind"))) in ("categorical", "boolean") else "numeric",
        psi(expected, actual),
        jensen_shannon(expected, actual),
        _chi2_pvalue(expected, actual),
        ks,
        wasserstein,
        int(total),
        bins=bins,
        baseline_shares=(expected / expected.sum()).round(5).tolist(),
        window_shares=(actual / total).round(5).tolist(),
    )


def _cdf_gaps(
    expected: FloatArray, actual: FloatArray, edges: FloatArray, std: float
) -> tuple[float, float]:
    p = np.cumsum(expected / expected.sum())
    q = np.cumsum(actual / max(actual.sum(), 1.0))
    gaps = np.abs(p - q)[:-1]
    ks = float(gaps.max()) if gaps.size else 0.0
    widths = np.diff(edges)[:-1]
    distance = float(np.sum(gaps * widths))
    return ks, distance / std if std > 0 else distance


def _chi2_pvalue(expected: FloatArray, actual: FloatArray) -> float:
    from scipy.special import chdtrc  # chi-square survival function; lighter than scipy.stats

    n = actual.sum()
    shares = np.clip(expected / expected.sum(), 1e-6, None)
    wanted = shares / shares.sum() * n
    keep = wanted > 0
    statistic = float(np.sum((actual[keep] - wanted[keep]) ** 2 / wanted[keep]))
    dof = max(int(keep.sum()) - 1, 1)
    return float(chdtrc(dof, statistic))


def holm(pvalues: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (same order): a family-wise correction."""
    m = len(pvalues)
    order = np.argsort(pvalues)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return [float(v) for v in adjusted]


def quality_of(
    feature: str, stats: dict[str, Any], values: Any, limits: dict[str, float]
) -> list[QualityIssue]:
    """Data-quality findings of one column against its baseline statistics."""
    issues: list[QualityIssue] = []
    n = len(values)
    if n == 0:
        return issues
    kind = str(stats.get("kind"))
    if kind == "categorical":
        counts = level_counts(values)
        missing = (counts.get(None, 0) + counts.get("", 0)) / n
        levels = set(stats.get("levels") or {})
        if float(stats.get("other_share") or 0.0) == 0.0:
            unseen = {
                v: c for v, c in counts.items() if v is not None and v != "" and v not in levels
            }
            new = sum(unseen.values())
            if new / n > limits["new_category_share"]:
                shown = ", ".join(sorted(str(v) for v in unseen)[:5])
                issues.append(
                    QualityIssue(
                        feature,
                        "categorical_values_check",
                        new / n,
                        limits["new_category_share"],
                        f"{new:,} of {n:,} values are categories the baseline never saw ({shown})",
                    )
                )
    else:
        numbers, wrong = numeric_values(values, kind)
        missing = (float(np.isnan(numbers).sum()) - wrong) / n
        if wrong:
            issues.append(
                QualityIssue(
                    feature,
                    "data_type_check",
                    wrong / n,
                    0.0,
                    f"{wrong:,} of {n:,} values are not {kind}",
                )
            )
        low, high = stats.get("min"), stats.get("max")
        if low is not None and high is not None:
            outside = int(np.sum((numbers < low) | (numbers > high)))
            if outside / n > limits["out_of_range_share"]:
                issues.append(
                    QualityIssue(
                        feature,
                        "out_of_range_check",
                        outside / n,
                        limits["out_of_range_share"],
                        f"{outside:,} of {n:,} values outside the baseline's [{low:g}, {high:g}]",
                    )
                )
    baseline_missing = float(stats.get("missing_share") or 0.0)
    if missing > baseline_missing + limits["completeness_drop"]:
        issues.append(
            QualityIssue(
                feature,
                "completeness_check",
                1.0 - missing,
                1.0 - baseline_missing,
                f"{missing:.1%} missing against {baseline_missing:.1%} in the baseline",
            )
        )
    return issues


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value

"""How columns relate: correlations, association with the target, missing patterns.

Missing-value patterns are exact (DuckDB over every row). Correlations run on a
uniform sample of rows (by position, fixed seed) that the profile records: ranks
and contingency tables need the rows, and over a million rows even DuckDB's
exact Pearson cost a quarter of the profile; on a table smaller than the
sample they are exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from modelyard.profiling._engine import Engine, quote

__all__ = [
    "MAX_CATEGORIES",
    "MAX_CORRELATED_COLUMNS",
    "correlation_ratio",
    "cramers_v",
    "missing_patterns",
    "pairwise_pearson",
    "rank_correlations",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Columns with more categories than this get no Cramér's V or correlation ratio:
# their contingency tables are mostly empty cells and the figure means little.
MAX_CATEGORIES = 200
# Correlation matrices cover at most this many columns of a kind (the first ones);
# the profile says which were left out.
MAX_CORRELATED_COLUMNS = 100
_MAX_PATTERN_COLUMNS = 64


def rank_correlations(values: FloatArray) -> FloatArray:
    """Spearman correlations of a sample's columns (NaN: missing), pairwise complete.

    Each column is ranked once over its own non-missing values, then the ranks are
    correlated over the rows where both are present.
    """
    ranks = np.full(values.shape, np.nan)
    for k in range(values.shape[1]):
        column = values[:, k]
        present = np.isfinite(column)
        ranks[present, k] = _average_ranks(column[present])
    return pairwise_pearson(ranks)


def cramers_v(a: IntArray, b: IntArray) -> float:
    """Bias-corrected Cramér's V (Bergsma 2013) of two category-code arrays (-1: missing)."""
    keep = (a >= 0) & (b >= 0)
    a, b = a[keep], b[keep]
    n = a.size
    if n < 2:
        return math.nan
    # Codes are small non-negative integers: count every pair, then drop the rows
    # and columns of codes that no kept row has.
    width = int(b.max()) + 1
    table = np.bincount(a * width + b, minlength=(int(a.max()) + 1) * width)
    table = table.reshape(-1, width).astype(np.float64)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    r, k = table.shape
    if r < 2 or k < 2:
        return math.nan
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = float(np.sum((table - expected) ** 2 / expected))
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    r_corr = r - (r - 1) ** 2 / (n - 1)
    k_corr = k - (k - 1) ** 2 / (n - 1)
    denominator = min(k_corr - 1, r_corr - 1)
    return math.sqrt(phi2 / denominator) if denominator > 0 else math.nan


def correlation_ratio(categories: IntArray, values: FloatArray) -> float:
    """Correlation ratio (eta) of numbers grouped by category codes (-1: missing)."""
    keep = (categories >= 0) & np.isfinite(values)
    codes, x = categories[keep], values[keep]
    if x.size < 2:
        return math.nan
    counts = np.bincount(codes).astype(np.float64)
    present = counts > 0
    # Values near the float limit overflow the sums: no figure rather than a wrong one.
    with np.errstate(over="ignore", invalid="ignore"):
        sums = np.bincount(codes, weights=x)
        total = float(np.sum((x - x.mean()) ** 2))
        between = float(np.sum(sums[present] ** 2 / counts[present]) - x.sum() ** 2 / x.size)
    if not (math.isfinite(total) and math.isfinite(between)):
        return math.nan
    if total <= 0 or np.count_nonzero(present) < 2:
        return math.nan
    return math.sqrt(min(max(between / total, 0.0), 1.0))


def missing_patterns(
    engine: Engine, columns: Sequence[str], n_rows: int, limit: int = 10
) -> dict[str, Any]:
    """The most frequent combinations of missing columns, exact over every row.

    ``columns``: those with at least one missing value, most missing first.
    """
    used = list(columns[:_MAX_PATTERN_COLUMNS])
    if not used:
        return {"columns": [], "patterns": [], "left_out": []}
    # One bit per column in an unsigned 64-bit key: grouping by an integer is
    # cheaper than grouping by a list of booleans.
    key = " | ".join(
        f"CASE WHEN {quote(c)} IS NULL THEN {1 << k}::UBIGINT ELSE 0::UBIGINT END"
        for k, c in enumerate(used)
    )
    rows = engine.rows(
        f"SELECT {key} AS p, count(*) AS n FROM t GROUP BY p ORDER BY n DESC, p LIMIT {limit}"
    )
    patterns = [
        {
            "missing": [c for k, c in enumerate(used) if int(p) >> k & 1],
            "rows": int(n),
            "share": int(n) / n_rows if n_rows else 0.0,
        }
        for p, n in rows
    ]
    return {"columns": used, "patterns": patterns, "left_out": list(columns[len(used) :])}


def _average_ranks(values: FloatArray) -> FloatArray:
    # Ties get their average rank whatever their order, so the sort need not be stable.
    order = np.argsort(values)
    ordered = values[order]
    boundaries = np.concatenate([[True], ordered[1:] != ordered[:-1], [True]])
    starts = np.flatnonzero(boundaries)
    average = (starts[:-1] + starts[1:] - 1) / 2.0 + 1.0
    ranks = np.empty(values.size)
    ranks[order] = np.repeat(average, np.diff(starts))
    return ranks


def pairwise_pearson(values: FloatArray) -> FloatArray:
    """Pearson correlations of a sample's columns (NaN: missing), pairwise complete.

    The products are tall and thin (a sample's rows by a few dozen columns): BLAS's
    threads only contend over them, one thread does each far faster and steadily.
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    present = np.isfinite(values).astype(np.float64)
    x = np.where(present > 0, values, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"), threadpool_limits(1, user_api="blas"):
        n = present.T @ present
        sum_i = x.T @ present  # [i, j]: sum of column i over rows where j is present
        sum_sq = (x * x).T @ present
        products = x.T @ x
        covariance = products - sum_i * sum_i.T / n
        var_i = sum_sq - sum_i**2 / n
        matrix = covariance / np.sqrt(var_i * var_i.T)
    matrix[~np.isfinite(matrix)] = np.nan
    return np.clip(matrix, -1.0, 1.0)

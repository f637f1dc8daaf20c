"""Distribution shift between a reference sample and a current one: the one home.

``data compare`` (profiling) and model monitoring measure drift with these same
functions, so a column flagged by one is flagged by the other. Each measure
takes plain NumPy arrays: numbers for numeric columns, category labels (any
hashable, ``None`` for missing) for categorical ones.

- **PSI** (population stability index) over bins cut at the reference's deciles
  (numbers) or over the categories: below 0.1 stable, 0.1-0.25 moderate, above
  0.25 a major shift (the industry's rule of thumb).
- **Kolmogorov-Smirnov** statistic: the largest gap between the two empirical
  CDFs (numbers only), with its asymptotic p-value.
- **Jensen-Shannon distance** (base 2, from 0 to 1) between the binned or
  categorical distributions: symmetric and finite when a bin is empty on one side.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "PSI_MAJOR",
    "PSI_MODERATE",
    "ShiftMeasures",
    "category_shift",
    "jensen_shannon",
    "ks_statistic",
    "numeric_shift",
    "psi",
]

PSI_MODERATE = 0.1
PSI_MAJOR = 0.25
# An empty bin on one side would make PSI infinite; this share stands in for zero.
_EPSILON = 1e-4
_BINS = 10


@dataclass(frozen=True)
class ShiftMeasures:
    """How far one column moved between a reference and a current sample.

    Attributes:
        kind: ``numeric`` or ``categorical``.
        psi: population stability index.
        js_distance: Jensen-Shannon distance, 0 (same) to 1 (disjoint).
        ks: Kolmogorov-Smirnov statistic (numeric only).
        ks_pvalue: its asymptotic p-value (numeric only).
        n_reference, n_current: the non-missing values compared.
    """

    kind: str
    psi: float | None
    js_distance: float | None
    ks: float | None
    ks_pvalue: float | None
    n_reference: int
    n_current: int

    @property
    def level(self) -> str:
        """``stable``, ``moderate`` or ``major`` by PSI (``unknown`` without one)."""
        if self.psi is None:
            return "unknown"
        if self.psi >= PSI_MAJOR:
            return "major"
        return "moderate" if self.psi >= PSI_MODERATE else "stable"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the level."""
        return {**asdict(self), "level": self.level}


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    """Population stability index of two count (or share) vectors over the same bins."""
    p = _shares(expected)
    q = _shares(actual)
    return float(np.sum((q - p) * np.log(q / p)))


def jensen_shannon(expected: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    """Jensen-Shannon distance (base 2) of two count vectors over the same bins."""
    p = np.asarray(expected, dtype=np.float64)
    q = np.asarray(actual, dtype=np.float64)
    if p.sum() <= 0 or q.sum() <= 0:
        return float("nan")
    p = p / p.sum()
    q = q / q.sum()
    m = (p + q) / 2
    divergence = 0.5 * _kl(p, m) + 0.5 * _kl(q, m)
    return float(np.sqrt(max(divergence, 0.0)))


def ks_statistic(reference: npt.ArrayLike, current: npt.ArrayLike) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and asymptotic p-value."""
    a = np.sort(np.asarray(reference, dtype=np.float64))
    b = np.sort(np.asarray(current, dtype=np.float64))
    if a.size == 0 or b.size == 0:
        return float("nan"), float("nan")
    grid = np.concatenate([a, b])
    gap = np.abs(
        np.searchsorted(a, grid, side="right") / a.size
        - np.searchsorted(b, grid, side="right") / b.size
    )
    statistic = float(gap.max())
    n = a.size * b.size / (a.size + b.size)
    return statistic, _kolmogorov_pvalue(statistic * np.sqrt(n))


def numeric_shift(reference: npt.ArrayLike, current: npt.ArrayLike) -> ShiftMeasures:
    """Every measure for a numeric column (missing and non-finite values left out)."""
    a = _finite(reference)
    b = _finite(current)
    if a.size == 0 or b.size == 0:
        return ShiftMeasures("numeric", None, None, None, None, int(a.size), int(b.size))
    edges = np.unique(np.quantile(a, np.linspace(0, 1, _BINS + 1))[1:-1])
    expected = np.bincount(np.searchsorted(edges, a, side="right"), minlength=edges.size + 1)
    actual = np.bincount(np.searchsorted(edges, b, side="right"), minlength=edges.size + 1)
    ks, pvalue = ks_statistic(a, b)
    return ShiftMeasures(
        "numeric",
        psi(expected, actual),
        jensen_shannon(expected, actual),
        ks,
        pvalue,
        int(a.size),
        int(b.size),
    )


def category_shift(reference: npt.ArrayLike, current: npt.ArrayLike) -> ShiftMeasures:
    """Every measure for a categorical column; missing counts as a category."""
    a = np.asarray(reference, dtype=object)
    b = np.asarray(current, dtype=object)
    if a.size == 0 or b.size == 0:
        return ShiftMeasures("categorical", None, None, None, None, int(a.size), int(b.size))
    labels_a, counts_a = np.unique(a.astype(str), return_counts=True)
    labels_b, counts_b = np.unique(b.astype(str), return_counts=True)
    labels = np.union1d(labels_a, labels_b)
    expected = np.zeros(labels.size)
    actual = np.zeros(labels.size)
    expected[np.searchsorted(labels, labels_a)] = counts_a
    actual[np.searchsorted(labels, labels_b)] = counts_b
    return ShiftMeasures(
        "categorical",
        psi(expected, actual),
        jensen_shannon(expected, actual),
        None,
        None,
        int(a.size),
        int(b.size),
    )


def _finite(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    return array[np.isfinite(array)]


def _shares(counts: npt.ArrayLike) -> npt.NDArray[np.float64]:
    array = np.asarray(counts, dtype=np.float64)
    total = array.sum()
    shares = array / total if total > 0 else np.full(array.size, 1.0 / max(array.size, 1))
    clipped: npt.NDArray[np.float64] = np.clip(shares, _EPSILON, None)
    return clipped


def _kl(p: npt.NDArray[np.float64], q: npt.NDArray[np.float64]) -> float:
    mask = p > 0
    return float(np.sum(p[mask] * np.log2(p[mask] / q[mask])))


def _kolmogorov_pvalue(x: float) -> float:
    """Asymptotic Kolmogorov distribution tail, P(K > x)."""
    if x <= 0:
        return 1.0
    k = np.arange(1, 101)
    total = 2 * np.sum((-1.0) ** (k - 1) * np.exp(-2 * k**2 * x**2))
    return float(min(max(total, 0.0), 1.0))

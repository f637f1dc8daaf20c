"""Training-data statistics stored in the model package, for monitoring to compare with.

Numeric columns keep decile edges and the share of rows in each bin (what a
population stability index or a KS-style drift test needs), categorical columns
their level shares; both keep their missing share.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["compute_baseline", "score_statistics"]

_MAX_LEVELS = 50


def compute_baseline(
    features: pd.DataFrame, kinds: dict[str, str], target: pd.Series, task: str
) -> dict[str, Any]:
    """Statistics of the training rows per raw input column and of the target.

    They need the data only, not the model; :func:`score_statistics` adds the
    model's scores afterwards.

    Args:
        features: the training rows' input columns.
        kinds: column name to ``numeric``, ``boolean``, ``categorical`` or ``datetime``.
        target: the training target.
        task: ``binary``, ``multiclass`` or ``regression``.
    """
    columns = {name: _column(features[name], kind) for name, kind in kinds.items()}
    return {
        "rows": len(features),
        "columns": columns,
        "target": _column(target, "numeric" if task == "regression" else "categorical"),
    }


def score_statistics(scores: npt.NDArray[Any]) -> dict[str, Any]:
    """The baseline's ``scores`` entry: statistics of the model's outputs on held-out
    rows (positive-class probability, top probability or predicted value)."""
    return _numeric(pd.Series(scores))


def _column(values: pd.Series, kind: str) -> dict[str, Any]:
    if kind == "boolean" and pd.api.types.is_bool_dtype(values.dtype):
        if values.dtype == np.bool_:
            return {"kind": kind, **_integers(values.to_numpy().view(np.uint8), len(values))}
        return {"kind": kind, **_numeric(values.astype("float64"))}
    if kind == "numeric" and isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu":
        return {"kind": kind, **_integers(values.to_numpy(), len(values))}
    if kind in ("numeric", "boolean"):
        numeric = pd.to_numeric(
            values.map(_as_number) if kind == "boolean" else values, errors="coerce"
        )
        return {"kind": kind, **_numeric(numeric)}
    if kind == "datetime":
        return {"kind": kind, "unit": "days since 1970-01-01", **_datetimes(values)}
    return {"kind": "categorical", **_categorical(values)}


def _datetimes(values: pd.Series) -> dict[str, Any]:
    """Moments as days since 1970-01-01, whatever their unit (a CSV's dates read as
    seconds, pandas parses text to microseconds) or zone (compared in UTC). Other
    values are read as the feature recipe reads them (each in its own format)."""
    if not (isinstance(values.dtype, np.dtype) and values.dtype.kind == "M"):
        moments = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
        values = moments.dt.tz_localize(None)
    stamps = values.to_numpy()
    unit, count = np.datetime_data(stamps.dtype)
    one_day = np.array(1, dtype="m8[D]").astype(np.dtype(f"m8[{count}{unit}]"))
    ticks_per_day = float(one_day.astype(np.int64))
    ticks = stamps.view(np.int64)
    present = ticks[ticks != np.iinfo(np.int64).min]  # NaT
    ordered = _sorted_integers(present)
    if ordered is not None:
        return _from_sorted(ordered.astype(np.float64) / ticks_per_day, len(values))
    days = ticks.astype(np.float64) / ticks_per_day
    days[ticks == np.iinfo(np.int64).min] = np.nan
    return _floats(days)


def _as_number(value: Any) -> float:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    text = str(value).strip().lower()
    return 1.0 if text in ("true", "t", "yes", "y", "1") else 0.0


def _numeric(values: pd.Series) -> dict[str, Any]:
    """Moments, decile edges and the share of rows between them."""
    return _floats(values.to_numpy(dtype=np.float64, na_value=np.nan))


def _integers(values: npt.NDArray[Any], rows: int) -> dict[str, Any]:
    ordered = _sorted_integers(values)
    if ordered is None:
        return _floats(values.astype(np.float64))
    return _from_sorted(ordered.astype(np.float64), rows)


def _floats(array: npt.NDArray[np.float64]) -> dict[str, Any]:
    """Statistics of a float column without sorting it.

    Integral columns of a narrow range (integers with missing values) are
    counting-sorted and summarised like any sorted column; others get their
    order statistics by selection and their bin counts by comparison, which
    gives the same edges and counts as a sort. Only the mean and standard
    deviation can differ, by float summation order.
    """
    present = array[~np.isnan(array)]
    rows = len(array)
    if present.size == 0:
        return {"missing_share": 1.0 if rows else 0.0, "count": 0}
    low, high = float(present.min()), float(present.max())
    if _integral(present, low, high):
        ordered = _sorted_integers(present.astype(np.int64))
        if ordered is not None:
            return _from_sorted(ordered.astype(np.float64), rows)
    edges = np.unique(_deciles(lambda ks: _order_statistics(present, ks, low, high), present.size))
    if edges.size > 1:
        size = present.size
        starts = np.array(
            [size if np.isnan(e) else np.count_nonzero(present < e) for e in edges[:-1]]
        )
        counts = np.diff(np.append(starts, size))
    else:
        counts = np.array([present.size])
    return _summary(present, rows, low, high, edges, counts)


def _from_sorted(present: npt.NDArray[np.float64], rows: int) -> dict[str, Any]:
    """The statistics of a column's present values, given in ascending order."""
    if present.size == 0:
        return {"missing_share": 1.0 if rows else 0.0, "count": 0}
    edges = np.unique(_deciles(lambda ks: present[ks], present.size))
    if edges.size > 1:
        starts = np.searchsorted(present, edges[:-1], side="left")
        counts = np.diff(np.append(starts, present.size))
    else:
        counts = np.array([present.size])
    return _summary(present, rows, float(present[0]), float(present[-1]), edges, counts)


def _summary(
    present: npt.NDArray[np.float64],
    rows: int,
    low: float,
    high: float,
    edges: npt.NDArray[np.float64],
    counts: npt.NDArray[Any],
) -> dict[str, Any]:
    return {
        "missing_share": 1.0 - len(present) / rows if rows else 0.0,
        "count": int(present.size),
        "mean": float(present.mean()),
        "std": float(present.std()),
        "min": low,
        "max": high,
        "bin_edges": edges.tolist(),
        "bin_shares": (counts / present.size).tolist(),
    }


def _categorical(values: pd.Series) -> dict[str, Any]:
    counts = values.value_counts(dropna=False, sort=True)
    shares: dict[str, float] = {}
    for label, count in counts.items():
        missing = label is None or label is pd.NA or (isinstance(label, float) and label != label)
        key = "__missing__" if missing else str(label)
        shares[key] = shares.get(key, 0.0) + count / len(values)  # 1 and "1" share a key
    top = sorted(shares.items(), key=lambda item: -item[1])[:_MAX_LEVELS]
    return {
        "missing_share": float(values.isna().mean()) if len(values) else 0.0,
        "count": len(values),
        "levels": dict(top),
        "other_share": float(1.0 - sum(share for _, share in top)),
    }


_DECILES = np.linspace(0, 1, 11)
_SELECTION_BINS = 2048


def _deciles(
    order_statistic: Callable[[npt.NDArray[np.intp]], npt.NDArray[np.float64]], size: int
) -> npt.NDArray[np.float64]:
    """``np.quantile(values, _DECILES)`` (its default, linear method) from order statistics.

    The same arithmetic as numpy's, so the same bits: a test pins it to
    ``np.quantile`` on random arrays.
    """
    virtual = (size - 1) * _DECILES
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= size - 1
    previous[above] = -1
    following[above] = -1
    gamma = virtual - previous
    wanted = np.concatenate([previous, following]).astype(np.intp) % size
    values = order_statistic(wanted)
    below, above_values = values[: _DECILES.size], values[_DECILES.size :]
    step = above_values - below
    result = below + step * gamma
    np.subtract(above_values, step * (1 - gamma), out=result, where=gamma >= 0.5)
    return result


def _order_statistics(
    present: npt.NDArray[np.float64], ranks: npt.NDArray[np.intp], low: float, high: float
) -> npt.NDArray[np.float64]:
    """The values of the given ranks in ascending order, without sorting every value.

    Values go to equal-width bins by ``(value - low) * scale``, monotone in the
    value, so a rank falls in the bin where the running count passes it; only
    the values of those few bins are sorted. Skewed columns whose chosen bins
    hold many values fall back to ``np.partition``.
    """
    size = present.size
    scale = _SELECTION_BINS / (high - low) if high > low else np.inf
    if not np.isfinite(scale) or not np.isfinite(high - low):
        return np.partition(present, np.unique(ranks))[ranks]
    bins = ((present - low) * scale).astype(np.intp)
    np.minimum(bins, _SELECTION_BINS - 1, out=bins)
    counts = np.bincount(bins, minlength=_SELECTION_BINS)
    ends = np.cumsum(counts)
    rank_bins = np.searchsorted(ends, ranks, side="right")
    chosen = np.unique(rank_bins)
    if counts[chosen].sum() > size // 8:
        return np.partition(present, np.unique(ranks))[ranks]
    wanted = np.zeros(_SELECTION_BINS, dtype=bool)
    wanted[chosen] = True
    candidates = np.sort(present[wanted[bins]])
    offsets = np.cumsum(counts[chosen]) - counts[chosen]
    within = ranks - (ends[rank_bins] - counts[rank_bins])
    statistics: npt.NDArray[np.float64] = candidates[
        offsets[np.searchsorted(chosen, rank_bins)] + within
    ]
    return statistics


def _integral(present: npt.NDArray[np.float64], low: float, high: float) -> bool:
    """Whole numbers safely held by int64, with no negative zero (which would print 0.0)."""
    if not (low > -(2.0**53) and high < 2.0**53) or high - low > _dense_limit(present.size):
        return False
    if low <= 0.0 <= high and np.signbit(present[present == 0.0]).any():
        return False
    head = present[:64]  # most fractional columns show it in their first values
    return bool(np.array_equal(np.floor(head), head) and np.array_equal(np.floor(present), present))


def _dense_limit(size: int) -> int:
    return 2 * size + 1024


def _sorted_integers(values: npt.NDArray[Any]) -> npt.NDArray[Any] | None:
    """``np.sort(values)`` by counting, or None when the values are too spread out.

    Values are counted in steps of their greatest common difference, so dates
    stored as nanoseconds (a whole number of days apart) count as days.
    """
    if values.size == 0:
        return values
    high = int(values.max())
    spread = high - int(values.min())
    if high >= 2**63 or spread >= 2**62:  # int64 would not hold the values or their offsets
        return None
    values = values.astype(np.int64, copy=False)
    low = values.min()
    offsets = values - low
    step = int(np.gcd.reduce(offsets)) if spread > _dense_limit(values.size) else 1
    if spread // step > _dense_limit(values.size):
        return None
    counts = np.bincount(offsets // step if step > 1 else offsets)
    levels = np.flatnonzero(counts)
    ordered: npt.NDArray[np.int64] = np.repeat(levels * step + low, counts[levels])
    return ordered

"""Training-data statistics stored in the model package, for monitoring to compare with.

Numeric columns keep decile edges and the share of rows in each bin (what a
population stability index or a KS-style drift test needs), categorical columns
their level shares; both keep their missing share.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["compute_baseline"]

_MAX_LEVELS = 50


def compute_baseline(
    features: pd.DataFrame,
    kinds: dict[str, str],
    target: pd.Series,
    task: str,
    scores: np.ndarray[Any, Any] | None = None,
) -> dict[str, Any]:
    """Statistics of the training rows per raw input column, the target and scores.

    Args:
        features: the training rows' input columns.
        kinds: column name to ``numeric``, ``boolean``, ``categorical`` or ``datetime``.
        target: the training target.
        task: ``binary``, ``multiclass`` or ``regression``.
        scores: model outputs on held-out rows (positive-class probability or value).
    """
    columns = {name: _column(features[name], kind) for name, kind in kinds.items()}
    result: dict[str, Any] = {
        "rows": len(features),
        "columns": columns,
        "target": _column(target, "numeric" if task == "regression" else "categorical"),
    }
    if scores is not None:
        result["scores"] = _numeric(pd.Series(scores))
    return result


def _column(values: pd.Series, kind: str) -> dict[str, Any]:
    if kind == "boolean" and pd.api.types.is_bool_dtype(values.dtype):
        return {"kind": kind, **_numeric(values.astype("float64"))}
    if kind in ("numeric", "boolean"):
        numeric = pd.to_numeric(
            values.map(_as_number) if kind == "boolean" else values, errors="coerce"
        )
        return {"kind": kind, **_numeric(numeric)}
    if kind == "datetime":
        moments = pd.to_datetime(values, errors="coerce")
        numeric = pd.Series(moments.astype("int64", errors="ignore"), dtype="float64")
        numeric[moments.isna()] = np.nan
        stats = _numeric(numeric / 86_400e9)
        return {"kind": kind, "unit": "days since 1970-01-01", **stats}
    return {"kind": "categorical", **_categorical(values)}


def _as_number(value: Any) -> float:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    text = str(value).strip().lower()
    return 1.0 if text in ("true", "t", "yes", "y", "1") else 0.0


def _numeric(values: pd.Series) -> dict[str, Any]:
    """Moments, decile edges and the share of rows between them.

    One sort serves the deciles and the bin counts (``np.histogram``'s bins: closed
    on the left, the last one closed on both sides), about half the cost of
    ``np.quantile`` plus ``np.histogram`` on a training split.
    """
    array = values.to_numpy(dtype=np.float64, na_value=np.nan)
    present = np.sort(array[~np.isnan(array)])
    missing = 1.0 - len(present) / len(values) if len(values) else 0.0
    if present.size == 0:
        return {"missing_share": missing, "count": 0}
    edges = np.unique(np.quantile(present, np.linspace(0, 1, 11)))
    if edges.size > 1:
        starts = np.searchsorted(present, edges[:-1], side="left")
        counts = np.diff(np.append(starts, present.size))
    else:
        counts = np.array([present.size])
    return {
        "missing_share": missing,
        "count": int(present.size),
        "mean": float(present.mean()),
        "std": float(present.std()),
        "min": float(present[0]),
        "max": float(present[-1]),
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

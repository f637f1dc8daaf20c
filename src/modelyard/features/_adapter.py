"""The input adapter: raw columns in, model-ready columns out, identically everywhere.

It runs in front of both flavors of a model (the scikit-learn pipeline and the ONNX
graph) so they see exactly the same inputs:

- numeric, integer and boolean columns become float64 (missing: NaN);
- categorical columns become strings (missing: ``"__missing__"``, so the
  encoders need no imputer, which skl2onnx cannot convert for strings);
- a datetime column becomes five float64 columns: year, month, day of week,
  hour and days since a reference date.

It is plain numpy, holds no fitted state beyond column names, and unpickles
nothing, so the serving path can use it without scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from modelyard.errors import SchemaMismatchError

__all__ = ["DATETIME_PARTS", "MISSING_CATEGORY", "AdaptedColumn", "InputAdapter"]

MISSING_CATEGORY = "__missing__"
DATETIME_PARTS = ("year", "month", "dayofweek", "hour", "days_since_ref")
_REFERENCE = np.datetime64("2000-01-01T00:00:00", "s")
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


@dataclass(frozen=True)
class AdaptedColumn:
    """One column the model graph receives: its name and kind."""

    name: str
    kind: str  # "numeric" or "categorical"


class InputAdapter(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Turn raw feature columns into float64 numerics and string categoricals.

    Args:
        numeric: columns to read as numbers (integers and floats).
        boolean: columns to read as 0/1.
        categorical: columns to read as category labels.
        datetime: columns to decompose into date parts.
    """

    def __init__(
        self,
        numeric: tuple[str, ...] = (),
        boolean: tuple[str, ...] = (),
        categorical: tuple[str, ...] = (),
        datetime: tuple[str, ...] = (),
    ) -> None:
        self.numeric = numeric
        self.boolean = boolean
        self.categorical = categorical
        self.datetime = datetime

    @property
    def raw_columns(self) -> list[str]:
        """The input columns the adapter reads, in order."""
        return [*self.numeric, *self.boolean, *self.categorical, *self.datetime]

    def output_columns(self) -> list[AdaptedColumn]:
        """The columns the adapter produces, in order."""
        numeric = [AdaptedColumn(c, "numeric") for c in (*self.numeric, *self.boolean)]
        dates = [
            AdaptedColumn(f"{c}__{part}", "numeric")
            for c in self.datetime
            for part in DATETIME_PARTS
        ]
        categorical = [AdaptedColumn(c, "categorical") for c in self.categorical]
        return [*numeric, *dates, *categorical]

    def fit(self, X: pd.DataFrame, y: Any = None) -> InputAdapter:
        """Check the columns exist; the adapter learns nothing else."""
        self._require(X)
        self.n_features_in_ = len(self.raw_columns)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Adapt a DataFrame (the pipeline flavor's path)."""
        return pd.DataFrame(self.adapt(X), copy=False)

    def adapt(self, data: Mapping[str, Any] | pd.DataFrame) -> dict[str, npt.NDArray[Any]]:
        """Adapt columns given as a mapping of name to values (DataFrame or dict).

        Raises:
            SchemaMismatchError: a column is missing or cannot be read as its type.
        """
        self._require(data)
        out: dict[str, npt.NDArray[Any]] = {}
        for name in self.numeric:
            out[name] = _as_float(name, data[name])
        for name in self.boolean:
            out[name] = _as_boolean(name, data[name])
        for name in self.datetime:
            out.update(_as_date_parts(name, data[name]))
        for name in self.categorical:
            out[name] = _as_category(data[name])
        return out

    def _require(self, data: Mapping[str, Any] | pd.DataFrame) -> None:
        missing = [c for c in self.raw_columns if c not in data]
        if missing:
            raise SchemaMismatchError(
                f"missing input column(s): {', '.join(missing)}", details={"missing": missing}
            )


def _values(values: Any) -> npt.NDArray[Any]:
    if isinstance(values, pd.Series):
        return values.to_numpy()
    return np.asarray(values, dtype=object if _has_strings(values) else None)


def _has_strings(values: Any) -> bool:
    return isinstance(values, (list, tuple)) and any(isinstance(v, str) for v in values)


def _as_float(name: str, values: Any) -> npt.NDArray[np.float64]:
    if isinstance(values, pd.Series):
        numeric = pd.to_numeric(values, errors="coerce")
        bad = numeric.isna() & values.notna()
        if bad.any():
            example = values[bad].iloc[0]
            raise SchemaMismatchError(
                f"column {name!r} must be numeric, got {example!r}",
                details={"column": name, "value": str(example)},
            )
        return numeric.to_numpy(dtype=np.float64, na_value=np.nan)
    array = _values(values)
    try:
        return np.asarray(
            [np.nan if v is None else float(v) for v in array.ravel()], dtype=np.float64
        )
    except (TypeError, ValueError):
        example = next(v for v in array.ravel() if not _float_like(v))
        raise SchemaMismatchError(
            f"column {name!r} must be numeric, got {example!r}",
            details={"column": name, "value": str(example)},
        ) from None


def _float_like(value: Any) -> bool:
    if value is None:
        return True
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _as_boolean(name: str, values: Any) -> npt.NDArray[np.float64]:
    series = values if isinstance(values, pd.Series) else pd.Series(_values(values), dtype=object)
    result = np.full(len(series), np.nan, dtype=np.float64)
    for index, value in enumerate(series.to_numpy(dtype=object)):
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            continue
        if isinstance(value, (bool, np.bool_)):
            result[index] = float(value)
            continue
        text = str(value).strip().lower()
        if text in _TRUE:
            result[index] = 1.0
        elif text in _FALSE:
            result[index] = 0.0
        else:
            raise SchemaMismatchError(
                f"column {name!r} must be boolean, got {value!r}",
                details={"column": name, "value": str(value)},
            )
    return result


def _as_date_parts(name: str, values: Any) -> dict[str, npt.NDArray[np.float64]]:
    series = values if isinstance(values, pd.Series) else pd.Series(_values(values))
    try:
        moments = pd.to_datetime(series, errors="raise", utc=False, format="mixed")
    except (ValueError, TypeError) as exc:
        raise SchemaMismatchError(
            f"column {name!r} must be a datetime: {exc}", details={"column": name}
        ) from None
    if getattr(moments.dt, "tz", None) is not None:
        moments = moments.dt.tz_convert("UTC").dt.tz_localize(None)
    present = moments.notna().to_numpy()
    seconds = moments.to_numpy(dtype="datetime64[s]")
    days = (seconds - _REFERENCE).astype("timedelta64[s]").astype(np.float64) / 86400.0
    parts = {
        "year": moments.dt.year,
        "month": moments.dt.month,
        "dayofweek": moments.dt.day_of_week,
        "hour": moments.dt.hour,
    }
    out: dict[str, npt.NDArray[np.float64]] = {
        f"{name}__{part}": np.asarray(series_.to_numpy(dtype=np.float64, na_value=np.nan))
        for part, series_ in parts.items()
    }
    out[f"{name}__days_since_ref"] = np.where(present, days, np.nan)
    return out


def _as_category(values: Any) -> npt.NDArray[np.object_]:
    array = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else _values(values)
    result = np.empty(len(array), dtype=object)
    for index, value in enumerate(array):
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            result[index] = MISSING_CATEGORY
        elif isinstance(value, (bool, np.bool_)):
            result[index] = "true" if value else "false"
        elif isinstance(value, float) and value.is_integer():
            result[index] = str(int(value))
        else:
            result[index] = str(value)
    return result

"""One row through the feature recipe in plain Python: what a single request needs.

For one row, numpy's per-call overhead (tens of microseconds per column and step)
costs far more than the arithmetic, so a request of one row is adapted and encoded
here with Python scalars, in exactly the operations and order of
:meth:`InputAdapter.adapt` and :meth:`FeatureRecipe.apply` (IEEE double arithmetic
is the same in both). Anything unusual (a missing column, a value of an
unexpected type, more than one row) returns ``None`` and takes the vectorised
path, which also raises the errors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from modelyard.errors import SchemaMismatchError
from modelyard.features._adapter import (
    FALSE_WORDS,
    MISSING_CATEGORY,
    TRUE_WORDS,
    _as_date_parts,
)

__all__ = ["row_matrix"]

_NUMBER = (bool, int, float, np.bool_, np.integer, np.floating)


def row_matrix(recipe: Any, columns: Mapping[str, Any]) -> npt.NDArray[Any] | None:
    """The model input matrix ``(1, n_features)`` for one row given as
    ``{column: [value]}``, or ``None`` to use the vectorised path.

    Raises:
        SchemaMismatchError: a value cannot be read as its column's type (the same
            message the vectorised path gives).
    """
    if isinstance(columns, pd.DataFrame):
        return None
    adapter = recipe.adapter
    values: dict[str, Any] = {}
    for name in adapter.raw_columns:
        given = columns.get(name)
        if isinstance(given, np.ndarray) and given.shape == (1,):
            given = given.tolist() if given.dtype.kind in "biufUS" else list(given)
        if not isinstance(given, (list, tuple)) or len(given) != 1:
            return None
        values[name] = given[0]
    adapted: dict[str, Any] = {}
    for name in adapter.numeric:
        number = _number(name, values[name])
        if number is None:
            return None
        adapted[name] = number
    for name in adapter.boolean:
        flag = _flag(name, values[name])
        if flag is None:
            return None
        adapted[name] = flag
    for name in adapter.datetime:
        for part, array in _as_date_parts(name, [values[name]]).items():
            adapted[part] = float(array[0])
    for name in adapter.categorical:
        label = _label(values[name])
        if label is None:
            return None
        adapted[name] = label
    return _encode(recipe, adapted)


def _number(name: str, value: Any) -> float | None:
    if value is None:
        return math.nan
    if isinstance(value, _NUMBER):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise SchemaMismatchError(
                f"column {name!r} must be numeric, got {value!r}",
                details={"column": name, "value": value},
            ) from None
    return None


def _flag(name: str, value: Any) -> float | None:
    if value is None:
        return math.nan
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return math.nan
    if not isinstance(value, (str, int, float, np.integer, np.floating)):
        return None
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return 1.0
    if text in FALSE_WORDS:
        return 0.0
    raise SchemaMismatchError(
        f"column {name!r} must be boolean, got {value!r}",
        details={"column": name, "value": str(value)},
    )


def _label(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return MISSING_CATEGORY
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (str, int, float, np.integer)):
        return str(value).rstrip("\x00")  # numpy's fixed-width strings drop trailing NULs
    return None


def _encode(recipe: Any, adapted: dict[str, Any]) -> npt.NDArray[Any]:
    row: list[float] = []
    missing: list[bool] = []
    for spec in recipe.numeric_:
        value = adapted[spec["name"]]
        absent = value != value  # NaN
        filled = spec["fill"] if absent else value
        row.append((filled - spec["center"]) / spec["scale"])
        missing.append(absent)
    row.extend(
        1.0 if absent else 0.0
        for spec, absent in zip(recipe.numeric_, missing, strict=True)
        if spec["indicator"]
    )
    cache: dict[str, dict[str, int]] = recipe.__dict__.setdefault("_level_codes", {})
    for spec in recipe.categorical_:
        lookup = cache.get(spec["name"])
        if lookup is None:
            lookup = cache[spec["name"]] = {level: i for i, level in enumerate(spec["levels"])}
        code = lookup.get(adapted[spec["name"]], -1)
        if spec["encoding"] == "one_hot":
            block = [0.0] * len(spec["levels"])
            if code >= 0:
                block[code] = 1.0
            row.extend(block)
        elif spec["encoding"] == "ordinal":
            row.append(float(code))
        else:
            row.append(spec["default"] if code < 0 else spec["values"][code])
    return np.asarray([row], dtype=np.float64).astype(recipe.output_dtype, copy=False)

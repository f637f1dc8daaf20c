"""The feature recipe: fitted preprocessing as plain data, replayed with numpy.

A recipe learns, from the training rows only, the few numbers preprocessing needs
(medians, means and scales, category lists, target means) and stores them as JSON.
Applying it is numpy arithmetic, identical in training, in the scikit-learn
pipeline, in front of the ONNX graph, in batch and in serving, with nothing
unpickled. This is why preprocessing is not a ColumnTransformer of SimpleImputer,
OneHotEncoder and StandardScaler: ONNX Runtime's Imputer only computes in float32
(moving values across tree split thresholds), and sparse one-hot output makes
XGBoost read implicit zeros as missing. Here everything is computed in float64,
dense, and cast to float32 once at the end, which is what tree ensembles compare in.

Steps, per column kind:

- numeric, integer, boolean (0/1) and datetime parts: missing values filled with the
  training median (or mean); a 0/1 missing indicator for columns that had missing
  values in training; standardised when ``scale`` is on;
- categorical with at most ``one_hot_max_categories`` levels (missing is a level):
  one 0/1 column per training level, an unseen level gives all zeros;
- categorical with more levels: ``ordinal`` codes (unseen: -1), or ``target`` means
  with smoothing (unseen: the overall mean), chosen by ``high_cardinality``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from modelyard.errors import InvalidInputError
from modelyard.features._adapter import DATETIME_PARTS, InputAdapter, _numpy_text

__all__ = ["FeatureRecipe"]

_SMOOTHING = 20.0
_DICT_LOOKUP_MAX_ROWS = 64


@dataclass(frozen=True)
class _NumericPlan:
    """The numeric columns' fill, centre and scale as arrays, in feature order."""

    names: list[str]
    fills: npt.NDArray[np.float64]
    centers: npt.NDArray[np.float64]
    scales: npt.NDArray[np.float64]
    indicators: npt.NDArray[np.intp]


class FeatureRecipe(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Preprocessing as fitted data (scikit-learn transformer contract).

    Args:
        adapter: which raw columns are numeric, boolean, categorical, datetime.
        numeric_imputation: ``median`` or ``mean``.
        missing_indicators: add 0/1 columns for numerics that had missing values.
        scale: standardise numeric columns.
        one_hot_max_categories: the most levels a categorical may have for one-hot.
        high_cardinality: ``ordinal`` or ``target`` for categoricals with more levels.
        output_dtype: ``float32`` (what models are trained and served on) or ``float64``.
    """

    def __init__(
        self,
        adapter: InputAdapter | None = None,
        numeric_imputation: str = "median",
        missing_indicators: bool = True,
        scale: bool = False,
        one_hot_max_categories: int = 20,
        high_cardinality: str = "ordinal",
        output_dtype: str = "float32",
    ) -> None:
        self.adapter = adapter
        self.numeric_imputation = numeric_imputation
        self.missing_indicators = missing_indicators
        self.scale = scale
        self.one_hot_max_categories = one_hot_max_categories
        self.high_cardinality = high_cardinality
        self.output_dtype = output_dtype

    # -- fitting -------------------------------------------------------------------

    def fit(self, X: pd.DataFrame, y: Any = None) -> FeatureRecipe:
        """Learn the recipe's numbers from training rows."""
        if self.adapter is None:
            raise InvalidInputError("a FeatureRecipe needs an InputAdapter")
        if self.numeric_imputation not in ("median", "mean"):
            raise InvalidInputError(
                f"unknown numeric imputation {self.numeric_imputation!r}: use median or mean"
            )
        if self.high_cardinality not in ("ordinal", "target"):
            raise InvalidInputError(
                f"unknown high-cardinality encoding {self.high_cardinality!r}: "
                "use ordinal or target"
            )
        adapted = self.adapter.adapt(X)
        target = _target_values(y) if self.high_cardinality == "target" else None
        numeric: list[dict[str, Any]] = []
        categorical: list[dict[str, Any]] = []
        for column in self.adapter.output_columns():
            values = adapted[column.name]
            if column.kind == "numeric":
                numeric.append(self._fit_numeric(column.name, values))
            else:
                categorical.append(self._fit_categorical(column.name, values, target))
        self.__dict__.pop("_numeric_plan", None)  # caches of a previous fit
        self.__dict__.pop("_level_codes", None)
        self.__dict__.pop("_row_plan", None)
        self.numeric_ = numeric
        self.categorical_ = categorical
        self.feature_names_out_ = self._names()
        self.n_features_in_ = len(self.adapter.raw_columns)
        return self

    def _fit_numeric(self, name: str, values: npt.NDArray[np.float64]) -> dict[str, Any]:
        present = values[~np.isnan(values)]
        if present.size == 0:
            fill = 0.0
        elif self.numeric_imputation == "median":
            fill = float(np.median(present))
        else:
            fill = float(np.mean(present))
        filled = np.where(np.isnan(values), fill, values)
        std = float(np.std(filled)) if self.scale else 1.0
        return {
            "name": name,
            "fill": fill,
            "indicator": bool(self.missing_indicators and present.size < values.size),
            "center": float(np.mean(filled)) if self.scale else 0.0,
            "scale": std if std > 0 else 1.0,
        }

    def _fit_categorical(
        self, name: str, values: npt.NDArray[Any], target: npt.NDArray[np.float64] | None
    ) -> dict[str, Any]:
        levels = _levels(values)
        if len(levels) <= self.one_hot_max_categories:
            return {"name": name, "encoding": "one_hot", "levels": levels}
        if target is None:
            return {"name": name, "encoding": "ordinal", "levels": levels}
        prior = float(np.mean(target))
        frame = pd.DataFrame({"level": values.astype(str), "y": target})
        stats = frame.groupby("level")["y"].agg(["sum", "count"])
        smoothed = (stats["sum"] + _SMOOTHING * prior) / (stats["count"] + _SMOOTHING)
        return {
            "name": name,
            "encoding": "target",
            "levels": [str(level) for level in smoothed.index],
            "values": [float(v) for v in smoothed.to_numpy()],
            "default": prior,
        }

    def _names(self) -> list[str]:
        names: list[str] = []
        for spec in self.numeric_:
            names.append(spec["name"])
        for spec in self.numeric_:
            if spec["indicator"]:
                names.append(f"{spec['name']}__missing")
        for spec in self.categorical_:
            if spec["encoding"] == "one_hot":
                names.extend(f"{spec['name']}={level}" for level in spec["levels"])
            else:
                names.append(f"{spec['name']}__{spec['encoding']}")
        return names

    # -- applying --------------------------------------------------------------------

    def transform(self, X: pd.DataFrame) -> npt.NDArray[Any]:
        """Apply the recipe to a DataFrame (or a mapping of column arrays)."""
        assert self.adapter is not None
        return self.apply(self.adapter.adapt(X))

    def apply(self, adapted: dict[str, npt.NDArray[Any]]) -> npt.NDArray[Any]:
        """Apply the recipe to adapted columns; returns the model's input matrix.

        Vectorised across columns (one matrix filled in place), because serving
        calls this for single rows, where per-column numpy calls would dominate.
        """
        plan = self._plan()
        n_rows = len(next(iter(adapted.values()))) if adapted else 0
        matrix = np.zeros((n_rows, len(self.feature_names_out_)), dtype=np.float64)
        n_numeric = len(plan.names)
        if n_numeric:
            raw = np.column_stack([adapted[name] for name in plan.names])
            missing = np.isnan(raw)
            filled = np.where(missing, plan.fills, raw)
            matrix[:, :n_numeric] = (filled - plan.centers) / plan.scales
            matrix[:, n_numeric : n_numeric + len(plan.indicators)] = missing[:, plan.indicators]
        column = n_numeric + len(plan.indicators)
        for spec in self.categorical_:
            codes = self._codes(spec, adapted[spec["name"]])
            if spec["encoding"] == "one_hot":
                rows = np.flatnonzero(codes >= 0)
                matrix[rows, column + codes[rows]] = 1.0  # unseen levels: all zeros
                column += len(spec["levels"])
                continue
            if spec["encoding"] == "ordinal":
                matrix[:, column] = codes
            else:
                table = np.append(np.asarray(spec["values"], dtype=np.float64), spec["default"])
                matrix[:, column] = table[codes]  # code -1 picks the default at the end
            column += 1
        return matrix.astype(self.output_dtype, copy=False)

    def _plan(self) -> _NumericPlan:
        """The numeric steps as arrays, built once from ``numeric_``."""
        plan = self.__dict__.get("_numeric_plan")
        if plan is None:
            plan = _NumericPlan(
                names=[spec["name"] for spec in self.numeric_],
                fills=np.asarray([spec["fill"] for spec in self.numeric_], dtype=np.float64),
                centers=np.asarray([spec["center"] for spec in self.numeric_], dtype=np.float64),
                scales=np.asarray([spec["scale"] for spec in self.numeric_], dtype=np.float64),
                indicators=np.asarray(
                    [i for i, spec in enumerate(self.numeric_) if spec["indicator"]], dtype=np.intp
                ),
            )
            self.__dict__["_numeric_plan"] = plan
        return plan

    def _codes(self, spec: dict[str, Any], values: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
        """Each value's position among the training levels (-1: unseen).

        Values are compared as numpy text (``astype(str)``, which drops trailing
        NULs). A few rows (a request) look each up in a dict built once per column;
        many rows (a batch, a split) are factorized and only their distinct values
        looked up, several times faster than converting every value to numpy text.
        """
        lookup = self.level_lookup(spec)
        if len(values) <= _DICT_LOOKUP_MAX_ROWS:
            return np.fromiter((lookup.get(v, -1) for v in values.astype(str)), np.int64)
        codes, distinct = pd.factorize(values)  # the adapter's values: text, never missing
        found = np.fromiter((lookup.get(_numpy_text(v), -1) for v in distinct), np.int64)
        return np.append(found, -1)[codes]  # a code of -1 (not expected) stays unseen

    def level_lookup(self, spec: dict[str, Any]) -> dict[str, int]:
        """Level -> position for one categorical spec, built once per fit (kept with
        the recipe): the few-row path here and the one-row encoding share it."""
        cache: dict[str, dict[str, int]] = self.__dict__.setdefault("_level_codes", {})
        lookup = cache.get(spec["name"])
        if lookup is None:
            lookup = cache[spec["name"]] = {level: i for i, level in enumerate(spec["levels"])}
        return lookup

    def feature_sources(self) -> list[str]:
        """The raw input column each output feature comes from, in feature order.

        Every feature depends on exactly one raw column, so shuffling a raw column
        is the same as shuffling its features' rows: permutation importance uses
        this to transform once instead of once per shuffle.
        """
        assert self.adapter is not None
        raw = {name: name for name in self.adapter.raw_columns}
        raw.update({f"{c}__{part}": c for c in self.adapter.datetime for part in DATETIME_PARTS})
        sources = [raw[spec["name"]] for spec in self.numeric_]
        sources += [raw[spec["name"]] for spec in self.numeric_ if spec["indicator"]]
        for spec in self.categorical_:
            width = len(spec["levels"]) if spec["encoding"] == "one_hot" else 1
            sources += [spec["name"]] * width
        return sources

    def get_feature_names_out(self, input_features: Any = None) -> npt.NDArray[np.object_]:
        """Names of the model's input columns (after encoding)."""
        return np.asarray(self.feature_names_out_, dtype=object)

    def to_dict(self) -> dict[str, Any]:
        """The fitted recipe as JSON-ready data (stored in the model manifest)."""
        assert self.adapter is not None
        return {
            "adapter": {
                "numeric": list(self.adapter.numeric),
                "boolean": list(self.adapter.boolean),
                "categorical": list(self.adapter.categorical),
                "datetime": list(self.adapter.datetime),
            },
            "numeric": self.numeric_,
            "categorical": self.categorical_,
            "feature_names": self.feature_names_out_,
            "output_dtype": self.output_dtype,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureRecipe:
        """A fitted recipe from :meth:`to_dict` output (no pickle involved)."""
        adapter = InputAdapter(
            numeric=tuple(data["adapter"]["numeric"]),
            boolean=tuple(data["adapter"]["boolean"]),
            categorical=tuple(data["adapter"]["categorical"]),
            datetime=tuple(data["adapter"]["datetime"]),
        )
        recipe = cls(adapter=adapter, output_dtype=data.get("output_dtype", "float32"))
        recipe.numeric_ = data["numeric"]
        recipe.categorical_ = data["categorical"]
        recipe.feature_names_out_ = list(data["feature_names"])
        recipe.n_features_in_ = len(adapter.raw_columns)
        return recipe


def _target_values(y: Any) -> npt.NDArray[np.float64] | None:
    if y is None:
        return None
    values = pd.Series(np.asarray(y))
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        numbers: npt.NDArray[np.float64] = values.to_numpy(dtype=np.float64)
        return numbers
    # a binary label given as strings: the second sorted label is the positive one
    levels = sorted(values.astype(str).unique())
    positive: npt.NDArray[np.float64] = (values.astype(str) == levels[-1]).to_numpy(
        dtype=np.float64
    )
    return positive


def _levels(values: npt.NDArray[Any]) -> list[str]:
    """The distinct texts of a categorical column, sorted by code point: what
    ``np.unique(values.astype(str))`` gives, from the distinct values alone."""
    return sorted({_numpy_text(v) for v in pd.unique(values)})

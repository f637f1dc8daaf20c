"""Preprocessing steps: each declared once, as what it learns and how it transforms.

A step is a small frozen dataclass. Its fields are what it learned from the
training rows (plain numbers and text, stored as JSON in the model package);
:meth:`Step.fit` learns them, :meth:`Step.transform` writes the step's block of
the model's input matrix from adapted columns (numpy arrays of any length: one
row for a request, a record batch, a training split). Training, prediction, the
gateway and batch transform all run these same methods, so a new kind of step is
one subclass here and nothing else. Everything is computed in float64 and cast
to the model's dtype as it is written into the matrix
(:class:`~modelyard.features.FittedRecipe` allocates it in that dtype).

Why not scikit-learn's ``SimpleImputer`` / ``OneHotEncoder`` / ``StandardScaler``
in a ``ColumnTransformer``: ONNX Runtime's Imputer computes in float32 (moving
values across tree split thresholds), sparse one-hot output makes XGBoost read
implicit zeros as missing, and a pickled transformer is code the serving side
would have to unpickle. The steps compute what those do (the tests check them
against scikit-learn), from data.

This module imports only numpy.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from modelyard.features._table import coded

__all__ = [
    "FitData",
    "Impute",
    "MissingFlag",
    "OneHot",
    "Ordinal",
    "RecipeOptions",
    "Step",
    "TargetMean",
]

Columns = Mapping[str, npt.NDArray[Any]]
_SMOOTHING = 20.0
_FEW_ROWS = 16
_FACTORIZE_ROWS = 1_000


@dataclass(frozen=True)
class RecipeOptions:
    """The choices a recipe's steps are fitted with (see ``FeatureRecipe``)."""

    numeric_imputation: str = "median"
    missing_indicators: bool = True
    scale: bool = False
    one_hot_max_categories: int = 20
    high_cardinality: str = "ordinal"


@dataclass(frozen=True)
class FitData:
    """What a step learns from: the training rows' adapted columns, the target
    (0/1 or numbers; ``None`` when the recipe was fitted without one), the options."""

    table: Columns
    target: npt.NDArray[np.float64] | None
    options: RecipeOptions


class Step(ABC):
    """One preprocessing step over adapted columns.

    Contract: a subclass is a frozen dataclass with a unique ``kind``; its fields
    are JSON values (numbers, text, tuples of them). ``fit(columns, data)`` sees
    only training rows (:class:`FitData`) and returns the fitted step.
    ``transform`` reads the columns named in ``columns`` and fills ``out``, a
    zeroed float64 block of ``(n_rows, width)``; it works for any number of rows,
    including none, and never changes its inputs. The columns are numpy arrays; a
    step whose ``takes_lists`` is true is also given a request's few rows (at most
    16) as Python lists, as :meth:`InputAdapter.adapt_rows` reads them, and must
    compute the same values from them.
    """

    kind: ClassVar[str]
    _kinds: ClassVar[dict[str, type[Step]]] = {}
    takes_lists: ClassVar[bool] = False
    columns: tuple[str, ...]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            Step._kinds[cls.kind] = cls

    @classmethod
    @abstractmethod
    def fit(cls, columns: tuple[str, ...], data: FitData) -> Step:
        """Learn the step from the training rows of ``columns``."""

    @abstractmethod
    def names(self) -> list[str]:
        """The names of the output columns, in order."""

    @abstractmethod
    def transform(self, table: Columns, out: npt.NDArray[np.float64]) -> None:
        """Write the output columns for the rows of ``table`` into ``out``."""

    def sources(self) -> list[str]:
        """The adapted column each output column comes from (one per output)."""
        if len(self.columns) == 1:
            return list(self.columns) * len(self.names())
        return list(self.columns)

    @property
    def width(self) -> int:
        """How many output columns the step writes."""
        return len(self.names())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the kind and the learned fields."""
        data: dict[str, Any] = {"kind": self.kind}
        for item in fields(self):  # type: ignore[arg-type]  # every step is a dataclass
            value = getattr(self, item.name)
            data[item.name] = list(value) if isinstance(value, tuple) else value
        return data

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Step:
        """A step from :meth:`to_dict` output."""
        kind = Step._kinds.get(str(data.get("kind")))
        if kind is None:
            from modelyard.errors import InvalidInputError

            raise InvalidInputError(f"unknown preprocessing step {data.get('kind')!r}")
        params = {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in data.items()
            if key != "kind"
        }
        return kind(**params)


@dataclass(frozen=True)
class Impute(Step):
    """Numeric columns: a missing value becomes the training median (or mean);
    then, when scaling, ``(x - mean) / std`` of the filled training values
    (``SimpleImputer`` then ``StandardScaler``)."""

    kind: ClassVar[str] = "impute"
    takes_lists: ClassVar[bool] = True
    columns: tuple[str, ...]
    fills: tuple[float, ...]
    centers: tuple[float, ...]
    scales: tuple[float, ...]

    @classmethod
    def fit(cls, columns: tuple[str, ...], data: FitData) -> Impute:
        options = data.options
        fills, centers, scales = [], [], []
        for name in columns:
            values = data.table[name]
            present = values[~np.isnan(values)]
            if present.size == 0:
                fill = 0.0
            elif options.numeric_imputation == "median":
                fill = float(np.median(present))
            else:
                fill = float(np.mean(present))
            fills.append(fill)
            if options.scale:
                filled = np.where(np.isnan(values), fill, values)
                center, variance = float(np.mean(filled)), float(np.var(filled))
                centers.append(center)
                scales.append(1.0 if _constant(variance, center, len(filled)) else variance**0.5)
            else:
                centers.append(0.0)
                scales.append(1.0)
        return cls(columns, tuple(fills), tuple(centers), tuple(scales))

    def names(self) -> list[str]:
        return list(self.columns)

    @cached_property
    def _learned(self) -> list[tuple[float, float, float]]:
        return list(zip(self.fills, self.centers, self.scales, strict=True))

    @cached_property
    def _arrays(self) -> tuple[npt.NDArray[np.float64], ...]:
        return tuple(
            np.asarray(v, dtype=np.float64) for v in (self.fills, self.centers, self.scales)
        )

    def transform(self, table: Columns, out: npt.NDArray[np.float64]) -> None:
        if not self.columns:
            return
        if len(out) <= _FEW_ROWS:  # a request: Python floats are IEEE doubles too
            if not len(out):
                return
            rows = zip(*(_values(table[name]) for name in self.columns), strict=True)
            learned = self._learned
            out[:] = [
                [
                    ((value if value == value else fill) - center) / scale
                    for value, (fill, center, scale) in zip(row, learned, strict=True)
                ]
                for row in rows
            ]
            return
        # a column at a time: the same operations as on the block, with one
        # column-sized temporary instead of three block-sized ones
        for index, (name, (fill, center, scale)) in enumerate(
            zip(self.columns, self._learned, strict=True)
        ):
            values = np.asarray(table[name], dtype=np.float64)
            filled = np.where(np.isnan(values), fill, values)
            np.subtract(filled, center, out=filled)
            np.divide(filled, scale, out=out[:, index])


def _constant(variance: float, mean: float, n: int) -> bool:
    """Whether a variance is rounding noise around a constant (scikit-learn's bound
    in ``StandardScaler``): scaling by its root would blow noise up to +-1."""
    eps = float(np.finfo(np.float64).eps)
    return variance <= n * eps * variance + (n * mean * eps) ** 2


@dataclass(frozen=True)
class MissingFlag(Step):
    """A 0/1 column per numeric column that had missing values in training
    (``MissingIndicator(features="missing-only")``)."""

    kind: ClassVar[str] = "missing_flag"
    takes_lists: ClassVar[bool] = True
    columns: tuple[str, ...]

    @classmethod
    def fit(cls, columns: tuple[str, ...], data: FitData) -> MissingFlag:
        if not data.options.missing_indicators:
            return cls(())
        return cls(tuple(name for name in columns if np.isnan(data.table[name]).any()))

    def names(self) -> list[str]:
        return [f"{name}__missing" for name in self.columns]

    def transform(self, table: Columns, out: npt.NDArray[np.float64]) -> None:
        if len(out) <= _FEW_ROWS:  # a request: one write for the whole block
            if self.columns and len(out):
                rows = zip(*(_values(table[name]) for name in self.columns), strict=True)
                out[:] = [[value != value for value in row] for row in rows]
            return
        for index, name in enumerate(self.columns):
            out[:, index] = np.isnan(table[name])


class _Levels(Step):
    """A categorical step: one column, its training levels (sorted by code point)."""

    takes_lists: ClassVar[bool] = True
    levels: tuple[str, ...]

    @classmethod
    def fit(cls, columns: tuple[str, ...], data: FitData) -> Step:
        """The sorted distinct texts of the training rows."""
        return cls(columns, _levels(data.table[columns[0]]))  # type: ignore[call-arg]

    @cached_property
    def _lookup(self) -> dict[str, int]:
        return {level: code for code, level in enumerate(self.levels)}

    def codes(self, table: Columns) -> list[int] | npt.NDArray[np.intp]:
        """Each value's position among the training levels (-1: unseen)."""
        lookup = self._lookup
        name = self.columns[0]
        known = coded(table, name)
        if known is not None:  # read from its distinct values: look each up once
            found = np.fromiter((lookup.get(v, -1) for v in known.labels.tolist()), np.intp)
            return found[known.codes]  # code -1 picks the last label: missing
        values = table[name]
        pandas = sys.modules.get("pandas")
        if pandas is None or len(values) <= _FACTORIZE_ROWS:
            return [lookup.get(v, -1) for v in _values(values)]
        # many rows, pandas already loaded (a DataFrame was read): look each
        # distinct value up once, not each row (a hash table in C finds them)
        inverse, distinct = pandas.factorize(values, use_na_sentinel=False)
        found = np.fromiter((lookup.get(v, -1) for v in distinct.tolist()), np.intp)
        codes: npt.NDArray[np.intp] = found[inverse]
        return codes


def _values(column: Any) -> list[Any]:
    """A column's values as Python objects (a few rows' column may be a list already)."""
    return column if type(column) is list else column.tolist()


def _levels(values: npt.NDArray[Any]) -> tuple[str, ...]:
    return tuple(sorted(set(values.tolist())))


@dataclass(frozen=True)
class OneHot(_Levels):
    """One 0/1 column per training level; an unseen level gives all zeros
    (``OneHotEncoder(handle_unknown="ignore")``; missing is a level of its own)."""

    kind: ClassVar[str] = "one_hot"
    columns: tuple[str, ...]
    levels: tuple[str, ...]

    def names(self) -> list[str]:
        return [f"{self.columns[0]}={level}" for level in self.levels]

    def transform(self, table: Columns, out: npt.NDArray[np.float64]) -> None:
        codes = self.codes(table)
        if len(codes) <= _FEW_ROWS:  # a request: numpy's per-call cost would dominate
            for row, code in enumerate(codes):
                if code >= 0:  # an unseen level: all zeros
                    out[row, code] = 1.0
            return
        array = np.asarray(codes, dtype=np.intp)
        rows = np.flatnonzero(array >= 0)
        out[rows, array[rows]] = 1.0


@dataclass(frozen=True)
class Ordinal(_Levels):
    """The level's position among the training levels; -1 for an unseen level
    (``OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)``)."""

    kind: ClassVar[str] = "ordinal"
    columns: tuple[str, ...]
    levels: tuple[str, ...]

    def names(self) -> list[str]:
        return [f"{self.columns[0]}__ordinal"]

    def transform(self, table: Columns, out: npt.NDArray[np.float64]) -> None:
        out[:, 0] = self.codes(table)


@dataclass(frozen=True)
class TargetMean(_Levels):
    """The level's training target mean, smoothed towards the overall mean with
    the weight of 20 rows; an unseen level gives the overall mean."""

    kind: ClassVar[str] = "target"
    columns: tuple[str, ...]
    levels: tuple[str, ...]
    means: tuple[float, ...]
    default: float

    @classmethod
    def fit(cls, columns: tuple[str, ...], data: FitData) -> TargetMean:
        target = data.target
        if target is None:
            from modelyard.errors import InvalidInputError

            raise InvalidInputError("target encoding needs the target values")
        values = data.table[columns[0]]
        levels = _levels(values)
        lookup = {level: code for code, level in enumerate(levels)}
        codes = np.fromiter((lookup[v] for v in values.tolist()), np.intp, len(values))
        sums = np.bincount(codes, weights=target, minlength=len(levels))
        counts = np.bincount(codes, minlength=len(levels))
        prior = float(np.mean(target))
        means = (sums + _SMOOTHING * prior) / (counts + _SMOOTHING)
        return cls(columns, levels, tuple(float(m) for m in means), prior)

    def names(self) -> list[str]:
        return [f"{self.columns[0]}__target"]

    @cached_property
    def _table(self) -> npt.NDArray[np.float64]:
        return np.append(np.asarray(self.means, dtype=np.float64), self.default)

    def transform(self, table: Columns, out: npt.NDArray[np.float64]) -> None:
        codes = np.asarray(self.codes(table), dtype=np.intp)
        out[:, 0] = self._table[codes]  # code -1 picks the default at the end

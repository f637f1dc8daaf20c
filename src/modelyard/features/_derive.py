"""Fitted steps of a user's recipe: column steps that rewrite the adapted table, and
output steps that write a block of the matrix (bucket, TF-IDF).

A column step (:class:`Derive`) writes no matrix columns: :meth:`Derive.rewrite`
replaces, adds or removes columns of the adapted table before the output steps
(``Impute``, ``OneHot``, ``TargetMean``... of :mod:`._steps`) read it. Like every
step, each one is a frozen dataclass of JSON values fitted from the training rows
(by :mod:`._user`), and the same methods run for one request row and for a
million batch rows. A value a step cannot take at inference (a negative number
under a log) raises :class:`~modelyard.errors.SchemaMismatchError` naming the
column, which the gateway answers as a 4xx.

This module imports numpy and the standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from modelyard.features._expr import Expression
from modelyard.features._read import MISSING_CATEGORY
from modelyard.features._steps import Columns, FitData, Step
from modelyard.features._table import Table, coded

__all__ = [
    "Bucket",
    "Cast",
    "Clip",
    "DateParts",
    "DaysBetween",
    "Deduplicate",
    "Derive",
    "Derived",
    "Drop",
    "Fill",
    "Function",
    "GroupFill",
    "Power",
    "Rename",
    "RowFilter",
    "TextStats",
    "Tfidf",
]

SECONDS_PER_DAY = 86_400.0
# the domain each function accepts (a value outside is refused at inference)
FUNCTIONS = {"log1p": -1.0, "log": 0.0, "sqrt": 0.0}
_INCLUSIVE = {"sqrt"}  # sqrt takes 0; log needs > 0, log1p > -1
TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # scikit-learn's default token_pattern


class Derive(Step):
    """A column step: rewrites the adapted table, writes no matrix columns."""

    def names(self) -> list[str]:
        return []

    def sources(self) -> list[str]:
        return []

    @classmethod
    def fit(cls, columns: tuple[str, ...], data: FitData) -> Step:
        raise TypeError(f"a {cls.kind} step is fitted from a recipe (modelyard.features.Recipe)")

    def transform(self, table: Columns, out: npt.NDArray[np.float64]) -> None:
        return None

    def rewrite(self, table: dict[str, npt.NDArray[Any]]) -> None:
        """Replace, add or remove columns of ``table`` (in place)."""

    def trace(self, sources: dict[str, str]) -> None:
        """Record the raw column each new column comes from (the first input's)."""


def _rows(table: Mapping[str, npt.NDArray[Any]]) -> int:
    return len(next(iter(table.values()))) if table else 0


@dataclass(frozen=True)
class Drop(Derive):
    """Remove columns (a datetime column's parts with it)."""

    kind: ClassVar[str] = "drop"
    columns: tuple[str, ...]

    def rewrite(self, table: dict[str, npt.NDArray[Any]]) -> None:
        for name in self.columns:
            table.pop(name, None)


@dataclass(frozen=True)
class Rename(Derive):
    """Give a column a new name."""

    kind: ClassVar[str] = "rename"
    columns: tuple[str, ...]
    to: str

    def rewrite(self, table: dict[str, npt.NDArray[Any]]) -> None:
        table[self.to] = table.pop(self.columns[0])

    def trace(self, sources: dict[str, str]) -> None:
        sources[self.to] = sources[self.columns[0]]


@dataclass(frozen=True)
class Cast(Derive):
    """Read a column as the other kind: numbers as category labels (``3.0`` reads
    ``"3"``), or labels as numbers (a label that is not a number is refused)."""

    kind: ClassVar[str] = "cast"
    columns: tuple[str, ...]
    to: str

    def rewrite(self, table: dict[str, npt.NDArray[Any]]) -> None:
        name = self.columns[0]
        table[name] = cast(name, table[name], self.to)


def cast(name: str, values: npt.NDArray[Any], to: str) -> npt.NDArray[Any]:
    """``values`` as ``numeric`` (float64) or ``categorical`` (text) columns."""
    if to == "categorical":
        labels = np.empty(len(values), dtype=object)
        labels[:] = [_label(v) for v in values.tolist()]
        return labels
    numbers = np.empty(len(values), dtype=np.float64)
    for row, value in enumerate(values.tolist()):
        if value == MISSING_CATEGORY:
            numbers[row] = np.nan
            continue
        try:
            numbers[row] = float(value)
        except ValueError:
            from modelyard.errors import SchemaMismatchError

            raise SchemaMismatchError(
                f"column {name!r} must be a number (the recipe casts it), got {value!r:.60}",
                details={"column": name, "row": row},
            ) from None
    return numbers


def _label(value: float) -> str:
    if value != value:
        return MISSING_CATEGORY
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True)
class Fill(Derive):
    """Fill a column's missing values with a learned or given value."""

    kind: ClassVar[str] = "fill"
    columns: tuple[str, ...]
    value: float | str

    def rewrite(self, table: dict[str, npt.NDArray[Any]]) -> None:
        name = self.columns[0]
        values = table[name]
        known = coded(table, name)
        if known is not None and isinstance(table, Table):  # fill the labels: same text
            labels = known.labels.copy()
            labels[known.labels == MISSING_CATEGORY] = self.value
            table.put_coded(name, known.codes, labels)
        elif values.dtype == object:
            filled = values.copy()
            filled[values == MISSING_CATEGORY] = self.value
            table[name] = filled
        else:
            table[name] = np.where(np.isnan(values), float(self.value), values)


@dataclass(frozen=True)
class GroupFill(Derive):
    """Fill a column's missing values with its group's learned value: ``columns`` is
    ``(column, by)``, ``groups`` the training groups (the group column's labels, a
    number read as :func:`cast` writes it) and ``values`` their fills, aligned. A
    row whose group is missing, or was not seen in training (or had no value of
    the column there), gets ``default``, the column's overall value.

    Only the missing rows' groups are looked up: a column with few missing values
    costs one mask. A categorical column's codes (:class:`Table`) are retired: its
    filled rows no longer share one label per code."""

    kind: ClassVar[str] = "group_fill"
    columns: tuple[str, ...]
    groups: tuple[str, ...]
    values: tuple[float | str, ...]
    default: float | str

    @cached_property
    def _lookup(self) -> dict[str, float | str]:
        return dict(zip(self.groups, self.values, strict=True))

    def rewrite(self, table: dict[str, npt.NDArray[Any]]) -> None:
        name, by = self.columns
        values = table[name]
        text = values.dtype == object
        missing = values == MISSING_CATEGORY if text else np.isnan(values)
        rows = np.flatnonzero(missing)
        if not rows.size:
            return
        keys = table[by][rows]
        if keys.dtype != object:  # a numeric group column: its labels
            keys = cast(by, keys, "categorical")
        lookup, default = self._lookup, self.default
        fills = [lookup.get(key, default) for key in keys.tolist()]
        filled = values.copy()
        filled[rows] = np.asarray(fills, dtype=object if text else np.float64)
        table[name] = filled


@dataclass(frozen=True)
class Clip(Derive):
    """Limit a column to ``[low, high]`` (winsorising at learned quantiles, or
    given bounds); missing values stay missing."""

    kind: ClassVar[str] = "clip"
    columns: tuple[str, ...]
    low: float | None
    high: float | None

    def rewrite(self, table: dict[str, npt.NDArray[Any]]) -> None:
        name = self.columns[0]
        low = -np.inf if self.low is None else self.low
        high = np.inf if self.high is None else self.high
        table[name] = np.clip(table[name], low, high)


@dataclass(frozen=True)
class Function(Derive):
    """``log1p``, ``log`` or ``sqrt`` of columns, in place."""

    kind: ClassVar[str] = "function"
    columns: tuple[str, ...]
    function: str

    def rewrite(self, table: dict[str, npt.NDArray[Any]]) -> None:
        for name in self.columns:
            values = table[name]
            bad = outside_domain(self.function, values)
            if bad.any():
                from modelyard.errors import SchemaMismatchError

                row = int(np.flatnonzero(bad)[0])
                raise SchemaMismatchError(
                    f"column {name!r} must be {domain_words(self.function)} "
                    f"(the recipe takes its {self.function}), got {values[row]!r}",
                    details={"column": name, "row": row},
                )
            table[name] = getattr(np, self.function)(values)


def outside_domain(function: str, values: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Which values ``function`` cannot take (missing values pass: they stay missing)."""
    bound = FUNCTIONS[function]
    with np.errstate(invalid="ignore"):
        if function in _INCLUSIVE:
            return values < bound
        return values <= bound


def domain_words(function: str) -> str:
    """The domain of ``function`` in words (for error messages)."""
    bound = FUNCTIONS[function]
    return f"{'at least' if function in _INCLUSIVE else 'greater than'} {bound:g}"


@dataclass(frozen=True)
class Power(Derive):
    """A Box-Cox or Yeo-Johnson power transform with the training rows' maximum
    likelihood ``lam`` (scikit-learn's ``PowerTransformer(standardize=False)``
    formulas); Box-Cox takes only positive values."""

    kind: ClassVar[str] = "power"
    columns: tuple[str, ...]
    method: str
    lam: float

    def rewrite(self, table: dict[str, npt.NDArray[Any]]) -> None:
        name = self.columns[0]
        table[name] = power(name, table[name], self.method, self.lam)


def power(name: str, x: npt.NDArray[np.float64], method: str, lam: float) -> npt.NDArray[Any]:
    """The power transform of ``x`` (missing values stay missing)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "box-cox":
            bad = x <= 0
            if bad.any():
                from modelyard.errors import SchemaMismatchError

                row = int(np.flatnonzero(bad)[0])
                raise SchemaMismatchError(
                    f"column {name!r} must be greater than 0 (the recipe takes its Box-Cox "
                    f"transform), got {x[row]!r}",
                    details={"column": name, "row": row},
                )
            return np.log(x) if abs(lam) < 1e-12 else (np.power(x, lam) - 1) / lam
        positive = x >= 0
        out = np.full(x.shape, np.nan)
        up, down = np.abs(x) + 1, lam
        if abs(lam) < 1e-12:
            out[positive] = np.log1p(x[positive])
        else:
            out[positive] = (np.power(up[positive], down) - 1) / lam
        negative = x < 0
        if abs(lam - 2) < 1e-12:
            out[negative] = -np.log1p(-x[negative])
        else:
            out[negative] = -(np.power(up[negative], 2 - lam) - 1) / (2 - lam)
        return out


@dataclass(frozen=True)
class TextStats(Derive):
    """The length in characters and the word count of a text column, as the
    numeric columns ``<column>__chars`` and ``<column>__words`` (a missing text
    counts 0)."""

    kind: ClassVar[str] = "text_stats"
    columns: tuple[str, ...]

    def rewrite(self, table: dict[str, npt.NDArray[Any]]) -> None:
        name = self.columns[0]
        texts = ["" if v == MISSING_CATEGORY else str(v) for v in table[name].tolist()]
        table[f"{name}__chars"] = np.fromiter(map(len, texts), np.float64, len(texts))
        words = (len(text.split()) for text in texts)
        table[f"{name}__words"] = np.fromiter(words, np.float64, len(texts))

    def trace(self, sources: dict[str, str]) -> None:
        for part in ("chars", "words"):
            sources[f"{self.columns[0]}__{part}"] = sources[self.columns[0]]


@dataclass(frozen=True)
class Derived(Derive):
    """A new numeric column computed by an expression of numeric columns (a ratio
    is ``numerator / denominator``); division by zero gives a missing value."""

    kind: ClassVar[str] = "derived"
    columns: tuple[str, ...]
    name: str
    expression: str

    @cached_property
    def _parsed(self) -> Expression:
        return Expression(self.expression)

    def rewrite(self, table: dict[str, npt.NDArray[Any]]) -> None:
        table[self.name] = self._parsed.evaluate(table, _rows(table))

    def trace(self, sources: dict[str, str]) -> None:
        sources[self.name] = sources[self.columns[0]] if self.columns else self.name


@dataclass(frozen=True)
class DateParts(Derive):
    """Keep the chosen parts of a datetime column (``year``, ``month``,
    ``dayofweek``, ``hour``), and with ``reference`` (days since 2000-01-01) add
    ``<column>__days_since``: the days from that reference to the value."""

    kind: ClassVar[str] = "date_parts"
    columns: tuple[str, ...]
    parts: tuple[str, ...]
    reference: float | None

    def rewrite(self, table: dict[str, npt.NDArray[Any]]) -> None:
        name = self.columns[0]
        days = table.get(f"{name}__days_since_ref")
        for part in ("year", "month", "dayofweek", "hour", "days_since_ref"):
            if part not in self.parts:
                table.pop(f"{name}__{part}", None)
        if self.reference is not None and days is not None:
            table[f"{name}__days_since"] = days - self.reference

    def trace(self, sources: dict[str, str]) -> None:
        sources[f"{self.columns[0]}__days_since"] = self.columns[0]


@dataclass(frozen=True)
class DaysBetween(Derive):
    """A new numeric column ``name``: the days from datetime column ``start`` to
    ``end`` (``end - start``, fractional; negative when ``end`` is earlier),
    missing when either date is. Read from the columns' days since 2000-01-01 (the
    part every datetime column is adapted into), so the difference carries their
    rounding (about 1e-11 days)."""

    kind: ClassVar[str] = "days_between"
    columns: tuple[str, ...]
    name: str

    def rewrite(self, table: dict[str, npt.NDArray[Any]]) -> None:
        start, end = self.columns
        table[self.name] = table[f"{end}__days_since_ref"] - table[f"{start}__days_since_ref"]

    def trace(self, sources: dict[str, str]) -> None:
        sources[self.name] = self.columns[0]  # a datetime column is never renamed


@dataclass(frozen=True)
class RowFilter(Derive):
    """A training-only row filter: recorded with the recipe, never applied to a
    request or a batch row (:meth:`keep` is what training applies)."""

    kind: ClassVar[str] = "filter"
    columns: tuple[str, ...]
    expression: str

    def keep(self, table: Mapping[str, npt.NDArray[Any]]) -> npt.NDArray[np.bool_]:
        """Which rows the filter keeps."""
        kept: npt.NDArray[np.bool_] = Expression(self.expression, condition=True).evaluate(
            table, _rows(table)
        )
        return kept


@dataclass(frozen=True)
class Deduplicate(Derive):
    """A training-only de-duplication: of training rows equal in ``columns`` (in
    every column, the target's included, when empty) the first is kept; recorded with the recipe,
    never applied to a request or a batch row."""

    kind: ClassVar[str] = "deduplicate"
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Bucket(Step):
    """The bin a number falls in: ``0`` below the first edge, ``len(edges)`` at or
    above the last; missing values give -1."""

    kind: ClassVar[str] = "bucket"
    columns: tuple[str, ...]
    edges: tuple[float, ...]

    @classmethod
    def fit(cls, columns: tuple[str, ...], data: FitData) -> Step:
        raise TypeError("a bucket step is fitted from a recipe (modelyard.features.Recipe)")

    def names(self) -> list[str]:
        return [f"{self.columns[0]}__bucket"]

    def transform(self, table: Columns, out: npt.NDArray[np.float64]) -> None:
        values = table[self.columns[0]]
        bins = np.searchsorted(np.asarray(self.edges), values, side="right").astype(np.float64)
        out[:, 0] = np.where(np.isnan(values), -1.0, bins)


@dataclass(frozen=True)
class Tfidf(Step):
    """TF-IDF of a text column's words and word n-grams: what scikit-learn's
    ``TfidfVectorizer`` (default analyzer, lowercase, l2 norm, smooth idf) computes,
    replayed from its vocabulary and idf weights stored as data. A missing text is
    an empty one (all zeros).

    Limit: the block is written dense, like every step's, because the recipe's
    output is the one dense float32 matrix that training, the ONNX graph, the
    native booster and batch all take; ``max_features`` bounds its width (rows x
    max_features x 8 bytes while it is computed). Training on a sparse matrix
    would need a sparse form of that one matrix through all of those paths."""

    kind: ClassVar[str] = "tfidf"
    columns: tuple[str, ...]
    vocabulary: tuple[str, ...]
    idf: tuple[float, ...]
    ngrams: tuple[int, ...]

    @classmethod
    def fit(cls, columns: tuple[str, ...], data: FitData) -> Step:
        raise TypeError("a tfidf step is fitted from a recipe (modelyard.features.Recipe)")

    def names(self) -> list[str]:
        return [f"{self.columns[0]}__tfidf[{term}]" for term in self.vocabulary]

    @cached_property
    def _index(self) -> dict[str, int]:
        return {term: position for position, term in enumerate(self.vocabulary)}

    @cached_property
    def _weights(self) -> npt.NDArray[np.float64]:
        return np.asarray(self.idf, dtype=np.float64)

    def transform(self, table: Columns, out: npt.NDArray[np.float64]) -> None:
        index, weights = self._index, self._weights
        low, high = self.ngrams
        pattern = re.compile(TOKEN_PATTERN)
        for row, text in enumerate(table[self.columns[0]].tolist()):
            if text == MISSING_CATEGORY:
                continue
            words = pattern.findall(str(text).lower())
            counts: dict[int, int] = {}
            for n in range(low, high + 1):
                for start in range(len(words) - n + 1):
                    position = index.get(" ".join(words[start : start + n]))
                    if position is not None:
                        counts[position] = counts.get(position, 0) + 1
            if not counts:
                continue
            positions = np.fromiter(counts.keys(), np.intp, len(counts))
            values = np.fromiter(counts.values(), np.float64, len(counts)) * weights[positions]
            out[row, positions] = values / np.sqrt(np.dot(values, values))

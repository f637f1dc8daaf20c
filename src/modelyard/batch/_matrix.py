"""The feature recipe's model input matrix for checked record batches.

:meth:`modelyard.features.FeatureRecipe.apply` turns every category into a Python
string and binary-searches it among the training levels: on a 65,536-row batch of
the churn model that was a third of a batch worker's time beside the booster. Here
the same recipe (read from the package manifest, plain JSON) looks categories up
with Arrow's hash kernel (``index_in``) on the Arrow text the row check produced,
and fills the matrix in the output dtype directly. The arithmetic is the recipe's,
operation for operation, so the matrix is identical (``tests/batch/test_matrix.py``
checks it against ``FeatureRecipe.apply`` with Hypothesis). It imports neither
pandas nor scikit-learn, so a batch worker of the native or ONNX flavor needs
neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["RecipeMatrix"]


@dataclass(frozen=True)
class _Categorical:
    name: str
    encoding: str  # one_hot, ordinal or target
    levels: list[str]
    table: npt.NDArray[np.float64] | None  # target means, the default last


class RecipeMatrix:
    """A fitted recipe (``FeatureRecipe.to_dict()`` output) applied to Arrow batches."""

    def __init__(self, recipe: dict[str, Any]) -> None:
        numeric = recipe["numeric"]
        self._names = [spec["name"] for spec in numeric]
        self._fills = np.asarray([spec["fill"] for spec in numeric], dtype=np.float64)
        self._centers = np.asarray([spec["center"] for spec in numeric], dtype=np.float64)
        self._scales = np.asarray([spec["scale"] for spec in numeric], dtype=np.float64)
        self._indicators = [i for i, spec in enumerate(numeric) if spec["indicator"]]
        self._identity = (self._centers == 0.0) & ~np.signbit(self._centers) & (self._scales == 1.0)
        self._categorical = [
            _Categorical(
                spec["name"],
                spec["encoding"],
                [str(level) for level in spec["levels"]],
                np.append(np.asarray(spec["values"], dtype=np.float64), spec["default"])
                if spec["encoding"] == "target"
                else None,
            )
            for spec in recipe["categorical"]
        ]
        self._width = len(recipe["feature_names"])
        self._dtype = np.dtype(recipe.get("output_dtype", "float32"))
        self._value_sets: dict[tuple[str, pa.DataType], pa.Array] = {}

    def build(
        self, numbers: dict[str, npt.NDArray[np.float64]], categories: dict[str, pa.Array]
    ) -> npt.NDArray[Any]:
        """The model's input matrix for adapted columns (all of the same length).

        Each value is computed in float64 exactly as the recipe does, then stored
        in the output dtype (the same rounding as the recipe's final ``astype``).
        """
        if self._names:
            n_rows = len(numbers[self._names[0]])
        elif self._categorical:
            n_rows = len(categories[self._categorical[0].name])
        else:
            n_rows = 0
        matrix = np.zeros((n_rows, self._width), dtype=self._dtype)
        missing: dict[int, npt.NDArray[np.bool_]] = {}
        for index, name in enumerate(self._names):
            raw = numbers[name]
            absent = np.isnan(raw)
            # steps that change nothing are skipped: no value to fill, or the
            # identity scaling (x - +0.0) / 1.0, which is x exactly
            filled = np.where(absent, self._fills[index], raw) if absent.any() else raw
            if not self._identity[index]:
                filled = (filled - self._centers[index]) / self._scales[index]
            matrix[:, index] = filled
            missing[index] = absent
        column = len(self._names)
        for index in self._indicators:
            matrix[:, column] = missing[index]
            column += 1
        for spec in self._categorical:
            codes = self._codes(spec, categories[spec.name])
            if spec.encoding == "one_hot":
                rows = np.flatnonzero(codes >= 0)
                matrix[rows, column + codes[rows]] = 1.0  # unseen levels: all zeros
                column += len(spec.levels)
                continue
            if spec.table is None:  # ordinal
                matrix[:, column] = codes
            else:
                matrix[:, column] = spec.table[codes]  # code -1 picks the default at the end
            column += 1
        return matrix

    def _codes(self, spec: _Categorical, text: pa.Array) -> npt.NDArray[np.intp]:
        """Each value's position among the training levels (-1: unseen).

        A dictionary array looks up each distinct value once. The recipe compares
        numpy fixed-width strings, which ignore trailing NUL characters: a value
        not found is looked up again without them (a level never ends in NUL).
        """
        if pa.types.is_dictionary(text.type):
            distinct = self._codes(spec, text.dictionary)
            return distinct[np.asarray(text.indices.to_numpy(zero_copy_only=False), np.intp)]
        key = (spec.name, text.type)
        value_set = self._value_sets.get(key)
        if value_set is None:
            value_set = self._value_sets[key] = pa.array(spec.levels, text.type)
        found = pc.index_in(text, value_set=value_set)
        if found.null_count and pc.any(pc.match_substring(text, "\x00")).as_py():
            found = pc.index_in(pc.utf8_rtrim(text, characters="\x00"), value_set=value_set)
        return np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.intp)

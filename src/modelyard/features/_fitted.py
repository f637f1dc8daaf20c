"""A fitted recipe as data: the input adapter, the steps, the output dtype.

This is what a model package stores (``manifest["recipe"]``, plain JSON) and what
every prediction path runs: :meth:`FittedRecipe.transform` reads raw columns with
the adapter and lets each step write its block of the matrix, for one row or a
million alike. It imports only numpy, so a batch worker or the gateway can load
it without scikit-learn; :class:`~modelyard.features.FeatureRecipe` is the
scikit-learn transformer that fits one.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from modelyard.features._adapter import InputAdapter
from modelyard.features._derive import Derive, RowFilter
from modelyard.features._steps import (
    Columns,
    Impute,
    MissingFlag,
    OneHot,
    Ordinal,
    Step,
    TargetMean,
)
from modelyard.features._table import Table, rows

__all__ = ["FittedRecipe"]

_BLOCK_ROWS = 8_192  # rows a block of the matrix is written at a time (see apply)


class FittedRecipe:
    """Fitted preprocessing: raw columns in, the model's input matrix out.

    Args:
        adapter: how the raw columns are read.
        steps: the fitted steps, in the order of their output columns.
        output_dtype: the matrix's dtype (``float32``: what models are trained and
            served on; values are computed in float64 and cast once).
    """

    def __init__(
        self, adapter: InputAdapter, steps: Sequence[Step], output_dtype: str = "float32"
    ) -> None:
        self.adapter = adapter
        self.steps = list(steps)
        self.output_dtype = output_dtype
        self.feature_names = [name for step in self.steps for name in step.names()]
        self._blocks: list[tuple[Step, int, int]] = []
        # a user recipe's column steps (``Derive``) rewrite the adapted table, in
        # order, before the output steps read it; they write no matrix columns
        self._rewrites = [step for step in self.steps if isinstance(step, Derive)]
        start = 0
        for step in self.steps:
            if step.width:
                self._blocks.append((step, start, start + step.width))
            start += step.width
        # a request's few rows skip numpy until the matrix when every step reads lists
        self._rows_as_lists = not self._rewrites and all(
            step.takes_lists for step, _, _ in self._blocks
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        # pickled (in a pipeline) by a version that derived fewer tables: derive them
        self.__init__(  # type: ignore[misc]
            state["adapter"], state["steps"], state.get("output_dtype", "float32")
        )

    def transform(self, columns: Mapping[str, Any] | Any) -> npt.NDArray[Any]:
        """The model's input matrix for raw columns (a DataFrame, or a mapping of
        lists, arrays or Series).

        Raises:
            SchemaMismatchError: a column is missing or holds a value its kind
                cannot read.
        """
        if self._rows_as_lists:
            rows = self.adapter.adapt_rows(columns)
            if rows is not None:  # lists, which every step takes (``takes_lists``)
                return self.apply(cast(Columns, rows))
        return self.apply(self.adapter.adapt(columns))

    def apply(self, adapted: Columns) -> npt.NDArray[Any]:
        """The model's input matrix for adapted columns (see :class:`InputAdapter`;
        :meth:`transform` passes a few rows as the lists of ``adapt_rows`` when
        every step takes them)."""
        n_rows = len(next(iter(adapted.values()))) if adapted else 0
        if self._rewrites:
            # a copy the rewrites change (a Table's keeps its codes)
            table = Table(adapted) if isinstance(adapted, Table) else dict(adapted)
            for derive in self._rewrites:
                derive.rewrite(table)
            adapted = table
        # in the output dtype from the start: each step computes in float64 and its
        # values are cast as they are written, as a float64 matrix cast at the end
        # would give, without the float64 matrix (twice the memory to write)
        matrix = np.zeros((n_rows, len(self.feature_names)), dtype=self.output_dtype)
        if n_rows <= _BLOCK_ROWS:
            for step, start, end in self._blocks:
                step.transform(adapted, matrix[:, start:end])
            return matrix
        # many rows: the steps write a block of rows at a time (a row's features
        # depend on that row alone). A step writes a column at a time, and a column
        # of the whole row-major matrix would sweep all of it through memory once per
        # column; a block's rows, and the steps' temporaries, stay in the cache.
        blocks = -(-n_rows // _BLOCK_ROWS)
        bounds = [n_rows * index // blocks for index in range(blocks + 1)]
        for first, last in itertools.pairwise(bounds):
            part, out = rows(adapted, first, last), matrix[first:last]
            for step, start, end in self._blocks:
                step.transform(part, out[:, start:end])
        return matrix

    def feature_sources(self) -> list[str]:
        """The raw input column each output feature comes from, in feature order.

        Every feature of the schema-driven steps depends on exactly one raw column,
        so shuffling a raw column is the same as shuffling its features' rows:
        permutation importance uses this to transform once instead of once per
        shuffle. A column a user's recipe derives from several (a ratio) is
        counted under its first input.
        """
        raw = self.adapter.sources()
        for derive in self._rewrites:
            derive.trace(raw)
        return [raw[source] for step in self.steps for source in step.sources()]

    def filters(self) -> list[RowFilter]:
        """The training-only row filters the recipe recorded (never applied here;
        a de-duplication is recorded as a ``deduplicate`` step beside them)."""
        return [step for step in self.steps if isinstance(step, RowFilter)]

    def describe(self) -> list[str]:
        """One line per step: its kind, its columns and what it learned (for
        ``model show``)."""
        lines = []
        for step in self.steps:
            data = step.to_dict()
            kind, columns = data.pop("kind"), data.pop("columns")
            learned = ", ".join(f"{k}={_short(v)}" for k, v in data.items())
            lines.append(f"{kind}({', '.join(columns)}{'; ' + learned if learned else ''})")
        return lines

    def category_levels(self) -> dict[str, list[str]]:
        """The training levels of each categorical column that has them."""
        levels: dict[str, list[str]] = {}
        for step in self.steps:
            if isinstance(step, (OneHot, Ordinal, TargetMean)):
                levels[step.columns[0]] = list(step.levels)
        return levels

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored in the model manifest)."""
        return {
            "adapter": self.adapter.to_dict(),
            "steps": [step.to_dict() for step in self.steps],
            "feature_names": list(self.feature_names),
            "output_dtype": self.output_dtype,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FittedRecipe:
        """A fitted recipe from :meth:`to_dict` output (no pickle involved); reads
        the per-kind form packages stored before steps existed too."""
        adapter = InputAdapter.from_dict(data["adapter"])
        if "steps" in data:
            steps = [Step.from_dict(step) for step in data["steps"]]
        else:
            steps = _steps_of_kinds(data)
        return cls(adapter, steps, str(data.get("output_dtype", "float32")))


def _short(value: Any) -> str:
    if isinstance(value, list) and len(value) > 4:
        return f"[{len(value)} values]"
    return repr(value)


def _steps_of_kinds(data: Mapping[str, Any]) -> list[Step]:
    """The steps of a recipe stored as ``numeric`` and ``categorical`` spec lists."""
    numeric = data.get("numeric", [])
    steps: list[Step] = [
        Impute(
            tuple(spec["name"] for spec in numeric),
            tuple(float(spec["fill"]) for spec in numeric),
            tuple(float(spec["center"]) for spec in numeric),
            tuple(float(spec["scale"]) for spec in numeric),
        ),
        MissingFlag(tuple(spec["name"] for spec in numeric if spec["indicator"])),
    ]
    for spec in data.get("categorical", []):
        columns, levels = (spec["name"],), tuple(str(level) for level in spec["levels"])
        if spec["encoding"] == "one_hot":
            steps.append(OneHot(columns, levels))
        elif spec["encoding"] == "ordinal":
            steps.append(Ordinal(columns, levels))
        else:
            means = tuple(float(v) for v in spec["values"])
            steps.append(TargetMean(columns, levels, means, float(spec["default"])))
    return steps

"""DuckDB over one Parquet file: the columnar engine every profile query runs on.

The profile never loads a table into pandas: DuckDB scans the Parquet file
column by column, in parallel, and hands back aggregates. A query that fails on
odd data (an overflow in a moment, a value DuckDB cannot cast) is retried column
by column, so one bad column costs its own figure, not the profile.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from modelyard._imports import optional_dependency

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

__all__ = ["Engine", "quote"]

T = TypeVar("T")


def quote(name: str) -> str:
    """A column name as a DuckDB identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


class Engine:
    """A DuckDB connection with the version's Parquet file as the view ``t``.

    Numeric columns also have a DOUBLE twin with NaN and infinities as NULL
    (:meth:`finite` names it, :meth:`view` makes a view that has the twins of
    the columns one query needs): the two-scan statistics read the twin, so no
    aggregate needs a FILTER clause of its own (the one-scan path groups the
    non-finite rows apart instead, which costs less than the twin). Twins live in
    small per-query views because DuckDB binds every expression of a view on
    each query: one view with 1,000 twins costs most of a second per query.
    """

    def __init__(self, path: Path, threads: int | None = None) -> None:
        with optional_dependency("data profiles"):
            import duckdb
        self._duckdb = duckdb
        self.connection: duckdb.DuckDBPyConnection = duckdb.connect(":memory:")
        if threads:
            self.connection.execute(f"SET threads = {int(threads)}")
        # Row order never matters to an aggregate; without it DuckDB buffers less.
        self.connection.execute("SET preserve_insertion_order = false")
        self.connection.execute("SET parquet_metadata_cache = true")
        # DuckDB draws a progress bar on stdout for long queries: it would corrupt
        # `data profile --json` and a notebook's output.
        self.connection.execute("SET enable_progress_bar = false")
        literal = "'" + str(path).replace("'", "''") + "'"
        self.connection.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet({literal})")
        self._finite: dict[str, str] = {}
        self._views: dict[tuple[str, ...], str] = {}

    def finite(self, name: str) -> str:
        """The finite-double twin of numeric column ``name``, quoted (see :meth:`view`)."""
        if name not in self._finite:
            self._finite[name] = f"__finite_{len(self._finite)}"
        return quote(self._finite[name])

    def view(self, numeric: Sequence[str]) -> str:
        """A view of ``t`` with the finite twins of the ``numeric`` columns."""
        key = tuple(numeric)
        if not key:
            return "t"
        if key not in self._views:
            name = f"v{len(self._views)}"
            twins = ", ".join(
                f"CASE WHEN isfinite(CAST({quote(c)} AS DOUBLE)) "
                f"THEN CAST({quote(c)} AS DOUBLE) END AS {self.finite(c)}"
                for c in key
            )
            self.connection.execute(f"CREATE VIEW {name} AS SELECT *, {twins} FROM t")
            self._views[key] = name
        return self._views[key]

    @property
    def error(self) -> type[Exception]:
        """DuckDB's base error class (what a failed query raises)."""
        error: type[Exception] = self._duckdb.Error
        return error

    def row(self, sql: str) -> tuple[Any, ...]:
        """The one row of an aggregate query."""
        result = self.connection.execute(sql).fetchall()
        return tuple(result[0]) if result else ()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Every row of a query."""
        return [tuple(r) for r in self.connection.execute(sql).fetchall()]

    def column(self, sql: str) -> np.ndarray[Any, Any]:
        """The first column of a query without nulls, as a NumPy array."""
        result = self.connection.execute(sql).fetchnumpy()
        return np.asarray(next(iter(result.values())))

    def arrow(self, sql: str) -> pa.Table:
        """A query's result as an Arrow table."""
        return self.connection.sql(sql).to_arrow_table()

    def per_column(
        self,
        names: Sequence[str],
        run: Callable[[Sequence[str]], dict[str, T]],
        failed: Callable[[str, str], None],
        chunk: int = 64,
    ) -> dict[str, T]:
        """``run`` over chunks of columns; a chunk that fails is retried one by one.

        ``failed(column, reason)`` records a column whose own query failed.
        """
        results: dict[str, T] = {}
        for start in range(0, len(names), chunk):
            part = names[start : start + chunk]
            try:
                results.update(run(part))
                continue
            except self.error:
                pass
            for name in part:
                try:
                    results.update(run([name]))
                except self.error as exc:
                    failed(name, str(exc).splitlines()[0])
        return results

    def close(self) -> None:
        """Release DuckDB's memory."""
        self.connection.close()

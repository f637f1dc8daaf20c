"""A dataset version's profile: what the data holds, computed over its Parquet.

:func:`profile_parquet` is the whole computation; the store
(:mod:`modelyard.profiling._store`) keeps its result as artifacts of the version.
Anything that could not be computed (a failed query, a column left out of a
matrix) is listed in ``not_computed`` with the reason, never raised.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from modelyard.data import ColumnSchema, LogicalType
from modelyard.profiling import _arrays as arrays
from modelyard.profiling import _associations as assoc
from modelyard.profiling._columns import QUANTILES, ColumnSpec, Known, column_stats
from modelyard.profiling._engine import Engine, quote
from modelyard.profiling._sample import METHOD, sample_rows
from modelyard.profiling._warnings import ProfileWarning, find_warnings, personal_data

__all__ = ["FORMAT", "Profile", "profile_parquet"]

FORMAT = 1
"""The profile layout's version: a stored profile of another layout is recomputed."""

SAMPLE_ROWS = 100_000
# A sample keeps at most this many cells, so 2,000 columns sample fewer rows.
_SAMPLE_CELLS = 5_000_000
_PERSONAL_SAMPLE = 1_000
_PERSONAL_CHUNK = 200
_CLASS_TARGET_MAX = 20
_MAX_RATIO_PAIRS = 2_000


@dataclass
class Profile:
    """The profile of one dataset version (``to_dict`` is the JSON report).

    Attributes:
        dataset: ``name:version``.
        n_rows, n_columns: the table's size.
        table: table-level figures (duplicate rows, memory, file size).
        columns: per-column statistics, in the table's order.
        correlations: ``pearson`` / ``spearman`` / ``cramers_v`` matrices
            (``{"columns", "matrix"}``) and ``correlation_ratio`` pairs.
        missing: most frequent missing-value patterns and columns missing together.
        target: the target's distribution and each feature's association with it.
        warnings: findings with evidence and suggestions, most serious first.
        sampling: where a sample stood in for every row, and how large.
        not_computed: what could not be computed, and why.
        seconds: how long the computation took.
        report_path: the stored HTML report, once stored.
    """

    dataset: str
    n_rows: int
    n_columns: int
    table: dict[str, Any]
    columns: list[dict[str, Any]]
    correlations: dict[str, Any]
    missing: dict[str, Any]
    target: dict[str, Any] | None
    warnings: list[ProfileWarning]
    sampling: list[dict[str, Any]]
    not_computed: list[dict[str, Any]]
    seconds: float
    report_path: Path | None = field(default=None, compare=False)

    def column(self, name: str) -> dict[str, Any]:
        """One column's statistics.

        Raises:
            KeyError: no such column.
        """
        for column in self.columns:
            if column["name"] == name:
                return column
        raise KeyError(name)

    def warnings_of(self, kind: str) -> list[ProfileWarning]:
        """The warnings of one kind."""
        return [w for w in self.warnings if w.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        """The JSON report: every figure, warning and note."""
        return {
            "format": FORMAT,
            "dataset": self.dataset,
            "n_rows": self.n_rows,
            "n_columns": self.n_columns,
            "table": self.table,
            "columns": self.columns,
            "correlations": self.correlations,
            "missing": self.missing,
            "target": self.target,
            "warnings": [w.to_dict() for w in self.warnings],
            "sampling": self.sampling,
            "not_computed": self.not_computed,
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        """Inverse of :meth:`to_dict`."""
        return cls(
            dataset=data["dataset"],
            n_rows=int(data["n_rows"]),
            n_columns=int(data["n_columns"]),
            table=data["table"],
            columns=data["columns"],
            correlations=data["correlations"],
            missing=data["missing"],
            target=data["target"],
            warnings=[ProfileWarning.from_dict(w) for w in data["warnings"]],
            sampling=data["sampling"],
            not_computed=data["not_computed"],
            seconds=float(data["seconds"]),
        )

    def _repr_html_(self) -> str:
        """A notebook's view: the overview and warnings (the plots are in the report)."""
        from modelyard.profiling._report import summary_html

        return summary_html(self)


def profile_parquet(
    path: Path,
    schema: Sequence[ColumnSchema],
    dataset: str,
    threads: int | None = None,
) -> Profile:
    """Profile the Parquet file at ``path`` whose columns ``schema`` describes."""
    started = time.perf_counter()
    notes: list[dict[str, Any]] = []

    def failed(into: list[dict[str, Any]], column: str, reason: str) -> None:
        into.append({"what": "statistics", "columns": [column], "reason": reason})

    # The footer once: the physical types here, the row groups' statistics in _known.
    metadata = pq.read_metadata(path)
    physical = metadata.schema.to_arrow_schema()
    specs = [_spec(c, physical.field(c.name).type) for c in schema if c.name in physical.names]
    engine = Engine(path, threads)
    sampling: list[dict[str, Any]] = []
    # One helper thread: PyArrow's sample read, then NumPy's associations, each beside
    # DuckDB's scans (both release the GIL in their loops).
    pool = ThreadPoolExecutor(1, thread_name_prefix="modelyard-profile")
    try:
        n_rows = int(engine.row("SELECT count(*) FROM t")[0])
        # The numeric columns' quantiles and centres come from the sample: PyArrow
        # reads it in a thread while DuckDB scans what needs nothing from it.
        sample_notes: list[dict[str, Any]] = []

        def sampled() -> tuple[pa.Table, Known]:
            attempt = _Attempt(engine.error, sample_notes)
            sample = attempt("the sample", lambda: _sample(path, specs, n_rows, sampling))
            sample = sample if sample is not None else pa.table({})
            return sample, _known(metadata, specs, sample)

        stat_notes: list[dict[str, Any]] = []
        reading = pool.submit(sampled)
        stats = column_stats(
            engine,
            specs,
            lambda column, reason: failed(stat_notes, column, reason),
            lambda: reading.result()[1],
        )
        sample = reading.result()[0]
        notes.extend([*sample_notes, *stat_notes])
        columns = [_column(spec, stats.get(spec.name), n_rows) for spec in specs]
        # A column DuckDB could not read (text that is not UTF-8, ...) stays out of
        # every later query; its failure is already noted.
        readable = [s for s in specs if s.name in stats]
        sample = sample.select([s.name for s in readable if s.name in sample.column_names])
        target_spec = next((s for s in readable if s.role == "target"), None)
        # The sample's associations are NumPy's work and the rest DuckDB's: one runs
        # in the helper thread while the other scans. Each part notes what it could
        # not compute in a list of its own, joined in a fixed order, so the notes
        # never depend on which finished first.
        parts: dict[str, list[dict[str, Any]]] = {
            k: [] for k in ("correlations", "missing", "target", "personal", "table")
        }

        def associations() -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
            attempt = _Attempt(engine.error, parts["correlations"])
            found = attempt(
                "correlations",
                lambda: _correlations(readable, columns, sample, parts["correlations"]),
            )
            if target_spec is None:
                return found, None
            attempt = _Attempt(engine.error, parts["target"])
            return found, attempt(
                "target analysis", lambda: _target(target_spec, readable, columns, sample)
            )

        associated = pool.submit(associations)
        missing = _Attempt(engine.error, parts["missing"])(
            "missing patterns",
            lambda: _missing(engine, columns, sample, n_rows, parts["missing"]),
        )
        personal = _Attempt(engine.error, parts["personal"])(
            "personal-data patterns",
            lambda: _personal(engine, readable, parts["personal"], sampling),
        )
        table = _Attempt(engine.error, parts["table"])(
            "table figures", lambda: _table(engine, path, readable, n_rows, parts["table"])
        )
        correlations, target = associated.result()
        for part in parts.values():
            notes.extend(part)
    finally:
        # Waits for the helper's work, so the engine outlives every query made of it.
        pool.shutdown()
        engine.close()
    warnings = find_warnings(columns, n_rows, correlations or {}, target, personal or {})
    _note_gaps(columns, n_rows, notes)
    return Profile(
        dataset=dataset,
        n_rows=n_rows,
        n_columns=len(specs),
        table=table or {},
        columns=columns,
        correlations=correlations or {},
        missing=missing or {"columns": [], "patterns": [], "left_out": [], "together": []},
        target=target,
        warnings=warnings,
        sampling=sampling,
        not_computed=notes,
        seconds=time.perf_counter() - started,
    )


T = TypeVar("T")


class _Attempt:
    """Runs one part of the profile; a failure is noted, and the part is None."""

    def __init__(self, error: type[Exception], notes: list[dict[str, Any]]) -> None:
        self._errors: tuple[type[Exception], ...] = (error, pa.ArrowException)
        self._notes = notes

    def __call__(self, what: str, part: Callable[[], T]) -> T | None:
        try:
            return part()
        except self._errors as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self._notes.append({"what": what, "columns": [], "reason": reason})
            return None


def _note_gaps(columns: Sequence[dict[str, Any]], n_rows: int, notes: list[dict[str, Any]]) -> None:
    """Say what small or empty data leaves uncomputed."""
    if n_rows == 0:
        notes.append(
            {"what": "statistics, correlations, warnings", "columns": [], "reason": "no rows"}
        )
        return
    empty = [c["name"] for c in columns if "count" in c and c["count"] == 0]
    if empty:
        notes.append(
            {
                "what": "statistics, correlations",
                "columns": empty,
                "reason": "no values (all missing)",
            }
        )
    if n_rows < 3:
        notes.append(
            {
                "what": "spread, skewness, correlations, target association",
                "columns": [],
                "reason": f"only {n_rows} row{'s' if n_rows > 1 else ''}",
            }
        )


def _spec(column: ColumnSchema, physical: pa.DataType) -> ColumnSpec:
    logical = column.logical_type
    if pa.types.is_boolean(physical):
        kind = "boolean"
    elif pa.types.is_temporal(physical):
        kind = "datetime"
    elif (pa.types.is_integer(physical) or pa.types.is_floating(physical)) and logical in {
        LogicalType.NUMERIC,
        LogicalType.INTEGER,
    }:
        kind = "numeric"
    elif (
        pa.types.is_string(physical)
        or pa.types.is_large_string(physical)
        or pa.types.is_integer(physical)
        or pa.types.is_dictionary(physical)
    ):
        kind = "string"
    else:
        kind = "other"
    return ColumnSpec(
        name=column.name,
        kind=kind,
        logical_type=logical.value,
        role=column.role.value,
        physical_type=str(physical),
        distinct=column.distinct_count,
    )


def _column(spec: ColumnSpec, stats: dict[str, Any] | None, n_rows: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": spec.name,
        "kind": spec.kind,
        "logical_type": spec.logical_type,
        "role": spec.role,
        "physical_type": spec.physical_type,
        "distinct": spec.distinct,
    }
    if stats is None:
        return out
    count = int(stats.get("count") or 0)
    out.update(stats)
    out["count"] = count
    out["missing"] = n_rows - count
    out["missing_share"] = (n_rows - count) / n_rows if n_rows else 0.0
    out["distinct_share"] = spec.distinct / count if count else 0.0
    if spec.kind == "boolean" and count:
        true = int(stats.get("true") or 0)
        out.setdefault(
            "top", [{"value": "true", "count": true}, {"value": "false", "count": count - true}]
        )
        out["top"] = sorted(out["top"], key=lambda t: -int(t["count"]))
    return out


def _sample(
    path: Path, specs: Sequence[ColumnSpec], n_rows: int, sampling: list[dict[str, Any]]
) -> pa.Table:
    wanted = [s for s in specs if s.kind in {"numeric", "string", "boolean"}]
    wanted = [s for s in wanted if s.kind == "numeric" or s.distinct <= assoc.MAX_CATEGORIES]
    size = min(SAMPLE_ROWS, max(2_000, _SAMPLE_CELLS // max(len(wanted), 1)))
    if not wanted:
        return pa.table({})
    text = [s.name for s in wanted if s.physical_type in {"string", "large_string"}]
    sample = sample_rows(path, [s.name for s in wanted], size, dictionary=text)
    if n_rows > size:
        sampling.append(
            {
                "what": "quantiles and the IQR outlier fences, Pearson, Spearman, Cramér's V, "
                "correlation ratio, target association, columns missing together",
                "rows": sample.num_rows,
                "of": n_rows,
                "method": METHOD,
            }
        )
    return sample


def _known(metadata: pq.FileMetaData, specs: Sequence[ColumnSpec], sample: pa.Table) -> Known:
    """What the sample and the file's statistics tell of the numeric columns.

    Each column's quantiles and mean over the sample's finite values (the
    quantiles as DuckDB's ``quantile_cont``: linear interpolation), and its range
    from the Parquet statistics (see :class:`Known`).
    """
    quantiles: dict[str, dict[str, float | None]] = {}
    centres: dict[str, float] = {}
    # A quantile of the sample, not of every row, once the table is larger than it.
    for spec in specs:
        if spec.kind != "numeric" or spec.name not in sample.column_names:
            continue
        values = _floats(sample, spec.name)
        values = values[np.isfinite(values)]
        with np.errstate(over="ignore", invalid="ignore"):
            found = np.quantile(values, QUANTILES) if values.size else []
            centre = float(np.mean(values)) if values.size else math.nan
        quantiles[spec.name] = {
            f"p{round(p * 100)}": float(v) if math.isfinite(v) else None
            for p, v in zip(QUANTILES, found, strict=False)
        }
        if math.isfinite(centre):
            centres[spec.name] = centre
    return Known(quantiles, centres, _stored_ranges(metadata, specs))


def _stored_ranges(
    metadata: pq.FileMetaData, specs: Sequence[ColumnSpec]
) -> dict[str, tuple[float, float]]:
    """Each numeric column's finite range as its row groups' statistics state it.

    A column is left out when a row group with values has no statistics or a bound
    is not a finite number (NaN, an infinity, bytes): it is then binned by a
    second scan.
    """
    position = {metadata.schema.column(j).path: j for j in range(metadata.num_columns)}
    ranges: dict[str, tuple[float, float]] = {}
    for spec in specs:
        j = position.get(spec.name)
        if spec.kind != "numeric" or j is None:
            continue
        bounds: list[float] = []
        for group in range(metadata.num_row_groups):
            chunk = metadata.row_group(group).column(j)
            stats = chunk.statistics
            if stats is not None and stats.has_min_max:
                try:
                    bounds.extend((float(stats.min), float(stats.max)))
                except (TypeError, ValueError):
                    break
            elif stats is None or stats.null_count != chunk.num_values:
                break  # values, but no statistics of them
        else:
            if bounds and all(math.isfinite(b) for b in bounds):
                ranges[spec.name] = (min(bounds), max(bounds))
    return ranges


def _floats(sample: pa.Table, name: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    return arrays.floats(sample.column(name))


def _codes(sample: pa.Table, name: str) -> np.ndarray[Any, np.dtype[np.int64]]:
    return arrays.codes(sample.column(name))


def _matrix(names: list[str], matrix: np.ndarray[Any, Any]) -> dict[str, Any]:
    rows = [[None if not math.isfinite(v) else round(float(v), 6) for v in row] for row in matrix]
    return {"columns": names, "matrix": rows}


def _correlations(
    specs: Sequence[ColumnSpec],
    columns: Sequence[dict[str, Any]],
    sample: pa.Table,
    notes: list[dict[str, Any]],
) -> dict[str, Any]:
    usable = {
        c["name"] for c in columns if (c.get("count") or 0) > 1 and (c.get("distinct") or 0) > 1
    }
    numeric = [
        s.name for s in specs if s.kind == "numeric" and s.name in usable and s.role != "identifier"
    ]
    categorical = [
        s.name
        for s in specs
        if s.kind in {"string", "boolean"}
        and s.name in usable
        and s.role != "identifier"
        and s.logical_type not in {"identifier", "text"}
        and s.distinct <= assoc.MAX_CATEGORIES
    ]
    cap = assoc.MAX_CORRELATED_COLUMNS
    for kind, names in (("numeric", numeric), ("categorical", categorical)):
        if len(names) > cap:
            notes.append(
                {
                    "what": f"correlations of {kind} columns",
                    "columns": names[cap:],
                    "reason": f"more than {cap} {kind} columns: the first {cap} are correlated",
                }
            )
    numeric, categorical = numeric[:cap], categorical[:cap]
    out: dict[str, Any] = {}
    if len(numeric) >= 2 and sample.num_rows >= 3:
        # Pearson on the sample too: exact over a million rows it cost a quarter of
        # the profile, and 100,000 rows pin a correlation to about 0.003.
        values = np.column_stack([_floats(sample, n) for n in numeric])
        out["pearson"] = _matrix(numeric, assoc.pairwise_pearson(values))
        out["spearman"] = _matrix(numeric, assoc.rank_correlations(values))
    if sample.num_rows >= 3 and categorical:
        codes = {n: _codes(sample, n) for n in categorical}
        if len(categorical) >= 2:
            size = len(categorical)
            matrix = np.eye(size)
            for i in range(size):
                for j in range(i + 1, size):
                    matrix[i, j] = matrix[j, i] = assoc.cramers_v(
                        codes[categorical[i]], codes[categorical[j]]
                    )
            out["cramers_v"] = _matrix(categorical, matrix)
        ratios = []
        pairs = [(c, n) for c in categorical for n in numeric]
        if len(pairs) > _MAX_RATIO_PAIRS:
            notes.append(
                {
                    "what": "correlation ratios",
                    "columns": [],
                    "reason": f"{len(pairs)} categorical-numeric pairs: the first "
                    f"{_MAX_RATIO_PAIRS} are computed",
                }
            )
        floats = {n: _floats(sample, n) for n in numeric}
        for c, n in pairs[:_MAX_RATIO_PAIRS]:
            value = assoc.correlation_ratio(codes[c], floats[n])
            if math.isfinite(value):
                ratios.append({"categorical": c, "numeric": n, "value": round(value, 6)})
        out["correlation_ratio"] = ratios
    return out


def _missing(
    engine: Engine,
    columns: Sequence[dict[str, Any]],
    sample: pa.Table,
    n_rows: int,
    notes: list[dict[str, Any]],
) -> dict[str, Any]:
    with_missing = sorted(
        (c for c in columns if (c.get("missing") or 0) > 0), key=lambda c: -c["missing"]
    )
    names = [c["name"] for c in with_missing]
    try:
        out = assoc.missing_patterns(engine, names, n_rows)
    except engine.error as exc:
        notes.append(
            {"what": "missing patterns", "columns": names, "reason": str(exc).splitlines()[0]}
        )
        out = {"columns": names, "patterns": [], "left_out": []}
    in_sample = [n for n in names if n in sample.column_names][: assoc.MAX_CORRELATED_COLUMNS]
    together = []
    if len(in_sample) >= 2 and sample.num_rows >= 3:
        flags = np.column_stack([arrays.null_flags(sample.column(n)) for n in in_sample])
        with np.errstate(divide="ignore", invalid="ignore"):
            matrix = np.atleast_2d(np.corrcoef(flags, rowvar=False))
        for i in range(len(in_sample)):
            for j in range(i + 1, len(in_sample)):
                value = float(matrix[i, j])
                if math.isfinite(value) and value >= 0.9:
                    together.append(
                        {"columns": [in_sample[i], in_sample[j]], "correlation": round(value, 4)}
                    )
    out["together"] = together
    return out


def _target(
    target: ColumnSpec,
    specs: Sequence[ColumnSpec],
    columns: Sequence[dict[str, Any]],
    sample: pa.Table,
) -> dict[str, Any]:
    stats = next(c for c in columns if c["name"] == target.name)
    classify = target.kind in {"string", "boolean"} or (
        target.logical_type == "integer" and target.distinct <= _CLASS_TARGET_MAX
    )
    out: dict[str, Any] = {
        "column": target.name,
        "task": "classification" if classify else "regression",
    }
    if classify:
        out["classes"] = _classes(target, stats)
    else:
        out["histogram"] = stats.get("histogram")
    associations: list[dict[str, Any]] = []
    if target.name in sample.column_names and sample.num_rows >= 3:
        codes = _codes(sample, target.name) if classify else None
        y = None if classify else _floats(sample, target.name)
        for spec in specs:
            if spec.name == target.name or spec.name not in sample.column_names:
                continue
            if spec.role == "identifier" or spec.logical_type in {"identifier", "text"}:
                continue
            numeric = spec.kind == "numeric"
            if codes is not None:
                method = "correlation ratio" if numeric else "Cramér's V"
                value = (
                    assoc.correlation_ratio(codes, _floats(sample, spec.name))
                    if numeric
                    else assoc.cramers_v(codes, _codes(sample, spec.name))
                )
            elif y is not None and numeric:
                method = "Spearman"
                pair = np.column_stack([_floats(sample, spec.name), y])
                value = float(assoc.rank_correlations(pair)[0, 1])
            elif y is not None:
                method = "correlation ratio"
                value = assoc.correlation_ratio(_codes(sample, spec.name), y)
            if math.isfinite(value):
                associations.append(
                    {"column": spec.name, "method": method, "value": round(value, 6)}
                )
    out["associations"] = sorted(associations, key=lambda a: -abs(a["value"]))
    return out


def _classes(target: ColumnSpec, stats: dict[str, Any]) -> list[dict[str, Any]]:
    if stats.get("top") is not None:
        return list(stats["top"])
    histogram = stats.get("histogram") or {}
    edges, counts = histogram.get("edges") or [], histogram.get("counts") or []
    return [{"value": str(e), "count": c} for e, c in zip(edges, counts, strict=False) if c]


def _personal(
    engine: Engine,
    specs: Sequence[ColumnSpec],
    notes: list[dict[str, Any]],
    sampling: list[dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    strings = [s.name for s in specs if s.kind == "string" and "string" in s.physical_type]
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(strings), _PERSONAL_CHUNK):
        part = strings[start : start + _PERSONAL_CHUNK]
        try:
            table = engine.arrow(
                f"SELECT {', '.join(quote(n) for n in part)} FROM t LIMIT {_PERSONAL_SAMPLE}"
            )
        except engine.error as exc:
            notes.append(
                {
                    "what": "personal-data patterns",
                    "columns": part,
                    "reason": str(exc).splitlines()[0],
                }
            )
            continue
        for name in part:
            evidence = personal_data(name, table.column(name).drop_null().to_pylist())
            if evidence is not None:
                found[name] = evidence
    if strings:
        sampling.append(
            {
                "what": "personal-data patterns",
                "rows": _PERSONAL_SAMPLE,
                "of": "each text column",
                "method": "the first rows in storage order",
            }
        )
    return found


def _table(
    engine: Engine,
    path: Path,
    specs: Sequence[ColumnSpec],
    n_rows: int,
    notes: list[dict[str, Any]],
) -> dict[str, Any]:
    metadata = pq.ParquetFile(path).metadata
    memory = sum(
        metadata.row_group(g).column(c).total_uncompressed_size
        for g in range(metadata.num_row_groups)
        for c in range(metadata.num_columns)
    )
    out: dict[str, Any] = {"file_bytes": path.stat().st_size, "memory_bytes": memory}
    if n_rows == 0 or not specs:
        return out
    hashed = ", ".join(quote(s.name) for s in specs)
    try:
        distinct = int(engine.row(f"SELECT count(DISTINCT hash({hashed})) FROM t")[0])
        out["duplicate_rows"] = n_rows - distinct
        out["duplicate_share"] = (n_rows - distinct) / n_rows
        out["duplicates_by"] = "64-bit hash of every column"
    except engine.error as exc:
        notes.append({"what": "duplicate rows", "columns": [], "reason": str(exc).splitlines()[0]})
    return out

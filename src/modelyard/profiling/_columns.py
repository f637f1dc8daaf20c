"""Per-column statistics, computed by DuckDB in two scans of the Parquet file.

The first scan gathers counts, moments, quantiles, ranges and lengths; the
second, which needs the first's minimum, maximum and quartiles, gathers
histograms, outlier counts, top values and calendar counts. Distinct counts come
from the version's schema (exact, computed at ingest), so no scan repeats them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from modelyard.profiling._engine import Engine, quote

__all__ = ["QUANTILES", "ColumnSpec", "column_stats"]

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
_BINS = 20
_TOP = 10
# Up to this many distinct values a column's every count comes from one histogram
# aggregate in the shared scan; above it, one GROUP BY ... LIMIT query of its own.
_SMALL_CARDINALITY = 50
_WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


@dataclass(frozen=True)
class ColumnSpec:
    """What the profile knows of a column before scanning it.

    ``kind`` decides the statistics: ``numeric``, ``boolean``, ``datetime``,
    ``string`` (categorical, text, identifier) or ``other`` (counted only).
    """

    name: str
    kind: str
    logical_type: str
    role: str
    physical_type: str
    distinct: int


def column_stats(
    engine: Engine,
    specs: Sequence[ColumnSpec],
    failed: Callable[[str, str], None],
) -> dict[str, dict[str, Any]]:
    """Statistics of every column, keyed by name (see the module docstring)."""
    by_name = {s.name: s for s in specs}
    names = [s.name for s in specs]

    def first(part: Sequence[str]) -> dict[str, dict[str, Any]]:
        selects: list[str] = []
        layout: list[tuple[str, list[str]]] = []
        for name in part:
            fields, exprs = _first_exprs(engine, by_name[name])
            selects.extend(exprs)
            layout.append((name, fields))
        source = engine.view([n for n in part if by_name[n].kind == "numeric"])
        return _unpack(engine.row(f"SELECT {', '.join(selects)} FROM {source}"), layout)

    stats = engine.per_column(names, first, failed)
    for name, values in stats.items():
        _tidy_first(by_name[name], values)

    def second(part: Sequence[str]) -> dict[str, dict[str, Any]]:
        selects: list[str] = []
        layout: list[tuple[str, list[str]]] = []
        for name in part:
            fields, exprs = _second_exprs(engine, by_name[name], stats[name])
            selects.extend(exprs)
            layout.append((name, fields))
        if not selects:
            return {name: {} for name in part}
        source = engine.view([n for n in part if by_name[n].kind == "numeric"])
        return _unpack(engine.row(f"SELECT {', '.join(selects)} FROM {source}"), layout)

    done = [n for n in names if n in stats]
    for name, values in engine.per_column(done, second, failed).items():
        _tidy_second(by_name[name], stats[name], values)
    for name in done:
        spec = by_name[name]
        if spec.kind in {"string", "boolean"} and spec.distinct > _SMALL_CARDINALITY:
            _top_values(engine, spec, stats[name], failed)
        if spec.kind == "datetime" and stats[name].get("count"):
            _largest_gap(engine, spec, stats[name], failed)
    return stats


def _first_exprs(engine: Engine, spec: ColumnSpec) -> tuple[list[str], list[str]]:
    q = quote(spec.name)
    if spec.kind == "numeric":
        x = engine.finite(spec.name)
        listed = ", ".join(str(p) for p in QUANTILES)
        return (
            ["count", "finite", "mean", "std", "min", "max", "skew", "zeros", "quantiles"],
            [
                f"count({q})",
                f"count({x})",
                f"avg({x})",
                f"stddev_samp({x})",
                f"min({x})",
                f"max({x})",
                f"skewness({x})",
                f"count_if({x} = 0)",
                f"quantile_cont({x}, [{listed}])",
            ],
        )
    if spec.kind == "boolean":
        return ["count", "true"], [f"count({q})", f"count_if({q})"]
    if spec.kind == "datetime":
        return ["count", "min", "max"], [f"count({q})", f"min({q})", f"max({q})"]
    if spec.kind == "string":
        s = f"CAST({q} AS VARCHAR)"
        return (
            ["count", "length_min", "length_mean", "length_max", "numeric_like"],
            [
                f"count({q})",
                f"min(length({s}))",
                f"avg(length({s}))",
                f"max(length({s}))",
                f"count(TRY_CAST({s} AS DOUBLE))",
            ],
        )
    return ["count"], [f"count({q})"]


def _second_exprs(
    engine: Engine, spec: ColumnSpec, first: dict[str, Any]
) -> tuple[list[str], list[str]]:
    q = quote(spec.name)
    if spec.kind == "numeric" and first.get("min") is not None:
        x = engine.finite(spec.name)
        low, high = float(first["min"]), float(first["max"])
        width = (high - low) / _BINS if high > low and math.isfinite(high - low) else 0.0
        binned = (
            f"least(CAST(floor(({x} - {low!r}) / {width!r}) AS INTEGER), {_BINS - 1})"
            if width > 0
            else "0"
        )
        fields = ["histogram"]
        exprs = [f"histogram({binned})" if width > 0 else f"count({x})"]
        quantiles = first.get("quantiles") or {}
        q1, q3 = quantiles.get("p25"), quantiles.get("p75")
        if q1 is not None and q3 is not None:
            iqr = q3 - q1
            fields += ["outliers_1_5", "outliers_3"]
            exprs += [
                f"count_if({x} < {q1 - 1.5 * iqr!r} OR {x} > {q3 + 1.5 * iqr!r})",
                f"count_if({x} < {q1 - 3 * iqr!r} OR {x} > {q3 + 3 * iqr!r})",
            ]
        if spec.distinct <= _SMALL_CARDINALITY:
            fields.append("values")
            exprs.append(f"histogram(CAST({q} AS VARCHAR))")
        return fields, exprs
    if spec.kind in {"string", "boolean"} and spec.distinct <= _SMALL_CARDINALITY:
        return ["values"], [f"histogram(CAST({q} AS VARCHAR))"]
    if spec.kind == "datetime":
        return (
            ["by_month", "by_weekday", "by_hour"],
            [
                f"histogram(strftime({q}, '%Y-%m'))",
                f"histogram(dayofweek({q}))",
                f"histogram(hour({q}))",
            ],
        )
    return [], []


def _unpack(row: tuple[Any, ...], layout: list[tuple[str, list[str]]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    position = 0
    for name, fields in layout:
        out[name] = dict(zip(fields, row[position : position + len(fields)], strict=True))
        position += len(fields)
    return out


def _tidy_first(spec: ColumnSpec, values: dict[str, Any]) -> None:
    numbers = ("mean", "std", "min", "max", "skew") if spec.kind == "numeric" else ()
    for key in (*numbers, "length_mean"):
        if key in values:
            values[key] = _number(values[key])
    if spec.kind == "numeric":
        values["non_finite"] = int(values.get("count") or 0) - int(values.pop("finite", 0) or 0)
        quantiles = values.pop("quantiles", None) or []
        values["quantiles"] = {
            f"p{round(p * 100)}": _number(v) for p, v in zip(QUANTILES, quantiles, strict=False)
        }
    if spec.kind == "datetime":
        values["min"] = _iso(values.get("min"))
        values["max"] = _iso(values.get("max"))


def _tidy_second(spec: ColumnSpec, stats: dict[str, Any], values: dict[str, Any]) -> None:
    if spec.kind == "numeric" and "histogram" in values:
        counts = [0] * _BINS
        binned = values.pop("histogram")
        for index, count in (binned if isinstance(binned, dict) else {0: binned or 0}).items():
            counts[min(max(int(index), 0), _BINS - 1)] += int(count)
        low, high = stats["min"], stats["max"]
        if low is not None and high is not None and high > low:
            step = (high - low) / _BINS
            stats["histogram"] = {
                "edges": [low + i * step for i in range(_BINS + 1)],
                "counts": counts,
            }
        elif low is not None:
            stats["histogram"] = {"edges": [low, low], "counts": [sum(counts)]}
    if "values" in values:
        ranked = sorted(
            (values.pop("values") or {}).items(), key=lambda item: (-int(item[1]), str(item[0]))
        )
        stats["top"] = [{"value": k, "count": int(v)} for k, v in ranked[:_TOP]]
        stats["top_covers"] = sum(int(v) for _, v in ranked[:_TOP])
    if spec.kind == "datetime":
        stats["by_month"] = {k: int(v) for k, v in sorted((values.get("by_month") or {}).items())}
        weekdays = values.get("by_weekday") or {}
        stats["by_weekday"] = {_WEEKDAYS[int(k)]: int(weekdays[k]) for k in sorted(weekdays)}
        hours = values.get("by_hour") or {}
        stats["by_hour"] = {str(int(k)): int(hours[k]) for k in sorted(hours)}
        return
    stats.update(values)


def _top_values(
    engine: Engine, spec: ColumnSpec, stats: dict[str, Any], failed: Callable[[str, str], None]
) -> None:
    q = quote(spec.name)
    try:
        rows = engine.rows(
            f"SELECT CAST({q} AS VARCHAR) AS v, count(*) AS n FROM t WHERE {q} IS NOT NULL "
            f"GROUP BY v ORDER BY n DESC, v LIMIT {_TOP}"
        )
    except engine.error as exc:
        failed(spec.name, str(exc).splitlines()[0])
        return
    stats["top"] = [{"value": v, "count": int(n)} for v, n in rows]
    stats["top_covers"] = sum(int(n) for _, n in rows)


def _largest_gap(
    engine: Engine, spec: ColumnSpec, stats: dict[str, Any], failed: Callable[[str, str], None]
) -> None:
    q = quote(spec.name)
    try:
        row = engine.row(
            "SELECT max(g), arg_max(d, g) FROM (SELECT d, epoch(d) - epoch(lag(d) OVER "
            f"(ORDER BY d)) AS g FROM (SELECT DISTINCT {q} AS d FROM t WHERE {q} IS NOT NULL))"
        )
    except engine.error as exc:
        failed(spec.name, str(exc).splitlines()[0])
        return
    if row and row[0] is not None:
        stats["largest_gap"] = {"days": float(row[0]) / 86400, "ends_at": _iso(row[1])}


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return None if value is None else str(value)

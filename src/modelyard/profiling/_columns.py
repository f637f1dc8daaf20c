"""Per-column statistics, computed by DuckDB in one or two scans of the Parquet file.

A numeric column needs its minimum and maximum (the histogram's bins), its
mean (the central moments) and its quartiles (the IQR outlier fences) before
its histogram and moments can be gathered. When the profile knows them
beforehand (:class:`Known`: the quartiles and a centre from the sample, the
range from the Parquet statistics) one scan per column gathers everything:
the moments are summed around the centre and shifted to the mean afterwards
(exact algebra, and as stable as a second pass when the centre is near the
mean), and the range is checked against the scan's own minimum and maximum.
Otherwise a first scan gathers counts, sums, ranges and lengths and a second
the central moments (two-pass, not from raw power sums), histograms and
outlier counts. Other columns' figures (lengths, top values, calendar counts)
need nothing beforehand and come from one shared scan. Quantiles come from the
profile's sample when it has them (exact when the sample is the whole table);
otherwise the first scan computes them exactly. Distinct counts come from the
version's schema (exact, computed at ingest), so no scan repeats them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np

from modelyard.profiling._engine import Engine, quote

__all__ = ["QUANTILES", "ColumnSpec", "Known", "column_stats"]

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
_BINS = 20
_TOP = 10
# Up to this many distinct values a column's every count comes from one histogram
# aggregate in the shared scan; above it, one GROUP BY ... LIMIT query of its own.
_SMALL_CARDINALITY = 50
# Up to this many columns in the table, a numeric column's second scan is a
# GROUP BY of its own (see _binned_query).
_UNION_MAX_COLUMNS = 200
_WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
# The shared scan's figures that are tidied with the second scan's.
_SECOND_FIELDS = ("values", "by_month", "by_weekday", "by_hour")


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


@dataclass(frozen=True)
class Known:
    """What the profile knows of its numeric columns before any scan.

    Attributes:
        quantiles: keys ``p1`` ... ``p99`` (from the sample); the first scan
            computes the others.
        centres: a value near each column's mean (the sample's mean), around
            which the one-scan path sums the moments.
        ranges: each column's finite minimum and maximum as the file's Parquet
            statistics state them, for the histogram's bins. A guess: the scan
            checks it against its own minimum and maximum, and a column whose
            statistics are wrong (or count an infinity) is binned by a second
            scan, as a column with nothing known is.
    """

    quantiles: Mapping[str, Mapping[str, float | None]] = field(default_factory=dict)
    centres: Mapping[str, float] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)


def column_stats(
    engine: Engine,
    specs: Sequence[ColumnSpec],
    failed: Callable[[str, str], None],
    known: Known | Callable[[], Known] | None = None,
) -> dict[str, dict[str, Any]]:
    """Statistics of every column, keyed by name (see the module docstring).

    ``known`` may be a function: it is called once the figures that need nothing
    known are scanned, so the profile reads its sample meanwhile.
    """
    by_name = {s.name: s for s in specs}
    names = [s.name for s in specs]

    def shared(part: Sequence[str], seconds: bool = True) -> dict[str, dict[str, Any]]:
        selects: list[str] = []
        layout: list[tuple[str, list[str]]] = []
        for name in part:
            spec = by_name[name]
            fields, exprs = (
                ([], []) if spec.kind == "numeric" else _first_exprs(engine, spec, False)
            )
            more_fields, more_exprs = _second_exprs(spec) if seconds else ([], [])
            selects.extend([*exprs, *more_exprs])
            layout.append((name, [*fields, *more_fields]))
        if not selects:
            return {name: {} for name in part}
        return _unpack(engine.row(f"SELECT {', '.join(selects)} FROM t"), layout)

    lost: dict[str, str] = {}
    stats = engine.per_column(names, shared, lambda name, reason: lost.update({name: reason}))
    # A column whose shared query fails is asked its first figures alone: as when
    # its value or calendar counts took a scan of their own, their failure costs
    # only them.
    stats.update(engine.per_column(list(lost), lambda part: shared(part, False), failed))
    for name, reason in lost.items():
        if name in stats:
            failed(name, reason)
    known = (known() if callable(known) else known) or Known()
    numeric = [n for n in names if n in stats and by_name[n].kind == "numeric"]
    # Numeric columns gathered in one scan (see the module docstring); wide tables
    # take the shared aggregates of two scans (see _binned_query).
    single = [
        n
        for n in numeric
        if n in known.quantiles
        and n in known.centres
        and n in known.ranges
        and len(names) <= _UNION_MAX_COLUMNS
    ]

    def first(part: Sequence[str]) -> dict[str, dict[str, Any]]:
        selects: list[str] = []
        layout: list[tuple[str, list[str]]] = []
        for name in part:
            fields, exprs = _first_exprs(engine, by_name[name], name not in known.quantiles)
            selects.extend(exprs)
            layout.append((name, fields))
        return _unpack(engine.row(f"SELECT {', '.join(selects)} FROM {engine.view(part)}"), layout)

    def one_scan(part: Sequence[str]) -> dict[str, dict[str, Any]]:
        queries = [_single_query(i, by_name[n], known) for i, n in enumerate(part)]
        grouped: dict[int, list[tuple[Any, ...]]] = {}
        for row in engine.rows(" UNION ALL ".join(queries)):
            grouped.setdefault(int(row[0]), []).append(row)
        return {n: _single_values(grouped.get(i, [])) for i, n in enumerate(part)}

    # A column whose one scan fails (its failure unrecorded) takes two scans.
    singles = engine.per_column(single, one_scan, lambda name, reason: None)
    two_scans = [n for n in numeric if n not in singles]
    firsts = engine.per_column(two_scans, first, failed)
    for name in numeric:
        if name in singles:
            stats[name].update(singles[name])
        elif name in firsts:
            stats[name].update(firsts[name])
        else:
            del stats[name]  # unreadable, as its failure says
    later = {
        name: {k: values.pop(k) for k in _SECOND_FIELDS if k in values}
        for name, values in stats.items()
    }
    binned_now: dict[str, dict[str, Any]] = {}
    for name, values in stats.items():
        moments = values.pop("moments", None)
        finite = int(values.get("finite") or 0)
        _tidy_first(by_name[name], values)
        if name in known.quantiles and by_name[name].kind == "numeric":
            values["quantiles"] = dict(known.quantiles[name])
        if moments is not None and (values["min"], values["max"]) == known.ranges[name]:
            # The Parquet statistics' range was right: the bins are the scan's own.
            histogram, s1, s2, s3, outliers = moments
            m2, m3 = _central(finite, s1, s2, s3)
            # Sums that overflowed around the centre are summed again around the mean.
            if values["mean"] is None or (m2 is not None and m3 is not None):
                binned_now[name] = _binned(values, histogram, outliers, m2, m3)

    def second(part: Sequence[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {name: {} for name in part}
        parts = {n: _binned_parts(engine, n, stats[n]) for n in part}
        source = engine.view(part)
        if len(names) <= _UNION_MAX_COLUMNS:
            queries = [_binned_query(i, parts[n], source) for i, n in enumerate(part)]
            grouped: dict[int, list[tuple[Any, ...]]] = {}
            for row in engine.rows(" UNION ALL ".join(queries)):
                grouped.setdefault(int(row[0]), []).append(row)
            for i, name in enumerate(part):
                groups = grouped.get(i, [])
                counts = {int(r[1]): int(r[2]) for r in groups}
                m2 = _total([r[3] for r in groups])
                m3 = _total([r[4] for r in groups])
                out[name] = _binned_values(stats[name], counts, m2, m3)
            return out
        selects: list[str] = []
        layout: list[tuple[str, list[str]]] = []
        for name in part:
            selects.extend(_binned_aggregates(parts[name]))
            layout.append((name, ["keys", "m2", "m3"]))
        row = engine.row(f"SELECT {', '.join(selects)} FROM {source}")
        for name, values in _unpack(row, layout).items():
            keys = values.pop("keys") or {}
            m2, m3 = _number(values.pop("m2")), _number(values.pop("m3"))
            out[name] = _binned_values(stats[name], dict(keys), m2, m3)
        return out

    binned = [
        n
        for n in names
        if n in stats
        and n not in binned_now
        and by_name[n].kind == "numeric"
        and stats[n].get("min") is not None
    ]
    binned_now.update(engine.per_column(binned, second, failed))
    done = [n for n in names if n in stats]
    for name in done:
        spec = by_name[name]
        values = binned_now.get(name, {})
        if spec.kind != "numeric" or stats[name].get("min") is not None:
            values.update(later[name])
        _tidy_second(spec, stats[name], values)
    for name in done:
        spec = by_name[name]
        if spec.kind in {"string", "boolean"} and spec.distinct > _SMALL_CARDINALITY:
            _top_values(engine, spec, stats[name], failed)
        if spec.kind == "datetime" and stats[name].get("count"):
            _largest_gap(engine, spec, stats[name], failed)
    return stats


def _first_exprs(
    engine: Engine, spec: ColumnSpec, with_quantiles: bool
) -> tuple[list[str], list[str]]:
    q = quote(spec.name)
    if spec.kind == "numeric":
        x = engine.finite(spec.name)
        fields = ["count", "finite", "sum", "min", "max", "zeros"]
        exprs = [
            f"count({q})",
            f"count({x})",
            f"sum({x})",
            f"min({x})",
            f"max({x})",
            f"count_if({x} = 0)",
        ]
        if with_quantiles:
            listed = ", ".join(str(p) for p in QUANTILES)
            fields.append("quantiles")
            exprs.append(f"quantile_cont({x}, [{listed}])")
        return fields, exprs
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


def _bin(x: str, low: float, high: float) -> str:
    """A finite value's histogram bin (0 to 19) over ``low`` .. ``high``."""
    width = (high - low) / _BINS if high > low and math.isfinite(high - low) else 0.0
    if width <= 0:
        return "0"
    return f"least(CAST(floor(({x} - {low!r}) / {width!r}) AS INTEGER), {_BINS - 1})"


def _fences(quantiles: Mapping[str, float | None]) -> tuple[float, float, float, float] | None:
    """The IQR outlier fences: below and above at 3 IQR, then at 1.5 IQR."""
    q1, q3 = quantiles.get("p25"), quantiles.get("p75")
    if q1 is None or q3 is None:
        return None
    iqr = q3 - q1
    return q1 - 3 * iqr, q3 + 3 * iqr, q1 - 1.5 * iqr, q3 + 1.5 * iqr


def _bin_key(x: str, low: float, high: float, quantiles: Mapping[str, float | None]) -> str:
    """A finite value's (histogram bin, IQR outlier class) as one small integer."""
    fences = _fences(quantiles)
    outlier = "0"
    if fences is not None:
        low3, high3, low15, high15 = fences
        outlier = (
            f"CASE WHEN {x} < {low3!r} OR {x} > {high3!r} THEN 2 "
            f"WHEN {x} < {low15!r} OR {x} > {high15!r} THEN 1 ELSE 0 END"
        )
    return f"{_bin(x, low, high)} * 4 + {outlier}"


def _binned_parts(engine: Engine, name: str, first: dict[str, Any]) -> tuple[str, str, str]:
    """A numeric column's finite twin, its (histogram bin, IQR outlier class) key, and
    its distance from the mean."""
    x = engine.finite(name)
    key = _bin_key(x, float(first["min"]), float(first["max"]), first.get("quantiles") or {})
    mean = first.get("mean")
    d = f"({x} - {float(mean)!r})" if mean is not None else "NULL::DOUBLE"
    return x, key, d


def _binned_query(index: int, parts: tuple[str, str, str], source: str) -> str:
    """One numeric column's second scan as a GROUP BY on its key (narrow tables).

    Each group also sums the central moments' terms. Grouping on a small integer
    key costs far less than the ``histogram`` aggregate; but DuckDB binds the
    whole table for each part of the UNION ALL, so wide tables take
    :func:`_binned_aggregates` instead.
    """
    x, key, d = parts
    return (
        f"SELECT {index} AS c, {key} AS k, count(*) AS n, "
        f"sum({d} * {d}) AS m2, sum({d} * {d} * {d}) AS m3 "
        f"FROM {source} WHERE {x} IS NOT NULL GROUP BY k"
    )


def _binned_aggregates(parts: tuple[str, str, str]) -> list[str]:
    """The same figures as :func:`_binned_query` as aggregates of one shared SELECT."""
    _, key, d = parts
    return [f"histogram({key})", f"sum({d} * {d})", f"sum({d} * {d} * {d})"]


def _single_query(index: int, spec: ColumnSpec, known: Known) -> str:
    """A numeric column's every figure in one scan: a GROUP BY on its histogram bin.

    The rows that are missing, NaN or infinite make the group whose key is NULL,
    where only the count of present values is read; every other group holds
    finite values only, so no aggregate needs a filter (nor the finite twin's
    CASE on each row, which cost more than the rest of the scan). A small
    unsigned key lets DuckDB group on an array, not a hash table; a value below
    the stated minimum (wrong statistics) fails its cast, and the column is
    scanned the two-scan way. The outliers are counted beside the bins: a CASE
    per row in the key cost more.
    """
    q = quote(spec.name)
    x = f"CAST({q} AS DOUBLE)"
    low, high = known.ranges[spec.name]
    key = f"CAST(CASE WHEN isfinite({x}) THEN {_bin(x, low, high)} END AS UTINYINT)"
    d = f"({x} - {known.centres[spec.name]!r})"
    fences = _fences(known.quantiles[spec.name])
    outliers = "0, 0"
    if fences is not None:
        low3, high3, low15, high15 = fences
        outliers = (
            f"count_if({x} < {low15!r} OR {x} > {high15!r}), "
            f"count_if({x} < {low3!r} OR {x} > {high3!r})"
        )
    return (
        f"SELECT {index} AS c, {key} AS k, count({q}) AS present, count(*) AS n, "
        f"sum({x}) AS s, min({x}) AS low, max({x}) AS high, count_if({x} = 0) AS zeros, "
        f"sum({d}) AS s1, sum({d} * {d}) AS s2, sum({d} * {d} * {d}) AS s3, {outliers} "
        f"FROM t GROUP BY k"
    )


def _single_values(groups: list[tuple[Any, ...]]) -> dict[str, Any]:
    """The first scan's figures from :func:`_single_query`'s groups, and under
    ``moments`` the bin counts, the sums around the centre and the outliers."""
    finite = [g for g in groups if g[1] is not None]
    lows = [g[5] for g in finite if g[5] is not None]
    highs = [g[6] for g in finite if g[6] is not None]
    counts = {int(g[1]): int(g[3]) for g in finite}
    return {
        "count": sum(int(g[2]) for g in groups),
        "finite": sum(counts.values()),
        "sum": _total([g[4] for g in finite]) if finite else None,
        "min": min(lows) if lows else None,
        "max": max(highs) if highs else None,
        # As DuckDB's count_if over no value: NULL.
        "zeros": sum(int(g[7]) for g in finite) if finite else None,
        "moments": (
            counts,
            _total([g[8] for g in finite]),
            _total([g[9] for g in finite]),
            _total([g[10] for g in finite]),
            (sum(int(g[11]) for g in finite), sum(int(g[12]) for g in finite)),
        ),
    }


def _central(
    n: int, s1: float | None, s2: float | None, s3: float | None
) -> tuple[float | None, float | None]:
    """The second and third central moment sums from sums of powers of ``x - c``.

    With ``e = mean - c = s1 / n``: ``m2 = s2 - n e^2`` and
    ``m3 = s3 - 3 e s2 + 2 n e^3``. Exact algebra; in floating point the terms
    cancel little when ``c`` is near the mean, as the sample's mean is.
    """
    if n == 0 or s1 is None or s2 is None or s3 is None:
        return None, None
    e = s1 / n  # float products overflow to infinity (no error); a power would raise
    return _number(s2 - s1 * e), _number(s3 - 3 * e * s2 + 2 * n * e * e * e)


def _binned_values(
    first: dict[str, Any], counts: dict[int, int], m2: float | None, m3: float | None
) -> dict[str, Any]:
    """A column's histogram, outlier counts and moment sums from its key counts."""
    histogram: dict[int, int] = {}
    classes = [0, 0, 0]
    for key, count in counts.items():
        histogram[int(key) // 4] = histogram.get(int(key) // 4, 0) + int(count)
        classes[int(key) % 4] += int(count)
    return _binned(first, histogram, (classes[1] + classes[2], classes[2]), m2, m3)


def _binned(
    first: dict[str, Any],
    histogram: dict[int, int],
    outliers: tuple[int, int],
    m2: float | None,
    m3: float | None,
) -> dict[str, Any]:
    """A column's second-scan figures: ``outliers`` beyond 1.5 and 3 IQR."""
    values: dict[str, Any] = {"histogram": histogram}
    if _fences(first.get("quantiles") or {}) is not None:
        values["outliers_1_5"], values["outliers_3"] = outliers
    if first.get("mean") is not None:
        values["m2"], values["m3"] = m2, m3
    return values


def _second_exprs(spec: ColumnSpec) -> tuple[list[str], list[str]]:
    """The aggregates other than a numeric column's bins and moments that once took a
    second scan: they need nothing from the first, so they share its scan."""
    q = quote(spec.name)
    if spec.kind in {"numeric", "string", "boolean"} and spec.distinct <= _SMALL_CARDINALITY:
        return ["values"], [f"histogram(CAST({q} AS VARCHAR))"]
    if spec.kind == "datetime":
        return (
            ["by_month", "by_weekday", "by_hour"],
            [
                f"histogram(year({q}) * 100 + month({q}))",
                f"histogram(dayofweek({q}))",
                f"histogram(hour({q}))",
            ],
        )
    return [], []


def _unpack(row: tuple[Any, ...], layout: list[tuple[str, list[str]]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    position = 0
    for name, fields in layout:
        values = zip(fields, row[position : position + len(fields)], strict=True)
        out.setdefault(name, {}).update(values)
        position += len(fields)
    return out


def _tidy_first(spec: ColumnSpec, values: dict[str, Any]) -> None:
    numbers = ("min", "max") if spec.kind == "numeric" else ()
    for key in (*numbers, "length_mean"):
        if key in values:
            values[key] = _number(values[key])
    if spec.kind == "numeric":
        finite = int(values.pop("finite", 0) or 0)
        total = _number(values.pop("sum", None))
        values["mean"] = total / finite if finite and total is not None else None
        values["std"] = values["skew"] = None
        values["non_finite"] = int(values.get("count") or 0) - finite
        quantiles = values.pop("quantiles", None) or []
        values["quantiles"] = {
            f"p{round(p * 100)}": _number(v) for p, v in zip(QUANTILES, quantiles, strict=False)
        }
    if spec.kind == "datetime":
        values["min"] = _iso(values.get("min"))
        values["max"] = _iso(values.get("max"))


def _tidy_second(spec: ColumnSpec, stats: dict[str, Any], values: dict[str, Any]) -> None:
    if "m2" in values:
        _spread(stats, _number(values.pop("m2")), _number(values.pop("m3")))
    if spec.kind == "numeric" and "histogram" in values:
        counts = [0] * _BINS
        binned = values.pop("histogram")
        for index, count in (binned if isinstance(binned, dict) else {0: binned or 0}).items():
            counts[min(max(int(index), 0), _BINS - 1)] += int(count)
        low, high = stats["min"], stats["max"]
        if low is not None and high is not None and high > low and math.isfinite(high - low):
            step = (high - low) / _BINS
            stats["histogram"] = {
                "edges": [low + i * step for i in range(_BINS + 1)],
                "counts": counts,
            }
        elif low is not None:
            # One bar: no bins (a single value, or a range wider than a float holds).
            top = high if high is not None else low
            stats["histogram"] = {"edges": [low, top], "counts": [sum(counts)]}
    if "values" in values:
        ranked = sorted(
            (values.pop("values") or {}).items(), key=lambda item: (-int(item[1]), str(item[0]))
        )
        stats["top"] = [{"value": k, "count": int(v)} for k, v in ranked[:_TOP]]
        stats["top_covers"] = sum(int(v) for _, v in ranked[:_TOP])
    if spec.kind == "datetime":
        months = values.get("by_month") or {}
        stats["by_month"] = {
            f"{int(k) // 100:04d}-{int(k) % 100:02d}": int(months[k]) for k in sorted(months)
        }
        weekdays = values.get("by_weekday") or {}
        stats["by_weekday"] = {_WEEKDAYS[int(k)]: int(weekdays[k]) for k in sorted(weekdays)}
        hours = values.get("by_hour") or {}
        stats["by_hour"] = {str(int(k)): int(hours[k]) for k in sorted(hours)}
        return
    stats.update(values)


def _spread(stats: dict[str, Any], m2: float | None, m3: float | None) -> None:
    """Sample standard deviation and adjusted skewness (DuckDB's ``skewness``)."""
    n = int(stats.get("count") or 0) - int(stats.get("non_finite") or 0)
    if m2 is None or n < 2 or not math.isfinite(m2):
        return
    stats["std"] = math.sqrt(m2 / (n - 1))
    if n < 3 or m2 <= 0 or m3 is None or not math.isfinite(m3):
        return
    skew = math.sqrt(n * (n - 1)) / (n - 2) * (m3 / n) / (m2 / n) ** 1.5
    stats["skew"] = skew if math.isfinite(skew) else None


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
    # Sorting the epochs (seconds) in NumPy costs less than DuckDB's DISTINCT
    # and window over the column; repeated values only add gaps of zero.
    try:
        epochs = np.sort(engine.column(f"SELECT epoch({q}) FROM t WHERE {q} IS NOT NULL"))
        gaps = np.diff(epochs)
        widest = int(np.argmax(gaps)) if gaps.size else -1
        if widest < 0 or gaps[widest] <= 0:
            return
        end = float(epochs[widest + 1])
        row = engine.row(f"SELECT {q} FROM t WHERE epoch({q}) = {end!r} LIMIT 1")
    except engine.error as exc:
        failed(spec.name, str(exc).splitlines()[0])
        return
    days = float(gaps[widest]) / 86_400
    stats["largest_gap"] = {"days": days, "ends_at": _iso(row[0] if row else None)}


def _total(parts: list[Any]) -> float | None:
    """The sum of per-group sums (None when a group's sum is missing)."""
    if any(p is None for p in parts):
        return None
    return float(sum(float(p) for p in parts))


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return None if value is None else str(value)

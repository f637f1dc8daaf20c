"""A numeric column's one-scan figures equal the two-scan figures, whatever is known."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.profiling._columns import QUANTILES, ColumnSpec, Known, column_stats
from modelyard.profiling._engine import Engine

_EXACT = ("count", "min", "max", "zeros", "non_finite", "histogram", "outliers_1_5", "outliers_3")


def _stats(path: Path, known: Known) -> dict[str, Any]:
    spec = ColumnSpec("x", "numeric", "numeric", "feature", "double", 0)
    engine = Engine(path)
    failures: list[tuple[str, str]] = []
    try:
        stats = column_stats(engine, [spec], lambda n, r: failures.append((n, r)), known)
    finally:
        engine.close()
    assert failures == []
    return stats["x"]


def _close(a: float | None, b: float | None, scale: float) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * scale)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    values=st.lists(
        st.one_of(
            st.none(),
            st.floats(-1e6, 1e6),
            st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0]),
        ),
        min_size=1,
        max_size=60,
    ),
    shift=st.floats(-3.0, 3.0),
)
def test_one_scan_equals_two_scans(
    tmp_path: Path, values: list[float | None], shift: float
) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"x": pa.array(values, pa.float64())}), path)
    finite = np.array([v for v in values if v is not None and math.isfinite(v)])
    found = np.quantile(finite, QUANTILES) if finite.size else []
    quantiles = {f"p{round(p * 100)}": float(q) for p, q in zip(QUANTILES, found, strict=False)}
    spread = float(finite.std()) if finite.size else 1.0
    centre = float(finite.mean()) + shift * spread if finite.size else 0.0
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    two_scans = _stats(path, Known({"x": quantiles}))
    # Either way a moment is exact to about eps * (|mean| / std) ** k: the two-scan
    # way subtracts a rounded mean, the one-scan way the centre's share.
    scale = 1.0 + abs(float(finite.mean())) / spread if finite.size and spread > 0 else 1.0
    # Right statistics; a range too wide (scanned again); a range too narrow (a
    # value below it fails the one scan's cast, and the column takes two scans).
    for ranges in ((low, high), (low - 1.0, high + 1.0), (low + 0.5, high)):
        known = Known({"x": quantiles}, {"x": centre}, {"x": ranges})
        one_scan = _stats(path, known)
        assert set(one_scan) == set(two_scans)
        for key in _EXACT:
            assert one_scan.get(key) == two_scans.get(key), key
        assert _close(one_scan["mean"], two_scans["mean"], scale * spread)
        assert _close(one_scan["std"], two_scans["std"], scale * spread)
        assert _close(one_scan["skew"], two_scans["skew"], scale**3)

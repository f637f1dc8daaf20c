"""Monitoring benchmark: drift and data-quality checks of captured rows against a baseline.

Prints one JSON line: wall time and peak RSS of modelyard's window check (drift per
feature, data quality, Holm correction, multivariate PCA error) over ``--rows``
captured rows x ``--features`` numeric features against a ``--baseline``-row
baseline, the parse of captured request bodies measured apart (rows per second on
a sample), and Evidently's ``DataDriftPreset`` on the same data when Evidently is
importable (it needs pandas < 3: run it from the separate benchmark venv), as a ratio.

    python benchmarks/monitor.py --rows 1000000 --features 30 --baseline 100000
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--baseline", type=int, default=100_000)
    parser.add_argument("--parse-sample", type=int, default=20_000)
    args = parser.parse_args()

    from modelyard.monitoring._check import DEFAULT_LIMITS, Baseline, check_window
    from modelyard.monitoring._multivariate import fit_reference
    from modelyard.monitoring._rules import parse_rule
    from modelyard.monitoring._window import WindowRows
    from modelyard.training._baseline import compute_baseline

    rng = np.random.default_rng(0)
    names = [f"f{i}" for i in range(args.features)]
    reference = pd.DataFrame({n: rng.standard_normal(args.baseline) for n in names})
    statistics = compute_baseline(
        reference, dict.fromkeys(names, "numeric"), pd.Series(np.zeros(args.baseline)), "regression"
    )
    pca = fit_reference({n: reference[n].to_numpy() for n in names})
    current = {n: (rng.standard_normal(args.rows) + (0.6 if i < 3 else 0.0)).tolist()
               for i, n in enumerate(names)}  # fmt: skip
    rows = WindowRows("bench", current, ids=[""] * args.rows)
    baseline = Baseline(names, statistics, "regression", None, 0.5, pca)
    started = time.perf_counter()
    _, violations = check_window(rows, baseline, [parse_rule("psi>0.2", ("psi",))], DEFAULT_LIMITS)
    check_seconds = time.perf_counter() - started
    parse_rate = _parse_rate(names, args.parse_sample)
    result: dict[str, Any] = {
        "benchmark": "monitor",
        "rows": args.rows,
        "features": args.features,
        "baseline_rows": args.baseline,
        "check_seconds": round(check_seconds, 3),
        "flagged": sorted(v["key"] for v in violations),
        "parse_rows_per_second": round(parse_rate),
        "parse_seconds_for_rows": round(args.rows / parse_rate, 1),
        "peak_rss_mib": round(_peak_mib()),
    }
    result.update(_evidently(reference, current, check_seconds))
    print(json.dumps(result))


def _parse_rate(names: list[str], sample: int) -> float:
    """Rows per second that a window's captured request bodies are read and parsed."""
    from datetime import UTC, datetime

    import orjson

    from modelyard.monitoring._window import read_window
    from modelyard.serving._capture import CaptureRecord, CaptureWriter

    rng = np.random.default_rng(1)
    hour = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        writer = CaptureWriter(root, batch_rows=50_000)
        for i in range(sample):
            row = {n: float(v) for n, v in zip(names, rng.standard_normal(len(names)), strict=True)}
            writer.offer(
                CaptureRecord(hour + i * 0.1, "bench", "a", "m:1", False, f"r{i}", None, 1.0,
                              200, "application/json", orjson.dumps([row]).decode(),
                              '{"predictions":[0.1]}')
            )  # fmt: skip
        writer.close()
        started = time.perf_counter()
        read_window(root, "bench", "2026-01-01T00", names, None)
        return sample / (time.perf_counter() - started)


def _evidently(
    reference: pd.DataFrame, current: dict[str, list[float]], ours: float
) -> dict[str, Any]:
    try:
        from evidently import Report  # type: ignore[import-not-found]
        from evidently.presets import DataDriftPreset  # type: ignore[import-not-found]
    except ImportError:
        return {"evidently_seconds": None, "note": "evidently not importable in this venv"}
    frame = pd.DataFrame(current)
    started = time.perf_counter()
    Report([DataDriftPreset()]).run(frame, reference)
    seconds = time.perf_counter() - started
    return {"evidently_seconds": round(seconds, 3), "speedup": round(seconds / ours, 1)}


if __name__ == "__main__":
    main()

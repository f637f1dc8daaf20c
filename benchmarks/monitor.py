"""Monitoring benchmark: a window of captured traffic checked against a baseline.

Writes ``--rows`` captured rows x ``--features`` numeric features (three of them
drifted) through the gateway's capture writer, then measures, in a fresh process,
modelyard's whole window check as ``monitor run`` does it: the captured Parquet
read by DuckDB into typed columns, drift per feature, data quality, the Holm
correction and the multivariate PCA error against a ``--baseline``-row baseline.
Wall time cold (first check in the process, imports included) and warm (the same
window again), and the process's peak RSS.

The gateway's parser (the path every request took before the DuckDB reader) is
timed on a ``--parse-sample`` window beside the DuckDB reader on the same window,
as rows per second. Evidently's ``DataDriftPreset`` runs on the same rows as
pandas frames (already in memory, no capture to read) in the separate benchmark
venv (Evidently needs pandas < 3): ``--evidently-python`` or
``MODELYARD_BENCH_EVIDENTLY_PYTHON`` (default ``.venv-bench/bin/python``), in its
own process for its own peak RSS; the figure is null when that interpreter
cannot import Evidently.

    python benchmarks/monitor.py --rows 1000000 --features 30 --baseline 100000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ENDPOINT = "bench"
WINDOW = "2026-01-01T00"
SAMPLE_WINDOW = "2026-01-01T01"
_CHUNK = 50_000

_EVIDENTLY = """
import json, resource, sys, time
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
reference = pd.read_parquet(sys.argv[1])
current = pd.read_parquet(sys.argv[2])
started = time.perf_counter()
Report([DataDriftPreset()]).run(current, reference)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_rss_mib": peak}))
"""


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--baseline", type=int, default=100_000)
    parser.add_argument("--rows-per-request", type=int, default=1)
    parser.add_argument("--parse-sample", type=int, default=20_000)
    parser.add_argument(
        "--evidently-python",
        type=Path,
        default=os.environ.get("MODELYARD_BENCH_EVIDENTLY_PYTHON", ROOT / ".venv-bench/bin/python"),
    )
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        print(json.dumps(_measure(args.measure)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        started = time.perf_counter()
        reference, current = _write(scratch, args)
        setup = time.perf_counter() - started
        measured = json.loads(
            subprocess.run(
                [sys.executable, __file__, "--measure", str(scratch)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        evidently = _evidently(args.evidently_python, reference, current)
    result: dict[str, Any] = {
        "benchmark": "monitor",
        "rows": args.rows,
        "features": args.features,
        "baseline_rows": args.baseline,
        "rows_per_request": args.rows_per_request,
        "setup_seconds": round(setup, 1),
        **measured,
        **evidently,
    }
    if result.get("evidently_seconds"):
        result["speedup_vs_evidently_warm"] = round(
            result["evidently_seconds"] / result["warm_seconds"], 1
        )
        result["speedup_vs_evidently_cold"] = round(
            result["evidently_seconds"] / result["cold_seconds"], 1
        )
    print(json.dumps(result))


def _write(scratch: Path, args: argparse.Namespace) -> tuple[Path, Path]:
    """The baseline (statistics and PCA reference), the captured window, the sample
    window, and the same rows as Parquet for Evidently; their two Parquet paths."""
    import pandas as pd

    from modelyard.monitoring._multivariate import fit_reference
    from modelyard.training._baseline import compute_baseline

    rng = np.random.default_rng(0)
    names = [f"f{i}" for i in range(args.features)]
    reference = pd.DataFrame({n: rng.standard_normal(args.baseline) for n in names})
    statistics = compute_baseline(
        reference, dict.fromkeys(names, "numeric"), pd.Series(np.zeros(args.baseline)), "regression"
    )
    pca = fit_reference({n: reference[n].to_numpy() for n in names})
    (scratch / "baseline.json").write_text(
        json.dumps({"names": names, "statistics": statistics, "reference": pca})
    )
    reference_path = scratch / "reference.parquet"
    reference.to_parquet(reference_path)
    del reference
    current = pd.DataFrame(
        {n: rng.standard_normal(args.rows) + (0.6 if i < 3 else 0.0) for i, n in enumerate(names)}
    )
    current_path = scratch / "current.parquet"
    current.to_parquet(current_path)
    capture = scratch / "capture"
    _capture(capture, current, WINDOW, args.rows_per_request)
    _capture(capture, current.iloc[: args.parse_sample], SAMPLE_WINDOW, args.rows_per_request)
    return reference_path, current_path


def _capture(root: Path, frame: Any, window: str, per_request: int) -> None:
    """``frame``'s rows as the gateway captures them: JSON rows, a prediction each."""
    from modelyard.serving._capture import CaptureRecord, CaptureWriter

    moment = datetime.strptime(window, "%Y-%m-%dT%H").replace(tzinfo=UTC).timestamp()
    writer = CaptureWriter(root, batch_rows=_CHUNK)
    number = 0
    for start in range(0, len(frame), _CHUNK):
        lines = frame.iloc[start : start + _CHUNK].to_json(orient="records", lines=True)
        rows = lines.splitlines()
        for first in range(0, len(rows), per_request):
            group = rows[first : first + per_request]
            record = CaptureRecord(
                moment + number * 1e-3, ENDPOINT, "a", "m:1", False, f"r{number}", None, 1.0,
                200, "application/json", "[" + ",".join(group) + "]",
                json.dumps({"predictions": [0.5] * len(group)}),
            )  # fmt: skip
            number += 1
            while not writer.offer(record):
                writer.close()  # the queue is full: write what it holds, then go on
                writer = CaptureWriter(root, batch_rows=_CHUNK)
    writer.close()


def _measure(scratch: Path) -> dict[str, Any]:
    """The window check cold and warm, the two readers on the sample, peak RSS."""
    from modelyard.monitoring._check import DEFAULT_LIMITS, Baseline, check_window
    from modelyard.monitoring._rules import parse_rule
    from modelyard.monitoring._window import read_window

    document = json.loads((scratch / "baseline.json").read_text())
    names = document["names"]
    baseline = Baseline(
        names, document["statistics"], "regression", None, 0.5, document["reference"]
    )
    rules = [parse_rule("psi>0.2", ("psi",))]
    capture = scratch / "capture"
    figures: dict[str, Any] = {}
    for label in ("cold", "warm"):
        started = time.perf_counter()
        rows = read_window(capture, ENDPOINT, WINDOW, names, None, baseline.kinds())
        read = time.perf_counter() - started
        _, violations = check_window(rows, baseline, rules, DEFAULT_LIMITS)
        figures[f"{label}_seconds"] = round(time.perf_counter() - started, 3)
        figures[f"{label}_read_seconds"] = round(read, 3)
        figures["rows_checked"] = rows.rows
        figures["flagged"] = sorted(v["key"] for v in violations)
        del rows
    figures["peak_rss_mib"] = round(_peak_mib())
    rates: dict[str, list[float]] = {"duckdb": [], "parser": []}
    for _ in range(2):  # interleaved
        for reader, vectorised in (("duckdb", True), ("parser", False)):
            started = time.perf_counter()
            sample = read_window(
                capture, ENDPOINT, SAMPLE_WINDOW, names, None, baseline.kinds(),
                vectorised=vectorised,
            )  # fmt: skip
            rates[reader].append(sample.rows / (time.perf_counter() - started))
    figures["sample_rows"] = sample.rows
    figures["duckdb_read_rows_per_second"] = round(max(rates["duckdb"]))
    figures["parser_read_rows_per_second"] = round(max(rates["parser"]))
    figures["read_speedup_on_sample"] = round(max(rates["duckdb"]) / max(rates["parser"]), 1)
    return figures


def _evidently(python: Path, reference: Path, current: Path) -> dict[str, Any]:
    try:
        done = subprocess.run(
            [str(python), "-c", _EVIDENTLY, str(reference), str(current)],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        return {"evidently_seconds": None, "evidently_note": f"{python}: {exc.strerror}"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        return {"evidently_seconds": None, "evidently_note": f"{python}: {last}"}
    figures = json.loads(done.stdout)
    return {
        "evidently_seconds": round(figures["seconds"], 3),
        "evidently_peak_rss_mib": round(figures["peak_rss_mib"]),
    }


if __name__ == "__main__":
    main()

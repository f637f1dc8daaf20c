"""Ingest and tracking throughput.

Prints one JSON line:
- ingest of a generated 1,000,000-row, 30-column CSV through the SDK (rows/s, peak
  RSS), and ``pandas.read_csv`` of the same file in the same run, as a ratio;
- logging 10,000 metrics through the SDK, unbatched and batched (µs per metric).

Each measurement runs in its own process so peak RSS is its own.
Usage: python benchmarks/ingest.py [--rows N]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA_DIR = Path(__file__).with_name(".data")


def make_csv(n_rows: int) -> Path:
    """A 30-column CSV (floats, ints, categoricals, booleans, dates, an id), cached."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = DATA_DIR / f"wide-{n_rows}.csv"
    if path.exists():
        return path
    DATA_DIR.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    columns: dict[str, object] = {"row_id": pa.array(np.arange(n_rows))}
    for i in range(10):
        values = rng.normal(100 * i, 10 + i, n_rows)
        values[rng.random(n_rows) < 0.02] = np.nan
        columns[f"num_{i}"] = pa.array(values, from_pandas=True)
    for i in range(8):
        columns[f"int_{i}"] = pa.array(rng.integers(0, 10 ** (i % 4 + 1), n_rows))
    for i in range(6):
        levels = np.array([f"level_{j}" for j in range(3 + 7 * i)])
        columns[f"cat_{i}"] = pa.array(levels[rng.integers(0, len(levels), n_rows)])
    for i in range(3):
        columns[f"flag_{i}"] = pa.array(rng.random(n_rows) < 0.3)
    start = np.datetime64("2020-01-01T00:00:00")
    for i in range(2):
        offsets = rng.integers(0, 5 * 365 * 86400, n_rows).astype("timedelta64[s]")
        columns[f"time_{i}"] = pa.array(start + offsets)
    table = pa.table(columns)
    assert table.num_columns == 30
    temporary = path.with_suffix(".tmp")
    pacsv.write_csv(table, temporary)
    temporary.replace(path)
    return path


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_ingest(path: str) -> dict[str, float]:
    from modelyard.data import IngestOptions
    from modelyard.workspace import Workspace

    with tempfile.TemporaryDirectory() as root, Workspace.init(root) as ws:
        started = time.perf_counter()
        version, _ = ws.datasets.ingest(path, "wide", IngestOptions(target="flag_0"))
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": version.n_rows, "peak_rss_mib": _peak_rss_mib()}


def child_pandas(path: str) -> dict[str, float]:
    import pandas as pd

    started = time.perf_counter()
    frame = pd.read_csv(path)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": len(frame), "peak_rss_mib": _peak_rss_mib()}


def child_metrics(n_metrics: str) -> dict[str, float]:
    from modelyard.workspace import Workspace

    count = int(n_metrics)
    with tempfile.TemporaryDirectory() as root, Workspace.init(root) as ws:
        with ws.start_run("bench") as run:
            started = time.perf_counter()
            for step in range(count):
                run.log_metric("unbatched", float(step), step=step)
            unbatched = time.perf_counter() - started
            started = time.perf_counter()
            with run.batch():
                for step in range(count):
                    run.log_metric("batched", float(step), step=step)
            batched = time.perf_counter() - started
        stored = ws.runs.get(run.id).metric_counts
    assert stored == {"unbatched": count, "batched": count}, stored
    return {
        "unbatched_us_per_metric": unbatched / count * 1e6,
        "batched_us_per_metric": batched / count * 1e6,
    }


CHILDREN = {"ingest": child_ingest, "pandas": child_pandas, "metrics": child_metrics}


def run_child(kind: str, argument: str) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", kind, argument],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--metrics", type=int, default=10_000)
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        kind, argument = args.child
        print(json.dumps(CHILDREN[kind](argument)))
        return
    path = make_csv(args.rows)
    ingest = run_child("ingest", str(path))
    pandas = run_child("pandas", str(path))
    metrics = run_child("metrics", str(args.metrics))
    print(
        json.dumps(
            {
                "benchmark": "ingest",
                "rows": args.rows,
                "columns": 30,
                "csv_mib": round(path.stat().st_size / 2**20, 1),
                "modelyard_ingest_seconds": round(ingest["seconds"], 3),
                "modelyard_ingest_rows_per_s": round(args.rows / ingest["seconds"]),
                "modelyard_ingest_peak_rss_mib": round(ingest["peak_rss_mib"], 1),
                "pandas_read_csv_seconds": round(pandas["seconds"], 3),
                "pandas_read_csv_rows_per_s": round(args.rows / pandas["seconds"]),
                "pandas_read_csv_peak_rss_mib": round(pandas["peak_rss_mib"], 1),
                "speed_ratio_modelyard_over_pandas": round(
                    pandas["seconds"] / ingest["seconds"], 2
                ),
                "metrics_logged": args.metrics,
                "unbatched_us_per_metric": round(metrics["unbatched_us_per_metric"], 1),
                "batched_us_per_metric": round(metrics["batched_us_per_metric"], 1),
            }
        )
    )


if __name__ == "__main__":
    main()

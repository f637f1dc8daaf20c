"""Ingest throughput and peak memory, against pandas and Polars in the same run.

Prints one JSON line. For two generated 30-column CSVs (1,000,000 rows, and
about 1.2 GB), each of:

- ``modelyard data ingest`` as a subprocess (the real CLI, a fresh workspace),
- ``pandas.read_csv`` of the same file,
- ``polars.read_csv`` of the same file (Polars is in the ``bench`` extra),

and logging 10,000 metrics through the SDK, unbatched and batched (us per metric).

runs in a process of its own, and its peak RSS and CPU time (user + system, all
threads) are that process's own (``os.wait4``'s resource usage). "cold": the CSV's
pages are first dropped from the page cache (``posix_fadvise(DONTNEED)``, no root
needed); "warm": the same run again straight after. Ratios are modelyard's rows/s
over the alternative's. The load average before each file is printed with it: on
a shared machine whose CPUs are busy, wall time follows CPU time, and the CPU
seconds say what each run cost whatever the load.

Usage: python benchmarks/ingest.py [--rows N] [--big-gb 1.2] [--skip-big]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).with_name(".data")
N_COLUMNS = 30


def make_csv(path: Path, n_rows: int) -> Path:
    """A 30-column CSV (floats, ints, categoricals, booleans, dates, an id)."""
    import numpy as np
    import pyarrow.csv as pacsv

    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    rng = np.random.default_rng(0)
    chunk = 500_000
    with pacsv.CSVWriter(temporary, _table(rng, 0, 1).schema) as writer:
        for start in range(0, n_rows, chunk):
            writer.write_table(_table(rng, start, min(chunk, n_rows - start)))
    temporary.replace(path)
    return path


def _table(rng: Any, start: int, n_rows: int) -> Any:
    import numpy as np
    import pyarrow as pa

    columns: dict[str, object] = {"row_id": pa.array(np.arange(start, start + n_rows))}
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
    begin = np.datetime64("2020-01-01T00:00:00")
    for i in range(2):
        offsets = rng.integers(0, 5 * 365 * 86400, n_rows).astype("timedelta64[s]")
        columns[f"time_{i}"] = pa.array(begin + offsets)
    table = pa.table(columns)
    assert table.num_columns == N_COLUMNS
    return table


def rows_for_bytes(target_bytes: int) -> int:
    """How many rows of this CSV make about ``target_bytes``."""
    sample = Path(tempfile.mkdtemp()) / "sample.csv"
    make_csv(sample, 20_000)
    per_row = sample.stat().st_size / 20_000
    sample.unlink()
    sample.parent.rmdir()
    return int(target_bytes / per_row)


def drop_from_page_cache(path: Path) -> None:
    """Make the next read of ``path`` come from disk (only this file's pages)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def measure(command: list[str]) -> dict[str, float]:
    """Run ``command``; its wall time, peak RSS (its own, from wait4) and JSON output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"{command[:4]} exited {process.returncode}: {stderr.strip()[-500:]}")
    result: dict[str, float] = {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,
    }
    output = json.loads(stdout) if stdout.strip() else {}
    result.update({k: v for k, v in output.items() if isinstance(v, (int, float))})
    return result


def modelyard_command(path: Path, workspace: Path) -> list[str]:
    cli = [sys.executable, "-m", "modelyard", "-w", str(workspace)]
    return [*cli, "data", "ingest", str(path), "--name", "wide", "--target", "flag_0", "--json"]


def reader_command(library: str, path: Path) -> list[str]:
    code = {
        "pandas": "import pandas as pd; frame = pd.read_csv({path!r}); n = len(frame)",
        "polars": "import polars as pl; frame = pl.read_csv({path!r}); n = frame.height",
    }[library].format(path=str(path))
    return [sys.executable, "-c", f"{code}; import json; print(json.dumps({{'rows': n}}))"]


METRICS_CODE = """
import json, tempfile, time
from modelyard.workspace import Workspace
count = {count}
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
assert stored == {{"unbatched": count, "batched": count}}, stored
print(json.dumps({{"unbatched_us": unbatched / count * 1e6, "batched_us": batched / count * 1e6}}))
"""


def bench_metrics(count: int) -> dict[str, float]:
    """Logging ``count`` metrics through the SDK, unbatched and batched (us per metric)."""
    run = measure([sys.executable, "-c", METRICS_CODE.format(count=count)])
    return {
        "metrics_logged": count,
        "unbatched_us_per_metric": round(run["unbatched_us"], 1),
        "batched_us_per_metric": round(run["batched_us"], 1),
    }


def polars_available() -> bool:
    try:
        import polars  # noqa: F401
    except ImportError:
        return False
    return True


def bench_file(label: str, path: Path, n_rows: int, root: Path) -> dict[str, Any]:
    """Cold then warm runs of modelyard, pandas and Polars on one file."""
    figures: dict[str, Any] = {
        "rows": n_rows,
        "csv_mib": round(path.stat().st_size / 2**20, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    libraries = ["pandas", "polars"] if polars_available() else ["pandas"]
    if "polars" not in libraries:
        figures["polars"] = "not installed (pip install 'modelyard[bench]')"
    for temperature in ("cold", "warm"):
        runs: dict[str, dict[str, float]] = {}
        if temperature == "cold":
            drop_from_page_cache(path)
        workspace = root / f"ws-{label}-{temperature}"
        subprocess.run(
            [sys.executable, "-m", "modelyard", "init", str(workspace)],
            check=True,
            capture_output=True,
        )
        runs["modelyard"] = measure(modelyard_command(path, workspace))
        assert runs["modelyard"]["rows"] == n_rows, runs["modelyard"]
        for library in libraries:
            if temperature == "cold":
                drop_from_page_cache(path)
            runs[library] = measure(reader_command(library, path))
            assert runs[library]["rows"] == n_rows, (library, runs[library])
        for who, run in runs.items():
            figures[f"{temperature}_{who}_rows_per_s"] = round(n_rows / run["seconds"])
            figures[f"{temperature}_{who}_seconds"] = round(run["seconds"], 2)
            figures[f"{temperature}_{who}_cpu_seconds"] = round(run["cpu_seconds"], 2)
            figures[f"{temperature}_{who}_peak_rss_mib"] = round(run["peak_rss_mib"], 1)
        for library in libraries:
            figures[f"{temperature}_speed_ratio_modelyard_over_{library}"] = round(
                runs[library]["seconds"] / runs["modelyard"]["seconds"], 2
            )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-gb", type=float, default=1.2)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--metrics", type=int, default=10_000)
    args = parser.parse_args()
    result: dict[str, Any] = {"benchmark": "ingest", "columns": N_COLUMNS}
    small = make_csv(DATA_DIR / f"wide-{args.rows}.csv", args.rows)
    with tempfile.TemporaryDirectory(prefix="modelyard-bench-") as scratch:
        root = Path(scratch)
        result["small"] = bench_file("small", small, args.rows, root)
        if not args.skip_big:
            big_rows = rows_for_bytes(int(args.big_gb * 1e9))
            big = make_csv(root / "big.csv", big_rows)
            result["big"] = bench_file("big", big, big_rows, root)
    result["metrics"] = bench_metrics(args.metrics)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Batch transform throughput and memory.

Prints one JSON line:
- ``modelyard batch predict`` (the CLI, local executor, one worker per core) scoring
  a generated 2,000,000-row churn Parquet file with the 200-tree XGBoost churn model:
  rows/s (wall clock of the whole command, start-up included, and the job's own
  rate) and peak RSS of the whole process tree (driver and workers, sampled with
  psutil), against what a user would otherwise run: a standard scikit-learn
  ``Pipeline(ColumnTransformer(SimpleImputer, OneHotEncoder), XGBClassifier)``
  (``benchmarks/_standard.py``) with the same boosting parameters, trained on the same
  rows, predicting ``pandas.read_parquet(file)`` in one process, in the same run, as a
  ratio (goal: at least 2x on 2 cores). ``speedup`` divides the command's wall-clock
  rate (interpreter start, planning, worker start-up and model loading included) by the
  baseline's (reading and predicting only; its training is not timed); ``speedup_job``
  uses the job's own rate; ``batch_job_seconds`` and ``batch_outside_job_seconds``
  split the command's wall clock into the job's own time and the rest. The job uses
  the model's native flavor (XGBoost's own predictor on the booster file); the same
  job with ``--flavor onnx`` is measured for comparison;
- peak RSS of the same command on a 10,000,000-row file (goal: under 1 GiB whatever
  the input size).

Input files are generated once, in 250,000-row chunks (so generation stays bounded
too), and cached in ``benchmarks/.data/``.

Usage: python benchmarks/batch.py [--rows N] [--big-rows N] [--trees N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

DATA = Path(__file__).parent / ".data"
CHUNK = 250_000
ROW_GROUP = 100_000


def churn_file(rows: int) -> Path:
    """A cached Parquet file of ``rows`` generated customers (no label)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from modelyard import datasets

    path = DATA / f"churn-{rows}.parquet"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    writer = None
    for seed, start in enumerate(range(0, rows, CHUNK)):
        frame = datasets.churn(min(CHUNK, rows - start), seed=1000 + seed)
        frame = frame.drop(columns=["churned"])
        frame["customer_id"] = [f"C{start + i:09d}" for i in range(len(frame))]
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(partial, table.schema)
        writer.write_table(table, row_group_size=ROW_GROUP)
    assert writer is not None
    writer.close()
    partial.rename(path)
    return path


class TreeMemory:
    """Peak RSS of a process and all its descendants, sampled every 20 ms.

    The list of descendants is refreshed every 200 ms only: listing them scans every
    process of the machine, which at every sample took 0.75 s of CPU during a 6.5 s
    batch command (11% of a core, on the 2 cores being measured). Reading the RSS
    of the few processes known costs next to nothing.
    """

    REFRESH = 10  # samples between two listings of the descendants

    def __init__(self, pid: int) -> None:
        self.peak = 0
        self._root = psutil.Process(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        processes: list[psutil.Process] = []
        samples = 0
        while not self._stop.is_set():
            if samples % self.REFRESH == 0:
                try:
                    processes = [self._root, *self._root.children(recursive=True)]
                except psutil.NoSuchProcess:
                    return
            samples += 1
            total = 0
            for process in processes:
                try:
                    total += process.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
            self.peak = max(self.peak, total)
            time.sleep(0.02)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_measured(command: list[str]) -> tuple[float, int, str]:
    """Run ``command``; its wall time, peak tree RSS and stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory = TreeMemory(process.pid)
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    peak = memory.stop()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr}")
    return seconds, peak, stdout


BASELINE = """
import sys, time, pandas
sys.path.insert(0, sys.argv[4])
from _standard import as_features, standard_pipeline
pipeline = standard_pipeline(pandas.read_parquet(sys.argv[1]), int(sys.argv[3]))
started = time.perf_counter()
proba = pipeline.predict_proba(as_features(pandas.read_parquet(sys.argv[2])))
print(time.perf_counter() - started, len(proba))
"""


def train_model(root: Path, trees: int) -> Path:
    """A workspace holding ``churn:1``, the 200-tree XGBoost churn model."""
    from modelyard import datasets
    from modelyard.data import IngestOptions
    from modelyard.training import TrainingSpec, train
    from modelyard.workspace import Workspace

    workspace = root / "ws"
    with Workspace.init(workspace) as ws:
        source = root / "train.parquet"
        datasets.churn(50_000, seed=0).to_parquet(source, index=False)
        ws.datasets.ingest(source, "churn", IngestOptions(target="churned"))
        result = train(ws, TrainingSpec(dataset="churn", params={"n_estimators": trees}))
        assert result.model is not None
    return workspace


def batch_command(workspace: Path, source: Path, output: Path, flavor: str = "native") -> list[str]:
    return [
        sys.executable, "-m", "modelyard", "-w", str(workspace), "batch", "predict",
        "--model", "churn:1", "--input", str(source), "--output", str(output),
        "--keep", "customer_id", "--flavor", flavor, "--json",
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--big-rows", type=int, default=10_000_000)
    parser.add_argument("--trees", type=int, default=200)
    args = parser.parse_args()

    source = churn_file(args.rows)
    big = churn_file(args.big_rows)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        workspace = train_model(root, args.trees)
        seconds, peak, stdout = run_measured(batch_command(workspace, source, root / "out"))
        report = json.loads(stdout)
        job_rate = report["job"]["rows_per_second"]
        job_seconds = float(report["manifest"]["seconds"])
        assert report["manifest"]["rows_out"] == args.rows

        flavor = report["manifest"]["flavor"]
        onnx_seconds, onnx_peak, onnx_stdout = run_measured(
            batch_command(workspace, source, root / "out-onnx", "onnx")
        )
        assert json.loads(onnx_stdout)["manifest"]["flavor"] == "onnx"

        base_seconds, base_peak, base_out = run_measured(
            [
                sys.executable,
                "-c",
                BASELINE,
                str(root / "train.parquet"),
                str(source),
                str(args.trees),
                str(Path(__file__).parent),
            ]
        )
        predict_seconds, base_rows = base_out.split()
        assert int(base_rows) == args.rows

        big_seconds, big_peak, big_stdout = run_measured(
            batch_command(workspace, big, root / "out-big")
        )
        assert json.loads(big_stdout)["manifest"]["rows_out"] == args.big_rows

    batch_rate = args.rows / seconds
    baseline_rate = args.rows / float(predict_seconds)
    print(
        json.dumps(
            {
                "benchmark": "batch",
                "cores": os.cpu_count(),
                "trees": args.trees,
                "flavor": flavor,
                "baseline": "sklearn Pipeline(ColumnTransformer(SimpleImputer, OneHotEncoder), "
                "XGBClassifier), same data and boosting parameters",
                "rows": args.rows,
                "batch_rows_per_s": round(batch_rate),
                "batch_job_rows_per_s": round(job_rate),
                "batch_seconds": round(seconds, 2),
                "batch_job_seconds": round(job_seconds, 2),
                "batch_outside_job_seconds": round(seconds - job_seconds, 2),
                "batch_peak_rss_mib": round(peak / 2**20),
                "baseline_rows_per_s": round(baseline_rate),
                "baseline_seconds": round(float(predict_seconds), 2),
                "baseline_process_seconds": round(base_seconds, 2),
                "baseline_peak_rss_mib": round(base_peak / 2**20),
                "speedup": round(batch_rate / baseline_rate, 2),
                "speedup_job": round(job_rate / baseline_rate, 2),
                "onnx_flavor_rows_per_s": round(args.rows / onnx_seconds),
                "onnx_flavor_peak_rss_mib": round(onnx_peak / 2**20),
                "onnx_flavor_speedup": round(args.rows / onnx_seconds / baseline_rate, 2),
                "big_rows": args.big_rows,
                "big_rows_per_s": round(args.big_rows / big_seconds),
                "big_peak_rss_mib": round(big_peak / 2**20),
                "goal_speedup": 2.0,
                "goal_peak_rss_mib": 1024,
            }
        )
    )


if __name__ == "__main__":
    main()

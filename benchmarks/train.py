"""Training overhead and single-row prediction latency.

Prints one JSON line:
- a modelyard training job (XGBoost, 200 trees, on the training split of 200,000
  generated churn rows) including evaluation, the HTML report, packaging, the ONNX
  compile with its parity check and registration, against the same scikit-learn
  pipeline (feature recipe + the same XGBoost) fitted directly on the same rows, in
  the same run, as an overhead ratio (goal: at most 1.25);
- single-row predict latency of the registered model's ONNX flavor (through
  ``LoadedModel.predict`` on a one-row DataFrame, and on the column arrays a server
  has after parsing JSON) against ``pipeline.predict_proba`` of the joblib pipeline
  on a one-row DataFrame (goal: ONNX at least 20x faster).

Usage: python benchmarks/train.py [--rows N] [--trees N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any


def _latencies_us(
    calls: dict[str, Callable[[], Any]], repeats: int, *, block: int = 1
) -> dict[str, dict[str, float]]:
    """Median and p99 of each call, in microseconds, after a warm-up.

    The calls take turns in blocks of ``block`` calls each, so a neighbour's burst
    slows every contender alike instead of the one that happened to be running.
    With blocks of one (strictly interleaved), each call starts right after the
    other: after a joblib predict, XGBoost's OpenMP workers are still spinning on
    the other core and its pandas work has filled the caches, which here triples
    onnxruntime's run (27 -> 86 us). In longer blocks each call mostly follows
    itself, as in a server answering a stream of requests.
    """
    for call in calls.values():
        for _ in range(50):
            call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    order = [
        (name, call)
        for _ in range(max(repeats // block, 1))
        for name, call in calls.items()
        for _ in range(block)
    ]
    for name, call in order:
        started = time.perf_counter_ns()
        call()
        samples[name].append((time.perf_counter_ns() - started) / 1000)
    result = {}
    for name, values in samples.items():
        values.sort()
        result[name] = {
            "p50": round(statistics.median(values), 1),
            "p99": round(values[int(len(values) * 0.99) - 1], 1),
        }
    return result


def _speedup(latencies: dict[str, dict[str, float]], onnx_call: str) -> float:
    """How many times faster than the joblib pipeline an ONNX call is, by medians."""
    return round(latencies["joblib_pipeline_dataframe"]["p50"] / latencies[onnx_call]["p50"], 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()

    import numpy as np
    import xgboost as xgb
    from sklearn.base import clone

    from modelyard import datasets
    from modelyard.data import IngestOptions, SplitSpec
    from modelyard.features import build_pipeline
    from modelyard.training import TrainingSpec, train
    from modelyard.workspace import Workspace

    with tempfile.TemporaryDirectory() as root:
        frame = datasets.churn(args.rows, seed=0)
        source = f"{root}/churn.parquet"
        frame.to_parquet(source, index=False)
        ws = Workspace.init(f"{root}/ws")
        version, _ = ws.datasets.ingest(
            source,
            "churn",
            IngestOptions(target="churned", split=SplitSpec(0.7, 0.15, 0.15, seed=42)),
        )

        # The obvious alternative: the same pipeline, fitted directly on the same rows.
        train_rows = ws.datasets.read(version, split="train").to_pandas()
        features = train_rows.drop(columns=["churned"])
        target = train_rows["churned"].astype(int).to_numpy()
        estimator = xgb.XGBClassifier(
            n_estimators=args.trees,
            learning_rate=0.08,
            max_depth=5,
            subsample=0.9,
            random_state=0,
            tree_method="hist",
        )
        # Alternating rounds, best of each: on a shared 2-core machine a neighbour's
        # burst would otherwise land on one side only. The first modelyard round also
        # pays its one-time imports (ONNX converters, Plotly); the best of nine is a
        # warm job, as the direct fit's is. Nine, not five or seven: a fit here varies
        # by up to a third from round to round, and one lucky round on one side alone
        # moved the ratio by 0.2 with five and by 0.15 with seven.
        direct_times, modelyard_times, modelyard_fits = [], [], []
        spec = TrainingSpec(
            dataset="churn", algorithm="xgboost", params={"n_estimators": args.trees}
        )
        for _ in range(args.rounds):
            direct = build_pipeline(version.columns, clone(estimator), needs_scaling=False)
            started = time.perf_counter()
            direct.fit(features, target)
            direct_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = train(ws, spec)
            modelyard_times.append(time.perf_counter() - started)
            modelyard_fits.append(ws.runs.get(result.run_id).metrics["fit_seconds"])
        direct_seconds, modelyard_seconds = min(direct_times), min(modelyard_times)
        overheads = [m - f for m, f in zip(modelyard_times, modelyard_fits, strict=True)]
        assert result.model is not None and "onnx" in result.model.flavors, result.onnx.reason

        onnx_model = ws.models.load(result.model.ref, prefer="onnx")
        pipeline_model = ws.models.load(result.model.ref, prefer="pipeline")
        one_row = features.iloc[[0]].reset_index(drop=True)
        as_arrays = {name: np.asarray(one_row[name].to_list()) for name in one_row.columns}
        pipeline = pipeline_model._pipeline  # the fitted scikit-learn pipeline itself
        calls = {
            "onnx_dataframe": lambda: onnx_model.predict(one_row),
            "onnx_column_arrays": lambda: onnx_model.predict(as_arrays),
            "joblib_pipeline_dataframe": lambda: pipeline.predict_proba(one_row),
        }
        latencies = _latencies_us(calls, args.repeats)
        in_blocks = _latencies_us(calls, args.repeats, block=100)
        ws.close()

    print(
        json.dumps(
            {
                "benchmark": "train",
                "rows": args.rows,
                "train_rows": len(train_rows),
                "trees": args.trees,
                "rounds": args.rounds,
                "modelyard_train_seconds": round(modelyard_seconds, 2),
                "direct_pipeline_fit_seconds": round(direct_seconds, 2),
                "overhead_ratio": round(modelyard_seconds / direct_seconds, 3),
                "overhead_ratio_per_round": [
                    round(m / d, 3) for m, d in zip(modelyard_times, direct_times, strict=True)
                ],
                "overhead_goal": 1.25,
                # The same comparison by each side's median round: a fit here swings
                # by up to a third between adjacent rounds, and one lucky round on one
                # side moves the best-of ratio above by as much as 0.4.
                "overhead_ratio_of_medians": round(
                    statistics.median(modelyard_times) / statistics.median(direct_times), 3
                ),
                # Seconds each modelyard round spent beside its own fit (which it times
                # and records as fit_seconds): the overhead itself, free of how fast
                # the fits of that round happened to run.
                "overhead_seconds_per_round": [round(o, 3) for o in overheads],
                "overhead_seconds_median": round(statistics.median(overheads), 3),
                # Each job's wall time over its own fit, timed seconds apart in the
                # same job (median over rounds): the ratio with the noise of two
                # separate fits taken out. It stands for the goal's ratio as long as
                # the job's fit takes what a direct fit takes, which the next figure
                # (median over median) shows.
                "overhead_ratio_within_job": round(
                    statistics.median(
                        m / f for m, f in zip(modelyard_times, modelyard_fits, strict=True)
                    ),
                    3,
                ),
                "fit_ratio_of_medians": round(
                    statistics.median(modelyard_fits) / statistics.median(direct_times), 3
                ),
                "modelyard_fit_seconds_per_round": [round(f, 2) for f in modelyard_fits],
                "direct_fit_seconds_per_round": [round(d, 2) for d in direct_times],
                "roc_auc": round(result.evaluation.metrics["roc_auc"], 4),
                "onnx_parity_max_abs_difference": result.onnx.max_difference,
                "predict_one_row_us": latencies,
                "onnx_speedup_dataframe": _speedup(latencies, "onnx_dataframe"),
                "onnx_speedup_column_arrays": _speedup(latencies, "onnx_column_arrays"),
                # The same calls taking turns in blocks of 100 (see _latencies_us).
                "predict_one_row_us_in_blocks_of_100": in_blocks,
                "onnx_speedup_dataframe_in_blocks": _speedup(in_blocks, "onnx_dataframe"),
                "onnx_speedup_column_arrays_in_blocks": _speedup(in_blocks, "onnx_column_arrays"),
                "speedup_goal": 20,
            }
        )
    )


if __name__ == "__main__":
    main()

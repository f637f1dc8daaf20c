"""Training overhead and single-row prediction latency.

Prints one JSON line:
- a modelyard training job (XGBoost, 200 trees, on the training split of 200,000
  generated churn rows) including evaluation, the HTML report, packaging, the ONNX
  compile with its parity check and registration, against what a user would
  otherwise run: the standard scikit-learn pipeline (``benchmarks/_standard.py``:
  imputers, one-hot encoder, the same XGBoost parameters) fitted directly on the same
  rows, in the same run, as an overhead ratio (goal: at most 1.25). ``overhead_ratio`` is
  the ratio of each side's median over alternating rounds, with a bootstrap 90 %
  interval over the rounds; the best-of ratio and the job's wall time over its own
  fit are printed beside it (see ``_overhead_figures``);
- single-row predict latency of the registered model's ONNX flavor through the
  served path (a JSON request's body parsed into column lists, which
  ``LoadedModel.predict_columns`` checks, encodes and scores) and through
  ``LoadedModel.predict`` on a one-row DataFrame, against ``predict_proba`` of the
  standard pipeline on a one-row DataFrame (goal: the served path at least 15x
  faster). ``onnx_speedup``, the headline, is strictly interleaved (cold caches, see
  ``_latencies_us``); the warm figures (blocks of 100) are printed beside it.

Usage: python benchmarks/train.py [--rows N] [--trees N] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import random
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
    other, whose work has evicted its code and data from the CPU caches: a one-row
    ONNX call then reads the 200 trees' nodes it visits from memory. Measured here
    (2-core AMD EPYC, no SMT): the ONNX call on a DataFrame took 2.3 times as long
    after a joblib predict as after itself, 2.9 times after summing a 32 MB array,
    and as long after a joblib predict with ``OMP_WAIT_POLICY=passive`` or the
    garbage collector off, so it is the caches, not OpenMP's spinning workers or a
    collection; the joblib predict itself changes by 6 % (its cost is the Python
    around the model).
    In longer blocks each call mostly follows itself, as in a server answering a
    stream of requests.
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
    """How many times faster than the standard pipeline a modelyard call is, by medians."""
    return round(latencies["sklearn_pipeline_dataframe"]["p50"] / latencies[onnx_call]["p50"], 1)


def _ratio_of_medians(modelyard: list[float], direct: list[float]) -> float:
    return statistics.median(modelyard) / statistics.median(direct)


def _overhead_figures(
    modelyard: list[float], direct: list[float], fits: list[float]
) -> dict[str, Any]:
    """The overhead ratio by several estimators, from alternating rounds.

    A 200-tree fit here swings by up to a third between adjacent rounds, in both
    directions (the same direct fit took 3.7 and 4.7 s in one run), so the machine's
    speed, not only its interference, varies. The headline is therefore the ratio of
    each side's median round, with a 90 % interval from resampling the rounds
    (bootstrap, 2,000 resamples, fixed seed): it says how far the figure could move
    had other rounds been drawn. The best-of ratio assumes noise only ever slows a
    round down; one lucky round on either side moves it by up to 0.4. The job's own
    wall time over its own fit (timed seconds apart, in the same job) has the noise
    of two separate fits taken out; it stands for the ratio while the job's fit
    takes what a direct fit takes (``fit_ratio_of_medians`` near 1).
    """
    rng = random.Random(0)
    pairs = list(zip(modelyard, direct, strict=True))
    resampled = []
    for _ in range(2000):
        drawn = rng.choices(pairs, k=len(pairs))
        resampled.append(_ratio_of_medians([m for m, _ in drawn], [d for _, d in drawn]))
    resampled.sort()
    overheads = [m - f for m, f in zip(modelyard, fits, strict=True)]
    return {
        "overhead_ratio": round(_ratio_of_medians(modelyard, direct), 3),
        "overhead_ratio_interval_90": [round(resampled[100], 3), round(resampled[1899], 3)],
        "overhead_goal": 1.25,
        "overhead_ratio_best_of": round(min(modelyard) / min(direct), 3),
        "overhead_ratio_per_round": [round(m / d, 3) for m, d in pairs],
        # Seconds each modelyard round spent beside its own fit (which it times and
        # records as fit_seconds): the overhead itself, free of the fits' speed.
        "overhead_seconds_per_round": [round(o, 3) for o in overheads],
        "overhead_seconds_median": round(statistics.median(overheads), 3),
        "overhead_ratio_within_job": round(
            statistics.median(m / f for m, f in zip(modelyard, fits, strict=True)), 3
        ),
        "fit_ratio_of_medians": round(_ratio_of_medians(fits, direct), 3),
        "modelyard_train_seconds_median": round(statistics.median(modelyard), 2),
        "direct_pipeline_fit_seconds_median": round(statistics.median(direct), 2),
        "modelyard_train_seconds_per_round": [round(m, 2) for m in modelyard],
        "modelyard_fit_seconds_per_round": [round(f, 2) for f in fits],
        "direct_fit_seconds_per_round": [round(d, 2) for d in direct],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    from _standard import as_features, unfitted_pipeline
    from modelyard import datasets
    from modelyard.data import IngestOptions, SplitSpec
    from modelyard.training import TrainingSpec, available_threads, train
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

        # What a user would otherwise run: the standard scikit-learn pipeline with the
        # same boosting parameters, fitted directly on the same rows, with the threads
        # a job's fit gets (max_threads=0).
        train_rows = ws.datasets.read(version, split="train").to_pandas()
        features = as_features(train_rows)
        target = train_rows["churned"].astype(int).to_numpy()
        # Alternating rounds, so a neighbour's burst or a slower spell of the machine
        # falls on both sides alike. The first modelyard round also pays its one-time
        # imports (ONNX converters, Plotly); the median is a warm job's, as the
        # direct fit's is.
        direct_times, modelyard_times, modelyard_fits = [], [], []
        spec = TrainingSpec(
            dataset="churn", algorithm="xgboost", params={"n_estimators": args.trees}
        )
        for _ in range(args.rounds):
            direct = unfitted_pipeline(train_rows, args.trees, n_jobs=available_threads())
            started = time.perf_counter()
            direct.fit(features, target)
            direct_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = train(ws, spec)
            modelyard_times.append(time.perf_counter() - started)
            modelyard_fits.append(ws.runs.get(result.run_id).metrics["fit_seconds"])
        assert result.model is not None and "onnx" in result.model.flavors, result.onnx.reason

        onnx_model = ws.models.load(result.model.ref, prefer="onnx")
        # The last round's fitted standard pipeline, predicting on one thread: one
        # row gains nothing from more, and OpenMP's hand-off on a busy machine would
        # flatter modelyard by slowing the baseline down.
        standard = direct.set_params(model__n_jobs=1)
        raw_row = train_rows.drop(columns=["churned"]).iloc[[0]].reset_index(drop=True)
        standard_row = features.iloc[[0]].reset_index(drop=True)
        # The served path: a JSON request's body parsed into column lists, which
        # predict_columns checks and encodes (what the gateway hands the model).
        body = raw_row.to_json(orient="records", date_format="iso")[1:-1].encode()

        def served() -> Any:
            row = json.loads(body)
            return onnx_model.predict_columns({name: [value] for name, value in row.items()})

        calls = {
            "onnx_dataframe": lambda: onnx_model.predict(raw_row),
            "onnx_request_columns": served,
            "sklearn_pipeline_dataframe": lambda: standard.predict_proba(standard_row),
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
                **_overhead_figures(modelyard_times, direct_times, modelyard_fits),
                "roc_auc": round(result.evaluation.metrics["roc_auc"], 4),
                "onnx_parity_max_abs_difference": result.onnx.max_difference,
                # Headline: the served path (a JSON request's columns) against the
                # standard pipeline on a one-row DataFrame, strictly interleaved (each
                # call right after the other's, caches cold: the less flattering).
                "onnx_speedup": _speedup(latencies, "onnx_request_columns"),
                "speedup_goal": 15,
                "predict_one_row_us_interleaved": latencies,
                "onnx_speedup_dataframe_interleaved": _speedup(latencies, "onnx_dataframe"),
                # Caches warm: the calls take turns in blocks of 100 (see _latencies_us).
                "predict_one_row_us_in_blocks_of_100": in_blocks,
                "onnx_speedup_request_columns_in_blocks": _speedup(
                    in_blocks, "onnx_request_columns"
                ),
                "onnx_speedup_dataframe_in_blocks": _speedup(in_blocks, "onnx_dataframe"),
            }
        )
    )


if __name__ == "__main__":
    main()

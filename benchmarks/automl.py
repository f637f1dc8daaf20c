"""``modelyard auto`` against FLAML, and against XGBoost and LightGBM with their defaults.

Prints one JSON line: for each dataset (binary, multiclass and regression; scikit-learn's
bundled tables, its generators, and modelyard's own churn and houses generators with
categoricals, missing values, an identifier and a datetime column), the held-out score
of every system on the same 80/20 split, each system's rank there, and each system's
mean rank over the datasets (goal: modelyard's better than FLAML's, and modelyard never
below LightGBM's defaults on any dataset).

- modelyard: the 80 % is ingested as a dataset (its default train/validation/test
  split) and ``modelyard auto --budget --refit-all`` runs as a command (the winner,
  once evaluated, learns from every row of the 80 %, as FLAML's default
  ``retrain_full`` does); the registered model then predicts the held-out 20 %.
- FLAML: ``flaml.AutoML().fit(time_budget=budget, metric=the same metric)`` on the 80 %
  in the benchmark virtualenv (``flaml[automl]``'s pins clash with modelyard's), named by
  ``MODELYARD_BENCH_FLAML_PYTHON`` or ``--flaml-python`` (default ``.venv-bench``); the
  table says so when it is missing.
- XGBoost and LightGBM: their estimators with default parameters, as a user hands a
  DataFrame over: identifier columns dropped, text as pandas categories, dates as days.

Every score is computed here by scikit-learn from each system's held-out predictions:
ROC AUC (multiclass: one-vs-rest, macro) or RMSE, modelyard's primary metrics. Within a
dataset the systems run one after another (never at once), modelyard and FLAML taking
turns to go first. Wall seconds are printed beside each score.

Usage: python benchmarks/automl.py [--budget SECONDS] [--rows N] [--datasets a,b,...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SYSTEMS = ("modelyard", "flaml", "lightgbm", "xgboost")
METRIC = {"binary": "roc_auc", "multiclass": "roc_auc", "regression": "rmse"}
FLAML_METRIC = {"binary": "roc_auc", "multiclass": "roc_auc_ovr", "regression": "rmse"}


@dataclass(frozen=True)
class Dataset:
    """One benchmark table: the frame with its target, the task, the identifier columns."""

    name: str
    task: str
    target: str
    frame: pd.DataFrame
    identifiers: tuple[str, ...] = ()


def _sklearn_frame(loader: Callable[..., Any]) -> pd.DataFrame:
    bunch = loader(as_frame=True)
    frame: pd.DataFrame = bunch.frame
    return frame.rename(columns=lambda c: str(c).replace(" ", "_").replace("/", "_"))


def _generated(kind: str, rows: int) -> pd.DataFrame:
    from sklearn.datasets import make_classification, make_friedman1

    if kind == "friedman":
        X, y = make_friedman1(n_samples=rows, noise=1.0, random_state=0)
    else:
        X, y = make_classification(
            n_samples=rows,
            n_features=20,
            n_informative=10 if kind == "multiclass" else 6,
            n_redundant=4,
            n_classes=4 if kind == "multiclass" else 2,
            flip_y=0.05,
            class_sep=0.8,
            random_state=0,
        )
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["target"] = y
    return frame


def datasets(rows: int) -> list[Dataset]:
    """The benchmark's tables; the generated ones have ``rows`` rows."""
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine

    from modelyard import datasets as built_in

    return [
        Dataset("breast_cancer", "binary", "target", _sklearn_frame(load_breast_cancer)),
        Dataset("churn", "binary", "churned", built_in.churn(rows, seed=1), ("customer_id",)),
        Dataset("classification", "binary", "target", _generated("binary", rows)),
        Dataset("wine", "multiclass", "target", _sklearn_frame(load_wine)),
        Dataset("digits", "multiclass", "target", _sklearn_frame(load_digits)),
        Dataset("classification4", "multiclass", "target", _generated("multiclass", rows)),
        Dataset("diabetes", "regression", "target", _sklearn_frame(load_diabetes)),
        Dataset("houses", "regression", "price", built_in.houses(rows, seed=1), ("house_id",)),
        Dataset("friedman", "regression", "target", _generated("friedman", rows)),
    ]


# -- scoring -------------------------------------------------------------------------------


def score(task: str, y: np.ndarray, output: np.ndarray) -> float:
    """ROC AUC (binary: the positive column; multiclass: one-vs-rest, macro) or RMSE.
    ``output`` holds probabilities in sorted-label order, or predicted values."""
    from sklearn.metrics import mean_squared_error, roc_auc_score

    if task == "regression":
        return float(np.sqrt(mean_squared_error(y, output)))
    if task == "binary":
        return float(roc_auc_score(y, output[:, 1]))
    return float(roc_auc_score(y, output, multi_class="ovr", average="macro"))


def ranks(task: str, scores: dict[str, float | None]) -> dict[str, float | None]:
    """1 for the best score, ties sharing the mean of their places; a system that
    failed (``None``) shares the last places."""
    scored = {k: v for k, v in scores.items() if v is not None}
    sign = 1.0 if task == "regression" else -1.0  # lower RMSE, higher AUC is better
    ordered = sorted(scored, key=lambda k: sign * scored[k])
    result: dict[str, float | None] = {}
    place = 0
    while place < len(ordered):
        tied = [k for k in ordered if abs(scored[k] - scored[ordered[place]]) < 1e-12]
        shared = place + (len(tied) + 1) / 2
        for k in tied:
            result[k] = shared
        place += len(tied)
    failed = [k for k in scores if k not in scored]
    for k in failed:
        result[k] = place + (len(failed) + 1) / 2
    return result


def _aligned(probabilities: np.ndarray, classes: list[Any], labels: list[Any]) -> np.ndarray:
    """Columns reordered from ``classes`` (a system's order) to ``labels`` (sorted)."""
    where = {str(c): i for i, c in enumerate(classes)}
    return probabilities[:, [where[str(label)] for label in labels]]


# -- the systems ---------------------------------------------------------------------------


def _as_user_features(frame: pd.DataFrame, data: Dataset, reference: pd.DataFrame) -> pd.DataFrame:
    """What a user hands XGBoost or LightGBM: identifiers dropped, text as categories
    (the training rows' categories), datetimes as days since the epoch, booleans as 0/1."""
    features = frame.drop(columns=[data.target, *data.identifiers])
    for column in features.columns:
        kind = reference[column].dtype
        if pd.api.types.is_datetime64_any_dtype(kind):
            days = (features[column] - pd.Timestamp(0)) / pd.Timedelta(days=1)
            features[column] = days.astype("float64")
        elif pd.api.types.is_bool_dtype(kind):
            features[column] = features[column].astype("float64")
        elif not pd.api.types.is_numeric_dtype(kind):
            categories = pd.Index(reference[column].dropna().unique()).sort_values()
            features[column] = pd.Categorical(features[column], categories=categories)
    return features


def run_default(
    library: str, data: Dataset, train: pd.DataFrame, test: pd.DataFrame, labels: list[Any]
) -> tuple[np.ndarray, float]:
    """XGBoost's or LightGBM's estimator with default parameters: outputs, wall seconds."""
    started = time.perf_counter()
    X_train = _as_user_features(train, data, train)
    X_test = _as_user_features(test, data, train)
    regression = data.task == "regression"
    if library == "lightgbm":
        import lightgbm

        model: Any = (
            lightgbm.LGBMRegressor(random_state=0, verbose=-1)
            if regression
            else lightgbm.LGBMClassifier(random_state=0, verbose=-1)
        )
    else:
        import xgboost

        model = (
            xgboost.XGBRegressor(enable_categorical=True, random_state=0)
            if regression
            else xgboost.XGBClassifier(enable_categorical=True, random_state=0)
        )
    if regression:
        model.fit(X_train, train[data.target].to_numpy(dtype=float))
        output = np.asarray(model.predict(X_test), dtype=float)
    else:
        codes = {label: code for code, label in enumerate(labels)}
        model.fit(X_train, train[data.target].map(codes).to_numpy())
        output = np.asarray(model.predict_proba(X_test), dtype=float)
    return output, time.perf_counter() - started


def run_modelyard(
    data: Dataset, train: pd.DataFrame, test: pd.DataFrame, budget: float, scratch: Path
) -> tuple[np.ndarray, float, dict[str, Any]]:
    """``modelyard auto`` as a command on the 80 %, then the registered model on the 20 %."""
    from modelyard.data import IngestOptions
    from modelyard.workspace import Workspace

    root = scratch / f"ws-{data.name}"
    table = scratch / f"{data.name}.parquet"
    train.to_parquet(table, index=False)
    with Workspace.init(root) as ws:
        ws.datasets.ingest(table, data.name, IngestOptions(target=data.target))
    command = [sys.executable, "-m", "modelyard", "-w", str(root), "auto", data.name,
               "--budget", f"{budget:g}s", "--task", data.task, "--refit-all",
               "--json"]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 10):  # 10: registered, but below a criterion
        raise RuntimeError(f"modelyard auto failed: {done.stderr.strip()[-500:]}")
    result = json.loads(done.stdout)
    with Workspace.open(root) as ws:
        model = ws.models.load(result["model"]["ref"])
        prediction = model.predict(test.drop(columns=[data.target]))
    if data.task == "regression":
        output = np.asarray(prediction.predictions, dtype=float)
    else:
        assert prediction.probabilities is not None and prediction.classes is not None
        labels = sorted(train[data.target].unique().tolist())
        output = _aligned(prediction.probabilities, prediction.classes, labels)
    chosen = {"algorithm": result["algorithm"], "cv_score": result["cv_score"]}
    return output, seconds, chosen


_FLAML_CHILD = r"""
import json, sys, time
import numpy as np, pandas as pd
from flaml import AutoML

spec = json.loads(open(sys.argv[1]).read())
def read(path):
    frame = pd.read_csv(path)
    for column in spec["datetimes"]:
        frame[column] = pd.to_datetime(frame[column])
    for column in spec["categoricals"]:
        frame[column] = frame[column].astype("category")
    return frame.drop(columns=spec["dropped"])
train, test = read(sys.argv[2]), read(sys.argv[3])
y = train.pop(spec["target"])
test = test.drop(columns=[spec["target"]])
automl = AutoML()
started = time.perf_counter()
automl.fit(train, y, task=spec["task"], metric=spec["metric"], time_budget=spec["budget"],
           seed=0, verbose=0)
if spec["task"] == "regression":
    output, classes = automl.predict(test).tolist(), None
else:
    output, classes = automl.predict_proba(test).tolist(), [str(c) for c in automl.classes_]
json.dump({"output": output, "classes": classes, "estimator": automl.best_estimator,
           "seconds": time.perf_counter() - started}, open(sys.argv[4], "w"))
"""


def run_flaml(
    python: Path,
    data: Dataset,
    train: pd.DataFrame,
    test: pd.DataFrame,
    budget: float,
    scratch: Path,
) -> tuple[np.ndarray, float, dict[str, Any]]:
    """FLAML's AutoML in its own virtualenv, on the same rows, budget and metric."""
    spec = {
        "task": "regression" if data.task == "regression" else "classification",
        "metric": FLAML_METRIC[data.task],
        "budget": budget,
        "target": data.target,
        "dropped": list(data.identifiers),
        "datetimes": [c for c in train.columns if pd.api.types.is_datetime64_any_dtype(train[c])],
        "categoricals": [
            c
            for c in train.columns
            if c != data.target
            and c not in data.identifiers
            and not pd.api.types.is_numeric_dtype(train[c])
            and not pd.api.types.is_bool_dtype(train[c])
            and not pd.api.types.is_datetime64_any_dtype(train[c])
        ],
    }
    parts = ("spec.json", "train.csv", "test.csv", "out.json")
    paths = [scratch / f"flaml-{data.name}-{part}" for part in parts]
    paths[0].write_text(json.dumps(spec))
    train.to_csv(paths[1], index=False)
    test.to_csv(paths[2], index=False)
    started = time.perf_counter()
    done = subprocess.run(
        [str(python), "-c", _FLAML_CHILD, *map(str, paths)], capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"FLAML failed: {done.stderr.strip()[-500:]}")
    result = json.loads(paths[3].read_text())
    output = np.asarray(result["output"], dtype=float)
    if data.task != "regression":
        labels = sorted(train[data.target].unique().tolist())
        output = _aligned(output, result["classes"], labels)
    return output, seconds, {"estimator": result["estimator"]}


# -- the run -------------------------------------------------------------------------------


def _one(
    data: Dataset, args: argparse.Namespace, scratch: Path, flaml_first: bool
) -> dict[str, Any]:
    from sklearn.model_selection import train_test_split

    stratify = None if data.task == "regression" else data.frame[data.target]
    train, test = train_test_split(data.frame, test_size=0.2, stratify=stratify, random_state=0)
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    y_test = test[data.target].to_numpy()
    labels = sorted(train[data.target].unique().tolist())
    if data.task != "regression":
        y_test = np.asarray([labels.index(v) for v in y_test])
    scores: dict[str, float | None] = {}
    seconds: dict[str, float | None] = {}
    notes: dict[str, Any] = {}

    def measure(system: str, call: Callable[[], tuple[Any, ...]]) -> None:
        try:
            output, took, *extra = call()
        except Exception as exc:  # one system failing is a figure in the table, not the end
            scores[system], seconds[system] = None, None
            notes[system] = f"{type(exc).__name__}: {exc}"
            return
        scores[system] = round(score(data.task, y_test, output), 5)
        seconds[system] = round(took, 1)
        if extra:
            notes[system] = extra[0]

    flaml_python: Path = args.flaml_python
    contenders = [
        ("modelyard", lambda: run_modelyard(data, train, test, args.budget, scratch)),
        ("flaml", lambda: run_flaml(flaml_python, data, train, test, args.budget, scratch)),
    ]
    ranked = set(SYSTEMS)
    if not flaml_python.exists():
        contenders[1] = ("flaml", lambda: _missing(flaml_python))
        ranked.discard("flaml")
    for system, call in reversed(contenders) if flaml_first else contenders:
        measure(system, call)
    for library in ("lightgbm", "xgboost"):
        measure(library, lambda: run_default(library, data, train, test, labels))  # noqa: B023
    return {
        "dataset": data.name,
        "task": data.task,
        "metric": METRIC[data.task],
        "rows_train": len(train),
        "rows_test": len(test),
        "scores": scores,
        # an unavailable FLAML (no virtualenv) is left out of the ranking, not last
        "ranks": ranks(data.task, {k: v for k, v in scores.items() if k in ranked}),
        "seconds": seconds,
        "notes": notes,
    }


def _missing(python: Path) -> tuple[np.ndarray, float]:
    raise RuntimeError(
        f"no FLAML virtualenv at {python}: build .venv-bench (make bench) or set "
        "MODELYARD_BENCH_FLAML_PYTHON"
    )


def mean_ranks(tables: list[dict[str, Any]]) -> dict[str, float | None]:
    """Each system's mean rank over the datasets it was scored on."""
    result: dict[str, float | None] = {}
    for system in SYSTEMS:
        placed = [t["ranks"][system] for t in tables if t["ranks"].get(system) is not None]
        result[system] = round(sum(placed) / len(placed), 3) if placed else None
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per search")
    parser.add_argument("--rows", type=int, default=5000, help="rows of generated tables")
    parser.add_argument("--datasets", help="comma-separated names (default: all)")
    parser.add_argument(
        "--flaml-python",
        type=Path,
        default=os.environ.get("MODELYARD_BENCH_FLAML_PYTHON", ROOT / ".venv-bench/bin/python"),
    )
    args = parser.parse_args()
    chosen = datasets(args.rows)
    if args.datasets:
        wanted = args.datasets.split(",")
        unknown = set(wanted) - {d.name for d in chosen}
        if unknown:
            raise SystemExit(f"unknown datasets: {', '.join(sorted(unknown))}")
        chosen = [d for d in chosen if d.name in wanted]
    with tempfile.TemporaryDirectory(prefix="modelyard-bench-automl-") as tmp:
        tables = []
        for index, data in enumerate(chosen):
            tables.append(_one(data, args, Path(tmp), index % 2 == 1))
            print(json.dumps(tables[-1]), file=sys.stderr, flush=True)  # a long run's progress
    means = mean_ranks(tables)
    lightgbm_beaten = [
        t["dataset"]
        for t in tables
        if None not in (t["ranks"]["modelyard"], t["ranks"]["lightgbm"])
        and t["ranks"]["modelyard"] > t["ranks"]["lightgbm"]
    ]
    result = {
        "benchmark": "automl",
        "budget_seconds": args.budget,
        "generated_rows": args.rows,
        "cpus": os.cpu_count(),
        "datasets": tables,
        "mean_rank": means,
        "modelyard_below_lightgbm_defaults_on": lightgbm_beaten,
        "goals": {
            "mean_rank": "modelyard's below (better than) FLAML's",
            "vs_lightgbm_defaults": "modelyard never below it on any dataset",
        },
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

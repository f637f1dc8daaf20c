"""A 10-step feature recipe against the equivalent scikit-learn pipeline, in one run.

Prints one JSON line. The rows: ``modelyard.datasets.churn(N)`` (2,000,000 by
default). The recipe (drop, clip at quantiles, log1p, a ratio, date parts with
days since, quantile buckets, target encoding, mode imputation, one-hot, scaling;
the other numbers median-filled) and the scikit-learn ``ColumnTransformer`` of
``FunctionTransformer`` / ``KBinsDiscretizer`` / ``TargetEncoder`` /
``SimpleImputer`` / ``OneHotEncoder`` / ``StandardScaler`` computing the same
features are both fitted on the first 200,000 rows (not timed), then timed:

- throughput: transforming all N rows (a DataFrame in, the matrix out), the best
  of 3;
- one-row latency: the median of 2,000 transforms of a one-row DataFrame (or
  of those 20 seconds allow, at least 20).

Each ratio is scikit-learn's figure over modelyard's (above 1: modelyard faster).
Goals (issue 22): 3x the throughput and 20x the one-row speed.

Usage: python benchmarks/recipe.py [--rows N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import numpy as np
import pandas as pd

FIT_ROWS = 200_000
RECIPE = [
    {"drop": ["customer_id"]},
    {"clip": {"column": "monthly_charges", "quantiles": [0.01, 0.99]}},
    {"log1p": ["total_charges"]},
    {
        "ratio": {
            "name": "charge_per_month",
            "numerator": "total_charges",
            "denominator": "tenure_months",
        }
    },
    {"date_parts": {"column": "signup_date", "parts": ["month", "weekday"], "days_since": True}},
    {"bucket": {"column": "tenure_months", "quantiles": 5}},
    {"target": "plan_code"},
    {"impute": {"column": "payment_method", "strategy": "mode"}},
    {"one_hot": ["contract", "region", "internet_service", "payment_method"]},
    {"scale": ["avg_call_minutes", "data_usage_gb"]},
]
OTHER_NUMBERS = ["num_lines", "support_calls", "paperless_billing", "senior_citizen", "has_partner"]


def modelyard_recipe(train: pd.DataFrame, y: np.ndarray) -> Any:
    """The fitted recipe (what a model package stores and every path replays)."""
    import pyarrow as pa

    from modelyard.data._infer import infer_schema
    from modelyard.features import PreprocessOptions, Recipe, build_pipeline

    columns = infer_schema(pa.Table.from_pandas(train, preserve_index=False))
    options = PreprocessOptions(recipe=Recipe(RECIPE), missing_indicators=False)
    pipeline = build_pipeline(columns, None, needs_scaling=False, options=options)
    return pipeline[0].fit(train, y).fitted_


def sklearn_pipeline(train: pd.DataFrame, y: np.ndarray) -> Any:
    """The same features from scikit-learn's transformers."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import (
        FunctionTransformer,
        KBinsDiscretizer,
        OneHotEncoder,
        StandardScaler,
        TargetEncoder,
    )

    low, high = np.nanquantile(train["monthly_charges"], [0.01, 0.99])
    latest = pd.to_datetime(train["signup_date"]).max()

    def clip(frame: pd.DataFrame) -> Any:
        return frame.clip(low, high)

    def ratio(frame: pd.DataFrame) -> Any:
        out = np.log1p(frame["total_charges"]) / frame["tenure_months"]
        return out.replace([np.inf, -np.inf], np.nan).to_frame()

    def dates(frame: pd.DataFrame) -> Any:
        moment = pd.to_datetime(frame["signup_date"])
        since = (moment - latest) / pd.Timedelta(days=1)
        return np.column_stack([moment.dt.month, moment.dt.day_of_week, since])

    median = SimpleImputer(strategy="median")
    transformer = ColumnTransformer(
        [
            (
                "clip",
                make_pipeline(FunctionTransformer(clip), SimpleImputer(strategy="median")),
                ["monthly_charges"],
            ),
            (
                "log",
                make_pipeline(FunctionTransformer(np.log1p), SimpleImputer(strategy="median")),
                ["total_charges"],
            ),
            (
                "ratio",
                make_pipeline(FunctionTransformer(ratio), SimpleImputer(strategy="median")),
                ["total_charges", "tenure_months"],
            ),
            ("dates", FunctionTransformer(dates), ["signup_date"]),
            (
                "bucket",
                KBinsDiscretizer(
                    5, encode="ordinal", strategy="quantile", quantile_method="linear"
                ),
                ["tenure_months"],
            ),
            ("target", TargetEncoder(target_type="binary"), ["plan_code"]),
            (
                "mode",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                ["payment_method"],
            ),
            (
                "one_hot",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ["contract", "region", "internet_service"],
            ),
            (
                "scale",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                ["avg_call_minutes", "data_usage_gb"],
            ),
            ("numbers", median, OTHER_NUMBERS),
        ],
        remainder="drop",
    )
    frame = train.copy()
    frame["payment_method"] = frame["payment_method"].astype(object)
    return transformer.fit(frame, y)


def best_of(runs: int, work: Any) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def one_row_seconds(work: Any, row: pd.DataFrame, calls: int = 2_000) -> float:
    """The median of ``calls`` transforms, or of as many as 20 seconds allow."""
    times: list[float] = []
    deadline = time.perf_counter() + 20
    while len(times) < calls and (len(times) < 20 or time.perf_counter() < deadline):
        started = time.perf_counter()
        work(row)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    args = parser.parse_args()
    from modelyard import datasets

    frame = datasets.churn(args.rows, seed=1)
    y = frame.pop("churned").to_numpy()
    fit_rows = min(FIT_ROWS, args.rows)
    ours = modelyard_recipe(frame.iloc[:fit_rows], y[:fit_rows])
    theirs = sklearn_pipeline(frame.iloc[:fit_rows], y[:fit_rows])
    width = (ours.transform(frame.iloc[:5]).shape[1], theirs.transform(frame.iloc[:5]).shape[1])
    ours_seconds = best_of(3, lambda: ours.transform(frame))
    theirs_seconds = best_of(3, lambda: theirs.transform(frame))
    row = frame.iloc[[7]]
    ours_row = one_row_seconds(ours.transform, row)
    theirs_row = one_row_seconds(theirs.transform, row)
    figures = {
        "benchmark": "recipe",
        "rows": args.rows,
        "features": {"modelyard": width[0], "sklearn": width[1]},
        "modelyard_rows_per_second": round(args.rows / ours_seconds),
        "sklearn_rows_per_second": round(args.rows / theirs_seconds),
        "throughput_ratio": round(theirs_seconds / ours_seconds, 2),
        "modelyard_one_row_ms": round(ours_row * 1000, 4),
        "sklearn_one_row_ms": round(theirs_row * 1000, 4),
        "one_row_ratio": round(theirs_row / ours_row, 2),
        "goals": {"throughput_ratio": 3.0, "one_row_ratio": 20.0},
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

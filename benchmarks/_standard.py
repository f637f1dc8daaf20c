"""What a user would otherwise run: a standard scikit-learn pipeline for the churn table.

The benchmarks compare modelyard with this, never with modelyard's own code:
``Pipeline(ColumnTransformer(SimpleImputer, OneHotEncoder), XGBClassifier)`` with the
same boosting parameters as modelyard's catalog default, trained on the same rows.
The identifier and the sign-up date are dropped (a user writing this by hand would
drop them first), so the baseline does a little less work than modelyard's recipe.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

TARGET = "churned"
DROPPED = ("customer_id", "signup_date")


def unfitted_pipeline(
    frame: pd.DataFrame, trees: int, seed: int = 0, n_jobs: int | None = None
) -> Any:
    """The standard pipeline for ``frame``'s columns, not yet fitted."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder
    from xgboost import XGBClassifier

    features = as_features(frame)
    categorical = [c for c in features.columns if features[c].dtype == object]
    numeric = [c for c in features.columns if c not in categorical]
    preprocess = ColumnTransformer(
        [
            ("numeric", SimpleImputer(strategy="median"), numeric),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categorical,
            ),
        ]
    )
    model = XGBClassifier(
        n_estimators=trees,
        learning_rate=0.08,
        max_depth=5,
        subsample=0.9,
        tree_method="hist",
        random_state=seed,
        n_jobs=n_jobs,
    )
    return Pipeline([("preprocess", preprocess), ("model", model)])


def standard_pipeline(frame: pd.DataFrame, trees: int, seed: int = 0) -> Any:
    """A fitted standard pipeline on ``frame`` (the churn table with its target)."""
    pipeline = unfitted_pipeline(frame, trees, seed)
    pipeline.fit(as_features(frame), frame[TARGET].astype(int))
    return pipeline


def as_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns the standard pipeline takes, as a user would hand them over."""
    features = frame.drop(columns=[c for c in (TARGET, *DROPPED) if c in frame.columns])
    text = [c for c in features.columns if features[c].dtype.kind in "OUT" or
            str(features[c].dtype) in ("string", "str", "category")]  # fmt: skip
    return features.astype({c: object for c in text})

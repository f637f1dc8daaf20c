"""Permutation importance finds the informative raw column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from modelyard.errors import InvalidInputError
from modelyard.evaluation import permutation_importance


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"noise_a": rng.normal(size=n), "signal": rng.normal(size=n), "noise_b": rng.normal(size=n)}
    )


def test_binary_importance_ranks_signal_first() -> None:
    frame = _frame(600)
    y = np.where(frame["signal"] + 0.3 * np.random.default_rng(1).normal(size=600) > 0, "yes", "no")
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, y)
    rows = permutation_importance(model, frame, y, "binary", max_rows=300)
    assert rows[0]["feature"] == "signal"
    assert set(rows[0]) == {"feature", "mean", "std"}
    assert float(rows[0]["mean"]) > 0.2 > abs(float(rows[1]["mean"]))
    assert [row["mean"] for row in rows] == sorted((row["mean"] for row in rows), reverse=True)
    assert rows == permutation_importance(model, frame, y, "binary", max_rows=300)  # seeded


def test_multiclass_and_regression_importance() -> None:
    frame = _frame(300)
    y_cls = np.digitize(frame["signal"], [-0.5, 0.5])
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, y_cls)
    assert permutation_importance(model, frame, y_cls, "multiclass")[0]["feature"] == "signal"
    y_reg = 3 * frame["signal"] + 0.1 * frame["noise_a"]
    reg = LinearRegression().fit(frame, y_reg)
    assert (
        permutation_importance(reg, frame, y_reg, "regression", n_repeats=2)[0]["feature"]
        == "signal"
    )


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"task": "ranking"}, "unknown task"),
        ({"X": np.zeros((3, 3))}, "DataFrame"),
        ({"y": [1, 2]}, "same length"),
        ({"n_repeats": 0}, "at least 1"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], fragment: str) -> None:
    frame = _frame(10)
    args: dict[str, object] = {"model": None, "X": frame, "y": np.zeros(10), "task": "regression"}
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=fragment):
        permutation_importance(**args)  # type: ignore[arg-type]

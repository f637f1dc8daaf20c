"""Permutation importance finds the informative raw column."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from modelyard.errors import InvalidInputError
from modelyard.evaluation import permutation_importance
from modelyard.evaluation._importance import roc_auc


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


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9, 1.0])),
        min_size=2,
        max_size=60,
    ).filter(lambda pairs: len({label for label, _ in pairs}) == 2)
)
def test_rank_sum_auc_equals_scikit_learn(pairs: list[tuple[bool, float]]) -> None:
    """Few distinct scores, so ties are common: they must count half, as in sklearn."""
    from sklearn.metrics import roc_auc_score

    positive = np.array([label for label, _ in pairs])
    score = np.array([value for _, value in pairs])
    assert roc_auc(positive, score) == pytest.approx(roc_auc_score(positive, score), abs=1e-12)


def test_roc_auc_refuses_one_class() -> None:
    with pytest.raises(InvalidInputError, match="both classes"):
        roc_auc(np.ones(4, bool), np.linspace(0, 1, 4))


def test_one_call_auc_scoring_matches_the_scikit_learn_scorer() -> None:
    """A recipe pipeline takes the batched AUC path; the figures are the scorer's."""
    import pyarrow as pa
    from sklearn.metrics import get_scorer

    from modelyard import datasets
    from modelyard.data._infer import infer_schema
    from modelyard.data._schema import apply_overrides
    from modelyard.evaluation._importance import _shuffle_features
    from modelyard.features import build_pipeline

    frame = datasets.churn(1500, seed=3)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    _, columns = apply_overrides(table, infer_schema(table), target="churned")
    X = frame.drop(columns=["churned"])
    y = pd.Series(np.where(frame["churned"], "left", "stayed"), index=X.index)
    pipeline = build_pipeline(columns, LogisticRegression(max_iter=500), needs_scaling=True)
    pipeline.fit(X, y)
    scorer = get_scorer("roc_auc")
    matrix, names = pipeline[0].transform(X), list(X.columns)
    batched = _shuffle_features(pipeline, matrix, names, y, scorer, 3, 7, binary=True)
    one_by_one = _shuffle_features(pipeline, matrix, names, y, scorer, 3, 7, binary=False)
    np.testing.assert_allclose(batched[0], one_by_one[0], atol=1e-12)
    np.testing.assert_allclose(batched[1], one_by_one[1], atol=1e-12)
    assert batched[0].max() > 0.01  # some column matters, so the comparison is not of zeros


def _churn_pipeline(
    n_rows: int, estimator: Any = None, regression: bool = False
) -> tuple[Any, pd.DataFrame, npt.NDArray[Any]]:
    import pyarrow as pa

    from modelyard import datasets
    from modelyard.data._infer import infer_schema
    from modelyard.data._schema import apply_overrides
    from modelyard.features import build_pipeline

    frame = datasets.churn(n_rows, seed=5)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    _, columns = apply_overrides(table, infer_schema(table), target="churned")
    X = frame.drop(columns=["churned"])
    y = frame["churned"].astype(int).to_numpy()
    if regression:  # a target the inputs explain, for the regression path
        y = X["monthly_charges"].to_numpy() * 2.0 + y
    estimator = estimator if estimator is not None else LogisticRegression(max_iter=500)
    pipeline = build_pipeline(columns, estimator, needs_scaling=True)
    return pipeline.fit(X, y), X, y


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_a_transformed_matrix_gives_the_same_importance(task: str) -> None:
    """The training job hands over the test matrix it already has: the sampled rows
    come from it instead of a second transform, and the figures are the same."""
    pipeline, X, y = _churn_pipeline(1200)
    matrix = pipeline[0].transform(X)
    kwargs: dict[str, Any] = {"task": task, "max_rows": 500, "seed": 3}
    # multiclass scores with log loss through the scorer: the other code path
    direct = permutation_importance(pipeline, X, y, **kwargs)
    handed = permutation_importance(pipeline, X, y, transformed=matrix, **kwargs)
    assert handed == direct
    assert float(direct[0]["mean"]) > 0.0  # a column matters: not a comparison of zeros


def test_a_transformed_matrix_of_other_rows_is_refused() -> None:
    pipeline, X, y = _churn_pipeline(300)
    matrix = pipeline[0].transform(X.iloc[:200])
    with pytest.raises(InvalidInputError, match="one row per row of X"):
        permutation_importance(pipeline, X, y, "binary", transformed=matrix)


def test_only_changed_rows_are_predicted_and_scores_match_full_predictions() -> None:
    """Importance predicts only the rows a shuffle changed; the AUCs equal those of
    predicting every row, including for a shuffle that changed nothing."""
    from modelyard.evaluation._importance import _auc_of_each

    pipeline, X, y = _churn_pipeline(800)
    estimator, matrix = pipeline[-1], pipeline[0].transform(X)
    labels = pd.Series(y)
    score_each = _auc_of_each(estimator, matrix, labels)
    assert score_each is not None
    rng = np.random.default_rng(0)
    shuffled = matrix.copy()
    shuffled[:, 0] = matrix[rng.permutation(len(matrix)), 0]
    half = matrix.copy()
    half[:400, 1] = matrix[rng.permutation(400), 1]  # the other rows unchanged
    matrices = [matrix.copy(), shuffled, half]
    positive = labels.to_numpy() == estimator.classes_[1]
    full = [roc_auc(positive, estimator.predict_proba(m)[:, 1]) for m in matrices]
    assert score_each(matrices) == full
    assert full[1] != full[0]  # the shuffle mattered: the comparison is not trivial


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_scoring_in_small_batches_gives_the_same_importance(
    task: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shuffles are scored together up to a memory budget; a budget that flushes after
    every column (wide data) gives the same figures as one call for all of them."""
    from modelyard.evaluation import _importance

    regression = task == "regression"
    estimator = LinearRegression() if regression else None
    pipeline, X, target = _churn_pipeline(900, estimator, regression=regression)
    one_call = permutation_importance(pipeline, X, target, task, max_rows=400, seed=2)
    monkeypatch.setattr(_importance, "_PENDING_BYTES", 1)  # flush after every column
    per_column = permutation_importance(pipeline, X, target, task, max_rows=400, seed=2)
    assert per_column == one_call
    assert float(one_call[0]["mean"]) > 0.0  # a column matters: not a comparison of zeros

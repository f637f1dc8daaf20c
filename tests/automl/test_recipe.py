"""A feature recipe in the search, through the SDK: its derived columns are features
the folds' models learn from, each fold fits it on its own training rows only, its
training-only row filters apply to the search rows, and a bad recipe records nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelyard.automl import spotcheck, tune
from modelyard.data import IngestOptions
from modelyard.errors import InvalidInputError
from modelyard.features import PreprocessOptions, Recipe
from modelyard.training import TrainingSpec, check_inputs, load_splits
from modelyard.workspace import Workspace

RATIO = Recipe.from_yaml("steps:\n  - ratio: {name: quotient, numerator: a, denominator: b}\n")


@pytest.fixture(scope="module")
def ratio_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """``y = a / b`` exactly: a linear model on ``a`` and ``b`` cannot fit it, one on
    their ratio can. ``code``: 2 rows per level, labels ``noise`` drawn at random."""
    root: Path = tmp_path_factory.mktemp("recipe")
    rng = np.random.default_rng(5)
    n = 400
    a, b = rng.uniform(1, 10, n), rng.uniform(0.5, 5, n)
    frame = pd.DataFrame(
        {
            "a": a,
            "b": b,
            "code": [f"c{i // 2:03d}" for i in rng.permutation(n)],
            "y": a / b,
            "noise": rng.integers(0, 2, n),
        }
    )
    path = root / "ratio.csv"
    frame.to_csv(path, index=False)
    ws = Workspace.init(root / "ws")
    ws.datasets.ingest(path, "ratio", IngestOptions(target="y"))
    return ws


def test_a_derived_column_is_a_feature_the_folds_learn_from(ratio_workspace: Workspace) -> None:
    plain = spotcheck(ratio_workspace, "ratio", algorithms=["linear"], folds=3)
    derived = spotcheck(ratio_workspace, "ratio", algorithms=["linear"], folds=3, recipe=RATIO)
    assert plain.metric == derived.metric == "rmse"
    without, with_ratio = plain.entries[0].mean("rmse"), derived.entries[0].mean("rmse")
    assert without is not None and with_ratio is not None
    # the target is the ratio itself: only the linear model's regularisation is left
    print(f"rmse without the ratio {without:.4f}, with it {with_ratio:.4f}")
    assert with_ratio < without / 10
    recorded = ratio_workspace.runs.artifact_bytes(derived.run_id or "", "recipe.json")
    assert Recipe.from_dict(json.loads(recorded)) == RATIO


def test_each_fold_fits_the_recipe_on_its_own_training_rows(ratio_workspace: Workspace) -> None:
    """Target-encoding a code held by two rows: fitted on the held-out rows too, the
    encoding would hand the fold its own labels (a roc_auc far above 0.5 on noise)."""
    encoded = Recipe.from_yaml("steps:\n  - drop: [a, b, y]\n  - target: code\n")
    board = spotcheck(
        ratio_workspace,
        "ratio",
        target="noise",
        algorithms=["decision_tree"],
        folds=4,
        recipe=encoded,
    )
    score = board.entries[0].mean("roc_auc")
    # fitted on every row instead, the encoding scores about 0.92 here
    assert score is not None and score < 0.62


def test_the_recipe_row_filters_apply_to_the_search_rows(ratio_workspace: Workspace) -> None:
    kept = Recipe.from_yaml('steps:\n  - filter: "a >= 4"\n')
    board = spotcheck(ratio_workspace, "ratio", algorithms=["linear"], folds=2, recipe=kept)
    problem = check_inputs(ratio_workspace, TrainingSpec("ratio", algorithm="linear"))
    frames = load_splits(ratio_workspace, problem)
    searched = pd.concat([frames["train"], frames["validation"]])
    assert board.rows == int((searched["a"] >= 4).sum()) < len(searched)
    result = tune(ratio_workspace, "ratio", algorithm="linear", trials=1, folds=2, recipe=kept)
    assert result.finished == 1


def test_a_bad_recipe_fails_before_any_run_or_study(ratio_workspace: Workspace) -> None:
    bad = Recipe.from_yaml("steps:\n  - log1p: [missing]\n")
    runs = len(ratio_workspace.runs.list_runs(limit=10_000))
    studies = _studies(ratio_workspace)
    for search in (
        lambda: spotcheck(ratio_workspace, "ratio", recipe=bad),
        lambda: tune(ratio_workspace, "ratio", algorithm="linear", trials=1, recipe=bad),
    ):
        with pytest.raises(InvalidInputError, match=r"recipe step 1 \(log1p\): no column"):
            search()
    assert len(ratio_workspace.runs.list_runs(limit=10_000)) == runs
    assert _studies(ratio_workspace) == studies
    # the same line the training job gives
    with pytest.raises(InvalidInputError, match=r"recipe step 1 \(log1p\): no column"):
        check_inputs(
            ratio_workspace,
            TrainingSpec("ratio", algorithm="linear", preprocessing=PreprocessOptions(recipe=bad)),
        )


def _studies(workspace: Workspace) -> list[str]:
    import optuna

    from modelyard.automl._study import storage

    with storage(workspace) as store:
        return sorted(optuna.get_all_study_names(store))


def test_a_filtered_time_ordered_split_keeps_its_order(tmp_path: Path) -> None:
    from modelyard import datasets
    from modelyard.automl._problem import load_problem
    from modelyard.data import SplitSpec

    path = tmp_path / "churn.parquet"
    datasets.churn(500, seed=6).to_parquet(path, index=False)
    ws = Workspace.init(tmp_path / "ws")
    try:
        split = SplitSpec(0.7, 0.15, 0.15, stratify=False, time_column="signup_date")
        ws.datasets.ingest(path, "ordered", IngestOptions(target="churned", split=split))
        kept = Recipe.from_yaml('steps:\n  - filter: "tenure_months >= 6"\n')
        problem = load_problem(ws, "ordered", recipe=kept)
        assert (problem.X["tenure_months"] >= 6).all() and problem.time_ordered
        assert problem.X["signup_date"].is_monotonic_increasing
        everything = load_problem(ws, "ordered")
        assert len(problem.y) == int((everything.X["tenure_months"] >= 6).sum())
        board = spotcheck(ws, "ordered", algorithms=["decision_tree"], folds=3, recipe=kept)
        assert board.entries[0].status == "finished" and board.rows == len(problem.y)
    finally:
        ws.close()

"""Spot-check through the SDK: folds, the leaderboard, runs, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard import datasets
from modelyard.automl import spotcheck
from modelyard.data import IngestOptions, SplitSpec
from modelyard.errors import InvalidInputError
from modelyard.workspace import Workspace


def test_leaderboard_ranks_every_algorithm_and_records_runs(search_workspace: Workspace) -> None:
    seen: list[int] = []
    board = spotcheck(
        search_workspace,
        "churn",
        algorithms=["linear", "decision_tree", "naive_bayes"],
        folds=3,
        progress=lambda b: seen.append(sum(len(e.scores) + len(e.errors) for e in b.entries)),
    )
    assert board.metric == "roc_auc" and board.greater_is_better
    assert seen == sorted(seen) and seen[-1] == 9  # one report per finished fold
    ranked = board.ranked()
    means = [e.mean("roc_auc") for e in ranked]
    assert means == sorted(means, reverse=True)  # type: ignore[type-var]
    for entry in ranked:
        assert entry.status == "finished" and len(entry.scores) == 3
        assert 0.5 < (entry.mean("roc_auc") or 0) <= 1 and (entry.std("roc_auc") or 0) >= 0
        assert entry.fit_seconds > 0 and entry.predict_seconds > 0
        run = search_workspace.runs.get(entry.run_id or "")
        assert run.tags["parent_run"] == board.run_id and run.status.value == "finished"
        assert run.metrics["roc_auc_mean"] == pytest.approx(entry.mean("roc_auc"))
    parent = search_workspace.runs.get(board.run_id or "")
    assert parent.tags["best_algorithm"] == ranked[0].algorithm
    page = search_workspace.runs.artifact_bytes(parent.id, "leaderboard.html").decode()
    assert 'id="spread-graph"' in page and 'id="cost-graph"' in page  # both plots
    assert page.index(ranked[0].algorithm) < page.index(ranked[-1].algorithm)  # best first
    assert "cdn" not in page.lower().split("<body>")[1]  # Plotly inline: opens offline
    # 600 rows: 85% are train + validation, the test split never reaches the search
    assert board.rows == 510


def test_regression_uses_rmse_and_kfold(search_workspace: Workspace) -> None:
    board = spotcheck(search_workspace, "houses", algorithms=["linear", "decision_tree"], folds=2)
    assert board.metric == "rmse" and not board.greater_is_better
    best = board.best()
    assert best is not None and best.mean("rmse") == min(e.mean("rmse") for e in board.entries)  # type: ignore[type-var]


def test_a_failing_fold_is_recorded_and_the_search_goes_on(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Time-ordered split: the oldest rows all churned=0, so the first time-series
    fold trains on one class; logistic regression refuses it, the tree does not."""
    frame = datasets.churn(600, seed=5)
    oldest = frame["signup_date"].rank(method="first") <= 180
    frame.loc[oldest, "churned"] = 0
    path = tmp_path / "churn.parquet"
    frame.to_parquet(path, index=False)
    split = SplitSpec(0.7, 0.15, 0.15, stratify=False, time_column="signup_date")
    workspace.datasets.ingest(path, "ordered", IngestOptions(target="churned", split=split))
    board = spotcheck(workspace, "ordered", algorithms=["linear", "decision_tree"], folds=3)
    linear = next(e for e in board.entries if e.algorithm == "linear")
    assert linear.status == "failed" and set(linear.errors) == {0}
    assert "class" in linear.errors[0]  # scikit-learn names the single class
    assert len(linear.scores) == 2  # the later folds still ran
    run = workspace.runs.get(linear.run_id or "")
    assert run.status.value == "failed" and "fold 0" in (run.error or "")
    tree = next(e for e in board.entries if e.algorithm == "decision_tree")
    assert tree.status == "finished"
    assert board.best() is tree


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"folds": 1}, "at least 2 folds"),
        ({"sample": 5}, "too small"),
        ({"metric": "rmse"}, "unknown metric 'rmse' for a binary task"),
        ({"algorithms": ["quantum"]}, "unknown algorithm 'quantum'"),
        ({"folds": 400}, "rarest class"),
    ],
)
def test_bad_input_names_the_problem(
    search_workspace: Workspace, kwargs: dict[str, object], message: str
) -> None:
    before = search_workspace.runs.search().total
    with pytest.raises(InvalidInputError, match=message):
        spotcheck(search_workspace, "churn", **kwargs)  # type: ignore[arg-type]
    assert search_workspace.runs.search().total == before  # nothing half-written

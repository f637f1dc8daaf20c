"""A study lives in the workspace's own database, SQLite or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import optuna

from modelyard import datasets
from modelyard.automl import resume, tune
from modelyard.automl._study import storage
from modelyard.data import IngestOptions
from modelyard.execution import LocalExecutor
from modelyard.workspace import Workspace


def test_a_study_is_stored_and_resumed_in_either_database(
    any_workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "churn.csv"
    datasets.churn(300, seed=2).to_csv(path, index=False)
    any_workspace.datasets.ingest(path, "churn", IngestOptions(target="churned"))
    with LocalExecutor(1) as executor:
        first = tune(
            any_workspace, "churn", algorithm="linear", trials=2, folds=2, executor=executor
        )
        again = resume(any_workspace, first.study, trials=3, executor=executor)
    assert again.finished == 3 and [t.number for t in again.trials] == [2]
    with storage(any_workspace) as store:
        assert optuna.get_all_study_names(store) == [first.study]
    # the workspace's own schema is untouched: it opens and checks as before
    reopened = Workspace.open(any_workspace.settings.workspace)
    try:
        reopened.metadata.check_current()
        assert reopened.runs.get(first.run_id or "").tags["study"] == first.study
    finally:
        reopened.close()

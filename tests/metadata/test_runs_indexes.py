"""Migration 0013: the runs table is indexed by experiment and start time, so the
dashboard's newest-runs-first page reads one page of rows, not every run."""

from __future__ import annotations

import sqlalchemy as sa

from modelyard.metadata import MetadataStore


def test_runs_are_indexed_by_start_time(database_url: str) -> None:
    store = MetadataStore(database_url, auto_upgrade=False)
    try:
        store.upgrade("0012")
        before = {index["name"] for index in sa.inspect(store.engine).get_indexes("runs")}
        assert not before & {"ix_runs_experiment_start", "ix_runs_start_time"}
        store.upgrade("0013")
        indexes = {
            index["name"]: index["column_names"]
            for index in sa.inspect(store.engine).get_indexes("runs")
        }
        assert indexes["ix_runs_experiment_start"] == ["experiment_id", "start_time"]
        assert indexes["ix_runs_start_time"] == ["start_time"]
    finally:
        store.dispose()

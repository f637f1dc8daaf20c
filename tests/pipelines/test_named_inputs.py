"""A step that names a dataset as text caches on the version the name means now."""

from __future__ import annotations

from pathlib import Path

from modelyard.data import IngestOptions
from modelyard.pipelines import Pipeline, PipelineStore, steps
from modelyard.workspace import Workspace


def _write(path: Path, rows: int) -> None:
    lines = ["age,plan,churned"] + [
        f"{20 + i % 50},{'ab'[i % 2]},{int(i % 3 == 0 or i % 7 == 0)}" for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")


def test_a_new_version_of_a_named_dataset_is_a_cache_miss(
    workspace: Workspace, tmp_path: Path
) -> None:
    csv_path = tmp_path / "customers.csv"
    _write(csv_path, 120)
    workspace.datasets.ingest(csv_path, "customers", IngestOptions(target="churned"))
    p = Pipeline("named")
    p.add(steps.Train("customers", algorithm="linear", name="fit"))
    store = PipelineStore(workspace)
    first = store.run(p)
    assert first.step("fit").cache == "miss", first.error
    assert store.run(p).step("fit").cache == "hit"
    _write(csv_path, 150)
    workspace.datasets.ingest(csv_path, "customers", IngestOptions(target="churned"))
    third = store.run(p)
    assert third.step("fit").cache == "miss"
    why = store.explain_cache(third.id, "fit")
    assert [(c.part, c.before["ref"], c.after["ref"]) for c in why.changes] == [
        ("inputs.data", "customers:1", "customers:2")
    ]

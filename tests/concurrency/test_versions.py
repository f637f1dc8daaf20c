"""Version numbers and first-use creation under concurrent writers (issue 16, finding 5).

Every test runs on a SQLite file and on the real PostgreSQL server. Writers are
threads sharing one workspace (each holds its own database connection), released
together by a barrier so their transactions overlap; the trains are separate
``modelyard`` processes. Each write must be stored exactly once, under versions
1..N with no gap and no duplicate, and no writer may fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pandas as pd
import pytest
import sqlalchemy as sa

from modelyard import datasets
from modelyard.data import IngestOptions
from modelyard.workspace import Workspace
from tests._packages import register_stand_in, stand_in_package

T = TypeVar("T")

_TIMEOUT = 120


def _all_at_once(count: int, work: Callable[[int], T]) -> list[T]:
    """``work(0..count-1)`` on ``count`` threads released together; every result,
    or the first error any of them raised."""
    barrier = threading.Barrier(count)

    def start(index: int) -> T:
        barrier.wait(_TIMEOUT)
        return work(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(start, range(count)))


def test_forty_concurrent_ingests_into_one_name(any_workspace: Workspace, tmp_path: Path) -> None:
    count = 40
    sources = []
    for index in range(count):
        path = tmp_path / f"part{index}.csv"
        pd.DataFrame({"part": [index] * 50, "x": range(50)}).to_csv(path, index=False)
        sources.append(path)

    results = _all_at_once(count, lambda i: any_workspace.datasets.ingest(sources[i], "shared"))

    assert all(created for _, created in results)
    assert sorted(version.version for version, _ in results) == list(range(1, count + 1))
    stored = any_workspace.datasets.list_versions("shared")
    assert sorted(v.version for v in stored) == list(range(1, count + 1))
    assert len({v.fingerprint for v in stored}) == count
    for index, (version, _) in enumerate(results):
        parts = set(any_workspace.datasets.read(version.ref).column("part").to_pylist())
        assert parts == {index}, version.ref


def test_concurrent_ingests_of_one_content_make_one_version(
    any_workspace: Workspace, tmp_path: Path
) -> None:
    count = 12
    path = tmp_path / "same.csv"
    pd.DataFrame({"x": range(100)}).to_csv(path, index=False)

    results = _all_at_once(count, lambda _: any_workspace.datasets.ingest(path, "same"))

    assert sum(created for _, created in results) == 1
    assert {version.ref for version, _ in results} == {"same:1"}
    assert any_workspace.datasets.read("same:1").num_rows == 100


def test_twenty_concurrent_registrations(any_workspace: Workspace, tmp_path: Path) -> None:
    count = 20
    packages = [stand_in_package(tmp_path / f"p{i}", {"index": i}) for i in range(count)]

    def register(index: int) -> int:
        models = any_workspace.models
        return register_stand_in(models, "shared", packages[index], index=index).version

    numbers = _all_at_once(count, register)

    assert sorted(numbers) == list(range(1, count + 1))
    stored = any_workspace.models.list_versions("shared")
    assert sorted(v.version for v in stored) == list(range(1, count + 1))
    assert sorted(v.metrics["index"] for v in stored) == list(range(count))
    registered = [e for e in any_workspace.models.history("shared") if e.kind == "registered"]
    assert sorted(e.version or 0 for e in registered) == list(range(1, count + 1))
    for index, number in enumerate(numbers):
        package = any_workspace.models.package_path(f"shared:{number}")
        assert json.loads((package / "model.json").read_text()) == {"index": index}


def test_twelve_first_runs_of_a_new_experiment(any_workspace: Workspace) -> None:
    count = 12

    def start(index: int) -> str:
        with any_workspace.start_run("brand-new", name=f"run{index}") as run:
            run.log_metric("index", index)
            return run.id

    run_ids = _all_at_once(count, start)

    runs = any_workspace.runs.list_runs("brand-new", limit=100)
    assert sorted(r.id for r in runs) == sorted(run_ids)
    assert {r.status.value for r in runs} == {"finished"}
    engine = any_workspace.metadata.engine
    with engine.connect() as connection:
        names = connection.execute(sa.text("SELECT name FROM experiments")).scalars().all()
    assert names == ["brand-new"]


def _modelyard(workspace: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.Popen(
        [sys.executable, "-m", "modelyard", "-w", str(workspace), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.slow
def test_four_parallel_trains(any_workspace: Workspace, tmp_path: Path) -> None:
    root = any_workspace.settings.workspace
    path = tmp_path / "churn.csv"
    datasets.churn(600, seed=3).to_csv(path, index=False)
    any_workspace.datasets.ingest(path, "churn", IngestOptions(target="churned"))
    count = 4

    processes = [
        _modelyard(root, "train", "churn", "-a", "linear", "--seed", str(seed))
        for seed in range(count)
    ]
    outputs = [p.communicate(timeout=600) for p in processes]

    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, f"{stdout}\n{stderr}"
    models = any_workspace.models.list_versions("churn")
    assert sorted(m.version for m in models) == list(range(1, count + 1))
    runs = any_workspace.runs.list_runs(limit=100)
    assert len(runs) == count and {r.status.value for r in runs} == {"finished"}
    assert sorted(m.run_id or "" for m in models) == sorted(r.id for r in runs)
    info = subprocess.run(
        [sys.executable, "-m", "modelyard", "-w", str(root), "info", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(info.stdout)["database"] == any_workspace.metadata.display_url

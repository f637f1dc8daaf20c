"""Pipelines through the SDK on a real SQLite workspace, steps on the real local Executor."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.execution import Executor, RayExecutor
from modelyard.jobs import JobStatus
from modelyard.pipelines import Pipeline, PipelineStore, steps
from modelyard.workspace import Workspace
from tests.pipelines import _functions as fns


def _write_csv(path: Path, rows: int) -> None:
    lines = ["age,plan,spend,churned"]
    for i in range(rows):
        lines.append(
            f"{20 + i % 50},{['basic', 'plus', 'pro'][i % 3]},{i % 17 * 1.5},{20 + i % 50 > 45:d}"
        )
    path.write_text("\n".join(lines) + "\n")


def _two_inputs(tmp_path: Path) -> Pipeline:
    """Two datasets, a step on each, and a step on a parameter only."""
    p = Pipeline("two", params={"offset": 1.0})
    left = p.add(steps.Ingest(str(tmp_path / "left.csv"), dataset="left", target="churned"))
    right = p.add(steps.Ingest(str(tmp_path / "right.csv"), dataset="right", target="churned"))
    p.add(steps.Function(fns.describe, left, name="describe_left"))
    p.add(steps.Function(fns.describe, right, name="describe_right"))
    p.add(steps.Function(fns.add, p.param("offset"), 2, name="constant"))
    return p


def test_second_run_is_all_cache_hits_and_a_changed_dataset_reruns_only_its_branch(
    any_workspace: Workspace, tmp_path: Path
) -> None:
    # on SQLite and on PostgreSQL
    _write_csv(tmp_path / "left.csv", 60)
    _write_csv(tmp_path / "right.csv", 80)
    store = PipelineStore(any_workspace)
    p = _two_inputs(tmp_path)

    first = store.run(p)
    assert first.status == JobStatus.SUCCEEDED, first.error
    assert {s.name: s.cache for s in first.steps} == dict.fromkeys(
        ["ingest", "ingest-2", "describe_left", "describe_right", "constant"], "miss"
    )
    assert first.step("describe_left").outputs == {
        "value": {"ref": "left:1", "name": "left"},
        "ref": "left:1",
        "name": "left",
    }
    assert first.step("constant").outputs == {"value": 3.0}

    second = store.run(p)
    assert second.status == JobStatus.SUCCEEDED
    assert all(s.cache == "hit" for s in second.steps), [(s.name, s.cache) for s in second.steps]
    assert second.step("describe_left").outputs == first.step("describe_left").outputs

    _write_csv(tmp_path / "left.csv", 70)  # a new version of one dataset
    third = store.run(p)
    caches = {s.name: s.cache for s in third.steps}
    assert caches == {
        "ingest": "miss",
        "ingest-2": "hit",
        "describe_left": "miss",
        "describe_right": "hit",
        "constant": "hit",
    }
    assert third.step("describe_left").outputs["ref"] == "left:2"

    why = store.explain_cache(third.id, "describe_left")
    assert why.previous_run == second.id
    assert [c.part for c in why.changes] == ["inputs.ingest.dataset"]
    assert why.changes[0].before["ref"] == "left:1" and why.changes[0].after["ref"] == "left:2"
    unchanged = store.explain_cache(third.id, "describe_right")
    assert unchanged.changes == [] and unchanged.key == unchanged.previous_key


def test_a_changed_parameter_is_named_by_explain_cache(
    workspace: Workspace, tmp_path: Path
) -> None:
    _write_csv(tmp_path / "left.csv", 30)
    _write_csv(tmp_path / "right.csv", 30)
    store = PipelineStore(workspace)
    p = _two_inputs(tmp_path)
    store.run(p)
    again = store.run(p, {"offset": 5})
    assert again.step("constant").cache == "miss"
    assert again.step("constant").outputs == {"value": 7.0}
    why = store.explain_cache(again.id, "constant")
    assert [(c.part, c.before, c.after) for c in why.changes] == [
        ("params.inputs", [1.0, 2], [5.0, 2])
    ]


def test_a_raising_step_fails_the_run_there_and_resume_carries_on(
    workspace: Workspace, tmp_path: Path
) -> None:
    store = PipelineStore(workspace)
    p = Pipeline("breaks", params={"x": 1.0})
    first = p.add(steps.Function(fns.add, p.param("x"), 1, name="first"))
    broken = p.add(steps.Function(fns.explode, first, name="broken"))
    p.add(steps.Function(fns.describe, broken, name="after"))

    run = store.run(p)
    assert run.status == JobStatus.FAILED
    assert run.error == "step broken failed: ValueError: cannot handle 2.0"
    assert run.step("first").status == "succeeded"
    assert run.step("broken").status == "failed"
    assert run.step("broken").error == "ValueError: cannot handle 2.0"
    assert run.step("after").status == "pending" and run.step("after").started_at is None

    again = store.run(p)  # the step before the failure is cached
    assert again.step("first").cache == "hit"

    resumed = store.resume(run.id)  # the failure is in the code: it fails again, there
    assert resumed.id == run.id and resumed.status == JobStatus.FAILED
    assert resumed.step("first").started_at == run.step("first").started_at  # not rerun
    assert resumed.step("broken").status == "failed"


def test_resume_runs_only_the_failed_step_and_after(workspace: Workspace, tmp_path: Path) -> None:
    marker = tmp_path / "allowed"
    store = PipelineStore(workspace)
    p = Pipeline("flaky")

    def needs_marker(value: float) -> float:
        if not marker.exists():
            raise RuntimeError("not yet")
        return value * 10

    first = p.add(steps.Function(fns.add, 1, 2, name="first"))
    flaky = p.add(steps.Function(needs_marker, first, name="flaky", cache=False))
    p.add(steps.Function(fns.add, flaky, 1, name="last"))
    run = store.run(p)
    assert run.status == JobStatus.FAILED and run.step("flaky").error == "RuntimeError: not yet"
    marker.touch()
    resumed = store.resume(run.id, p)
    assert resumed.status == JobStatus.SUCCEEDED
    assert resumed.step("first").started_at == run.step("first").started_at
    assert resumed.step("flaky").outputs == {"value": 30.0}
    assert resumed.step("flaky").cache == "off"
    assert resumed.step("last").outputs == {"value": 31.0}


@pytest.mark.parametrize("kind", ["local", "ray"])
def test_independent_steps_overlap_in_time_on_the_executor(
    workspace: Workspace, tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    executor: Executor | None = None  # local: the workspace's default executor
    if kind == "ray":
        request.getfixturevalue("ray_session")
        executor = RayExecutor()
    store = PipelineStore(workspace)
    p = Pipeline("parallel")
    folder = str(tmp_path)
    p.add(steps.Function(fns.rendezvous, folder, "a", "b", name="a", cache=False))
    p.add(steps.Function(fns.rendezvous, folder, "b", "a", name="b", cache=False))
    run = store.run(p, executor=executor)
    if executor is not None:
        executor.shutdown()
    assert run.status == JobStatus.SUCCEEDED, run.error
    a, b = run.step("a"), run.step("b")
    assert a.started_at is not None and b.started_at is not None
    assert a.finished_at is not None and b.finished_at is not None
    # each ran while the other was running
    assert max(a.started_at, b.started_at) < min(a.finished_at, b.finished_at)


def test_condition_gates_and_fail_stops_with_its_message(workspace: Workspace) -> None:
    store = PipelineStore(workspace)
    p = Pipeline("gated", params={"score": 0.5, "min": 0.8})
    score = p.add(steps.Function(fns.add, p.param("score"), 0.0, name="score"))
    gate = p.add(steps.Condition(score.output() >= p.param("min"), name="good_enough"))
    p.add(steps.Function(fns.add, score, 1, name="ship", when=gate))
    p.add(steps.Fail("the score is below min", name="stop", when=gate.output().eq(False)))

    low = store.run(p)
    assert low.status == JobStatus.FAILED
    assert low.error == "step stop failed: StepFailedError: the score is below min"
    assert low.step("good_enough").outputs == {"value": False}
    assert low.step("ship").status == "skipped"
    assert low.step("ship").reason == "its condition is false"

    high = store.run(p, {"score": 0.9})
    assert high.status == JobStatus.SUCCEEDED
    assert high.step("ship").outputs == {"value": 1.9}
    assert high.step("stop").status == "skipped"


def test_train_registers_a_model_and_its_metric_feeds_a_condition(
    workspace: Workspace, tmp_path: Path
) -> None:
    _write_csv(tmp_path / "churn.csv", 200)
    store = PipelineStore(workspace)
    p = Pipeline("churn", params={"min_auc": 0.0})
    data = p.add(steps.Ingest(str(tmp_path / "churn.csv"), dataset="churn", target="churned"))
    model = p.add(steps.Train(data, algorithm="linear"))
    gate = p.add(steps.Condition(model.metric("roc_auc") >= p.param("min_auc"), name="gate"))
    approved = p.add(steps.Register(model, alias="staging", when=gate))
    p.add(steps.Deploy(approved, endpoint="churn-api", when=gate))
    scores = tmp_path / "scores"
    p.add(steps.BatchTransform(approved, inputs=str(tmp_path / "churn.csv"), output=str(scores)))
    run = store.run(p)
    assert run.status == JobStatus.SUCCEEDED, run.error
    trained = run.step("train").outputs
    assert trained is not None and trained["model"]["ref"] == "churn:1"
    assert workspace.models.get("churn:1").run_id == trained["run_id"]
    assert run.step("gate").outputs == {"value": True}
    batch = run.step("batch").outputs
    assert batch is not None and batch["rows"] == 200 and batch["output"] == str(scores)
    assert workspace.jobs.get(batch["job"]).status == JobStatus.SUCCEEDED
    registered = workspace.models.get("churn:1")
    assert registered.status.value == "approved" and registered.aliases == ["staging"]
    assert run.step("register").outputs == {"model": trained["model"]}
    endpoint = workspace.endpoints.get("churn-api")
    assert [(v.name, v.model) for v in endpoint.config.variants] == [("main", "churn:1")]
    assert run.step("deploy").outputs == {
        "endpoint": "churn-api",
        "revision": endpoint.config_version,
        "promoted": True,
        "deployment": None,  # a new endpoint: nothing to guard
    }
    again = store.run(p)
    assert [s.cache for s in again.steps] == ["hit", "hit", "hit", "off", "off", "off"]
    assert len(workspace.models.list_versions("churn")) == 1
    assert again.step("deploy").reason == "a deploy step acts on the world each run"
    assert workspace.endpoints.get("churn-api").config.variants == endpoint.config.variants

    strict = store.run(p, {"min_auc": 1.01})  # the gate is false: nothing deployed
    assert strict.step("gate").outputs == {"value": False}
    assert strict.step("register").status == "skipped"
    assert strict.step("deploy").status == "skipped"
    assert strict.step("batch").status == "skipped"


def test_a_saved_pipeline_runs_by_name(workspace: Workspace) -> None:
    store = PipelineStore(workspace)
    p = Pipeline("saved", params={"x": 2.0})
    p.add(steps.Function(fns.add, p.param("x"), 1, name="plus"))
    p.save(workspace)
    assert [item["name"] for item in store.list()] == ["saved"]
    run = store.run("saved", {"x": "4"})
    assert run.step("plus").outputs == {"value": 5.0}
    assert [r.id for r in store.runs("saved")] == [run.id]


def test_a_sql_ingest_always_runs_and_unchanged_rows_keep_the_steps_after_it_cached(
    workspace: Workspace, tmp_path: Path
) -> None:
    import sqlite3

    database = tmp_path / "shop.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE customers (age INTEGER, plan TEXT)")
        connection.executemany(
            "INSERT INTO customers VALUES (?, ?)", [(20 + i, "ab"[i % 2]) for i in range(30)]
        )
    connection.close()
    p = Pipeline("from-sql")
    rows = p.add(
        steps.Ingest(sql="SELECT * FROM customers", source=f"sqlite:///{database}", dataset="c")
    )
    p.add(steps.Function(fns.describe, rows, name="describe"))
    store = PipelineStore(workspace)
    first = store.run(p)
    assert first.status == JobStatus.SUCCEEDED, first.error
    second = store.run(p)
    assert second.step("ingest").cache == "off"
    assert second.step("ingest").reason == "a SQL ingest reads a database that may have changed"
    assert second.step("ingest").outputs == first.step("ingest").outputs  # the same version
    assert second.step("describe").cache == "hit"

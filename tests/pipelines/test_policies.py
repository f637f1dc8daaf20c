"""Per-step policies: retries with backoff, and a cache expiry."""

from __future__ import annotations

from pathlib import Path

from modelyard.jobs import JobStatus
from modelyard.pipelines import Pipeline, PipelineStore, steps
from modelyard.workspace import Workspace
from tests.pipelines import _functions as fns


def test_a_step_retried_with_backoff_succeeds_on_its_third_attempt(
    workspace: Workspace, tmp_path: Path
) -> None:
    calls = tmp_path / "calls"
    calls.mkdir()
    p = Pipeline("retried")
    flaky = steps.Function(fns.fails_first, str(calls), 2, name="flaky", cache=False)
    p.add(flaky.retry(2, backoff=0.05))
    run = PipelineStore(workspace).run(p)
    assert run.status == JobStatus.SUCCEEDED, run.error
    step = run.step("flaky")
    assert step.outputs == {"value": 3} and step.attempts == 3 and step.error is None
    assert len(list(calls.iterdir())) == 3


def test_retries_run_out_and_the_run_fails_with_the_last_error(
    workspace: Workspace, tmp_path: Path
) -> None:
    calls = tmp_path / "calls"
    calls.mkdir()
    p = Pipeline("retried")
    p.add(steps.Function(fns.fails_first, str(calls), 5, name="flaky").retry(1, backoff=0.0))
    run = PipelineStore(workspace).run(p)
    assert run.status == JobStatus.FAILED
    assert run.error == "step flaky failed: ConnectionError: call 2 failed"
    assert run.step("flaky").attempts == 2


def test_an_expired_cached_result_is_not_reused(workspace: Workspace) -> None:
    store = PipelineStore(workspace)
    kept = Pipeline("kept")
    kept.add(steps.Function(fns.add, 1, 2, name="sum").expire_cache(3600))
    store.run(kept)
    assert store.run(kept).step("sum").cache == "hit"

    expired = Pipeline("expired")  # the same step and key, results older than 0 s refused
    expired.add(steps.Function(fns.add, 1, 2, name="sum").expire_cache(0))
    again = store.run(expired)
    assert again.step("sum").cache == "miss" and again.step("sum").outputs == {"value": 3}

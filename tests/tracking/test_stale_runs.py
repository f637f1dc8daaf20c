"""A run whose process was killed (kill -9) shows so, and ``runs gc`` marks it failed
(issue 16, finding 11)."""

from __future__ import annotations

import json
import textwrap

from modelyard.tracking import RunStatus
from modelyard.workspace import Workspace
from tests._killed import run_then_kill
from tests.conftest import Cli

# Starts a run, says its id, then blocks until it is killed: its run stays "running".
_OWNER = textwrap.dedent(
    """
    import sys
    from modelyard.workspace import Workspace

    workspace = Workspace.open(sys.argv[1])
    run = workspace.start_run("doomed")
    run.log_metric("step", 1.0)
    print(run.id, flush=True)
    sys.stdin.read()
    """
)


def _killed_run(workspace: Workspace) -> str:
    return run_then_kill(_OWNER, str(workspace.settings.workspace))


def test_a_killed_run_shows_as_gone_and_gc_marks_it_failed(workspace: Workspace, cli: Cli) -> None:
    killed = _killed_run(workspace)
    with workspace.start_run("alive") as alive:
        listed = {r["id"]: r for r in json.loads(cli("runs", "list", "--json").stdout)}
        assert listed[killed]["status"] == "running" and listed[killed]["process_gone"]
        assert listed[alive.id]["status"] == "running" and not listed[alive.id]["process_gone"]
        assert "running (process gone)" in cli("runs", "list").stdout
        assert "status running (process gone)" in cli("runs", "show", killed).stdout

        collected = cli("runs", "gc")
        assert "Marked 1 stale run(s) failed" in collected.stdout and killed in collected.stdout

        shown = json.loads(cli("runs", "show", killed, "--json").stdout)
        assert shown["status"] == "failed" and not shown["process_gone"]
        assert shown["owner"] in shown["error"] and "ended without closing" in shown["error"]
        assert shown["end_time"] is not None
        assert workspace.runs.get(alive.id).status is RunStatus.RUNNING
        assert json.loads(cli("runs", "gc", "--json").stdout) == []
    assert workspace.runs.get(alive.id).status is RunStatus.FINISHED


def test_runs_of_another_host_are_left_alone(any_workspace: Workspace) -> None:
    from modelyard.metadata._tables import RunRow

    run_id = any_workspace.runs.create("elsewhere")
    with any_workspace.metadata.session() as session:
        row = session.get(RunRow, run_id)
        assert row is not None
        row.owner = "some-other-host.example:1"
    assert not any_workspace.runs.get(run_id).process_gone
    assert any_workspace.runs.collect_stale() == []
    assert any_workspace.runs.get(run_id).status is RunStatus.RUNNING

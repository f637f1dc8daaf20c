"""Who owns a running job or run, and telling that its process is gone (issue 16,
finding 11): a batch job whose process was killed no longer stays "running"."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from modelyard.jobs import JobStatus, ProcessOwner
from modelyard.workspace import Workspace
from tests._killed import run_then_kill
from tests.conftest import Cli

# Starts a job, says its id, then blocks until it is killed: the job stays "running".
_OWNER = textwrap.dedent(
    """
    import sys
    from modelyard.workspace import Workspace

    workspace = Workspace.open(sys.argv[1])
    job = workspace.jobs.create("batch", {}, [("p0", {}), ("p1", {})])
    workspace.jobs.start(job.id)
    workspace.jobs.commit_partition(
        job.id, "p0", rows_in=5, rows_out=5, rows_rejected=0, output="p0", checksum=None
    )
    print(job.id, flush=True)
    sys.stdin.read()
    """
)


def test_a_killed_jobs_process_is_seen_gone_and_collected(any_workspace: Workspace) -> None:
    jobs = any_workspace.jobs
    job_id = run_then_kill(_OWNER, str(any_workspace.settings.workspace))
    mine = jobs.start(jobs.create("batch", {}, [("q", {})]).id)

    killed = jobs.get(job_id)
    assert killed.status is JobStatus.RUNNING and killed.process_gone
    assert killed.to_dict()["process_gone"] is True
    listed = Cli(any_workspace.settings.workspace)("batch", "list").stdout
    assert f"{job_id[:12]} │ running (process gone)" in listed
    assert [j.id for j in jobs.collect_stale()] == [job_id]

    failed = jobs.get(job_id)
    assert failed.status is JobStatus.FAILED and not failed.process_gone
    assert failed.error is not None and str(killed.owner) in failed.error
    assert [p.key for p in jobs.partitions(job_id, committed=True)] == ["p0"]
    assert jobs.get(mine.id).status is JobStatus.RUNNING
    assert jobs.collect_stale() == []


def test_an_owner_is_this_process_only_while_it_runs() -> None:
    me = ProcessOwner.current()
    now = datetime.now(UTC)
    assert not me.gone(now)
    # a record written before this process started cannot be this process's
    assert me.gone(now - timedelta(hours=1))
    assert not ProcessOwner("another-host.example", os.getpid()).gone(now - timedelta(hours=1))


def test_an_ended_process_is_gone() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=60)
    assert ProcessOwner(socket.gethostname(), process.pid).gone(datetime.now(UTC))


@given(st.text(max_size=40))
def test_owner_text_parses_back_or_is_none(text: str) -> None:
    owner = ProcessOwner.parse(text)
    if owner is not None:
        assert str(owner) == text.rpartition(":")[0] + ":" + str(owner.pid)
        assert ProcessOwner.parse(str(owner)) == owner

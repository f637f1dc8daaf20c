"""The job store on every metadata backend: records, partitions, restart survival."""

from __future__ import annotations

import pytest

from modelyard.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.jobs import JobStatus, JobStore
from modelyard.workspace import Workspace

PLAN = [("00000-00000", {"file": "a.parquet", "rows": 10}), ("00000-00001", {"file": "a.parquet"})]


class TestJobStore:
    def test_new_job_is_pending_with_its_plan(self, any_workspace: Workspace) -> None:
        job = any_workspace.jobs.create("batch", {"model": "churn:1"}, PLAN, output="out/")
        assert job.status is JobStatus.PENDING
        assert (job.partitions_total, job.partitions_done, job.rows_done) == (2, 0, 0)
        parts = any_workspace.jobs.partitions(job.id)
        assert [p.key for p in parts] == ["00000-00000", "00000-00001"]
        assert parts[0].spec == {"file": "a.parquet", "rows": 10}
        assert not any(p.committed for p in parts)

    def test_commit_adds_up_progress_from_the_partition_table(
        self, any_workspace: Workspace
    ) -> None:
        jobs = any_workspace.jobs
        job = jobs.start(jobs.create("batch", {}, PLAN).id)
        assert job.status is JobStatus.RUNNING and job.owner
        for _ in range(2):  # recording the same partition twice counts it once
            job = jobs.commit_partition(
                job.id,
                "00000-00001",
                rows_in=7,
                rows_out=5,
                rows_rejected=2,
                output="out/part-1.parquet",
                checksum="ab" * 32,
                rows_per_second=100.0,
            )
        assert (job.partitions_done, job.rows_done, job.rows_rejected) == (1, 7, 2)
        assert job.rows_per_second == 100.0
        assert [p.key for p in jobs.partitions(job.id, committed=False)] == ["00000-00000"]
        jobs.forget_partitions(job.id, ["00000-00001"])
        assert jobs.get(job.id).partitions_done == 0

    def test_job_survives_a_new_process_view(self, any_workspace: Workspace) -> None:
        job = any_workspace.jobs.create("batch", {"x": 1}, PLAN)
        any_workspace.jobs.commit_partition(
            job.id,
            "00000-00000",
            rows_in=1,
            rows_out=1,
            rows_rejected=0,
            output=None,
            checksum=None,
        )
        metadata = type(any_workspace.metadata)(any_workspace.metadata.url)
        try:
            again = JobStore(metadata).get(job.id)
        finally:
            metadata.dispose()
        assert again.params == {"x": 1}
        assert again.partitions_done == 1

    def test_finish_cancel_and_list(self, any_workspace: Workspace) -> None:
        jobs = any_workspace.jobs
        first = jobs.create("batch", {}, PLAN)
        second = jobs.create("tuning", {}, [])
        cancelled = jobs.cancel(first.id)
        assert cancelled.status is JobStatus.CANCELLED and cancelled.finished_at is not None
        with pytest.raises(ConflictError, match="already cancelled"):
            jobs.cancel(first.id)
        assert [j.id for j in jobs.list_jobs("batch")] == [first.id]
        assert [j.id for j in jobs.list_jobs(status=JobStatus.PENDING)] == [second.id]
        done = jobs.finish(second.id, JobStatus.SUCCEEDED)
        with pytest.raises(ConflictError, match="already succeeded"):
            jobs.start(done.id)
        with pytest.raises(InvalidInputError, match="not a final"):
            jobs.finish(second.id, JobStatus.RUNNING)

    def test_release_forgets_only_its_own_ownership(self, any_workspace: Workspace) -> None:
        jobs = any_workspace.jobs
        job = jobs.start(jobs.create("batch", {}, PLAN).id, owner="elsewhere:1")
        assert jobs.release(job.id).owner == "elsewhere:1"  # not this process's to release
        assert jobs.release(job.id, owner="elsewhere:1").owner is None

    def test_lookup_by_prefix(self, any_workspace: Workspace) -> None:
        job = any_workspace.jobs.create("batch", {}, [])
        assert any_workspace.jobs.get(job.id[:8]).id == job.id
        with pytest.raises(NotFoundError, match="job ffffffff not found"):
            any_workspace.jobs.get("ffffffff")
        with pytest.raises(InvalidInputError, match="too short"):
            any_workspace.jobs.get("ab")
        for pattern in ("____", "%%%%", job.id[:4] + "%"):  # LIKE wildcards are characters
            with pytest.raises(NotFoundError, match="not found"):
                any_workspace.jobs.get(pattern)

    def test_duplicate_partition_keys_are_refused(self, any_workspace: Workspace) -> None:
        with pytest.raises(InvalidInputError, match="unique"):
            any_workspace.jobs.create("batch", {}, [("k", {}), ("k", {})])

    def test_to_dict_is_json_ready(self, any_workspace: Workspace) -> None:
        import json

        job = any_workspace.jobs.create("batch", {"a": [1, 2]}, PLAN)
        data = json.loads(json.dumps(job.to_dict()))
        assert data["status"] == "pending" and data["params"] == {"a": [1, 2]}

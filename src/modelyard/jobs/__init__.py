"""Jobs: long-running work recorded in the metadata store, so it survives its starter."""

from modelyard.jobs._owner import ProcessOwner
from modelyard.jobs._records import Job, JobStatus, Partition
from modelyard.jobs._store import JobStore, this_owner

__all__ = ["Job", "JobStatus", "JobStore", "Partition", "ProcessOwner", "this_owner"]

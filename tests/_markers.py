"""Skip markers shared by test modules, each with the reason a reader needs."""

from __future__ import annotations

import os

import pytest

# The worker core split (LocalExecutor.start_workers, a batch job's fork server)
# exists only where affinity can be set (Linux) and there is a core to keep (two or
# more); elsewhere affinity is left alone, so there is nothing to observe. CI's
# machine is such a machine: under CI these tests never skip, and fail if the
# machine cannot run them. The path where nothing is kept runs on CI as well:
# test_where_no_core_can_be_kept_workers_start_on_the_callers_cores (tests/execution).
needs_two_cores = pytest.mark.skipif(
    not os.environ.get("CI")
    and (not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2),
    reason="the core split needs core affinity (Linux) and at least two cores",
)

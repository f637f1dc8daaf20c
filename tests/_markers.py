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


def skip_or_fail_in_ci(reason: str) -> None:
    """Skip on a developer's machine that lacks what the test needs; fail under CI,
    whose machine has it (root, the dev extras, the Debian packages), so nothing
    CI is meant to run is ever skipped there."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run this test")
    pytest.skip(reason)


def import_or_skip(module: str, reason: str) -> object:
    """``pytest.importorskip`` that fails under CI (see :func:`skip_or_fail_in_ci`)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        skip_or_fail_in_ci(f"{module} is not installed ({reason})")
        raise


def require_installed(module: str, reason: str) -> None:
    """Skip (fail under CI) unless ``module`` is installed, without importing it: for
    a module the test only runs in a subprocess (its import has side effects)."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        skip_or_fail_in_ci(f"{module} is not installed ({reason})")

"""One local Ray for the whole test session, small, started only by tests that need it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def ray_session() -> Iterator[Any]:
    """A local Ray (2 CPUs, no dashboard, 200 MB object store), shut down at the end.

    Workers get the repository on their path so test modules' functions import there.
    Ray is in the ``dev`` extra, so ``make test`` always has it: a missing Ray is a
    broken install and fails here rather than skipping the Ray half of the suite.
    """
    import ray

    if ray.is_initialized():
        yield ray
        return
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=200 * 1024 * 1024,
        logging_level="WARNING",
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}},
    )
    try:
        yield ray
    finally:
        ray.shutdown()

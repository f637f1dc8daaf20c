"""The public surface of modelyard.batch is pinned."""

from __future__ import annotations

import modelyard.batch as batch

EXPECTED = {
    "BATCH_KIND",
    "MANIFEST",
    "BatchResult",
    "ErrorBudget",
    "batch_predict",
    "plan_batch",
    "resume_batch",
    "run_batch",
}


def test_public_names_are_pinned() -> None:
    assert set(batch.__all__) == EXPECTED
    for name in batch.__all__:
        assert getattr(batch, name) is not None

"""A planted broken candidate: a fitted pipeline that raises on a share of requests.

Module-level, so the gateway process unpickles it by name (``tests.pipelines._flaky``).
"""

from __future__ import annotations

import random
from typing import Any

HEALTHY_CALLS = 2  # the gateway's load check (one row, then many) passes


class Flaky:
    """Answers as ``pipeline`` does, except that after its first calls ``share`` of
    them raise: a bug that passes the load check and shows under traffic."""

    def __init__(self, pipeline: Any, share: float) -> None:
        self.pipeline = pipeline
        self.share = share
        self.calls = 0

    def _maybe_fail(self) -> None:
        self.calls += 1
        if self.calls > HEALTHY_CALLS and random.random() < self.share:
            raise RuntimeError("planted failure of the broken candidate")

    def predict_proba(self, data: Any) -> Any:
        self._maybe_fail()
        return self.pipeline.predict_proba(data)

    def predict(self, data: Any) -> Any:
        self._maybe_fail()
        return self.pipeline.predict(data)


class Slow:
    """Answers as ``pipeline`` does, after its first calls ``delay`` seconds late:
    a candidate whose latency would breach the endpoint's budget."""

    def __init__(self, pipeline: Any, delay: float) -> None:
        self.pipeline = pipeline
        self.delay = delay
        self.calls = 0

    def predict_proba(self, data: Any) -> Any:
        import time

        self.calls += 1
        if self.calls > HEALTHY_CALLS:
            time.sleep(self.delay)
        return self.pipeline.predict_proba(data)

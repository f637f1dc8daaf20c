"""What a job's worker reports about itself (module-level: workers import it by name)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any


def state(folder: str, workers: int) -> dict[str, Any]:
    """This worker's pid, parent and imports, once ``workers`` distinct workers
    reported (each waits for the others, so every worker answers once)."""
    Path(folder, str(os.getpid())).touch()
    deadline = time.monotonic() + 120
    while len(list(Path(folder).iterdir())) < workers:
        if time.monotonic() > deadline:
            raise TimeoutError("not every worker reported")
        time.sleep(0.01)
    xgboost = sys.modules.get("xgboost")
    return {
        "pid": os.getpid(),
        "parent": os.getppid(),
        "preloaded": "modelyard.batch._preload" in sys.modules,
        "xgboost": xgboost is not None,
    }


def to_pandas_rows() -> int:
    """pyarrow's pandas conversion, which a job that captures its traffic uses."""
    import pyarrow as pa

    return len(pa.table({"a": [1, 2, 3]}).to_pandas())


def native_then_pipeline(package: str, digest: str, rows: str) -> dict[str, Any]:
    """The native flavor's probabilities, then the pipeline flavor's, in this worker."""
    import pyarrow.parquet as pq

    from modelyard.batch import _rows
    from modelyard.batch._scorer import Scorer
    from modelyard.registry._loader import open_directory

    batch = pq.read_table(rows).to_batches()[0]
    out: dict[str, Any] = {"flavors": [], "probabilities": []}
    for flavor in ("native", "pipeline"):
        scorer = Scorer(open_directory(Path(package), digest), flavor, "churn:1")
        columns = scorer.score(_rows.check_rows(batch, scorer.inputs), batch.num_rows)
        out["flavors"].append(scorer.flavor)
        out["probabilities"].append(columns["proba_1"].tolist())
    return out

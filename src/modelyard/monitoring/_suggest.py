"""A baseline from any dataset version, as SageMaker's ``suggest_baseline`` makes one.

A monitor compares traffic with its model's training statistics by default. When
the reference should be something else (next quarter's accepted data, a cleaned
sample), ``monitor baseline DATASET`` computes the same statistics over that
version, with the function training uses (``training/_baseline.py``) and the
kinds the model adapter would read (``features.make_adapter``), and writes them as
SageMaker Model Monitor's ``statistics.json`` and ``constraints.json``: files a
user can read, edit (completeness, allowed categories) and hand to
``monitor create --baseline DIR``. The statistics name the dataset version and
split, so the monitor's multivariate check is fitted on the same rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelyard.workspace import Workspace

__all__ = ["DATASET_KEY", "suggest_baseline"]

DATASET_KEY = "modelyard_dataset"


def suggest_baseline(
    workspace: Workspace, dataset: str, directory: Path, *, split: str | None = None
) -> list[Path]:
    """Write ``statistics.json`` and ``constraints.json`` of ``dataset``'s feature columns.

    Raises:
        NotFoundError: no such dataset version.
        InvalidInputError: an unknown split, or no feature column to describe.
    """
    import numpy as np
    import pandas as pd

    from modelyard.features import PreprocessOptions, make_adapter
    from modelyard.monitoring._sagemaker import baseline_to_sagemaker
    from modelyard.training._baseline import compute_baseline
    from modelyard.training._signature import input_kinds

    version = workspace.datasets.get(dataset)
    kinds = input_kinds(version, make_adapter(version.columns, PreprocessOptions()))
    target = version.target
    wanted = [*kinds, *([target] if target else [])]
    frame = workspace.datasets.read(version, split=split, columns=wanted).to_pandas()
    if target:
        logical = version.column(target).logical_type.value
        task = "regression" if logical in ("numeric", "integer") else "binary"
        labels = frame.pop(target)
    else:
        task, labels = "regression", pd.Series(np.zeros(len(frame)))
    statistics = compute_baseline(frame, kinds, labels, task)
    documents = baseline_to_sagemaker(statistics)
    documents[0]["dataset"][DATASET_KEY] = {"ref": version.ref, "split": split}
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in zip(("statistics.json", "constraints.json"), documents, strict=True):
        path = directory / name
        staging = directory / f".{name}.tmp"
        staging.write_text(json.dumps(document, indent=2, default=_plain))
        staging.replace(path)
        written.append(path)
    return written


def _plain(value: Any) -> Any:
    """NumPy scalars as Python numbers."""
    return value.item() if hasattr(value, "item") else str(value)

"""The model inside a batch worker: fetched and loaded once per process, then reused.

A worker process (a local pool process or a Ray worker) scores many partitions;
:func:`scorer_for` caches the loaded model per process, so the package is
verified and the ONNX session built once per worker, not once per partition. A
worker on another machine fetches the package from the artifact store by its
digest when the driver's unpacked copy is not there.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from modelyard.registry import LoadedModel, load_model

__all__ = ["ModelSource", "Scorer", "scorer_for"]


@dataclass(frozen=True)
class ModelSource:
    """Where a worker finds the model: the driver's unpacked copy, or the artifact store."""

    ref: str
    digest: str
    artifact_url: str
    local_dir: str | None = None


@lru_cache(maxsize=4)
def scorer_for(source: ModelSource) -> Scorer:
    """The scorer of ``source`` in this process (built on first use)."""
    return Scorer(load_model(_package_dir(source)), source.ref)


def _package_dir(source: ModelSource) -> Path:
    if source.local_dir and (Path(source.local_dir) / ".complete").exists():
        return Path(source.local_dir)
    from modelyard.artifacts import FsspecArtifactStore
    from modelyard.registry._archive import unpack_archive

    cache = Path(tempfile.gettempdir()) / "modelyard-packages"
    target = cache / source.digest
    if (target / ".complete").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    data = FsspecArtifactStore(source.artifact_url).get_bytes(source.digest)  # verified
    staging = Path(tempfile.mkdtemp(prefix="unpack-", dir=cache))
    unpack_archive(data, staging)
    (staging / ".complete").touch()
    try:
        staging.rename(target)
    except OSError:  # another worker unpacked it first
        shutil.rmtree(staging, ignore_errors=True)
    return target


class Scorer:
    """Predictions for adapted columns: the ONNX graph behind the feature recipe, or the
    scikit-learn pipeline when the package has no ONNX flavor."""

    def __init__(self, model: LoadedModel, ref: str) -> None:
        self.model = model
        self.ref = ref
        self.inputs: list[dict[str, Any]] = list(model.manifest["signature"]["inputs"])
        self.input_names = [spec["name"] for spec in self.inputs]
        # LoadedModel built the recipe and the session; the batch path feeds them
        # Arrow-adapted columns directly instead of a DataFrame.
        self._recipe: Any = model._recipe
        self._onnx: Any = model._onnx

    @property
    def flavor(self) -> str:
        """``onnx`` or ``pipeline``."""
        return self.model.flavor

    def score(self, adapted: dict[str, npt.NDArray[Any]], rows: pa.RecordBatch) -> dict[str, Any]:
        """Output columns for the good rows (``adapted`` and ``rows`` hold the same rows)."""
        model = self.model
        if self._onnx is not None:
            output = self._onnx.run(self._recipe.apply(adapted))
        elif model.task == "regression":
            frame = rows.to_pandas()
            output = np.asarray(model._pipeline.predict(frame), dtype=np.float64)
        else:
            frame = rows.to_pandas()
            output = np.asarray(model._pipeline.predict_proba(frame), dtype=np.float64)
        n = rows.num_rows
        columns: dict[str, Any] = {}
        if model.task == "regression":
            columns["prediction"] = np.asarray(output, dtype=np.float64).reshape(-1)
        else:
            columns["prediction"] = _labels(model, output)
            for index, label in enumerate(model.classes or []):
                columns[f"proba_{label}"] = output[:, index]
            if model.task == "binary":
                threshold = model.threshold if model.threshold is not None else 0.5
                columns["decision"] = output[:, 1] >= threshold
        columns["model_version"] = pa.repeat(pa.scalar(self.ref), n)
        return columns


def _labels(model: LoadedModel, probabilities: npt.NDArray[np.float64]) -> pa.Array:
    """The predicted label exactly as :meth:`LoadedModel.predict` decides it."""
    classes = list(model.classes or [])
    if model.task == "binary" and model.threshold is not None:
        positive = probabilities[:, 1] >= model.threshold
        index = positive.astype(np.int64)
    else:
        index = np.argmax(probabilities, axis=1)
    return pa.array(classes).take(pa.array(index))

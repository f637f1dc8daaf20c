"""The model inside a batch worker: fetched and loaded once per process, then reused.

A worker process (a local pool process or a Ray worker) scores many partitions;
:func:`scorer_for` caches the loaded model per process, so the package is
verified and the ONNX session built once per worker, not once per partition. A
worker on another machine fetches the package from the artifact store by its
digest when the driver's unpacked copy is not there.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from modelyard.registry import LoadedModel, load_model

__all__ = ["ModelSource", "Scorer", "load_count", "scorer_for"]


@dataclass(frozen=True)
class ModelSource:
    """Where a worker finds the model: the driver's unpacked copy, or the artifact store."""

    ref: str
    digest: str
    artifact_url: str
    local_dir: str | None = None
    prefer: str = "native"


_LOADS: Counter[ModelSource] = Counter()


@lru_cache(maxsize=4)
def scorer_for(source: ModelSource) -> Scorer:
    """The scorer of ``source`` in this process (built on first use)."""
    _LOADS[source] += 1
    return Scorer(load_model(_package_dir(source), prefer=source.prefer), source.ref)


def load_count(source: ModelSource) -> int:
    """How many times this process loaded ``source`` (1 while it stays cached)."""
    return _LOADS[source]


def _package_dir(source: ModelSource) -> Path:
    if source.local_dir and (Path(source.local_dir) / ".complete").exists():
        return Path(source.local_dir)
    from modelyard.artifacts import FsspecArtifactStore
    from modelyard.registry._archive import unpacked_package

    cache = Path(tempfile.gettempdir()) / "modelyard-packages"
    return unpacked_package(FsspecArtifactStore(source.artifact_url), source.digest, cache)


class Scorer:
    """Predictions for adapted columns: the feature recipe, then the native booster,
    the ONNX graph or the pipeline's fitted estimator (the flavor asked for, when the
    package has it). Every path skips DataFrames: Arrow columns in, arrays out."""

    def __init__(self, model: LoadedModel, ref: str) -> None:
        self.model = model
        self.ref = ref
        self.inputs: list[dict[str, Any]] = list(model.manifest["signature"]["inputs"])
        self.input_names = [spec["name"] for spec in self.inputs]
        # LoadedModel verified the package and built the recipe; the batch path feeds
        # the recipe Arrow-adapted columns directly instead of a DataFrame.
        self._recipe: Any = model._recipe
        self._onnx: Any = None
        self._estimator: Any = None
        if model.flavor == "onnx":
            self._onnx = _single_thread_session((model.directory / "model.onnx").read_bytes())
        elif model.flavor == "native":
            self._onnx = model._engine  # one thread already; the same run(matrix) contract
        else:  # the fitted pipeline: its recipe step, then its estimator on the matrix
            steps = model._pipeline.steps
            self._recipe, self._estimator = steps[0][1], steps[-1][1]
            if "n_jobs" in self._estimator.get_params():
                self._estimator.set_params(n_jobs=1)  # one worker per core already

    @property
    def flavor(self) -> str:
        """``native``, ``onnx`` or ``pipeline``."""
        return self.model.flavor

    def score(self, adapted: dict[str, npt.NDArray[Any]], rows: pa.RecordBatch) -> dict[str, Any]:
        """Output columns for the good rows (``adapted`` and ``rows`` hold the same rows)."""
        model = self.model
        matrix = self._recipe.apply(adapted)
        if self.flavor == "native":
            output = self._onnx.run(matrix)
        elif self._onnx is not None:
            output = _run_onnx(self._onnx, matrix)
        elif model.task == "regression":
            output = np.asarray(self._estimator.predict(matrix), dtype=np.float64)
        else:
            output = np.asarray(self._estimator.predict_proba(matrix), dtype=np.float64)
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


def _single_thread_session(model: bytes) -> Any:
    """An ONNX Runtime session for one worker process.

    The executor already runs one worker per core; ONNX Runtime's default of one
    thread per core in *every* worker oversubscribes the machine (measured: 1 thread
    scores a 200-tree ensemble at 127k rows/s, 2 threads beside another worker at
    74k). The memory arena is off so a worker's memory stays flat between batches.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def _run_onnx(session: Any, matrix: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Probabilities ``(n, k)`` or values ``(n,)``, as :class:`OnnxModel` returns them."""
    name = session.get_inputs()[0].name
    results = session.run(None, {name: np.ascontiguousarray(matrix, np.float32)})
    if len(results) >= 2:  # label, probabilities
        return np.asarray(results[1], dtype=np.float64)
    return np.asarray(results[0], dtype=np.float64).reshape(-1)


def _labels(model: LoadedModel, probabilities: npt.NDArray[np.float64]) -> pa.Array:
    """The predicted label exactly as :meth:`LoadedModel.predict` decides it."""
    classes = list(model.classes or [])
    if model.task == "binary" and model.threshold is not None:
        positive = probabilities[:, 1] >= model.threshold
        index = positive.astype(np.int64)
    else:
        index = np.argmax(probabilities, axis=1)
    return pa.array(classes).take(pa.array(index))

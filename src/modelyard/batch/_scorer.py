"""The model inside a batch worker: fetched and loaded once per process, then reused.

A worker process (a local pool process or a Ray worker) scores many partitions;
:func:`scorer_for` caches the loaded model per process, so the package is
verified and the ONNX session built once per worker, not once per partition. A
worker on another machine fetches the package from the artifact store by its
digest when the driver's unpacked copy is not there.

The native and ONNX flavors are loaded here from the package's plain files (the
manifest, the booster file, the ONNX graph), not through
:func:`modelyard.registry.load_model`: the registry and the feature recipe class
import pandas and scikit-learn, which cost a worker about a second of CPU at
start-up and neither flavor uses. The package is verified the same way (every
file against its hash in the manifest), and the flavor chosen by the same rule.
The pipeline flavor goes through the registry as before.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from modelyard.batch._matrix import RecipeMatrix
from modelyard.batch._rows import CheckedRows
from modelyard.errors import IntegrityError, InvalidInputError, NotFoundError

__all__ = [
    "ModelSource",
    "Scorer",
    "dedicate_process",
    "detach_pandas",
    "import_lean",
    "load_count",
    "scorer_for",
]

_MANIFEST = "model.json"  # the registry's package layout (modelyard.registry._package)
_ONNX = "model.onnx"
_FLAVORS = ("onnx", "native", "pipeline")


@dataclass(frozen=True)
class ModelSource:
    """Where a worker finds the model: the driver's unpacked copy, or the artifact store."""

    ref: str
    digest: str
    artifact_url: str
    local_dir: str | None = None
    prefer: str = "native"


_LOADS: Counter[ModelSource] = Counter()
_DEDICATED = False  # this process scores one batch job's partitions and nothing else


def dedicate_process() -> None:
    """Mark this process as a worker started for one batch job only (see
    :func:`import_lean`): the pool initializer of the executor a job starts itself."""
    global _DEDICATED
    _DEDICATED = True


@lru_cache(maxsize=4)
def scorer_for(source: ModelSource) -> Scorer:
    """The scorer of ``source`` in this process (built on first use)."""
    _LOADS[source] += 1
    return Scorer(_package_dir(source), source.prefer, source.ref)


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


def import_lean(module: str) -> Any:
    """Import XGBoost or LightGBM without scikit-learn, when nothing imported it yet.

    Both import scikit-learn (and with it SciPy's and pandas' bulk, about 1.3 s of
    CPU) only to define their scikit-learn wrapper classes, which the native
    flavor does not use: its boosters are plain ``Booster`` objects. Only a process
    dedicated to one batch job (:func:`dedicate_process`) does so, since other work
    in a shared worker (a tuning trial) may need the wrappers; should a pipeline be
    unpickled there after all, :func:`_restore_wrappers` re-defines them first.
    """
    if not _DEDICATED or module in sys.modules or "sklearn" in sys.modules:
        return importlib.import_module(module)
    sys.modules["sklearn"] = None  # type: ignore[assignment]  # import sklearn: ImportError
    try:
        return importlib.import_module(module)
    finally:
        del sys.modules["sklearn"]


class _NoPandas:
    """A meta-path finder that refuses pandas (see :func:`detach_pandas`)."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.partition(".")[0] == "pandas":
            raise ImportError("pandas is detached from pyarrow in this batch worker")
        return None


def detach_pandas() -> None:
    """Keep pyarrow from importing pandas in this process, when nothing imported it yet.

    pyarrow imports pandas (about 0.3 s of CPU) on its first conversion of a Python
    or numpy value, only to recognise pandas objects, which the native and ONNX
    flavors never hand it. pyarrow looks for pandas once and remembers the answer:
    asked while pandas cannot be imported, it works as it does where pandas is not
    installed. pandas itself still imports for whoever asks for it afterwards (the
    pipeline flavor, text dates); only pyarrow's own pandas conversions
    (``to_pandas``, pandas objects given to ``pa.array``) are then unavailable, so a
    job that captures its traffic (which writes JSON through pandas) does not detach.
    """
    if "pandas" in sys.modules:
        return
    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.scalar(0)  # pyarrow's first conversion: it looks for pandas now, and fails
    finally:
        sys.meta_path.remove(finder)


def _restore_wrappers() -> None:
    """Re-define XGBoost's and LightGBM's scikit-learn wrappers on top of scikit-learn
    if :func:`import_lean` imported the library without it (a pipeline unpickled in
    this process needs the real classes)."""
    for library in ("xgboost", "lightgbm"):
        compat = sys.modules.get(f"{library}.compat")
        if compat is None or getattr(compat, "SKLEARN_INSTALLED", True):
            continue
        importlib.reload(compat)
        wrappers = importlib.reload(importlib.import_module(f"{library}.sklearn"))
        package = sys.modules[library]
        for name in getattr(wrappers, "__all__", []):
            if hasattr(package, name):
                setattr(package, name, getattr(wrappers, name))


def _verified_manifest(directory: Path) -> dict[str, Any]:
    """The package manifest, once every file matches its hash (as the registry checks)."""
    manifest_path = directory / _MANIFEST
    if not manifest_path.is_file():
        raise NotFoundError(f"no {_MANIFEST} in {directory}: not a model package")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    for name, digest in manifest.get("files", {}).items():
        path = directory / name
        if not path.is_file() or _sha256(path) != digest:
            raise IntegrityError(f"model package file {name} does not match its hash")
    return manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _choose_flavor(available: list[str], prefer: str) -> str:
    """The flavor asked for when the package has it, else the first of ONNX, native,
    pipeline it has (the registry's rule)."""
    if prefer not in _FLAVORS:
        raise InvalidInputError(f"unknown flavor {prefer!r}: use onnx, native or pipeline")
    if prefer in available:
        return prefer
    return next(f for f in _FLAVORS if f in available)


class Scorer:
    """Predictions for checked rows: the feature recipe, then the native booster,
    the ONNX graph or the pipeline's fitted estimator (the flavor asked for, when the
    package has it). Every path skips DataFrames: Arrow columns in, arrays out."""

    def __init__(self, directory: Path, prefer: str, ref: str) -> None:
        self.ref = ref
        manifest = _verified_manifest(directory)
        self.flavor: str = _choose_flavor(list(manifest["flavors"]), prefer)
        self.task: str = manifest["task"]
        self.classes: list[Any] = list(manifest.get("classes") or [])
        self.threshold: float | None = (manifest.get("threshold") or {}).get("value")
        self.inputs: list[dict[str, Any]] = list(manifest["signature"]["inputs"])
        self.input_names = [spec["name"] for spec in self.inputs]
        self._class_array = pa.array(self.classes)
        # the output columns with a few distinct values (worth a Parquet dictionary)
        self.repeated_columns = ["model_version"]
        if self.task != "regression":
            self.repeated_columns.insert(0, "prediction")
        self._matrix: RecipeMatrix | None = None
        self._recipe: Any = None
        self._engine: Any = None
        self._estimator: Any = None
        if self.flavor == "native":
            entry = manifest["native"]
            self._matrix = RecipeMatrix(manifest["recipe"])
            self._engine = _Booster(entry["library"], (directory / entry["file"]).read_bytes())
        elif self.flavor == "onnx":
            self._matrix = RecipeMatrix(manifest["recipe"])
            self._engine = _single_thread_session((directory / _ONNX).read_bytes())
        else:  # the fitted pipeline: its recipe step, then its estimator on the matrix
            from modelyard.registry import load_model

            _restore_wrappers()
            steps = load_model(directory, prefer="pipeline")._pipeline.steps
            self._recipe, self._estimator = steps[0][1], steps[-1][1]
            if "n_jobs" in self._estimator.get_params():
                self._estimator.set_params(n_jobs=1)  # one worker per core already

    def score(self, checked: CheckedRows, n: int) -> dict[str, Any]:
        """Output columns for the ``n`` good rows of ``checked``."""
        if self._matrix is not None:
            matrix = self._matrix.build(checked.numbers, checked.categories)
            if self.flavor == "native":
                output = self._engine.run(matrix, classification=self.task != "regression")
            else:
                output = _run_onnx(self._engine, matrix)
        elif self.task == "regression":
            matrix = self._recipe.apply(checked.adapted)
            output = np.asarray(self._estimator.predict(matrix), dtype=np.float64)
        else:
            matrix = self._recipe.apply(checked.adapted)
            output = np.asarray(self._estimator.predict_proba(matrix), dtype=np.float64)
        columns: dict[str, Any] = {}
        if self.task == "regression":
            columns["prediction"] = np.asarray(output, dtype=np.float64).reshape(-1)
        else:
            columns["prediction"] = self._labels(output)
            for index, label in enumerate(self.classes):
                columns[f"proba_{label}"] = output[:, index]
            if self.task == "binary":
                threshold = self.threshold if self.threshold is not None else 0.5
                columns["decision"] = output[:, 1] >= threshold
        columns["model_version"] = pa.repeat(pa.scalar(self.ref), n)
        return columns

    def _labels(self, probabilities: npt.NDArray[np.float64]) -> pa.Array:
        """The predicted label exactly as :meth:`LoadedModel.predict` decides it."""
        if self.task == "binary" and self.threshold is not None:
            index = (probabilities[:, 1] >= self.threshold).astype(np.int64)
        else:
            index = np.argmax(probabilities, axis=1)
        return self._class_array.take(pa.array(index))


class _Booster:
    """An XGBoost or LightGBM booster from its model file, predicting on one thread
    (the executor already runs one worker per core): the registry's ``NativeModel``
    with the library imported without scikit-learn."""

    def __init__(self, library: str, data: bytes) -> None:
        self.library = library
        if library == "xgboost":
            xgb = import_lean("xgboost")
            self._booster: Any = xgb.Booster(model_file=bytearray(data))
            self._booster.set_param({"nthread": 1})
        elif library == "lightgbm":
            lgb = import_lean("lightgbm")
            self._booster = lgb.Booster(model_str=data.decode())
        else:
            raise InvalidInputError(f"no native flavor for {library!r}")

    def run(self, matrix: npt.NDArray[Any], *, classification: bool) -> npt.NDArray[np.float64]:
        """Probabilities ``(n, k)`` for a classifier, values ``(n,)`` for a regressor."""
        if self.library == "xgboost":
            output = self._booster.inplace_predict(np.ascontiguousarray(matrix, np.float32))
        else:
            output = self._booster.predict(matrix, num_threads=1)
        values = np.asarray(output, dtype=np.float64)
        if not classification:
            return values.reshape(-1)
        if values.ndim == 1:  # binary: the positive class's probability
            return np.column_stack([1.0 - values, values])
        return values


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

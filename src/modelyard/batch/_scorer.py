"""The model inside a batch worker: fetched and loaded once per process, then reused.

A worker process (a local pool process or a Ray worker) scores many partitions;
:func:`scorer_for` caches the loaded model per process, so the package is
verified and its engine built once per worker, not once per partition.

The package is opened by the registry's one loader (:mod:`modelyard.registry._loader`):
through the workspace's private package cache, every file checked against the
version's recorded digest whether the cache was warm or cold, the flavor chosen by
the package's manifest, the ONNX session or native booster built by the registry.
The matrix is the package's fitted recipe applied to the checked rows' adapted
columns (:class:`~modelyard.features.FittedRecipe`, the same steps as training and
serving), never through pandas.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from modelyard.batch._rows import CheckedRows

if TYPE_CHECKING:
    from modelyard.artifacts import ArtifactStore
    from modelyard.registry._loader import VerifiedPackage
    from modelyard.registry._manifest import PackageManifest

# The registry's loader and the recipe are imported where a model is loaded: the
# driver's `batch list` and `batch show` reach this module and load none.

__all__ = ["ModelSource", "Scorer", "load_count", "output_columns", "scorer_for"]


@dataclass(frozen=True)
class ModelSource:
    """Where a worker finds the model: the package of archive ``digest`` in the
    artifact store, unpacked in the workspace's package cache ``cache_dir`` (or,
    on a machine where that folder cannot be made, the user's own)."""

    ref: str
    digest: str
    artifact_url: str
    cache_dir: str
    prefer: str = "native"


_LOADS: Counter[ModelSource] = Counter()


@lru_cache(maxsize=4)
def scorer_for(source: ModelSource) -> Scorer:
    """The scorer of ``source`` in this process (built on first use)."""
    _LOADS[source] += 1
    return Scorer(_open(source), source.prefer, source.ref)


def load_count(source: ModelSource) -> int:
    """How many times this process loaded ``source`` (1 while it stays cached)."""
    return _LOADS[source]


def _open(source: ModelSource) -> VerifiedPackage:
    from modelyard.registry._archive import user_cache
    from modelyard.registry._loader import open_cached

    def store() -> ArtifactStore:
        from modelyard.artifacts import FsspecArtifactStore

        return FsspecArtifactStore(source.artifact_url)

    try:
        return open_cached(store, source.digest, Path(source.cache_dir))
    except PermissionError:  # another machine, where the workspace's folder is not ours
        return open_cached(store, source.digest, user_cache())


def output_columns(manifest: PackageManifest) -> list[str]:
    """The columns a batch job writes beside the kept input columns, in order."""
    names = ["prediction"]
    if manifest.task != "regression":
        names += [f"proba_{label}" for label in manifest.classes or ()]
        if manifest.task == "binary":
            names.append("decision")
    return [*names, "model_version"]


class Scorer:
    """Predictions for checked rows: the feature recipe, then the native booster,
    the ONNX graph or the pipeline's fitted estimator (the flavor asked for, when the
    package has it). Every path skips DataFrames: Arrow columns in, arrays out."""

    def __init__(self, package: VerifiedPackage, prefer: str, ref: str) -> None:
        from modelyard.features import FittedRecipe
        from modelyard.registry._loader import decision_indices

        self._decide = decision_indices
        manifest = package.manifest
        self.ref = ref
        self.flavor = manifest.choose_flavor(prefer)
        self.task = manifest.task
        self.classes: list[Any] = list(manifest.classes or ())
        self.threshold = manifest.threshold
        self.inputs: list[dict[str, Any]] = [dict(c) for c in manifest.inputs]
        self.input_names = manifest.input_names
        self._class_array = pa.array(self.classes)
        # the output columns with a few distinct values (worth a Parquet dictionary)
        self.repeated_columns = ["model_version"]
        if self.task != "regression":
            self.repeated_columns.insert(0, "prediction")
        assert manifest.recipe is not None  # every package stores its fitted recipe
        # the pipeline flavor's first step is this same recipe (its JSON is what the
        # package stores): only the estimator comes from the pickle
        self._recipe = FittedRecipe.from_dict(manifest.recipe)
        self._engine: Any = None
        self._estimator: Any = None
        if self.flavor in ("native", "onnx"):
            self._engine = package.engine(self.flavor, use="batch")
        else:
            self._estimator = package.pipeline().steps[-1][1]
            if "n_jobs" in self._estimator.get_params():
                self._estimator.set_params(n_jobs=1)  # one worker per core already

    def score(self, checked: CheckedRows, n: int) -> dict[str, Any]:
        """Output columns (:func:`output_columns`) for the ``n`` good rows of ``checked``."""
        matrix = self._recipe.apply(checked.adapted)
        if self._engine is not None:
            output = self._engine.run(matrix)
        elif self.task == "regression":
            output = np.asarray(self._estimator.predict(matrix), dtype=np.float64)
        else:
            output = np.asarray(self._estimator.predict_proba(matrix), dtype=np.float64)
        columns: dict[str, Any] = {}
        if self.task == "regression":
            columns["prediction"] = np.asarray(output, dtype=np.float64).reshape(-1)
        else:
            indices = self._decide(output, self.task, self.threshold)
            columns["prediction"] = self._class_array.take(pa.array(indices))
            for index, label in enumerate(self.classes):
                columns[f"proba_{label}"] = output[:, index]
            if self.task == "binary":
                threshold = self.threshold if self.threshold is not None else 0.5
                columns["decision"] = output[:, 1] >= threshold
        columns["model_version"] = pa.repeat(pa.scalar(self.ref), n)
        return columns

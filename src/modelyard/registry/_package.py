"""The model package on disk, and the predictor that loads it.

A package directory holds ``model.json`` (the manifest: task, signature, metrics,
lineage, the fitted feature recipe, file hashes, flavors), ``pipeline.joblib`` (the
fitted scikit-learn pipeline), ``model.onnx`` (when it compiled and agreed) and
``baseline.json`` (training statistics for monitoring). Loading checks every file
against the manifest's hashes. The ONNX flavor needs no pickle: the recipe is JSON
and the graph is data; the joblib pipeline is unpickled only when there is no ONNX.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from modelyard.errors import IntegrityError, InvalidInputError, NotFoundError

__all__ = ["MANIFEST", "LoadedModel", "Prediction", "load_model", "write_package"]

MANIFEST = "model.json"
PIPELINE = "pipeline.joblib"
ONNX = "model.onnx"
BASELINE = "baseline.json"
FORMAT_VERSION = 1


def write_package(
    directory: Path,
    *,
    manifest: dict[str, Any],
    pipeline: Any,
    onnx_model: bytes | None,
    baseline: dict[str, Any],
) -> dict[str, Any]:
    """Write a package directory; return the manifest as written (with file hashes)."""
    import joblib

    directory.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, directory / PIPELINE, compress=3)
    files = [PIPELINE]
    if onnx_model is not None:
        (directory / ONNX).write_bytes(onnx_model)
        files.append(ONNX)
    (directory / BASELINE).write_text(json.dumps(baseline, indent=1, default=_json_default))
    files.append(BASELINE)
    written = {
        **manifest,
        "format_version": FORMAT_VERSION,
        "flavors": ["onnx", "pipeline"] if onnx_model is not None else ["pipeline"],
        "files": {name: _sha256(directory / name) for name in files},
    }
    (directory / MANIFEST).write_text(json.dumps(written, indent=1, default=_json_default))
    return written


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Prediction:
    """Outputs for a batch of rows.

    Attributes:
        predictions: the predicted label (classification) or value (regression).
        probabilities: class probabilities ``(n, k)``; ``None`` for regression.
        classes: class labels in probability order; ``None`` for regression.
        flavor: ``onnx`` or ``pipeline``.
    """

    predictions: npt.NDArray[Any]
    probabilities: npt.NDArray[np.float64] | None
    classes: list[Any] | None
    flavor: str

    def to_frame(self) -> pd.DataFrame:
        """One row per input row: prediction and one ``proba_<class>`` column per class."""
        frame = pd.DataFrame({"prediction": self.predictions})
        if self.probabilities is not None and self.classes is not None:
            for index, label in enumerate(self.classes):
                frame[f"proba_{label}"] = self.probabilities[:, index]
        return frame


class LoadedModel:
    """A verified model package, ready to predict."""

    def __init__(self, directory: Path, prefer: str = "onnx") -> None:
        self.directory = directory
        manifest_path = directory / MANIFEST
        if not manifest_path.is_file():
            raise NotFoundError(f"no {MANIFEST} in {directory}: not a model package")
        self.manifest: dict[str, Any] = json.loads(manifest_path.read_text())
        for name, digest in self.manifest.get("files", {}).items():
            path = directory / name
            if not path.is_file() or _sha256(path) != digest:
                raise IntegrityError(f"model package file {name} does not match its hash")
        self.task: str = self.manifest["task"]
        self.classes: list[Any] | None = self.manifest.get("classes")
        self.threshold: float | None = (self.manifest.get("threshold") or {}).get("value")
        self._class_array = np.asarray(self.classes or [], dtype=object)
        self._onnx = None
        self._pipeline: Any = None
        self._recipe: Any = None
        if prefer == "onnx" and "onnx" in self.manifest["flavors"]:
            from modelyard.features import FeatureRecipe
            from modelyard.registry._onnx import OnnxModel

            self._recipe = FeatureRecipe.from_dict(self.manifest["recipe"])
            self._onnx = OnnxModel((directory / ONNX).read_bytes())
            self.flavor = "onnx"
        else:
            import joblib

            self._pipeline = joblib.load(directory / PIPELINE)
            self.flavor = "pipeline"

    @property
    def input_columns(self) -> list[str]:
        """The raw columns the model reads."""
        return [c["name"] for c in self.manifest["signature"]["inputs"]]

    def predict(self, data: pd.DataFrame) -> Prediction:
        """Predict for the rows of ``data`` (extra columns are ignored).

        Raises:
            SchemaMismatchError: a required column is missing or has bad values.
        """
        if len(data) == 0:
            raise InvalidInputError("no rows to predict")
        if self._onnx is not None:
            # adapt + apply directly: the same as transform, minus scikit-learn's
            # set_output wrapper, which costs more than the graph for one row
            matrix = self._recipe.apply(self._recipe.adapter.adapt(data))
            output = self._onnx.run(matrix)
        elif self.task == "regression":
            output = np.asarray(self._pipeline.predict(data), dtype=np.float64)
        else:
            output = np.asarray(self._pipeline.predict_proba(data), dtype=np.float64)
        if self.task == "regression":
            return Prediction(output.reshape(-1), None, None, self.flavor)
        return Prediction(self._decide(output), output, self.classes, self.flavor)

    def predict_columns(self, columns: Mapping[str, Sequence[Any]]) -> Prediction:
        """Predict for rows given as ``{column: values}`` (serving's hot path).

        The ONNX flavor runs the feature recipe on the column arrays directly, with
        no DataFrame built; the pipeline flavor needs one.

        Raises:
            SchemaMismatchError: a required column is missing or has bad values.
        """
        if self._onnx is None:
            return self.predict(pd.DataFrame(dict(columns)))
        adapted = self._recipe.adapter.adapt(columns)
        output = self._onnx.run(self._recipe.apply(adapted))
        if self.task == "regression":
            return Prediction(output.reshape(-1), None, None, self.flavor)
        return Prediction(self._decide(output), output, self.classes, self.flavor)

    def _decide(self, probabilities: npt.NDArray[np.float64]) -> npt.NDArray[Any]:
        classes = self._class_array
        if self.task == "binary" and self.threshold is not None:
            decided: npt.NDArray[Any] = np.where(
                probabilities[:, 1] >= self.threshold, classes[1], classes[0]
            )
            return decided
        chosen: npt.NDArray[Any] = classes[np.argmax(probabilities, axis=1)]
        return chosen


def load_model(directory: Path, prefer: str = "onnx") -> LoadedModel:
    """Load a package directory (see :class:`LoadedModel`)."""
    return LoadedModel(directory, prefer)

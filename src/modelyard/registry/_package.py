"""The model package on disk, and the predictor that loads it.

A package directory holds ``model.json`` (the manifest: task, signature, metrics,
lineage, the fitted feature recipe, file hashes, flavors), ``pipeline.joblib`` (the
fitted scikit-learn pipeline), ``model.onnx`` (when it compiled and agreed), for
XGBoost and LightGBM the booster in its own format (the ``native`` flavor, when it
agreed) and ``baseline.json`` (training statistics for monitoring). Loading checks
every file against the manifest's hashes. The ONNX and native flavors need no
pickle: the recipe is JSON and the graph and booster files are data; the joblib
pipeline is unpickled only when neither is there. Serving prefers ONNX (fastest for
a few rows), batch prefers native (fastest for many). Verification, the flavor's
choice and its engine are the loader's (:mod:`._loader`), shared with batch workers.
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

from modelyard.errors import InvalidInputError
from modelyard.registry._loader import (
    BASELINE_FILE,
    ONNX_FILE,
    PIPELINE_FILE,
    VerifiedPackage,
    decision_index,
    decision_indices,
    open_directory,
)
from modelyard.registry._manifest import MANIFEST, PackageManifest

__all__ = ["MANIFEST", "LoadedModel", "Prediction", "load_model", "write_package"]

FORMAT_VERSION = 1


def write_package(
    directory: Path,
    *,
    manifest: dict[str, Any],
    pipeline: Any,
    onnx_model: bytes | None,
    baseline: dict[str, Any],
    native: tuple[str, bytes] | None = None,
) -> dict[str, Any]:
    """Write a package directory; return the manifest as written (with file hashes).

    Args:
        native: ``(file name, bytes)`` of the booster's own model file, if any.
    """
    import joblib

    directory.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, directory / PIPELINE_FILE, compress=3)
    files = [PIPELINE_FILE]
    if onnx_model is not None:
        (directory / ONNX_FILE).write_bytes(onnx_model)
        files.append(ONNX_FILE)
    if native is not None:
        (directory / native[0]).write_bytes(native[1])
        files.append(native[0])
    (directory / BASELINE_FILE).write_text(json.dumps(baseline, indent=1, default=_json_default))
    files.append(BASELINE_FILE)
    flavors = [
        *(["onnx"] if onnx_model is not None else []),
        *(["native"] if native is not None else []),
        "pipeline",
    ]
    written = {
        **manifest,
        "format_version": FORMAT_VERSION,
        "flavors": flavors,
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
    """A verified model package, ready to predict.

    Args:
        package: the package's checked files (see :mod:`._loader`).
        prefer: ``onnx``, ``native`` or ``pipeline``: the flavor to use when the
            package has it; otherwise the first of ONNX, native, pipeline it has.
    """

    def __init__(self, package: VerifiedPackage, prefer: str = "onnx") -> None:
        self.directory = package.directory
        self.manifest: PackageManifest = package.manifest
        self.task = self.manifest.task
        self.classes: list[Any] | None = (
            list(self.manifest.classes) if self.manifest.classes is not None else None
        )
        self.threshold = self.manifest.threshold
        self._class_array = _label_array(self.classes or [])
        self._engine: Any = None  # the ONNX graph or the native booster: run(matrix)
        self._pipeline: Any = None
        self._recipe: Any = None
        self.flavor = self.manifest.choose_flavor(prefer)
        if self.flavor in ("onnx", "native"):
            from modelyard.features import FittedRecipe

            assert self.manifest.recipe is not None  # written with these flavors
            self._recipe = FittedRecipe.from_dict(self.manifest.recipe)
            self._engine = package.engine(self.flavor)
        else:
            self._pipeline = package.pipeline()

    @property
    def input_columns(self) -> list[str]:
        """The raw columns the model reads."""
        return self.manifest.input_names

    def predict(self, data: pd.DataFrame) -> Prediction:
        """Predict for the rows of ``data`` (extra columns are ignored).

        Raises:
            SchemaMismatchError: a required column is missing or has bad values.
        """
        if len(data) == 0:
            raise InvalidInputError("no rows to predict")
        if self._engine is not None:
            output = self._engine.run(self._matrix(data))
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
        if self._engine is None:
            return self.predict(pd.DataFrame(dict(columns)))
        output = self._engine.run(self._matrix(columns))
        if self.task == "regression":
            return Prediction(output.reshape(-1), None, None, self.flavor)
        return Prediction(self._decide(output), output, self.classes, self.flavor)

    def _matrix(self, data: Any) -> npt.NDArray[Any]:
        """The fitted recipe's matrix of a DataFrame or of request columns (the same
        steps as training, a batch and every other path)."""
        matrix: npt.NDArray[Any] = self._recipe.transform(data)
        return matrix

    def _decide(self, probabilities: npt.NDArray[np.float64]) -> npt.NDArray[Any]:
        if len(probabilities) == 1:  # a request's one row
            index = decision_index(probabilities[0], self.task, self.threshold)
            return self._class_array[index : index + 1]
        decided: npt.NDArray[Any] = self._class_array[
            decision_indices(probabilities, self.task, self.threshold)
        ]
        return decided


def _label_array(classes: list[Any]) -> npt.NDArray[Any]:
    """The class labels as the array predictions are taken from: integer, boolean
    or float labels keep a numeric dtype (so one row and many rows give the same
    type, as the training labels had), anything else stays object."""
    kinds = {type(label) for label in classes}
    for plain, dtype in ((int, np.int64), (bool, np.bool_), (float, np.float64)):
        if kinds == {plain}:
            return np.asarray(classes, dtype=dtype)
    return np.asarray(classes, dtype=object)


def load_model(directory: Path, prefer: str = "onnx", *, digest: str | None = None) -> LoadedModel:
    """Load a package folder (see :class:`LoadedModel`).

    Args:
        directory: the unpacked package.
        prefer: the flavor to use when the package has it.
        digest: the sha256 its archive must have (as the registry records it);
            without it, each file is checked against the package's own manifest only.

    Raises:
        NotFoundError: not a package.
        IntegrityError: a file does not match.
    """
    return LoadedModel(open_directory(directory, digest), prefer)

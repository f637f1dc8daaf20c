"""The native flavor: a gradient-boosted model in its own library's file format.

ONNX Runtime's tree ensemble is what single-row serving wants (microseconds, no
Python objects), but on large batches XGBoost's and LightGBM's own predictors are
about three times faster per thread (measured on the 200-tree churn model: 484k
rows/s against 159k for one thread). Their model files (XGBoost UBJSON, LightGBM
text) are data, not pickles, so a batch job can load them as safely as the ONNX
graph. The feature recipe runs in front, as for ONNX, and the flavor is kept only
when it reproduces the pipeline's outputs on held-out rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from modelyard._imports import optional_dependency
from modelyard.registry._onnx import parity_difference

__all__ = ["NATIVE_FILES", "NATIVE_TOLERANCE", "NativeModel", "NativeOutcome", "export_native"]

NATIVE_TOLERANCE = 1e-6
NATIVE_FILES = {"xgboost": "model.xgb.ubj", "lightgbm": "model.lgb.txt"}


@dataclass(frozen=True)
class NativeOutcome:
    """The exported model file, or why there is none."""

    library: str | None
    data: bytes | None
    max_difference: float | None
    reason: str | None

    @property
    def file_name(self) -> str | None:
        """The package file that holds the model."""
        return NATIVE_FILES[self.library] if self.library and self.data is not None else None

    def manifest_entry(self) -> dict[str, Any]:
        """How the manifest records the attempt."""
        return {
            "available": self.data is not None,
            "library": self.library,
            "file": self.file_name,
            "max_difference": self.max_difference,
            "tolerance": NATIVE_TOLERANCE,
            "reason": self.reason,
        }


def _library(estimator: Any) -> str | None:
    module = type(estimator).__module__
    if module.startswith("xgboost"):
        return "xgboost"
    if module.startswith("lightgbm"):
        return "lightgbm"
    return None


def export_native(
    estimator: Any,
    check_rows: npt.NDArray[np.float32],
    reference: npt.NDArray[np.float64],
    *,
    classification: bool,
) -> NativeOutcome:
    """Export a fitted XGBoost or LightGBM estimator and check it against ``reference``.

    Args:
        estimator: the pipeline's fitted estimator.
        check_rows: held-out rows after the feature recipe.
        reference: the pipeline's outputs on them (probabilities or values).
        classification: whether outputs are class probabilities.
    """
    library = _library(estimator)
    if library is None:
        return NativeOutcome(None, None, None, "only XGBoost and LightGBM have a native flavor")
    try:
        if library == "xgboost":
            data = bytes(estimator.get_booster().save_raw("ubj"))
        else:
            data = estimator.booster_.model_to_string().encode()
        predicted = NativeModel(library, data, classification=classification).run(check_rows)
    except Exception as exc:  # any export failure means: no native flavor
        return NativeOutcome(library, None, None, f"export failed: {type(exc).__name__}: {exc}")
    difference = parity_difference(predicted, reference, classification)  # as for ONNX
    if not np.isfinite(difference) or difference > NATIVE_TOLERANCE:
        reason = f"native outputs differ from the pipeline's by {difference:.3g}"
        return NativeOutcome(library, None, difference, reason)
    return NativeOutcome(library, data, difference, None)


class NativeModel:
    """A booster loaded from its library's model file, predicting on one thread.

    One thread because whoever runs many of these (the batch executor) already runs
    one worker per core.
    """

    def __init__(self, library: str, data: bytes, *, classification: bool) -> None:
        self.library = library
        self.classification = classification
        if library == "xgboost":
            with optional_dependency("this model's native flavor"):
                import xgboost as xgb

            self._booster: Any = xgb.Booster(model_file=bytearray(data))
            self._booster.set_param({"nthread": 1})
        elif library == "lightgbm":
            with optional_dependency("this model's native flavor"):
                import lightgbm as lgb

            self._booster = lgb.Booster(model_str=data.decode())  # threads: set per predict
        else:
            raise ValueError(f"no native flavor for {library!r}")

    def run(self, matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Probabilities ``(n, k)`` for a classifier, values ``(n,)`` for a regressor."""
        if self.library == "xgboost":
            output = self._booster.inplace_predict(np.ascontiguousarray(matrix, np.float32))
        else:
            output = self._booster.predict(matrix, num_threads=1)
        values = np.asarray(output, dtype=np.float64)
        if not self.classification:
            return values.reshape(-1)
        if values.ndim == 1:  # binary: the positive class's probability
            return np.column_stack([1.0 - values, values])
        return values

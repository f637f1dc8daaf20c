"""Make LightGBM's split thresholds exact in float32, so ONNX agrees with Python.

LightGBM stores thresholds as doubles, typically midway between two training
values. Models here are trained and served on float32 matrices, and ONNX's tree
ensembles compare in float32: rounding a threshold to the *nearest* float32 can
land on the training value just above it and send that value down the other
branch (seen on churn: probabilities 0.05 apart). Rounding each threshold *down*
to the largest float32 not above it changes nothing for float32 inputs
(``x <= t`` exactly when ``x <= round_down(t)``), and then the float32 graph and
the double-precision booster take the same branch for every input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["align_lightgbm_thresholds"]

_PREFIX = "threshold="


def _round_down(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    nearest = values.astype(np.float32)
    above = nearest.astype(np.float64) > values
    return np.where(above, np.nextafter(nearest, np.float32(-np.inf)), nearest)


def align_lightgbm_thresholds(estimator: Any) -> Any:
    """Rewrite a fitted LightGBM estimator's numeric thresholds; return it.

    Only numerical splits exist here (the feature recipe encodes categoricals), so
    every ``threshold=`` line of the model text is a list of doubles.
    """
    import lightgbm as lgb

    # "tree_sizes=" gives each tree's byte length for parallel parsing; rewritten
    # thresholds change those lengths, and LightGBM parses sequentially without it.
    lines = [
        line
        for line in estimator.booster_.model_to_string().splitlines()
        if not line.startswith("tree_sizes=")
    ]
    for index, line in enumerate(lines):
        if line.startswith(_PREFIX):
            values = np.array(line[len(_PREFIX) :].split(), dtype=np.float64)
            rounded = _round_down(values)
            lines[index] = _PREFIX + " ".join(repr(float(v)) for v in rounded)
    estimator._Booster = lgb.Booster(model_str="\n".join(lines) + "\n")
    return estimator

"""ONNX for a regressor fitted on a standardised target.

The catalog's SVM regressor is a ``TransformedTargetRegressor`` (SVR on a
``StandardScaler``-ed target: SVR's epsilon and C are on the target's scale).
skl2onnx has no converter for the wrapper, so that model had no ONNX flavor. Its
prediction is the inner regressor's output mapped back, ``z * scale + mean``: the
inner regressor's graph followed by one ``Mul`` and one ``Add``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["target_scaled_graph"]

Convert = Callable[[Any, int, bool], bytes]


def target_scaled_graph(estimator: Any, n_features: int, convert: Convert) -> bytes | None:
    """The graph of a fitted ``TransformedTargetRegressor`` whose transformer is a
    one-column ``StandardScaler``, its inner regressor compiled by ``convert``; or
    ``None`` for any other estimator or transformer."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.preprocessing import StandardScaler

    if not isinstance(estimator, TransformedTargetRegressor):
        return None
    scaler = getattr(estimator, "transformer_", None)
    if not isinstance(scaler, StandardScaler) or scaler.n_features_in_ != 1:
        return None
    scale = 1.0 if scaler.scale_ is None else float(scaler.scale_[0])
    mean = 0.0 if scaler.mean_ is None else float(scaler.mean_[0])
    return _rescaled(convert(estimator.regressor_, n_features, False), scale, mean)


def _rescaled(inner: bytes, scale: float, mean: float) -> bytes:
    """``inner`` (one regression output) with ``output * scale + mean`` appended."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(inner)
    graph = model.graph
    (output,) = graph.output
    standardised = f"{output.name}_standardised"
    for node in graph.node:
        node.output[:] = [standardised if name == output.name else name for name in node.output]
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array([scale], dtype=np.float32), "target_scale"),
            numpy_helper.from_array(np.array([mean], dtype=np.float32), "target_mean"),
        ]
    )
    graph.node.extend(
        [
            onnx.helper.make_node("Mul", [standardised, "target_scale"], ["target_scaled"]),
            onnx.helper.make_node("Add", ["target_scaled", "target_mean"], [output.name]),
        ]
    )
    data: bytes = model.SerializeToString()
    return data

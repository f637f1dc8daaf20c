"""The ONNX flavor: compile a fitted estimator, keep it only if it agrees.

The feature recipe runs in numpy in front of the graph, so the graph is just the
estimator on one float32 matrix. A compiled graph is kept only when its outputs on
held-out rows agree with the Python estimator's (max absolute difference on class
probabilities, or max relative difference on regression outputs, within 1e-4);
otherwise the package has no ONNX flavor and the manifest says why.

Tree models (XGBoost, LightGBM, scikit-learn trees and forests) are first compiled
straight from the node arrays their libraries publish (:mod:`._xgboost_onnx`,
:mod:`._lightgbm_onnx`, :mod:`._forest_onnx`); skl2onnx with onnxmltools' converters
handles every other estimator (scikit-learn's histogram gradient boosting among them:
its trees are not public), and any tree model whose direct graph is refused or
disagrees.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from typing import Any

import numpy as np
import numpy.typing as npt

from modelyard._imports import optional_dependency, require
from modelyard.errors import MissingDependencyError
from modelyard.registry._tree_graph import GraphTooLargeError

__all__ = ["ONNX_TOLERANCE", "PARALLEL_ROWS", "OnnxModel", "OnnxOutcome", "compile_onnx"]

ONNX_TOLERANCE = 1e-4
# From this many rows on, splitting the work over the cores pays (see OnnxModel).
PARALLEL_ROWS = 64
_INPUT = "features"


@dataclass(frozen=True)
class OnnxOutcome:
    """What happened when compiling: the graph, or why there is none."""

    model: bytes | None
    max_difference: float | None
    metric: str
    rows_checked: int
    reason: str | None
    converter: str | None = None  # which converter made the kept graph

    def manifest_entry(self) -> dict[str, Any]:
        """How the manifest records the attempt."""
        return {
            "available": self.model is not None,
            "parity_metric": self.metric,
            "max_difference": self.max_difference,
            "tolerance": ONNX_TOLERANCE,
            "rows_checked": self.rows_checked,
            "reason": self.reason,
            "converter": self.converter,
        }


@cache
def _register_converters() -> None:
    """Teach skl2onnx the XGBoost and LightGBM converters from onnxmltools, for the
    libraries installed (each is an extra of its own)."""
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    estimators: list[tuple[Any, str, Any]] = []
    if find_spec("xgboost") is not None:
        import xgboost
        from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost

        estimators += [
            (xgboost.XGBClassifier, "XGBoostXGBClassifier", convert_xgboost),
            (xgboost.XGBRegressor, "XGBoostXGBRegressor", convert_xgboost),
        ]
    if find_spec("lightgbm") is not None:
        import lightgbm
        from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm

        estimators += [
            (lightgbm.LGBMClassifier, "LightGbmLGBMClassifier", convert_lightgbm),
            (lightgbm.LGBMRegressor, "LightGbmLGBMRegressor", convert_lightgbm),
        ]
    classifier_options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    for estimator, alias, convert in estimators:
        classifier = alias.endswith("Classifier")
        update_registered_converter(
            estimator,
            alias,
            calculate_linear_classifier_output_shapes
            if classifier
            else calculate_linear_regressor_output_shapes,
            convert,
            options=classifier_options if classifier else None,
        )


def compile_onnx(
    estimator: Any,
    check_rows: npt.NDArray[np.float32],
    reference: npt.NDArray[np.float64],
    *,
    classification: bool,
) -> OnnxOutcome:
    """Compile ``estimator`` and compare it with ``reference`` on ``check_rows``.

    Args:
        estimator: the fitted estimator (the last step of the pipeline).
        check_rows: held-out rows after the feature recipe (float32 matrix).
        reference: the Python pipeline's outputs on those rows: class
            probabilities ``(n, k)`` or regression values ``(n,)``.
        classification: whether outputs are probabilities.
    """
    metric = "max_abs_probability" if classification else "max_relative_value"
    try:
        require("the ONNX flavor", "onnx", "onnxruntime", "skl2onnx", "onnxmltools")
    except MissingDependencyError as exc:  # the onnx extra is not installed: no ONNX flavor
        return OnnxOutcome(None, None, metric, 0, exc.message)
    outcome = OnnxOutcome(None, None, metric, 0, "no converter applies")
    for converter, convert in (("modelyard-trees", _direct_graph), ("skl2onnx", _convert)):
        try:
            model = convert(estimator, check_rows.shape[1], classification)
            if model is None:  # this converter does not cover the estimator
                continue
            predicted = OnnxModel(model, use="check").run(check_rows)
        except GraphTooLargeError as exc:  # no converter could write it: stop here
            return OnnxOutcome(None, None, metric, 0, f"too large for ONNX: {exc}")
        except Exception as exc:  # any converter or runtime failure means: try the next
            reason = f"conversion failed: {type(exc).__name__}: {_first_line(exc)}"
            outcome = OnnxOutcome(None, None, metric, 0, reason)
            continue
        difference = parity_difference(predicted, reference, classification)
        if not np.isfinite(difference) or difference > ONNX_TOLERANCE:
            reason = (
                f"ONNX outputs differ from the pipeline's by {difference:.3g} "
                f"(tolerance {ONNX_TOLERANCE:g}) on {len(check_rows)} held-out rows"
            )
            outcome = OnnxOutcome(None, float(difference), metric, len(check_rows), reason)
            continue
        return OnnxOutcome(model, float(difference), metric, len(check_rows), None, converter)
    return outcome


def _direct_graph(estimator: Any, n_features: int, classification: bool) -> bytes | None:
    """The graph built from a tree model's public node arrays (XGBoost, LightGBM,
    scikit-learn trees and forests), faster to run than the generic converters'
    graphs; ``None`` for other estimators and for shapes those converters do not
    cover."""
    module = type(estimator).__module__
    if module.startswith("xgboost"):
        from modelyard.registry._xgboost_onnx import xgboost_graph

        return xgboost_graph(estimator, _INPUT, n_features, classification)
    if module.startswith("lightgbm"):
        from modelyard.registry._lightgbm_onnx import lightgbm_graph

        return lightgbm_graph(estimator, _INPUT, n_features, classification)
    if module.startswith(("sklearn.ensemble", "sklearn.tree")):
        from modelyard.registry._forest_onnx import forest_graph

        return forest_graph(estimator, _INPUT, n_features, classification)
    return None


def _convert(estimator: Any, n_features: int, classification: bool) -> bytes:
    """skl2onnx's graph, with a standardised-target wrapper (which it does not know)
    compiled as its inner regressor followed by the inverse scaling."""
    import warnings

    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    from modelyard.registry._target_onnx import target_scaled_graph

    if not classification:
        wrapped = target_scaled_graph(estimator, n_features, _convert)
        if wrapped is not None:
            return wrapped
    _register_converters()
    options = {id(estimator): {"zipmap": False}} if classification else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # converters warn about opsets and dtypes
        onx = convert_sklearn(
            estimator,
            initial_types=[(_INPUT, FloatTensorType([None, n_features]))],
            options=options,
            target_opset={"": 17, "ai.onnx.ml": 3},
        )
    data: bytes = onx.SerializeToString()
    return data


def parity_difference(
    predicted: npt.NDArray[np.float64], reference: npt.NDArray[np.float64], classification: bool
) -> float:
    """Largest absolute difference of probabilities, or relative difference of
    regression values (scaled by at least 1); infinite when the shapes differ."""
    predicted = np.asarray(predicted, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if predicted.shape != reference.shape:
        return float("inf")
    if classification:
        return float(np.max(np.abs(predicted - reference))) if predicted.size else 0.0
    scale = np.maximum(np.abs(reference), 1.0)
    return float(np.max(np.abs(predicted - reference) / scale)) if predicted.size else 0.0


class OnnxModel:
    """An ONNX Runtime session over a compiled estimator, for one use.

    - ``serve``: a request's few rows run on a session with one intra-op thread.
      With a pool, onnxruntime splits one row's trees over the cores and then keeps
      its workers spinning, which beside anything else wanting those cores (the
      server's event loop, an OpenMP library's own workers) costs more than the
      split saves. From :data:`PARALLEL_ROWS` rows on the split pays, so a large
      input (a local predict over a file) runs on a second session with a thread
      per core, built the first time one arrives.
    - ``batch``: a batch worker's only session, on one thread (the executor already
      runs one worker per core, and a pool in each would oversubscribe them), with
      the memory arena off so a worker's memory stays flat between record batches.
    - ``check``: a parity check's one run of a few thousand rows: a thread per core.

    Args:
        model: the serialised graph.
        use: ``serve``, ``batch`` or ``check`` (above).
    """

    def __init__(self, model: bytes, *, use: str = "serve") -> None:
        if use not in ("serve", "batch", "check"):
            raise ValueError(f"unknown ONNX session use {use!r}")
        # the graph, kept only until the second session is built from it
        self._model: bytes | None = model if use == "serve" else None
        self._parallel_from = PARALLEL_ROWS if use == "serve" else None
        self._main = _session(model, threads=0 if use == "check" else 1, lean=use == "batch")
        self._parallel: Any = None  # the session with a thread per core, once needed
        self._parallel_lock = threading.Lock()
        self._options = _run_options()  # made once and reused: a run only reads it
        outputs = [o.name for o in self._main.get_outputs()]
        # A classifier's graph gives (label, probabilities): only the probabilities
        # are read (the decision uses the stored threshold), so only they are fetched.
        self._classifier = len(outputs) >= 2
        self._fetch = [outputs[1] if self._classifier else outputs[0]]

    def run(self, matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Probabilities ``(n, k)`` for a classifier, values ``(n,)`` for a regressor."""
        wide = self._parallel_from is not None and len(matrix) >= self._parallel_from
        session = self._parallel_session() if wide else self._main
        (result,) = session.run(
            self._fetch, {_INPUT: np.ascontiguousarray(matrix, np.float32)}, self._options
        )
        values = np.asarray(result, dtype=np.float64)
        return values if self._classifier else values.reshape(-1)

    def _parallel_session(self) -> Any:
        with self._parallel_lock:  # a server may bring two large inputs at once
            if self._parallel is None:
                assert self._model is not None  # kept for this session
                self._parallel = _session(self._model, threads=0)
                self._model = None
            return self._parallel


def _run_options() -> Any:
    with optional_dependency("the ONNX flavor"):
        import onnxruntime as ort

    return ort.RunOptions()


def _session(model: bytes, threads: int, *, lean: bool = False) -> Any:
    """An ONNX Runtime session with ``threads`` intra-op threads (0: one per core);
    ``lean``: one inter-op thread too, and no memory arena."""
    with optional_dependency("the ONNX flavor"):
        import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    if lean:
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = False
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else ""

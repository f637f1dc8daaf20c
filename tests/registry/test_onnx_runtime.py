"""How a loaded ONNX flavor runs: a request's rows on one thread, large inputs on
a session with a thread per core, and the same answers either way (to float32 rounding)."""

from __future__ import annotations

import numpy as np
import xgboost as xgb

from modelyard.registry._onnx import PARALLEL_ROWS, OnnxModel
from modelyard.registry._xgboost_onnx import xgboost_graph


def _model() -> tuple[xgb.XGBClassifier, np.ndarray]:
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(600, 6)).astype(np.float32)
    target = (matrix[:, 0] + matrix[:, 1] * matrix[:, 2] > 0).astype(int)
    model = xgb.XGBClassifier(n_estimators=120, max_depth=4, random_state=0)
    model.fit(matrix, target)
    return model, matrix


def test_small_inputs_run_on_one_thread_and_large_ones_on_a_session_per_core() -> None:
    model, matrix = _model()
    graph = xgboost_graph(model, "features", matrix.shape[1], True)
    assert graph is not None
    onnx = OnnxModel(graph)
    assert onnx._main.get_session_options().intra_op_num_threads == 1

    one_by_one = np.vstack([onnx.run(matrix[i : i + 1]) for i in range(PARALLEL_ROWS - 1)])
    assert onnx._parallel is None  # nothing large yet: no second session
    whole = onnx.run(matrix)
    assert onnx._parallel is not None
    assert onnx._parallel.get_session_options().intra_op_num_threads == 0  # one per core

    expected = model.predict_proba(matrix)
    np.testing.assert_allclose(whole, expected, atol=1e-6)
    # the same trees, summed in another order across threads: float32 rounding apart
    np.testing.assert_allclose(one_by_one, whole[: PARALLEL_ROWS - 1], atol=1e-6)


def test_a_parity_check_runs_one_session_with_a_thread_per_core() -> None:
    model, matrix = _model()
    graph = xgboost_graph(model, "features", matrix.shape[1], True)
    assert graph is not None
    onnx = OnnxModel(graph, use="check")
    assert onnx._main.get_session_options().intra_op_num_threads == 0
    np.testing.assert_allclose(onnx.run(matrix), model.predict_proba(matrix), atol=1e-6)
    assert onnx._parallel is None  # never a second session


def test_a_batch_worker_runs_one_lean_session_on_main() -> None:
    model, matrix = _model()
    graph = xgboost_graph(model, "features", matrix.shape[1], True)
    assert graph is not None
    onnx = OnnxModel(graph, use="batch")
    options = onnx._main.get_session_options()
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1)
    assert options.enable_cpu_mem_arena is False
    np.testing.assert_allclose(onnx.run(matrix), model.predict_proba(matrix), atol=1e-6)
    assert onnx._parallel is None  # however many rows: never a second session

"""The direct tree converters (XGBoost, LightGBM, scikit-learn forests and histogram
gradient boosting) against the libraries themselves and skl2onnx/onnxmltools."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pandas as pd
import pytest
import xgboost as xgb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.registry import _onnx as onnx_module
from modelyard.registry import compile_onnx
from modelyard.registry._forest_onnx import forest_graph
from modelyard.registry._lightgbm_onnx import lightgbm_graph
from modelyard.registry._onnx import _convert as onnxmltools_graph
from modelyard.registry._xgboost_onnx import xgboost_graph


def _rows(seed: int, n: int = 3000, width: int = 8, missing: float = 0.1) -> npt.NDArray[Any]:
    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(n, width)).astype(np.float32)
    matrix[rng.random(matrix.shape) < missing] = np.nan
    # thresholds land on training values: repeat some exactly, as one-hot columns do
    matrix[:, 0] = np.round(matrix[:, 0], 1)
    return matrix


def _run(model: bytes, matrix: npt.NDArray[Any], classification: bool) -> npt.NDArray[Any]:
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    outputs = session.run(None, {"features": matrix})
    return outputs[1] if classification else outputs[0].reshape(-1)


def _filled(matrix: npt.NDArray[Any]) -> npt.NDArray[Any]:
    return np.nan_to_num(matrix)


def _small_problem(
    seed: int, classes: int, missing: float = 0.0, width: int = 5
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Rows and a target a model can learn: ``classes`` quantile classes of a noisy
    linear signal, or (``classes == 0``) the signal itself, far from zero."""
    matrix = _rows(seed, n=400, width=width, missing=missing)
    rng = np.random.default_rng(seed)
    signal = _filled(matrix) @ rng.normal(size=width) + rng.normal(size=len(matrix)) * 0.3
    if not classes:
        return matrix, signal * 100 + 50
    cuts = np.quantile(signal, np.linspace(0, 1, classes + 1)[1:-1])
    return matrix, np.searchsorted(cuts, signal)


def _assert_agrees(graph: bytes | None, model: Any, matrix: npt.NDArray[Any]) -> None:
    """The graph answers what the fitted model answers (1e-5 of the outputs' scale)."""
    assert graph is not None
    classification = hasattr(model, "predict_proba")
    predicted = _run(graph, matrix, classification)
    expected = model.predict_proba(matrix) if classification else model.predict(matrix)
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(predicted, expected, atol=1e-5 * scale)


def test_binary_graph_reproduces_xgboost_and_onnxmltools() -> None:
    matrix = _rows(0)
    target = (_filled(matrix)[:, 0] + _filled(matrix)[:, 3] > 0.4).astype(int)
    model = xgb.XGBClassifier(n_estimators=60, max_depth=5, subsample=0.9, random_state=0)
    model.fit(matrix, target)
    graph = xgboost_graph(model, "features", matrix.shape[1], classification=True)
    assert graph is not None
    direct = _run(graph, matrix, True)
    assert direct.shape == (len(matrix), 2)
    np.testing.assert_allclose(direct, model.predict_proba(matrix), atol=1e-6)
    reference = _run(onnxmltools_graph(model, matrix.shape[1], True), matrix, True)
    np.testing.assert_allclose(direct, reference, atol=1e-6)


def test_multiclass_graph_has_one_margin_per_class() -> None:
    matrix = _rows(1)
    filled = _filled(matrix)
    target = (filled[:, 1] > 0).astype(int) + (filled[:, 2] > 0.5).astype(int) * 2  # 4 classes
    model = xgb.XGBClassifier(n_estimators=25, max_depth=4, random_state=0).fit(matrix, target)
    graph = xgboost_graph(model, "features", matrix.shape[1], classification=True)
    assert graph is not None
    direct = _run(graph, matrix, True)
    assert direct.shape == (len(matrix), 4)
    np.testing.assert_allclose(direct, model.predict_proba(matrix), atol=1e-6)


def test_regression_graph_adds_the_base_score() -> None:
    matrix = _rows(2)
    target = _filled(matrix)[:, 0] * 40.0 + 1000.0  # far from zero: the base score matters
    model = xgb.XGBRegressor(n_estimators=40, max_depth=6, random_state=0).fit(matrix, target)
    graph = xgboost_graph(model, "features", matrix.shape[1], classification=False)
    assert graph is not None
    expected = model.predict(matrix)
    np.testing.assert_allclose(_run(graph, matrix, False), expected, rtol=1e-6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    trees=st.integers(1, 30),
    depth=st.integers(1, 7),
    missing=st.sampled_from([0.0, 0.05, 0.5]),
    classes=st.sampled_from([0, 2, 3]),  # 0: regression
)
def test_any_small_model_agrees_with_xgboost(
    seed: int, trees: int, depth: int, missing: float, classes: int
) -> None:
    matrix, target = _small_problem(seed, classes, missing)
    options = {"n_estimators": trees, "max_depth": depth, "random_state": seed}
    model = xgb.XGBClassifier(**options) if classes else xgb.XGBRegressor(**options)
    model.fit(matrix, target)
    _assert_agrees(xgboost_graph(model, "features", 5, classes > 0), model, matrix)


def test_models_it_does_not_cover_are_left_to_onnxmltools() -> None:
    matrix = _rows(3)
    target = (_filled(matrix)[:, 0] > 0).astype(int)
    dart = xgb.XGBClassifier(n_estimators=5, booster="dart").fit(matrix, target)
    assert xgboost_graph(dart, "features", 8, classification=True) is None
    poisson = xgb.XGBRegressor(n_estimators=5, objective="count:poisson")
    poisson.fit(matrix, target.astype(float) + 1)
    assert xgboost_graph(poisson, "features", 8, classification=False) is None
    early = xgb.XGBClassifier(n_estimators=50, early_stopping_rounds=2)
    early.fit(matrix, target, eval_set=[(matrix[:500], target[:500])], verbose=False)
    assert xgboost_graph(early, "features", 8, classification=True) is None
    zero_missing = xgb.XGBClassifier(n_estimators=5, missing=0.0).fit(matrix, target)
    assert xgboost_graph(zero_missing, "features", 8, classification=True) is None
    frame = pd.DataFrame({"colour": pd.Categorical(np.where(target == 1, "red", "blue"))})
    categorical = xgb.XGBClassifier(n_estimators=3, enable_categorical=True, tree_method="hist")
    categorical.fit(frame, target)
    assert xgboost_graph(categorical, "features", 1, classification=True) is None


def test_compile_records_the_direct_converter_and_its_parity() -> None:
    matrix = _rows(4)
    target = (_filled(matrix)[:, 2] > 0.1).astype(int)
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3).fit(matrix, target)
    outcome = compile_onnx(model, matrix, model.predict_proba(matrix), classification=True)
    assert outcome.model is not None and outcome.converter == "modelyard-trees"
    assert outcome.max_difference is not None and outcome.max_difference <= 1e-6
    assert outcome.manifest_entry()["converter"] == "modelyard-trees"


def test_a_direct_graph_that_disagrees_falls_back_to_onnxmltools(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    matrix = _rows(5)
    target = (_filled(matrix)[:, 1] > 0).astype(int)
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3).fit(matrix, target)
    other = xgb.XGBClassifier(n_estimators=20, max_depth=3).fit(matrix, 1 - target)
    wrong = xgboost_graph(other, "features", 8, classification=True)
    monkeypatch.setattr(onnx_module, "_direct_graph", lambda *args: wrong)
    outcome = compile_onnx(model, matrix, model.predict_proba(matrix), classification=True)
    assert outcome.model is not None and outcome.converter == "skl2onnx"
    kept = _run(outcome.model, matrix, True)
    np.testing.assert_allclose(kept, model.predict_proba(matrix), atol=1e-5)


# -- scikit-learn trees and forests -----------------------------------------------------


def _forests(classification: bool) -> list[Any]:
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    if classification:
        return [
            RandomForestClassifier(n_estimators=15, min_samples_leaf=2, random_state=0),
            ExtraTreesClassifier(n_estimators=10, random_state=0),
            DecisionTreeClassifier(random_state=0),
        ]
    return [
        RandomForestRegressor(n_estimators=10, random_state=0),
        ExtraTreesRegressor(n_estimators=8, random_state=0),
        DecisionTreeRegressor(max_depth=10, random_state=0),
    ]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_forest_classifiers_reproduce_scikit_learn_and_skl2onnx(n_classes: int) -> None:
    matrix = _filled(_rows(6, n=2000))  # the recipe imputes: trees see no NaN
    cuts = np.quantile(matrix[:, 0] + matrix[:, 1], np.linspace(0, 1, n_classes + 1)[1:-1])
    target = np.searchsorted(cuts, matrix[:, 0] + matrix[:, 1])
    for model in _forests(classification=True):
        model.fit(matrix, target)
        graph = forest_graph(model, "features", matrix.shape[1], classification=True)
        assert graph is not None, type(model).__name__
        direct = _run(graph, matrix, True)
        assert direct.shape == (len(matrix), n_classes)
        expected = model.predict_proba(matrix)
        np.testing.assert_allclose(direct, expected, atol=1e-6, err_msg=type(model).__name__)
        reference = _run(onnxmltools_graph(model, matrix.shape[1], True), matrix, True)
        np.testing.assert_allclose(direct, reference, atol=1e-6, err_msg=type(model).__name__)


def test_forest_regressors_reproduce_scikit_learn() -> None:
    matrix = _filled(_rows(7, n=2000))
    target = matrix[:, 0] * 50.0 + matrix[:, 2] ** 2 + 500.0
    for model in _forests(classification=False):
        model.fit(matrix, target)
        graph = forest_graph(model, "features", matrix.shape[1], classification=False)
        assert graph is not None, type(model).__name__
        predicted = _run(graph, matrix, False)
        np.testing.assert_allclose(predicted, model.predict(matrix), rtol=1e-6)


def test_thresholds_rounded_to_float32_split_float32_inputs_as_scikit_learn_does() -> None:
    """scikit-learn splits at float64 midpoints; rounding one to the nearest float32
    can land on the upper training value, which must still go right."""
    from modelyard.registry._tree_graph import float32_thresholds

    low = np.float32(0.1)
    high = np.nextafter(low, np.float32(1.0))
    midpoint = (np.float64(low) + np.float64(high)) / 2
    assert np.float32(midpoint) == high  # the case that matters: rounding lands on high
    thresholds = float32_thresholds(np.array([midpoint, 0.5, -3.25]))
    assert thresholds.dtype == np.float32
    assert low <= thresholds[0] < high  # low goes left, high goes right, as in float64
    assert list(thresholds[1:]) == [np.float32(0.5), np.float32(-3.25)]  # exact ones stay

    from sklearn.tree import DecisionTreeClassifier

    values = np.array([[low], [high]] * 50, dtype=np.float32)
    labels = np.array([0, 1] * 50)
    tree = DecisionTreeClassifier().fit(values, labels)
    graph = forest_graph(tree, "features", 1, classification=True)
    assert graph is not None
    np.testing.assert_array_equal(_run(graph, values, True), tree.predict_proba(values))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    trees=st.integers(1, 8),
    leaf=st.integers(1, 20),
    classes=st.sampled_from([0, 2, 4]),  # 0: regression
)
def test_any_small_forest_agrees_with_scikit_learn(
    seed: int, trees: int, leaf: int, classes: int
) -> None:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    matrix, target = _small_problem(seed, classes, width=4)
    matrix = _filled(matrix)  # the recipe imputes: trees see no NaN
    options = {"n_estimators": trees, "min_samples_leaf": leaf, "random_state": seed}
    model = RandomForestClassifier(**options) if classes else RandomForestRegressor(**options)
    model.fit(matrix, target)
    _assert_agrees(forest_graph(model, "features", 4, classes > 0), model, matrix)


def test_estimators_the_forest_converter_does_not_cover_return_none() -> None:
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestRegressor

    matrix = _filled(_rows(8, n=300))
    target = (matrix[:, 0] > 0).astype(int)
    boosted = GradientBoostingClassifier(n_estimators=3).fit(matrix, target)
    assert forest_graph(boosted, "features", 8, classification=True) is None
    two_outputs = RandomForestRegressor(3).fit(matrix, np.column_stack([target, target]))
    assert forest_graph(two_outputs, "features", 8, classification=False) is None
    from sklearn.ensemble import RandomForestClassifier

    named = RandomForestClassifier(3).fit(matrix, np.where(target == 1, "yes", "no"))
    assert forest_graph(named, "features", 8, classification=True) is None


# -- LightGBM ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "options"),
    [
        ("binary", {}),
        ("binary", {"use_missing": False}),  # NaN reads as 0.0 and is compared
        ("multiclass", {}),
        ("regression", {}),
    ],
)
def test_lightgbm_graph_reproduces_lightgbm_and_onnxmltools(
    task: str, options: dict[str, Any]
) -> None:
    import lightgbm as lgb

    matrix = _rows(9)
    filled = _filled(matrix)
    classification = task != "regression"
    if task == "binary":
        target: Any = (filled[:, 0] + filled[:, 3] > 0.4).astype(int)
    elif task == "multiclass":
        target = (filled[:, 1] > 0).astype(int) + (filled[:, 2] > 0.5).astype(int)
    else:
        target = filled[:, 0] * 40.0 + 1000.0
    model_type = lgb.LGBMClassifier if classification else lgb.LGBMRegressor
    model = model_type(n_estimators=40, num_leaves=15, verbose=-1, **options)
    model.fit(matrix, target)
    graph = lightgbm_graph(model, "features", matrix.shape[1], classification)
    assert graph is not None
    direct = _run(graph, matrix, classification)
    if classification:
        np.testing.assert_allclose(direct, model.predict_proba(matrix), atol=1e-6)
    else:
        np.testing.assert_allclose(direct, model.predict(matrix), rtol=1e-6)
    reference = _run(
        onnxmltools_graph(model, matrix.shape[1], classification), matrix, classification
    )
    np.testing.assert_allclose(direct, reference, atol=1e-6 if classification else 1e-3)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    trees=st.integers(1, 20),
    leaves=st.integers(2, 31),
    missing=st.sampled_from([0.0, 0.2]),
    classes=st.sampled_from([0, 2, 3]),  # 0: regression
)
def test_any_small_lightgbm_model_agrees_with_lightgbm(
    seed: int, trees: int, leaves: int, missing: float, classes: int
) -> None:
    import lightgbm as lgb

    matrix, target = _small_problem(seed, classes, missing)
    options = {"n_estimators": trees, "num_leaves": leaves, "min_child_samples": 5}
    model_type = lgb.LGBMClassifier if classes else lgb.LGBMRegressor
    model = model_type(random_state=seed, verbose=-1, **options).fit(matrix, target)
    _assert_agrees(lightgbm_graph(model, "features", 5, classes > 0), model, matrix)


def test_lightgbm_models_it_does_not_cover_are_left_to_onnxmltools() -> None:
    import lightgbm as lgb

    matrix = _rows(10)
    target = (_filled(matrix)[:, 0] > 0).astype(int)
    forest_mode = lgb.LGBMClassifier(
        boosting_type="rf", n_estimators=5, subsample=0.8, subsample_freq=1, verbose=-1
    ).fit(matrix, target)
    assert lightgbm_graph(forest_mode, "features", 8, classification=True) is None
    poisson = lgb.LGBMRegressor(objective="poisson", n_estimators=5, verbose=-1)
    poisson.fit(matrix, target + 1.0)
    assert lightgbm_graph(poisson, "features", 8, classification=False) is None
    square_root = lgb.LGBMRegressor(reg_sqrt=True, n_estimators=5, verbose=-1)
    square_root.fit(matrix, target * 10.0)
    assert lightgbm_graph(square_root, "features", 8, classification=False) is None
    frame = pd.DataFrame(
        {"colour": pd.Categorical(np.where(target == 1, "red", "blue")), "x": matrix[:, 1]}
    )
    categorical = lgb.LGBMClassifier(n_estimators=5, min_child_samples=5, verbose=-1)
    categorical.fit(frame, target)
    assert lightgbm_graph(categorical, "features", 2, classification=True) is None
    # zeros and NaN both to one side that comparing 0.0 would not pick: not expressible
    zeros = matrix.copy()
    zeros[: len(zeros) // 2, 5] = 0.0
    as_missing = lgb.LGBMClassifier(n_estimators=30, zero_as_missing=True, verbose=-1)
    as_missing.fit(zeros, (_filled(zeros)[:, 5] > 0).astype(int))
    assert lightgbm_graph(as_missing, "features", 8, classification=True) is None


def test_a_lightgbm_model_compiles_through_the_direct_converter() -> None:
    import lightgbm as lgb

    matrix = _rows(11)
    target = (_filled(matrix)[:, 2] > 0.1).astype(int)
    model = lgb.LGBMClassifier(n_estimators=20, verbose=-1).fit(matrix, target)
    outcome = compile_onnx(model, matrix, model.predict_proba(matrix), classification=True)
    assert outcome.model is not None and outcome.converter == "modelyard-trees"


# -- scikit-learn's histogram gradient boosting -------------------------------------------


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    iterations=st.integers(1, 20),
    leaves=st.integers(2, 31),
    missing=st.sampled_from([0.0, 0.2]),
    classes=st.sampled_from([0, 2, 3]),  # 0: regression
)
def test_any_small_histogram_boosting_model_compiles_through_skl2onnx_and_agrees(
    seed: int, iterations: int, leaves: int, missing: float, classes: int
) -> None:
    """Its trees are private to scikit-learn: no direct graph, skl2onnx's converter."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    matrix, target = _small_problem(seed, classes, missing)
    options = {"max_iter": iterations, "max_leaf_nodes": leaves, "early_stopping": False}
    model_type = HistGradientBoostingClassifier if classes else HistGradientBoostingRegressor
    model = model_type(random_state=seed, **options).fit(matrix, target)
    reference = model.predict_proba(matrix) if classes else model.predict(matrix)
    outcome = compile_onnx(model, matrix, reference, classification=classes > 0)
    assert outcome.reason is None and outcome.converter == "skl2onnx"
    _assert_agrees(outcome.model, model, matrix)


def test_a_forest_too_large_for_protobuf_is_refused_without_trying_skl2onnx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past protobuf's 2 GiB no converter can write the graph: the outcome says so at
    once instead of handing a million-node forest to skl2onnx for minutes."""
    from sklearn.ensemble import RandomForestClassifier

    from modelyard.registry import _tree_graph

    matrix = _filled(_rows(13, n=500))
    target = (matrix[:, 0] > 0).astype(int)
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(matrix, target)
    nodes = sum(tree.tree_.node_count for tree in model.estimators_)
    monkeypatch.setattr(_tree_graph, "_BUDGET_BYTES", nodes * 10)  # this forest is "too large"

    def not_tried(*args: Any) -> bytes:
        raise AssertionError("skl2onnx was tried after the size refusal")

    monkeypatch.setattr(onnx_module, "_convert", not_tried)
    outcome = compile_onnx(model, matrix, model.predict_proba(matrix), classification=True)
    assert outcome.model is None
    assert outcome.reason is not None and outcome.reason.startswith("too large for ONNX")
    assert f"{nodes:,} tree nodes" in outcome.reason


# -- a regressor on a standardised target ----------------------------------------------


def test_only_a_standard_scaled_target_is_unwrapped() -> None:
    """The wrapper's inverse is compiled only when it is ``z * scale + mean``; a log
    target (or any other transformer) is left to skl2onnx, which refuses it."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    from modelyard.registry._target_onnx import target_scaled_graph

    matrix = _filled(_rows(14, n=600))
    target = np.exp(matrix[:, 0]) * 100 + 50
    scaled = TransformedTargetRegressor(regressor=Ridge(), transformer=StandardScaler())
    scaled.fit(matrix, target)
    _assert_agrees(target_scaled_graph(scaled, 8, onnxmltools_graph), scaled, matrix)
    logged = TransformedTargetRegressor(
        regressor=Ridge(), func=np.log, inverse_func=np.exp, check_inverse=False
    )
    logged.fit(matrix, target)
    assert target_scaled_graph(logged, 8, onnxmltools_graph) is None
    outcome = compile_onnx(logged, matrix, logged.predict(matrix), classification=False)
    assert outcome.model is None and outcome.reason is not None


def test_a_lightgbm_tree_of_one_leaf_lists_no_splits_and_still_converts() -> None:
    import lightgbm as lgb

    matrix = _filled(_rows(15, n=300, width=3))
    target = (matrix[:, 0] > 0).astype(int)
    model = lgb.LGBMClassifier(n_estimators=5, min_child_samples=200, verbose=-1)
    model.fit(matrix, target)  # too few rows per child to split: one leaf
    assert "num_leaves=1\n" in model.booster_.model_to_string()
    _assert_agrees(lightgbm_graph(model, "features", 3, classification=True), model, matrix)


def test_numbered_gives_each_node_its_tree_and_position() -> None:
    from modelyard.registry._tree_graph import numbered

    tree_ids, node_ids = numbered([3, 1, 2])
    assert tree_ids.tolist() == [0, 0, 0, 1, 2, 2]
    assert node_ids.tolist() == [0, 1, 2, 0, 0, 1]

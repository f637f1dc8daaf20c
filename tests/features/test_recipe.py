"""The fitted recipe computes what scikit-learn's transformers compute, on every path.

The reference is a plain computation on the same frame: ``SimpleImputer``,
``MissingIndicator``, ``StandardScaler``, ``OneHotEncoder``, ``OrdinalEncoder`` and
a pandas ``groupby`` for target means; date parts from pandas' ``.dt``. The recipe
is run the ways a model runs it: a DataFrame (training, ``LoadedModel.predict``),
request columns of one row each (the gateway), and an Arrow record batch through
the batch row check.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from modelyard.batch._rows import check_rows
from modelyard.errors import InvalidInputError
from modelyard.features import FeatureRecipe, FittedRecipe, InputAdapter, Step

ADAPTER = InputAdapter(
    numeric=("amount", "count"), boolean=("flag",), categorical=("plan", "city"), datetime=("when",)
)
KINDS = ADAPTER.kinds()
LEVELS = ["basic", "pro", "team", "x y", "", "Ünï"]

record = st.fixed_dictionaries(
    {
        "amount": st.one_of(st.none(), st.integers(-4000, 4000).map(lambda v: v / 8)),
        "count": st.integers(-5, 9),
        "flag": st.one_of(st.none(), st.booleans()),
        "plan": st.one_of(st.none(), st.sampled_from(LEVELS)),
        "city": st.one_of(st.none(), st.sampled_from([f"city{i}" for i in range(12)])),
        "when": st.one_of(
            st.none(),
            st.datetimes(min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2060, 1, 1)).map(
                lambda moment: moment.replace(microsecond=0)
            ),
        ),
    }
)
options = st.fixed_dictionaries(
    {
        "numeric_imputation": st.sampled_from(["median", "mean"]),
        "missing_indicators": st.booleans(),
        "scale": st.booleans(),
        "one_hot_max_categories": st.integers(1, 8),
        "high_cardinality": st.sampled_from(["ordinal", "target"]),
    }
)


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(KINDS))
    frame["amount"] = frame["amount"].astype("float64")
    frame["count"] = frame["count"].astype("int64")
    frame["flag"] = frame["flag"].astype("boolean")
    frame["plan"] = frame["plan"].astype(object)
    frame["city"] = frame["city"].astype("str")
    frame["when"] = pd.to_datetime(frame["when"])
    frame.loc[frame["city"] == "nan", "city"] = None
    return frame


def _numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """The numeric inputs as float64: numbers, booleans as 0/1, five date parts."""
    when = frame["when"]
    since = (when - pd.Timestamp("2000-01-01")).dt.total_seconds() / 86400
    return pd.DataFrame(
        {
            "amount": frame["amount"],
            "count": frame["count"].astype("float64"),
            "flag": frame["flag"].astype("float64"),
            "when__year": when.dt.year,
            "when__month": when.dt.month,
            "when__dayofweek": when.dt.day_of_week,
            "when__hour": when.dt.hour,
            "when__days_since_ref": since,
        }
    ).astype("float64")


def _reference(
    train: pd.DataFrame, test: pd.DataFrame, y: np.ndarray, opts: dict[str, Any]
) -> np.ndarray:
    """The recipe's matrix computed with scikit-learn and pandas."""
    numbers_train, numbers_test = _numbers(train), _numbers(test)
    imputer = SimpleImputer(strategy=opts["numeric_imputation"], keep_empty_features=True)
    blocks = [imputer.fit(numbers_train).transform(numbers_test)]
    if opts["scale"]:
        scaler = StandardScaler().fit(imputer.transform(numbers_train))
        blocks[0] = scaler.transform(blocks[0])
    if opts["missing_indicators"] and numbers_train.isna().any().any():
        flags = MissingIndicator(features="missing-only", error_on_new=False).fit(numbers_train)
        blocks.append(flags.transform(numbers_test).astype(np.float64))
    for name in ("plan", "city"):
        column_train = train[[name]].astype(object).fillna("__missing__")
        column_test = test[[name]].astype(object).fillna("__missing__")
        if column_train[name].nunique() <= opts["one_hot_max_categories"]:
            encoder: Any = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
            blocks.append(encoder.fit(column_train).transform(column_test))
        elif opts["high_cardinality"] == "ordinal":
            encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
            blocks.append(encoder.fit(column_train).transform(column_test))
        else:
            prior = y.mean()
            stats = pd.DataFrame({"level": column_train[name], "y": y}).groupby("level")["y"]
            means = (stats.sum() + 20 * prior) / (stats.count() + 20)
            blocks.append(column_test[name].map(means).fillna(prior).to_numpy()[:, None])
    return np.hstack(blocks).astype(np.float64)


def _fit(train: pd.DataFrame, y: np.ndarray, opts: dict[str, Any]) -> FeatureRecipe:
    recipe = FeatureRecipe(adapter=ADAPTER, output_dtype="float64", **opts)
    return recipe.fit(train, y)


def _paths(recipe: FeatureRecipe, test: pd.DataFrame) -> dict[str, np.ndarray]:
    """The matrix through each path a model takes."""
    stored = FittedRecipe.from_dict(json.loads(json.dumps(recipe.to_dict())))  # a package's
    rows = []
    for index in range(len(test)):
        one = test.iloc[[index]]
        request = {name: [_plain(one[name].iloc[0])] for name in test.columns}
        rows.append(stored.transform(request))
    batch = pa.RecordBatch.from_pandas(test, preserve_index=False)
    checked = check_rows(batch, [{"name": n, "kind": k} for n, k in KINDS.items()])
    assert checked.good.all(), checked.reasons
    return {
        "frame": recipe.transform(test),
        "stored": stored.transform(test),
        "request rows": np.vstack(rows),
        "one-row frames": np.vstack([stored.transform(test.iloc[[i]]) for i in range(len(test))]),
        "arrow batch": stored.apply(checked.adapted),
    }


def _plain(value: Any) -> Any:
    """A value as a JSON request carries it."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if isinstance(value, np.generic) else value


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    train=st.lists(record, min_size=1, max_size=40),
    test=st.lists(record, min_size=1, max_size=24),  # past 16 rows: the numpy forms
    opts=options,
    seed=st.integers(0, 2**16),
)
def test_every_path_computes_the_scikit_learn_reference(
    train: list[dict[str, Any]], test: list[dict[str, Any]], opts: dict[str, Any], seed: int
) -> None:
    train_frame, test_frame = _frame(train), _frame(test)
    y = np.random.default_rng(seed).integers(0, 2, len(train_frame)).astype(np.float64)
    recipe = _fit(train_frame, y, opts)
    expected = _reference(train_frame, test_frame, y, opts)
    assert len(recipe.feature_names_out_) == expected.shape[1]
    for path, got in _paths(recipe, test_frame).items():
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=path)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    train=st.lists(record, min_size=1, max_size=40),
    test=st.lists(record, min_size=1, max_size=24),
    opts=options,
    seed=st.integers(0, 2**16),
)
def test_many_rows_compute_the_scikit_learn_reference(
    train: list[dict[str, Any]], test: list[dict[str, Any]], opts: dict[str, Any], seed: int
) -> None:
    """Past 64 rows a typed text column is read as codes into its distinct values,
    past 8,192 the matrix is written a block of rows at a time: the same features."""
    train_frame, test_frame = _frame(train), _frame(test)
    y = np.random.default_rng(seed).integers(0, 2, len(train_frame)).astype(np.float64)
    recipe = _fit(train_frame, y, opts)
    copies = 1 + 20_000 // len(test_frame)
    expected = np.tile(_reference(train_frame, test_frame, y, opts), (copies, 1))
    many = pd.concat([test_frame] * copies, ignore_index=True)
    stored = FittedRecipe.from_dict(json.loads(json.dumps(recipe.to_dict())))
    table = pa.Table.from_pandas(many, preserve_index=False).combine_chunks()
    checked = check_rows(table.to_batches()[0], [{"name": n, "kind": k} for n, k in KINDS.items()])
    paths = {
        "frame": recipe.transform(many),
        "stored": stored.transform(many),
        "arrow batch": stored.apply(checked.adapted),
    }
    for path, got in paths.items():
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(train=st.lists(record, min_size=1, max_size=30), opts=options)
def test_float32_output_is_the_float64_matrix_cast_once(
    train: list[dict[str, Any]], opts: dict[str, Any]
) -> None:
    frame = _frame(train)
    y = np.arange(len(frame)) % 2
    wide = _fit(frame, y, opts).transform(frame)
    narrow = FeatureRecipe(adapter=ADAPTER, **opts).fit(frame, y).transform(frame)
    assert narrow.dtype == np.float32
    np.testing.assert_array_equal(narrow, wide.astype(np.float32))


def test_a_recipe_stored_before_steps_reads_as_its_steps() -> None:
    """Packages written before steps existed hold per-kind specs: they still load."""
    stored = {
        "adapter": {"numeric": ["a"], "boolean": [], "categorical": ["c", "d"], "datetime": []},
        "numeric": [{"name": "a", "fill": 2.0, "indicator": True, "center": 1.0, "scale": 2.0}],
        "categorical": [
            {"name": "c", "encoding": "one_hot", "levels": ["x", "y"]},
            {"name": "d", "encoding": "target", "levels": ["p"], "values": [0.7], "default": 0.2},
        ],
        "feature_names": ["a", "a__missing", "c=x", "c=y", "d__target"],
        "output_dtype": "float64",
    }
    recipe = FittedRecipe.from_dict(stored)
    assert recipe.feature_names == stored["feature_names"]
    matrix = recipe.transform({"a": [None, 5.0], "c": ["y", "z"], "d": ["p", None]})
    np.testing.assert_array_equal(matrix, [[0.5, 1, 0, 1, 0.7], [2.0, 0, 0, 0, 0.2]])


def test_every_step_kind_round_trips_through_json() -> None:
    frame = _frame([{"amount": 1.0, "count": 1, "flag": True, "plan": "a", "city": "b",
                     "when": dt.datetime(2020, 1, 1)}, {"amount": None, "count": 2, "flag": None,
                     "plan": "c", "city": None, "when": None}])  # fmt: skip
    recipe = _fit(frame, np.array([0.0, 1.0]), {"one_hot_max_categories": 1,
                                               "high_cardinality": "target"})  # fmt: skip
    kinds = {type(step).__name__ for step in recipe.steps_}
    assert kinds == {"Impute", "MissingFlag", "TargetMean"}
    for step in recipe.steps_:
        assert Step.from_dict(json.loads(json.dumps(step.to_dict()))) == step
    with pytest.raises(InvalidInputError, match="unknown preprocessing step 'nope'"):
        Step.from_dict({"kind": "nope"})


def test_feature_sources_name_each_features_raw_column() -> None:
    frame = _frame([{"amount": None, "count": 1, "flag": True, "plan": "a", "city": "b",
                     "when": dt.datetime(2020, 1, 1)}])  # fmt: skip
    recipe = _fit(frame, np.array([1.0]), {})
    sources = dict(zip(recipe.feature_names_out_, recipe.feature_sources(), strict=True))
    assert sources["when__hour"] == "when" and sources["amount__missing"] == "amount"
    assert sources["plan=a"] == "plan" and sources["flag"] == "flag"

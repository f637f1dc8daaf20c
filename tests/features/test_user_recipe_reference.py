"""A user recipe's per-group imputation and days between two dates compute what
plain pandas computes, on every path a model takes.

The reference: ``groupby(...).median()`` / ``.mean()`` / ``.mode()`` of the
training rows, mapped onto the rows to fill and falling back to the column's
overall statistic for a missing or unseen group; ``(end - start)`` in days; then
``SimpleImputer``, ``MissingIndicator`` and ``OneHotEncoder`` for what the recipe
leaves to its defaults. The paths: a DataFrame (training, ``LoadedModel.predict``),
the stored JSON, request rows of one row each (the gateway), one-row frames, an
Arrow record batch through the batch row check, and past 8,192 rows (text read as
codes, the matrix written a block at a time).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.preprocessing import OneHotEncoder

from modelyard.batch._rows import check_rows
from modelyard.features import FeatureRecipe, FittedRecipe, InputAdapter, Recipe

ADAPTER = InputAdapter(
    numeric=("amount", "count"), categorical=("plan", "city"), datetime=("start", "end")
)
KINDS = ADAPTER.kinds()
LEVELS = ["basic", "pro", "team", "x y", "", "Ünï"]
MISSING = "__missing__"

moment = st.one_of(
    st.none(),
    st.datetimes(min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2060, 1, 1)).map(
        lambda value: value.replace(microsecond=0)
    ),
)
record = st.fixed_dictionaries(
    {
        "amount": st.one_of(st.none(), st.integers(-4000, 4000).map(lambda v: v / 8)),
        "count": st.integers(-2, 3),
        "plan": st.one_of(st.none(), st.sampled_from(LEVELS)),
        "city": st.one_of(st.none(), st.sampled_from([f"city{i}" for i in range(6)])),
        "start": moment,
        "end": moment,
    }
)


def _recipe(strategy: str) -> Recipe:
    return Recipe(
        [
            {"impute": {"column": "amount", "strategy": strategy, "by": "city"}},
            {"impute": {"column": "plan", "strategy": "mode", "by": "count"}},
            {"days_between": {"name": "gap", "start": "start", "end": "end"}},
            {"drop": ["start", "end"]},
            {"one_hot": ["plan", "city"]},
        ]
    )


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(KINDS))
    frame["amount"] = frame["amount"].astype("float64")
    frame["count"] = frame["count"].astype("int64")
    frame["plan"] = frame["plan"].astype(object)
    frame["city"] = frame["city"].astype("str")
    frame.loc[frame["city"] == "nan", "city"] = None
    for name in ("start", "end"):
        frame[name] = pd.to_datetime(frame[name])
    return frame


def _statistic(values: pd.Series, strategy: str) -> Any:
    """The statistic of the present values (``None`` when there are none)."""
    present = values.dropna()
    if present.empty:
        return None
    if strategy == "mode":
        return present.mode().iloc[0]  # the smallest of the most common
    return present.median() if strategy == "median" else present.mean()


def _group_fill(
    train: pd.DataFrame, test: pd.DataFrame, column: str, by: str, strategy: str, empty: Any
) -> pd.Series:
    """``test[column]`` with each missing value replaced by its group's training
    statistic, or the overall one (``empty`` when the column has no values)."""
    keys_train, keys_test = train[by].astype(str), test[by].astype(str)
    keys_train = keys_train.where(train[by].notna())
    keys_test = keys_test.where(test[by].notna())
    per_group = {
        key: _statistic(values, strategy) for key, values in train.groupby(keys_train)[column]
    }
    overall = _statistic(train[column], strategy)
    overall = empty if overall is None else overall
    fills = [
        overall if per_group.get(key) is None else per_group[key] for key in keys_test.tolist()
    ]
    return test[column].where(test[column].notna(), pd.Series(fills, index=test.index))


def _reference(train: pd.DataFrame, test: pd.DataFrame, strategy: str) -> np.ndarray:
    """The recipe's matrix computed with pandas and scikit-learn."""

    def numbers(frame: pd.DataFrame) -> pd.DataFrame:
        gap = (frame["end"] - frame["start"]).dt.total_seconds() / 86_400
        amount = _group_fill(train, frame, "amount", "city", strategy, 0.0)
        return pd.DataFrame(
            {"amount": amount, "count": frame["count"].astype("float64"), "gap": gap}
        ).astype("float64")

    numbers_train, numbers_test = numbers(train), numbers(test)
    imputer = SimpleImputer(strategy="median", keep_empty_features=True).fit(numbers_train)
    blocks = [imputer.transform(numbers_test)]
    if numbers_train.isna().any().any():
        flags = MissingIndicator(features="missing-only", error_on_new=False).fit(numbers_train)
        blocks.append(flags.transform(numbers_test).astype(np.float64))
    plans = [_group_fill(train, frame, "plan", "count", "mode", MISSING) for frame in (train, test)]
    cities = [frame["city"] for frame in (train, test)]
    for column_train, column_test in (plans, cities):
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        fitted = encoder.fit(column_train.astype(object).fillna(MISSING).to_frame())
        blocks.append(fitted.transform(column_test.astype(object).fillna(MISSING).to_frame()))
    return np.hstack(blocks).astype(np.float64)


def _fit(train: pd.DataFrame, strategy: str) -> FeatureRecipe:
    recipe = FeatureRecipe(adapter=ADAPTER, output_dtype="float64", recipe=_recipe(strategy))
    return recipe.fit(train, np.arange(len(train)) % 2)


def _plain(value: Any) -> Any:
    """A value as a JSON request carries it."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if isinstance(value, np.generic) else value


def _checked(frame: pd.DataFrame) -> Any:
    table = pa.Table.from_pandas(frame, preserve_index=False).combine_chunks()
    batch = table.to_batches()[0]
    checked = check_rows(batch, [{"name": n, "kind": k} for n, k in KINDS.items()])
    assert checked.good.all(), checked.reasons
    return checked.adapted


def _stored(recipe: FeatureRecipe) -> FittedRecipe:
    return FittedRecipe.from_dict(json.loads(json.dumps(recipe.to_dict())))


# the gap is the difference of two dates' days since 2000-01-01: ~1e-11 days of rounding
TOLERANCE = {"rtol": 1e-12, "atol": 1e-9}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    train=st.lists(record, min_size=1, max_size=40),
    test=st.lists(record, min_size=1, max_size=24),  # past 16 rows: the numpy forms
    strategy=st.sampled_from(["median", "mean", "mode"]),
)
def test_every_path_computes_the_pandas_reference(
    train: list[dict[str, Any]], test: list[dict[str, Any]], strategy: str
) -> None:
    train_frame, test_frame = _frame(train), _frame(test)
    recipe = _fit(train_frame, strategy)
    expected = _reference(train_frame, test_frame, strategy)
    assert len(recipe.feature_names_out_) == expected.shape[1]
    stored = _stored(recipe)
    requests = [
        stored.transform({name: [_plain(test_frame[name].iloc[i])] for name in KINDS})
        for i in range(len(test_frame))
    ]
    paths = {
        "frame": recipe.transform(test_frame),
        "stored": stored.transform(test_frame),
        "request rows": np.vstack(requests),
        "one-row frames": np.vstack(
            [stored.transform(test_frame.iloc[[i]]) for i in range(len(test_frame))]
        ),
        "arrow batch": stored.apply(_checked(test_frame)),
    }
    for path, got in paths.items():
        np.testing.assert_allclose(got, expected, **TOLERANCE, err_msg=path)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    train=st.lists(record, min_size=1, max_size=40),
    test=st.lists(record, min_size=1, max_size=24),
    strategy=st.sampled_from(["median", "mean", "mode"]),
)
def test_many_rows_compute_the_pandas_reference(
    train: list[dict[str, Any]], test: list[dict[str, Any]], strategy: str
) -> None:
    train_frame, test_frame = _frame(train), _frame(test)
    recipe = _fit(train_frame, strategy)
    copies = 1 + 20_000 // len(test_frame)
    expected = np.tile(_reference(train_frame, test_frame, strategy), (copies, 1))
    many = pd.concat([test_frame] * copies, ignore_index=True)
    stored = _stored(recipe)
    paths = {
        "frame": recipe.transform(many),
        "stored": stored.transform(many),
        "arrow batch": stored.apply(_checked(many)),
    }
    for path, got in paths.items():
        np.testing.assert_allclose(got, expected, **TOLERANCE, err_msg=path)

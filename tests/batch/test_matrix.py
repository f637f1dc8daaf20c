"""A record batch, checked and adapted, gives exactly the feature recipe's matrix.

The batch runs the recipe's own steps on the row check's columns; these tests pin the
Arrow reading (typed, text and dictionary columns) to the DataFrame path, itself
pinned to scikit-learn in ``tests/features/test_recipe.py``.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.batch import _rows
from modelyard.features import FeatureRecipe, FittedRecipe, InputAdapter
from tests.batch.conftest import new_customers

ADAPTER = InputAdapter(
    numeric=("amount", "count"),
    boolean=("flag",),
    categorical=("plan", "city"),
    datetime=("when",),
)
INPUTS = [
    {"name": name, "kind": kind, "nullable": True}
    for kind, names in (
        ("numeric", ADAPTER.numeric),
        ("boolean", ADAPTER.boolean),
        ("categorical", ADAPTER.categorical),
        ("datetime", ADAPTER.datetime),
    )
    for name in names
]


def _recipe(scale: bool, high_cardinality: str, output_dtype: str) -> FeatureRecipe:
    rng = np.random.default_rng(0)
    n = 400
    amount = rng.normal(50, 10, n)
    amount[rng.random(n) < 0.1] = np.nan
    frame = pd.DataFrame(
        {
            "amount": amount,
            "count": rng.integers(0, 5, n),
            "flag": rng.random(n) < 0.5,
            "plan": rng.choice(["basic", "pro", "team"], n),
            "city": [f"city{i}" for i in rng.integers(0, 40, n)],
            "when": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 9e6, n), "s"),
        }
    )
    frame.loc[::17, "plan"] = None
    frame.loc[::13, "when"] = pd.NaT
    target = (frame["count"] > 2).astype(int)
    recipe = FeatureRecipe(
        adapter=ADAPTER,
        scale=scale,
        one_hot_max_categories=5,
        high_cardinality=high_cardinality,
        output_dtype=output_dtype,
    )
    return recipe.fit(frame, target)


RECIPES = [
    _recipe(False, "ordinal", "float32"),
    _recipe(True, "target", "float32"),
    _recipe(True, "ordinal", "float64"),
]

texts = st.one_of(
    st.none(),
    st.sampled_from(["basic", "pro", "team", "new", "", "basic\x00", "pr\x00o", "city7", "city39"]),
    st.text(max_size=6),
)
records = st.fixed_dictionaries(
    {
        "amount": st.one_of(st.none(), st.floats(-1e30, 1e30), st.just(float("nan"))),
        "count": st.integers(-5, 9),
        "flag": st.one_of(st.none(), st.booleans()),
        "plan": texts,
        "city": texts,
        "when": st.one_of(
            st.none(),
            st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2050, 1, 1)),
        ),
    }
)


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["amount"] = frame["amount"].astype(float)
    frame["flag"] = frame["flag"].astype(object)
    frame["when"] = pd.to_datetime(frame["when"])
    return frame


def _matrices(
    recipe: FeatureRecipe, frame: pd.DataFrame, *, coded: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    batch = pa.RecordBatch.from_pandas(frame, preserve_index=False)
    if coded:  # category columns as Parquet's read_dictionary gives them
        batch = pa.RecordBatch.from_arrays(
            [
                batch.column(name).dictionary_encode() if name in ("plan", "city") else column
                for name, column in zip(batch.schema.names, batch.columns, strict=True)
            ],
            names=batch.schema.names,
        )
    checked = _rows.check_rows(batch, INPUTS)
    assert checked.good.all()
    # the recipe as stored in a package manifest: JSON
    matrix = FittedRecipe.from_dict(json.loads(json.dumps(recipe.to_dict())))
    return matrix.apply(checked.adapted), recipe.transform(frame)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(records, min_size=1, max_size=20),
    which=st.integers(0, len(RECIPES) - 1),
    coded=st.booleans(),
)
def test_the_batch_matrix_is_the_recipes(
    rows: list[dict[str, object]], which: int, coded: bool
) -> None:
    recipe = RECIPES[which]
    # more rows than the recipe looks up in a dict: its vectorised (numpy) path
    frame = _frame(rows * (65 // len(rows) + 1))
    got, expected = _matrices(recipe, frame, coded=coded)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_churn_rows_give_the_recipes_matrix() -> None:
    adapter = InputAdapter(
        numeric=("tenure_months", "monthly_charges", "total_charges"),
        boolean=("paperless_billing", "senior_citizen"),
        categorical=("contract", "payment_method", "region", "plan_code"),
        datetime=("signup_date",),
    )
    frame = new_customers(3000, seed=60)
    frame.loc[::7, "payment_method"] = None
    frame.loc[::11, "total_charges"] = np.nan
    recipe = FeatureRecipe(adapter=adapter, one_hot_max_categories=8).fit(frame.iloc[:1000])
    inputs = [
        {"name": name, "kind": kind, "nullable": True}
        for kind, names in (
            ("numeric", adapter.numeric),
            ("boolean", adapter.boolean),
            ("categorical", adapter.categorical),
            ("datetime", adapter.datetime),
        )
        for name in names
    ]
    checked = _rows.check_rows(pa.RecordBatch.from_pandas(frame, preserve_index=False), inputs)
    got = FittedRecipe.from_dict(recipe.to_dict()).apply(checked.adapted)
    np.testing.assert_array_equal(got, recipe.transform(frame))


def test_no_rows_give_an_empty_matrix() -> None:
    recipe = RECIPES[0]
    frame = _frame([{"amount": 1.0, "count": 1, "flag": True, "plan": "x", "city": "y",
                     "when": None}]).iloc[:0]  # fmt: skip
    checked = _rows.check_rows(pa.RecordBatch.from_pandas(frame, preserve_index=False), INPUTS)
    empty = FittedRecipe.from_dict(recipe.to_dict()).apply(checked.adapted)
    assert empty.shape == (0, len(recipe.feature_names_out_))

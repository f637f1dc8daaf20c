"""One row in plain Python gives exactly the matrix of the vectorised recipe."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard import datasets
from modelyard.errors import SchemaMismatchError
from modelyard.features import FeatureRecipe, InputAdapter
from modelyard.features._row import _row_from_blocks, row_matrix

ADAPTER = InputAdapter(
    numeric=("amount", "count"),
    boolean=("flag",),
    categorical=("plan", "city"),
    datetime=("when",),
)


def _recipe(scale: bool, high_cardinality: str) -> FeatureRecipe:
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
    target = (frame["count"] > 2).astype(int)
    recipe = FeatureRecipe(
        adapter=ADAPTER, scale=scale, one_hot_max_categories=5, high_cardinality=high_cardinality
    )
    return recipe.fit(frame, target)


RECIPES = [_recipe(False, "ordinal"), _recipe(True, "target")]

values = st.fixed_dictionaries(
    {
        "amount": st.one_of(
            st.none(),
            st.floats(-1e30, 1e30) | st.just(float("nan")),
            st.integers(-1000, 1000),
            st.sampled_from(["12.5", " 7 "]),
        ),
        "count": st.one_of(st.none(), st.integers(0, 9), st.booleans()),
        "flag": st.one_of(st.none(), st.booleans(), st.sampled_from(["yes", "N", "1", 0, 1.0])),
        "plan": st.one_of(
            st.none(),
            st.sampled_from(["basic", "pro", "team", "new"]),
            # numpy's text dtype drops trailing NULs: "pro\x00" is level "pro" there
            st.sampled_from(["pro\x00", "pr\x00o", "\x00", ""]),
            st.text(max_size=4),
            st.integers(0, 3),
            st.floats(0, 3).map(float),
            st.booleans(),
        ),
        "city": st.one_of(st.none(), st.sampled_from(["city1", "city39", "elsewhere"])),
        "when": st.one_of(
            st.none(),
            st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2050, 1, 1)).map(
                lambda moment: moment.replace(microsecond=0).isoformat()
            ),
            # Before and after 1970 with sub-second parts (floored to the second on
            # both paths), as datetimes, pandas Timestamps and ISO text of every shape.
            st.datetimes(
                min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)
            ).flatmap(
                lambda moment: st.sampled_from(
                    [
                        moment,
                        pd.Timestamp(moment),
                        moment.isoformat(),
                        moment.isoformat(sep=" "),
                        moment.isoformat(timespec="minutes"),
                        moment.isoformat(timespec="hours"),
                        moment.date().isoformat(),
                        moment.isoformat() + "Z",
                        moment.isoformat() + "+02:00",
                    ]
                )
            ),
            st.sampled_from([pd.NaT, np.datetime64("2024-03-04T05:06:07"), "2024-02-30"]),
        ),
    }
)


@settings(max_examples=300, deadline=None)
@given(record=values, which=st.integers(0, 1), shape=st.sampled_from(["lists", "arrays", "frame"]))
def test_one_row_matches_the_vectorised_recipe(
    record: dict[str, object], which: int, shape: str
) -> None:
    recipe = RECIPES[which]
    columns: Any = {name: [value] for name, value in record.items()}
    if shape == "arrays":
        columns = {name: np.asarray(value) for name, value in columns.items()}
    elif shape == "frame":
        columns = pd.DataFrame(columns)
    try:
        slow = recipe.apply(recipe.adapter.adapt(columns))
    except SchemaMismatchError as refused:  # e.g. 2024-02-30: the same refusal, word for word
        with pytest.raises(SchemaMismatchError) as also:
            row_matrix(recipe, columns)
        assert str(also.value) == str(refused)
        return
    fast = row_matrix(recipe, columns)
    assert fast is not None
    assert fast.dtype == slow.dtype and fast.shape == slow.shape
    np.testing.assert_array_equal(fast, slow)


GOOD_ROW: dict[str, list[object]] = {
    "amount": [1.0],
    "count": [1],
    "flag": [True],
    "plan": ["pro"],
    "city": ["city1"],
    "when": ["2024-02-03T04:05:06"],
}


def test_unusual_input_takes_the_vectorised_path() -> None:
    recipe = RECIPES[0]
    row = GOOD_ROW
    assert row_matrix(recipe, {**row, "amount": [1.0, 2.0]}) is None  # two rows
    assert row_matrix(recipe, {k: v for k, v in row.items() if k != "plan"}) is None  # missing
    assert row_matrix(recipe, {**row, "plan": [{"a": 1}]}) is None  # an object
    assert row_matrix(recipe, pd.DataFrame({**row, "amount": [1.0]}).iloc[[0, 0]]) is None


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("amount", "lots", "column 'amount' must be numeric"),
        ("flag", "maybe", "column 'flag' must be boolean"),
    ],
)
def test_bad_values_raise_what_the_vectorised_path_raises(
    column: str, value: str, message: str
) -> None:
    recipe = RECIPES[0]
    row = {**GOOD_ROW, column: [value]}
    with pytest.raises(SchemaMismatchError, match=message):
        row_matrix(recipe, row)
    with pytest.raises(SchemaMismatchError, match=message):
        recipe.apply(recipe.adapter.adapt(row))


def test_loaded_churn_rows_match(tmp_path: object) -> None:
    frame = datasets.churn(50, seed=3).drop(columns=["churned"])
    recipe = FeatureRecipe(
        adapter=InputAdapter(
            numeric=("tenure_months", "monthly_charges", "total_charges"),
            boolean=("paperless_billing",),
            categorical=("contract", "region"),
            datetime=("signup_date",),
        )
    ).fit(frame)
    for index in range(len(frame)):
        row = {name: [frame[name].iloc[index]] for name in frame.columns}
        fast = row_matrix(recipe, row)
        assert fast is not None
        np.testing.assert_array_equal(fast, recipe.transform(frame.iloc[[index]]))
        framed = row_matrix(recipe, frame.iloc[[index]])  # read from the frame's blocks
        assert framed is not None
        np.testing.assert_array_equal(framed, fast)


# A typed table, as training data or a file arrives: numbers and booleans share
# two-dimensional blocks, text is Arrow-backed, datetimes have their own block.
typed_rows = st.lists(
    st.fixed_dictionaries(
        {
            "amount": st.one_of(st.floats(-1e9, 1e9), st.just(float("nan"))),
            "count": st.integers(-5, 9),
            "flag": st.booleans(),
            "plan": st.one_of(st.none(), st.sampled_from(["basic", "pro", "team", "new"])),
            "city": st.sampled_from(["city1", "city39", "elsewhere"]),
            "when": st.one_of(
                st.none(),
                st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
            ),
        }
    ),
    min_size=1,
    max_size=6,
)
layouts = st.sampled_from(["arrow text", "object text", "nullable", "zoned", "category", "extra"])


@settings(max_examples=200, deadline=None)
@given(
    records=typed_rows,
    pick=st.integers(0, 5),
    which=st.integers(0, 1),
    layout=layouts,
    sliced=st.booleans(),
)
def test_a_row_of_a_typed_frame_matches_the_vectorised_recipe(
    records: list[dict[str, Any]], pick: int, which: int, layout: str, sliced: bool
) -> None:
    """Each block layout pandas gives a row (shared numeric blocks, Arrow or object
    text, nullable integers, zoned datetimes, categoricals, a column the model does
    not read) encodes as the vectorised recipe encodes it."""
    recipe = RECIPES[which]
    frame = pd.DataFrame.from_records(records)
    frame["when"] = pd.to_datetime(frame["when"])  # datetime64[ns], missing as NaT
    frame["plan"] = frame["plan"].astype("str" if layout == "arrow text" else object)
    frame["city"] = frame["city"].astype("str")
    if layout == "nullable":
        frame["count"] = frame["count"].astype("Int64")
    elif layout == "zoned":
        frame["when"] = frame["when"].dt.tz_localize(
            "Europe/Paris", ambiguous="NaT", nonexistent="NaT"
        )
    elif layout == "category":
        frame["city"] = frame["city"].astype("category")
    elif layout == "extra":
        frame["note"] = "unread"
    row = pick % len(frame)
    one = frame.iloc[row : row + 1] if sliced else frame.iloc[[row]]  # a view, or a copy
    if layout in ("arrow text", "object text", "extra"):  # read from blocks, no fallback
        assert set(_row_from_blocks(one)) == set(frame.columns)
    fast = row_matrix(recipe, one)
    assert fast is not None
    np.testing.assert_array_equal(fast, recipe.apply(recipe.adapter.adapt(one)))


@pytest.mark.parametrize("empty", ["none", "before", "after"])
def test_arrow_text_in_any_chunking_reads_as_its_one_value(empty: str) -> None:
    """A one-row Arrow column is read from its one chunk when it has exactly one,
    and from the whole chunked array otherwise: ``pd.concat`` with an empty frame
    leaves an empty chunk beside the value."""
    recipe = RECIPES[0]
    frame = pd.DataFrame(
        {
            "amount": [12.5, 3.0],
            "count": [3, 1],
            "flag": [True, False],
            "plan": pd.Series(["basic", "pro"], dtype="str"),
            "city": pd.Series(["city1", "city39"], dtype="str"),
            "when": pd.to_datetime(["2024-01-01 08:30", "2024-03-01 10:00"]),
        }
    )
    one = frame.iloc[[1]]
    if empty == "before":
        one = pd.concat([frame.iloc[:0], one])
    elif empty == "after":
        one = pd.concat([one, frame.iloc[:0]])
    assert one["plan"].array._pa_array.num_chunks == (1 if empty == "none" else 2)
    assert _row_from_blocks(one)["plan"] == "pro"
    fast = row_matrix(recipe, one)
    assert fast is not None
    np.testing.assert_array_equal(fast, recipe.apply(recipe.adapter.adapt(one)))

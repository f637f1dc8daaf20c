"""The input adapter reads lists and arrays (a request) exactly as it reads pandas."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.errors import SchemaMismatchError
from modelyard.features import InputAdapter
from modelyard.features._table import coded

ADAPTER = InputAdapter(
    numeric=("amount",), boolean=("flag",), categorical=("plan",), datetime=("when",)
)

naive_datetimes = st.datetimes(
    min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 12, 31)
).map(lambda moment: moment.replace(microsecond=0))
rows = st.lists(
    st.fixed_dictionaries(
        {
            "amount": st.one_of(st.none(), st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6)),
            "flag": st.one_of(st.none(), st.booleans()),
            "plan": st.one_of(
                st.none(), st.sampled_from(["basic", "pro", "x y"]), st.integers(0, 3)
            ),
            "when": st.one_of(st.none(), naive_datetimes),
        }
    ),
    min_size=1,
    max_size=20,
)


def _assert_same(left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> None:
    assert left.keys() == right.keys()
    for name in left:
        if left[name].dtype == object:
            assert left[name].tolist() == right[name].tolist(), name
        else:
            np.testing.assert_array_equal(left[name], right[name], err_msg=name)


@settings(max_examples=150, deadline=None)
@given(rows)
def test_lists_read_exactly_as_a_dataframe(records: list[dict[str, object]]) -> None:
    frame = pd.DataFrame.from_records(records)
    frame["when"] = pd.to_datetime(frame["when"])
    columns = {name: [record[name] for record in records] for name in records[0]}
    _assert_same(ADAPTER.adapt(columns), ADAPTER.adapt(frame))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), naive_datetimes), min_size=1, max_size=10))
def test_iso_strings_read_as_pandas_reads_them(moments: list[dt.datetime | None]) -> None:
    texts = [None if m is None else m.isoformat(sep=" ") for m in moments]
    fast = ADAPTER.adapt(
        {
            "amount": [1] * len(texts),
            "flag": [True] * len(texts),
            "plan": ["a"] * len(texts),
            "when": texts,
        }
    )
    slow = ADAPTER.adapt(
        pd.DataFrame(
            {"amount": 1, "flag": True, "plan": "a", "when": pd.Series(texts, dtype=object)}
        )
    )
    _assert_same(fast, slow)


def test_zoned_and_unusual_dates_fall_back_to_pandas() -> None:
    columns = {
        "amount": [1.0, 2.0],
        "flag": ["yes", "no"],
        "plan": ["a", "b"],
        "when": ["2024-03-01T10:00:00+02:00", "2024-03-01T23:30:00+02:00"],
    }
    adapted = ADAPTER.adapt(columns)
    assert adapted["when__hour"].tolist() == [8.0, 21.0]  # converted to UTC, as in training
    assert adapted["flag"].tolist() == [1.0, 0.0]


zones = st.one_of(
    st.just(""),
    st.just("Z"),
    st.builds(
        "{}{:02d}:{:02d}".format, st.sampled_from("+-"), st.integers(0, 14), st.integers(0, 59)
    ),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(naive_datetimes, zones), min_size=1, max_size=10), st.booleans())
def test_zoned_text_reads_as_pandas_reads_it(
    moments: list[tuple[dt.datetime, str]], as_objects: bool
) -> None:
    """Text with and without zones, as a string array or a list: the same parts as
    pandas gives, and no warning raised (warnings are errors here)."""
    texts = [moment.isoformat() + zone for moment, zone in moments]
    columns = {
        "amount": [1.0] * len(texts),
        "flag": [True] * len(texts),
        "plan": ["a"] * len(texts),
        "when": texts if as_objects else np.asarray(texts),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fast = ADAPTER.adapt(columns)
    slow = ADAPTER.adapt(pd.DataFrame({**columns, "when": pd.Series(texts, dtype=object)}))
    _assert_same(fast, slow)


def test_reading_text_dates_leaves_the_warnings_filter_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The filter is process-wide: a ``catch_warnings`` block here, racing one in
    another thread, could leave either's filter in place for good (Python < 3.14)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("catch_warnings used while reading dates")

    monkeypatch.setattr(warnings, "catch_warnings", refuse)
    texts = ["2024-03-01T10:00:00", "2024-03-01 23:30", None]
    for when in (texts, np.asarray(texts[:2])):
        adapted = ADAPTER.adapt(
            {
                "amount": [1.0] * len(when),
                "flag": [True] * len(when),
                "plan": ["a"] * len(when),
                "when": when,
            }
        )
        assert adapted["when__hour"].tolist()[:2] == [10.0, 23.0]


def test_a_column_of_mixed_offsets_and_naive_values_reads_as_utc() -> None:
    """pandas refuses mixed offsets unless told to convert; naive values stay as given."""
    columns = {
        "amount": [1.0, 2.0, 3.0, 4.0],
        "flag": ["yes", "no", "yes", "no"],
        "plan": ["a", "b", "a", "b"],
        "when": [
            "2024-03-01T10:00:00+02:00",
            "2024-03-01T10:00:00-05:00",
            "2024-03-01T10:00:00",
            None,
        ],
    }
    adapted = ADAPTER.adapt(columns)
    assert adapted["when__hour"].tolist()[:3] == [8.0, 15.0, 10.0]
    assert np.isnan(adapted["when__hour"][3]) and np.isnan(adapted["when__days_since_ref"][3])
    frame = ADAPTER.adapt(pd.DataFrame(columns))
    np.testing.assert_array_equal(frame["when__hour"], adapted["when__hour"])


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("amount", "lots", "column 'amount' must be numeric"),
        ("flag", "maybe", "column 'flag' must be boolean"),
        ("when", "not a date", "column 'when' must be datetime"),
    ],
)
def test_bad_values_name_the_column(column: str, value: str, message: str) -> None:
    columns: dict[str, list[object]] = {
        "amount": [1.0],
        "flag": [True],
        "plan": ["a"],
        "when": ["2024-01-01"],
    }
    columns[column] = [value]
    with pytest.raises(SchemaMismatchError, match=message):
        ADAPTER.adapt(columns)


category_series = st.one_of(
    st.lists(st.one_of(st.none(), st.text(max_size=4)), max_size=30).map(
        lambda v: pd.Series(v, dtype="str")
    ),
    st.lists(st.one_of(st.none(), st.text(max_size=4)), max_size=30).map(
        lambda v: pd.Series(v, dtype="string[pyarrow]")
    ),
    st.lists(st.integers(-5, 5), max_size=30).map(lambda v: pd.Series(v, dtype="int64")),
    st.lists(st.one_of(st.none(), st.floats(allow_infinity=True)), max_size=30).map(
        lambda v: pd.Series(v, dtype="float64")
    ),
    st.lists(st.floats(-3, 3, width=32), max_size=30).map(lambda v: pd.Series(v, dtype="float32")),
    st.lists(st.booleans(), max_size=30).map(lambda v: pd.Series(v, dtype="bool")),
)


@settings(max_examples=200, deadline=None)
@given(category_series)
def test_categories_of_a_typed_series_read_as_its_values_one_by_one(series: pd.Series) -> None:
    """Text, number and boolean Series are factorized; each value's text must be what
    the value itself gives through the general path (an object array)."""
    adapter = InputAdapter(categorical=("plan",))
    factorized = adapter.adapt({"plan": series})["plan"]
    one_by_one = adapter.adapt({"plan": series.to_numpy(dtype=object)})["plan"]
    assert factorized.dtype == object
    assert factorized.tolist() == one_by_one.tolist()


@settings(max_examples=100, deadline=None)
@given(category_series.filter(len))
def test_a_long_categorical_column_is_read_as_codes_into_its_values(series: pd.Series) -> None:
    """Past 64 rows a typed Series is read one distinct value at a time, and the
    adapted table keeps each row's code beside the text (what the encoding steps
    look up): the text is the one of the values one by one, and so are the codes."""
    long = pd.concat([series] * (1 + 64 // len(series)), ignore_index=True)
    adapter = InputAdapter(categorical=("plan",))
    adapted = adapter.adapt({"plan": long})
    one_by_one = adapter.adapt({"plan": long.to_numpy(dtype=object)})["plan"].tolist()
    assert adapted["plan"].tolist() == one_by_one
    known = coded(adapted, "plan")
    assert known is not None
    assert known.labels[known.codes].tolist() == one_by_one
    adapted["plan"] = adapted["plan"].copy()  # a rewritten column: its codes retire
    assert coded(adapted, "plan") is None


def test_an_object_column_keeps_true_one_and_one_point_zero_apart() -> None:
    """1, 1.0 and True hash alike: an object column is not factorized, so each keeps
    its own text."""
    adapted = InputAdapter(categorical=("plan",)).adapt(
        {"plan": pd.Series([True, 1, 1.0, 1.5, None], dtype=object)}
    )
    assert adapted["plan"].tolist() == ["true", "1", "1", "1.5", "__missing__"]

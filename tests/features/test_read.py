"""The reading rules against pandas' own readers, and the few-values forms against
the vectorised ones."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.features._read import _FEW_ROWS, date_parts, read

moments = st.lists(
    st.one_of(
        st.none(),
        st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2250, 1, 1)),
    ),
    min_size=1,
    max_size=2 * _FEW_ROWS,
)


@settings(max_examples=200, deadline=None)
@given(moments)
def test_date_parts_are_pandas_dt_parts_for_few_and_many(values: list[dt.datetime | None]) -> None:
    """A request's few moments take Python's calendar, a batch's numpy's: both are
    pandas' ``.dt`` parts of the moment floored to the second."""
    series = pd.Series(pd.to_datetime(values)).dt.floor("s")
    expected = np.vstack(
        [
            series.dt.year,
            series.dt.month,
            series.dt.day_of_week,
            series.dt.hour,
            (series - pd.Timestamp("2000-01-01")).dt.total_seconds() / 86400,
        ]
    ).astype(np.float64)
    seconds = read("datetime", values).values
    np.testing.assert_array_equal(date_parts(seconds), expected)  # few or many, as drawn
    for index in range(len(values)):  # each alone: the few-values form
        np.testing.assert_array_equal(date_parts(seconds[index : index + 1]), expected[:, [index]])


def _pandas_parts(series: pd.Series) -> np.ndarray:
    return np.vstack(
        [
            series.dt.year,
            series.dt.month,
            series.dt.day_of_week,
            series.dt.hour,
            (series - pd.Timestamp("2000-01-01")).dt.total_seconds() / 86400,
        ]
    ).astype(np.float64)


@settings(max_examples=100, deadline=None)
@given(
    start=st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2250, 1, 1)),
    offsets=st.lists(
        st.one_of(st.none(), st.integers(0, 90 * 86_400)), min_size=1, max_size=2 * _FEW_ROWS
    ),
)
def test_date_parts_of_many_rows_in_a_short_span_are_pandas_dt_parts(
    start: dt.datetime, offsets: list[int | None]
) -> None:
    """Many rows whose dates span fewer days than half the rows look each day's
    month up in a calendar of the span: the same parts as numpy's calendar of
    every row (before 1970 too, and with missing moments)."""
    values = [None if s is None else start + dt.timedelta(seconds=s) for s in offsets] * 200
    series = pd.Series(pd.to_datetime(values)).dt.floor("s")
    seconds = read("datetime", values).values
    np.testing.assert_array_equal(date_parts(seconds), _pandas_parts(series))


numeric_text = st.one_of(
    st.floats(allow_nan=False).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["", " 7 ", "1e3", "-0", "abc", "1,5", "nan", "NaN", "null", "None", "NA"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(numeric_text, min_size=1, max_size=20))
def test_numeric_text_reads_as_pandas_to_numeric(texts: list[str]) -> None:
    """Text that pandas reads as a number is that number; text pandas reads as
    missing is missing; the rest is bad."""
    reading = read("numeric", texts)
    for index, text in enumerate(texts):
        expected = pd.to_numeric(pd.Series([text.strip()], dtype=object), errors="coerce")[0]
        bad = reading.bad is not None and reading.bad[index]
        got = reading.values[index]
        if text.strip().lower() in ("", "nan", "null", "none", "na"):
            assert np.isnan(got) and not bad, text
        elif pd.isna(expected):
            assert bad and np.isnan(got), text
        else:
            assert not bad and got == float(expected), text


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.integers(min_value=-(10**13), max_value=10**13),
            st.integers(min_value=-(10**13), max_value=10**13).map(float),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_epoch_milliseconds_read_as_pandas_reads_them(values: list[float | None]) -> None:
    """pandas' to_json writes datetimes as epoch milliseconds; they read back as the
    same second, one value or many, as a list or a typed array."""
    expected = (
        pd.to_datetime(pd.Series([math.nan if v is None else v for v in values]), unit="ms")
        .dt.floor("s")
        .to_numpy(dtype="datetime64[s]")
    )
    from_list = read("datetime", values)
    assert from_list.bad is None
    np.testing.assert_array_equal(from_list.values, expected)
    numbers = np.array([math.nan if v is None else v for v in values], dtype=np.float64)
    np.testing.assert_array_equal(read("datetime", numbers).values, expected)


def test_numbers_beyond_any_calendar_are_bad_datetimes() -> None:
    reading = read("datetime", [math.inf, 1e300, 10**400, 0])
    assert reading.bad is not None and reading.bad.tolist() == [True, True, True, False]


def test_date_text_pandas_reads_beyond_nanoseconds_is_read_in_seconds() -> None:
    """pandas reads some text as a moment outside its nanosecond range ("-1.5" is the
    year -1): it is read in whole seconds, floored, as any other moment."""
    expected = pd.to_datetime("-1.5", utc=True, format="mixed").tz_localize(None).asm8
    seconds = read("datetime", ["-1.5"]).values
    assert seconds[0] == expected.astype("datetime64[s]")
    assert date_parts(seconds)[0, 0] == -1  # the year, from numpy's calendar

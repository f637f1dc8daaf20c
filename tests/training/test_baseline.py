"""Baseline statistics agree with numpy's and pandas' own figures."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard import datasets
from modelyard.training._baseline import _categorical, _column, _deciles, _numeric


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.floats(-1e6, 1e6), st.sampled_from([0.0, 1.0, 2.5])),
        min_size=1,
        max_size=300,
    )
)
def test_numeric_bins_are_numpys_deciles_and_histogram(values: list[float | None]) -> None:
    series = pd.Series(values, dtype="float64")
    stats = _numeric(series)
    present = series.dropna().to_numpy()
    assert stats["missing_share"] == 1.0 - len(present) / len(series)
    if present.size == 0:
        assert stats["count"] == 0
        return
    edges = np.unique(np.quantile(present, np.linspace(0, 1, 11)))
    assert stats["bin_edges"] == edges.tolist()
    if edges.size > 1:
        counts, _ = np.histogram(present, bins=edges)
        np.testing.assert_allclose(stats["bin_shares"], counts / present.size, rtol=0, atol=0)
    else:
        assert stats["bin_shares"] == [1.0]
    assert (stats["min"], stats["max"]) == (present.min(), present.max())
    assert np.isclose(stats["mean"], present.mean()) and np.isclose(stats["std"], present.std())


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "1"]), st.just(1)), min_size=1)
)
def test_categorical_shares_match_value_counts(values: list[object]) -> None:
    series = pd.Series(values, dtype=object)
    stats = _categorical(series)
    expected = series.astype("string").fillna("__missing__").value_counts(normalize=True)
    assert stats["levels"].keys() == {str(k) for k in expected.index}
    for level, share in expected.items():
        assert np.isclose(stats["levels"][str(level)], share)
    assert np.isclose(sum(stats["levels"].values()) + stats["other_share"], 1.0)
    assert stats["missing_share"] == series.isna().mean()


# -- the sort-free statistics against a sorted reference --------------------------------

_DECILES = np.linspace(0, 1, 11)


def _reference(array: np.ndarray) -> dict[str, object]:
    """What the baseline held when it sorted: numpy's deciles and histogram bins."""
    present = np.sort(array[~np.isnan(array)])
    missing = 1.0 - len(present) / len(array) if len(array) else 0.0
    if present.size == 0:
        return {"missing_share": missing, "count": 0}
    edges = np.unique(np.quantile(present, _DECILES))
    if edges.size > 1:  # np.histogram's counting: closed on the left, the last bin on both sides
        ends = np.concatenate(
            [
                np.searchsorted(present, edges[:-1], side="left"),
                np.searchsorted(present, edges[-1:], side="right"),
            ]
        )
        counts = np.diff(ends)
        counts[-1] += present.size - ends[-1]  # values past a NaN last edge, as the sort gave
    else:
        counts = np.array([present.size])
    return {
        "missing_share": missing,
        "count": int(present.size),
        "mean": float(present.mean()),
        "std": float(present.std()),
        "min": float(present[0]),
        "max": float(present[-1]),
        "bin_edges": edges.tolist(),
        "bin_shares": (counts / present.size).tolist(),
    }


def _assert_matches(stats: dict[str, object], array: np.ndarray) -> None:
    """Equal to the reference; mean and std only up to float summation order.

    Tolerance: 1e-12 relative, or 1e-12 of the largest magnitude in the column where
    the mean cancels to near zero (a relative bound alone cannot hold there: the
    sum of [1e6, -1e6, 1e-3] depends on its order at the 1e-8 level).
    """
    expected = _reference(array)
    assert stats.keys() == expected.keys()
    for key in expected.keys() - {"mean", "std", "bin_edges"}:
        assert stats[key] == expected[key], key
    if "bin_edges" in expected:
        np.testing.assert_array_equal(stats["bin_edges"], expected["bin_edges"])
        present = array[~np.isnan(array)]
        scale = float(np.max(np.abs(present)))
        if np.isfinite(scale):
            for key in ("mean", "std"):
                np.testing.assert_allclose(
                    stats[key], expected[key], rtol=1e-12, atol=1e-12 * scale, err_msg=key
                )


_float_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1e6, 1e6),
    st.sampled_from([0.0, -0.0, 1.0, 2.5, np.nan, 7.0]),
    st.integers(-300, 300).map(float),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_float_values, max_size=400),
    st.integers(0, 3),
)
def test_float_columns_match_the_sorted_reference(values: list[float], spread: int) -> None:
    array = np.array(values, dtype=np.float64)
    if spread:  # long columns with spread-out values take the binned selection
        rng = np.random.default_rng(len(values))
        noise = rng.lognormal(0, spread, 3000) if spread == 3 else rng.normal(0, 10**spread, 3000)
        array = np.concatenate([array, noise])
    with np.errstate(all="ignore"):  # huge values overflow the sums, as before
        stats = _column(pd.Series(array), "numeric")
        assert stats.pop("kind") == "numeric"
        _assert_matches(stats, array)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.integers(-5, 5), st.integers(-(2**63), 2**63 - 1), st.integers(0, 10**6)),
        max_size=300,
    )
)
def test_integer_columns_match_the_sorted_reference(values: list[int]) -> None:
    series = pd.Series(values, dtype=np.int64)
    stats = _column(series, "numeric")
    assert stats.pop("kind") == "numeric"
    _assert_matches(stats, series.to_numpy(dtype=np.float64))
    with_missing = pd.Series([*values, None], dtype="float64")  # integers with a missing value
    missing_stats = _column(with_missing, "numeric")
    assert missing_stats.pop("kind") == "numeric"
    _assert_matches(missing_stats, with_missing.to_numpy())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(2**63 - 40, 2**63 + 40) | st.integers(0, 2**64 - 1), max_size=50))
def test_unsigned_columns_match_the_sorted_reference(values: list[int]) -> None:
    series = pd.Series(values, dtype=np.uint64)
    stats = _column(series, "numeric")
    assert stats.pop("kind") == "numeric"
    _assert_matches(stats, series.to_numpy(dtype=np.float64))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.booleans(), max_size=300))
def test_boolean_columns_match_the_sorted_reference(values: list[bool]) -> None:
    series = pd.Series(values, dtype=bool)
    stats = _column(series, "boolean")
    assert stats.pop("kind") == "boolean"
    _assert_matches(stats, series.to_numpy(dtype=np.float64))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2250, 1, 1)),
            st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 1, 1)).map(
                lambda d: dt.datetime(d.year, d.month, d.day)
            ),
        ),
        max_size=300,
    )
)
def test_datetime_columns_match_the_sorted_reference(values: list[dt.datetime | None]) -> None:
    series = pd.Series(values, dtype="datetime64[ns]")
    stats = _column(series, "datetime")
    assert (stats.pop("kind"), stats.pop("unit")) == ("datetime", "days since 1970-01-01")
    stamps = series.to_numpy().view(np.int64).astype(np.float64)
    stamps[series.isna().to_numpy()] = np.nan
    _assert_matches(stats, stamps / 86_400e9)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(allow_nan=False), st.sampled_from([0.0, 1.0, -2.0, np.inf])),
        min_size=1,
        max_size=200,
    )
)
def test_deciles_are_numpys_quantiles_to_the_bit(values: list[float]) -> None:
    ordered = np.sort(np.array(values, dtype=np.float64))
    with np.errstate(all="ignore"):  # inf - inf, in numpy's arithmetic as in ours
        ours = _deciles(lambda ranks: ordered[ranks], ordered.size)
        np.testing.assert_array_equal(ours, np.quantile(ordered, _DECILES))


def test_training_frame_baseline_matches_the_reference() -> None:
    frame = datasets.churn(20_000, seed=3)
    for name in frame.select_dtypes(include=["number", "bool", "datetime"]).columns:
        column = frame[name]
        kind = "datetime" if column.dtype.kind == "M" else "numeric"
        stats = _column(column, kind)
        if kind == "datetime":
            array = column.to_numpy().view(np.int64) / 86_400e9
        else:
            array = column.to_numpy(dtype=np.float64, na_value=np.nan)
        _assert_matches({k: v for k, v in stats.items() if k not in ("kind", "unit")}, array)


_MOMENTS = pd.Series(pd.to_datetime(["2020-01-01T00:00", "2021-06-30T12:00", None]))


@pytest.mark.parametrize(
    "moments",
    [
        _MOMENTS.astype("M8[ns]"),
        _MOMENTS.astype("M8[s]"),
        _MOMENTS.astype("M8[us]"),
        pd.Series(["2020-01-01", "2021-06-30T12:00:00", None]),  # text, parsed by pandas
        pd.Series([dt.datetime(2020, 1, 1), dt.datetime(2021, 6, 30, 12), None], dtype=object),
        _MOMENTS.dt.tz_localize("UTC"),
    ],
    ids=["ns", "seconds", "microseconds", "text", "python", "utc"],
)
def test_datetimes_are_days_since_1970_whatever_their_unit(moments: pd.Series) -> None:
    """A CSV's dates arrive as seconds and parsed text as microseconds: the days must
    not depend on it (dividing every unit by 86,400e9 made them 1e-5 days)."""
    stats = _column(moments, "datetime")
    assert stats["min"] == 18262.0  # 2020-01-01
    assert stats["max"] == 18808.5  # 2021-06-30 12:00
    assert stats["count"] == 2 and stats["missing_share"] == pytest.approx(1 / 3)

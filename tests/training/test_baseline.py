"""Baseline statistics agree with numpy's and pandas' own figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.training._baseline import _categorical, _numeric


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

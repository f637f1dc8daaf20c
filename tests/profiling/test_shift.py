"""The shift measures: checked against SciPy and against their definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from modelyard.profiling import (
    category_shift,
    jensen_shannon,
    ks_statistic,
    numeric_shift,
    psi,
)


def test_same_distribution_is_stable_and_a_moved_one_is_major() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(0, 1, 20_000)
    same = numeric_shift(reference, rng.normal(0, 1, 20_000))
    moved = numeric_shift(reference, rng.normal(1, 1, 20_000))
    assert same.level == "stable" and same.psi is not None and same.psi < 0.01
    assert moved.level == "major" and moved.ks is not None and moved.ks > 0.3
    assert moved.ks_pvalue is not None and moved.ks_pvalue < 1e-10


@settings(max_examples=60, deadline=None)
@given(
    a=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=80),
    b=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=80),
)
def test_ks_matches_scipy(a: list[float], b: list[float]) -> None:
    statistic, _ = ks_statistic(a, b)
    with np.errstate(all="ignore"):  # SciPy's p-value of a one-value sample divides by 0
        expected = stats.ks_2samp(a, b, method="asymp").statistic
    assert statistic == pytest.approx(expected, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 1000)), min_size=1, max_size=12)
)
def test_psi_and_jensen_shannon_properties(counts: list[tuple[int, int]]) -> None:
    p = np.array([c[0] for c in counts], dtype=float)
    q = np.array([c[1] for c in counts], dtype=float)
    assert psi(p, q) >= -1e-12 and psi(p, p) == pytest.approx(0.0, abs=1e-12)
    distance = jensen_shannon(p, q)
    if p.sum() and q.sum():
        assert 0.0 <= distance <= 1.0 + 1e-12
        assert distance == pytest.approx(jensen_shannon(q, p))
        expected = stats.entropy  # base-2 Jensen-Shannon divergence from its definition
        m = (p / p.sum() + q / q.sum()) / 2
        divergence = 0.5 * expected(p / p.sum(), m, base=2) + 0.5 * expected(q / q.sum(), m, base=2)
        assert distance == pytest.approx(math.sqrt(max(divergence, 0.0)), abs=1e-9)
    else:
        assert math.isnan(distance)


def test_categories_missing_on_one_side_are_finite() -> None:
    shift = category_shift(["a"] * 90 + ["b"] * 10, ["a"] * 50 + ["c"] * 50)
    assert shift.level == "major" and shift.js_distance is not None
    assert math.isfinite(shift.psi or math.inf) and shift.ks is None


def test_empty_side_has_no_measure() -> None:
    shift = numeric_shift([1.0, 2.0], [math.nan])
    assert shift.psi is None and shift.level == "unknown" and shift.n_current == 0

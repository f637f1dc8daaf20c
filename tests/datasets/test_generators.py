"""The synthetic generators: reproducible, realistic in shape, learnable, and drifting."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import r2_score, roc_auc_score
from threadpoolctl import threadpool_limits

from modelyard import datasets
from modelyard.datasets import churn, houses

Generator = Callable[..., pd.DataFrame]
GENERATORS = [pytest.param(churn, id="churn"), pytest.param(houses, id="houses")]
ID_COLUMN = {churn: "customer_id", houses: "house_id"}

CHURN_FLOATS = ["monthly_charges", "total_charges", "avg_call_minutes", "data_usage_gb"]
CHURN_INTS = ["tenure_months", "support_calls", "num_lines"]
CHURN_BOOLS = ["paperless_billing", "senior_citizen", "has_partner"]
CHURN_CATEGORIES = {
    "contract": {"month-to-month", "one-year", "two-year"},
    "payment_method": {"electronic check", "mailed check", "bank transfer", "credit card"},
    "internet_service": {"dsl", "fiber", "none"},
}
CHURN_MISSING = ["total_charges", "avg_call_minutes", "payment_method", "internet_service"]

HOUSES_FLOATS = ["area_sqft", "lot_size", "bathrooms", "distance_to_center_km", "price"]
HOUSES_INTS = ["bedrooms", "year_built"]
HOUSES_BOOLS = ["has_garage", "has_pool"]
HOUSES_STRINGS = ["neighborhood", "condition", "heating"]
HOUSES_MISSING = ["lot_size", "heating", "condition"]


@pytest.fixture(scope="module")
def churn_reference() -> pd.DataFrame:
    return churn(20_000, seed=3)


@pytest.fixture(scope="module")
def houses_reference() -> pd.DataFrame:
    return houses(20_000, seed=3)


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Fit small models on one thread.

    OpenMP threads fighting over a busy machine turn a half-second fit into tens of
    seconds; one thread keeps the suite fast and its runtime predictable.
    """
    with threadpool_limits(limits=1):
        yield


def _encode(frame: pd.DataFrame, levels: dict[str, list[str]]) -> pd.DataFrame:
    """Numeric features: strings as ordinal codes (levels learned once), dates as days."""
    encoded = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            encoded[column] = (values - pd.Timestamp("2000-01-01")).dt.days.astype(float)
        elif pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            encoded[column] = values.astype(float)
        else:
            known = levels.setdefault(column, sorted(values.dropna().unique()))
            codes = pd.Categorical(values, categories=known).codes.astype(float)
            encoded[column] = np.where(codes < 0, np.nan, codes)
    return encoded


# --- reproducibility ---------------------------------------------------------


@pytest.mark.parametrize("generate", GENERATORS)
def test_same_arguments_give_the_same_table(generate: Generator) -> None:
    pd.testing.assert_frame_equal(generate(500, seed=11, drift=0.3), generate(500, 11, 0.3))


@pytest.mark.parametrize("generate", GENERATORS)
def test_another_seed_gives_another_table(generate: Generator) -> None:
    first, second = generate(500, seed=1), generate(500, seed=2)
    assert not first.drop(columns=ID_COLUMN[generate]).equals(
        second.drop(columns=ID_COLUMN[generate])
    )


def test_drift_keeps_the_same_customers_and_changes_their_behaviour() -> None:
    """Drift is a dial on one population, not a new draw."""
    reference, drifted = churn(2_000, seed=5), churn(2_000, seed=5, drift=0.5)
    pd.testing.assert_series_equal(reference["senior_citizen"], drifted["senior_citizen"])
    assert not reference["monthly_charges"].equals(drifted["monthly_charges"])


def test_package_exports_exactly_the_generators() -> None:
    assert datasets.__all__ == ["churn", "houses", "reviews"]


# --- churn: shape of the table ------------------------------------------------


def test_churn_columns_have_the_documented_types(churn_reference: pd.DataFrame) -> None:
    frame = churn_reference
    assert len(frame) == 20_000
    assert 14 <= frame.shape[1] <= 20
    assert pd.api.types.is_string_dtype(frame["customer_id"])
    assert frame["customer_id"].is_unique
    assert frame["customer_id"].iloc[0] == "C000001"
    for column in CHURN_FLOATS:
        assert pd.api.types.is_float_dtype(frame[column]), column
    for column in CHURN_INTS:
        assert pd.api.types.is_integer_dtype(frame[column]), column
        assert frame[column].min() >= 0
    for column in CHURN_BOOLS:
        assert pd.api.types.is_bool_dtype(frame[column]), column
    for column, levels in CHURN_CATEGORIES.items():
        assert pd.api.types.is_string_dtype(frame[column]), column
        assert set(frame[column].dropna().unique()) == levels, column
    assert frame["region"].nunique() == 8
    assert 30 <= frame["plan_code"].nunique() <= 50
    assert pd.api.types.is_datetime64_any_dtype(frame["signup_date"])
    assert set(frame["churned"].unique()) == {0, 1}
    assert pd.api.types.is_integer_dtype(frame["churned"])


def test_churn_signup_date_agrees_with_tenure(churn_reference: pd.DataFrame) -> None:
    days = (pd.Timestamp("2026-01-01") - churn_reference["signup_date"]).dt.days
    months = np.floor(days / (365.25 / 12)).astype(int)
    assert (months == churn_reference["tenure_months"]).all()


def test_churn_missing_values_are_where_documented(churn_reference: pd.DataFrame) -> None:
    shares = churn_reference.isna().mean()
    for column in CHURN_MISSING:
        assert 0.03 <= shares[column] <= 0.08, (column, shares[column])
    complete = shares.drop(CHURN_MISSING)
    assert (complete == 0).all(), complete[complete > 0]


def test_churn_positive_rate_is_realistic(churn_reference: pd.DataFrame) -> None:
    assert 0.20 <= churn_reference["churned"].mean() <= 0.30


def test_churn_drivers_point_the_documented_way(churn_reference: pd.DataFrame) -> None:
    rate = churn_reference.groupby("contract")["churned"].mean()
    assert rate["month-to-month"] > rate["one-year"] > rate["two-year"]
    short = churn_reference["tenure_months"] < 12
    assert (
        churn_reference.loc[short, "churned"].mean() > churn_reference.loc[~short, "churned"].mean()
    )
    many_calls = churn_reference["support_calls"] >= 3
    assert (
        churn_reference.loc[many_calls, "churned"].mean()
        > churn_reference.loc[~many_calls, "churned"].mean()
    )


def test_churn_drift_shifts_the_distributions(churn_reference: pd.DataFrame) -> None:
    drifted = churn(20_000, seed=4, drift=1.0)
    reference = churn_reference
    assert drifted["monthly_charges"].mean() > reference["monthly_charges"].mean() + 10
    assert drifted["support_calls"].mean() > reference["support_calls"].mean()
    share = "month-to-month"
    assert (drifted["contract"] == share).mean() > (reference["contract"] == share).mean() + 0.1
    assert (drifted["region"] == "metro").mean() > (reference["region"] == "metro").mean() + 0.1


@pytest.mark.usefixtures("one_thread")
def test_churn_signal_is_learnable_and_concept_drift_hurts() -> None:
    train, held_out = churn(4_000, seed=21), churn(2_000, seed=22)
    drifted = churn(2_000, seed=22, drift=1.0)
    features = [c for c in train.columns if c not in ("customer_id", "churned")]
    levels: dict[str, list[str]] = {}
    model = HistGradientBoostingClassifier(random_state=0)
    model.fit(_encode(train[features], levels), train["churned"])

    def auc(frame: pd.DataFrame) -> float:
        scores = model.predict_proba(_encode(frame[features], levels))[:, 1]
        return float(roc_auc_score(frame["churned"], scores))

    reference_auc, drifted_auc = auc(held_out), auc(drifted)
    assert 0.75 <= reference_auc <= 0.95
    assert drifted_auc <= reference_auc - 0.03


# --- houses -------------------------------------------------------------------


def test_houses_columns_have_the_documented_types(houses_reference: pd.DataFrame) -> None:
    frame = houses_reference
    assert 11 <= frame.shape[1] <= 16
    assert pd.api.types.is_string_dtype(frame["house_id"])
    assert frame["house_id"].is_unique
    for column in HOUSES_FLOATS:
        assert pd.api.types.is_float_dtype(frame[column]), column
    for column in HOUSES_INTS:
        assert pd.api.types.is_integer_dtype(frame[column]), column
    for column in HOUSES_BOOLS:
        assert pd.api.types.is_bool_dtype(frame[column]), column
    for column in HOUSES_STRINGS:
        assert pd.api.types.is_string_dtype(frame[column]), column
    assert 12 <= frame["neighborhood"].nunique() <= 18
    assert pd.api.types.is_datetime64_any_dtype(frame["listed_date"])
    assert frame["price"].between(50_000, 2_500_000).all()
    assert 200_000 <= frame["price"].median() <= 600_000
    assert frame["bedrooms"].between(1, 7).all()


def test_houses_missing_values_are_where_documented(houses_reference: pd.DataFrame) -> None:
    shares = houses_reference.isna().mean()
    for column in HOUSES_MISSING:
        assert 0.02 <= shares[column] <= 0.08, (column, shares[column])
    complete = shares.drop(HOUSES_MISSING)
    assert (complete == 0).all(), complete[complete > 0]


def test_houses_drift_shifts_the_distributions(houses_reference: pd.DataFrame) -> None:
    drifted = houses(20_000, seed=4, drift=1.0)
    reference = houses_reference
    assert drifted["area_sqft"].mean() > reference["area_sqft"].mean() * 1.1
    assert drifted["distance_to_center_km"].mean() > reference["distance_to_center_km"].mean()
    assert (drifted["heating"] == "heat pump").mean() > (reference["heating"] == "heat pump").mean()


@pytest.mark.usefixtures("one_thread")
def test_houses_price_is_learnable_and_drift_hurts() -> None:
    train, held_out = houses(4_000, seed=21), houses(2_000, seed=22)
    drifted = houses(2_000, seed=22, drift=1.0)
    features = [c for c in train.columns if c not in ("house_id", "price")]
    levels: dict[str, list[str]] = {}
    model = HistGradientBoostingRegressor(random_state=0)
    model.fit(_encode(train[features], levels), train["price"])

    def r2(frame: pd.DataFrame) -> float:
        return float(r2_score(frame["price"], model.predict(_encode(frame[features], levels))))

    reference_r2, drifted_r2 = r2(held_out), r2(drifted)
    assert 0.75 <= reference_r2 <= 0.95
    assert drifted_r2 <= reference_r2 - 0.05


# --- arguments ----------------------------------------------------------------


@pytest.mark.parametrize("generate", GENERATORS)
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_rows": 0}, "n_rows"),
        ({"n_rows": -5}, "n_rows"),
        ({"n_rows": 2.5}, "n_rows"),
        ({"drift": -0.1}, "drift"),
        ({"drift": 1.5}, "drift"),
        ({"drift": float("nan")}, "drift"),
    ],
)
def test_bad_arguments_raise_value_error(
    generate: Generator, kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        generate(**kwargs)


@pytest.mark.parametrize("generate", GENERATORS)
@settings(max_examples=25, deadline=None)
@given(
    n_rows=st.integers(min_value=1, max_value=50),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    drift=st.floats(min_value=0.0, max_value=1.0),
)
def test_any_small_table_is_generated(
    generate: Generator, n_rows: int, seed: int, drift: float
) -> None:
    frame = generate(n_rows, seed=seed, drift=drift)
    assert len(frame) == n_rows
    assert frame[ID_COLUMN[generate]].is_unique
    assert frame[ID_COLUMN[generate]].notna().all()

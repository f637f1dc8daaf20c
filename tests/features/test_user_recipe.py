"""User recipes: each step kind fitted and applied, the checks before fitting, and
the same features from training, the stored JSON, one row and many rows."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard import datasets
from modelyard.data import ColumnSchema
from modelyard.data._infer import infer_schema
from modelyard.errors import InvalidInputError, SchemaMismatchError
from modelyard.features import (
    FittedRecipe,
    PreprocessOptions,
    Recipe,
    RecipeStep,
    Step,
    build_pipeline,
)


def _frame(n: int, seed: int) -> pd.DataFrame:
    """Churn rows with a review text, a negative-capable column and missing values."""
    frame = datasets.churn(n, seed=seed)
    frame["review"] = datasets.reviews(n, seed=seed)["review"]
    frame.loc[frame.index % 7 == 0, "review"] = None
    frame.loc[frame.index % 5 == 0, "monthly_charges"] = np.nan
    frame["balance"] = np.linspace(-5, 5, n)
    return frame


def _columns(frame: pd.DataFrame) -> list[ColumnSchema]:
    return infer_schema(pa.Table.from_pandas(frame.drop(columns=["churned"]), preserve_index=False))


def _fit(frame: pd.DataFrame, steps: list[Any]) -> tuple[Any, FittedRecipe]:
    from sklearn.linear_model import LogisticRegression

    recipe = Recipe(steps)
    options = PreprocessOptions(recipe=recipe)
    pipeline = build_pipeline(
        _columns(frame), LogisticRegression(), needs_scaling=False, options=options
    )
    features = pipeline[0].fit(frame.drop(columns=["churned"]), frame["churned"].to_numpy())
    return features, features.fitted_


def _feature(fitted: FittedRecipe, frame: pd.DataFrame, name: str) -> np.ndarray:
    matrix = fitted.transform(frame)
    return np.asarray(matrix[:, fitted.feature_names.index(name)], dtype=np.float64)


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return _frame(1500, seed=1)


def test_yaml_and_sdk_objects_are_the_same_recipe() -> None:
    text = """
steps:
  - drop: [customer_id]
  - log1p: [total_charges]
  - ratio: {name: per_month, numerator: total_charges, denominator: tenure_months}
  - filter: "tenure_months >= 0"
"""
    sdk = Recipe(
        [
            RecipeStep("drop", ["customer_id"]),
            RecipeStep("log1p", ["total_charges"]),
            RecipeStep(
                "ratio",
                {"name": "per_month", "numerator": "total_charges", "denominator": "tenure_months"},
            ),
            RecipeStep("filter", "tenure_months >= 0"),
        ]
    )
    assert Recipe.from_yaml(text) == sdk
    assert Recipe.from_yaml(sdk.to_yaml()) == sdk
    assert PreprocessOptions.from_dict(PreprocessOptions(recipe=sdk).to_dict()).recipe == sdk


def test_numeric_column_steps(train: pd.DataFrame) -> None:
    test = _frame(300, seed=2)
    steps = [
        {"impute": {"column": "monthly_charges", "strategy": "median"}},
        {"clip": {"column": "total_charges", "quantiles": [0.05, 0.95]}},
        {"log1p": "total_charges"},
        {"sqrt": ["data_usage_gb"]},
        {"ratio": {"name": "per_line", "numerator": "support_calls", "denominator": "num_lines"}},
        {"arithmetic": {"name": "mix", "expression": "-(support_calls + 1) * 2 / num_lines"}},
        {"scale": ["avg_call_minutes"]},
        {"bucket": {"column": "tenure_months", "edges": [12, 24, 48]}},
    ]
    _, fitted = _fit(train, steps)
    median = float(np.nanmedian(train["monthly_charges"]))
    filled = test["monthly_charges"].fillna(median).to_numpy()
    np.testing.assert_allclose(_feature(fitted, test, "monthly_charges"), filled, rtol=1e-6)
    low, high = np.nanquantile(train["total_charges"], [0.05, 0.95])
    clipped = np.log1p(np.clip(test["total_charges"].to_numpy(), low, high))
    present = ~np.isnan(clipped)
    got = _feature(fitted, test, "total_charges")
    np.testing.assert_allclose(got[present], clipped[present], rtol=1e-6)
    assert "total_charges__missing" in fitted.feature_names  # missing stayed missing, flagged
    np.testing.assert_allclose(
        _feature(fitted, test, "data_usage_gb"), np.sqrt(test["data_usage_gb"]), rtol=1e-6
    )
    np.testing.assert_allclose(
        _feature(fitted, test, "per_line"), test["support_calls"] / test["num_lines"], rtol=1e-6
    )
    expected = -(test["support_calls"] + 1) * 2 / test["num_lines"]
    np.testing.assert_allclose(_feature(fitted, test, "mix"), expected, rtol=1e-6)
    minutes = train["avg_call_minutes"].fillna(train["avg_call_minutes"].median())
    scaled = test["avg_call_minutes"].fillna(train["avg_call_minutes"].median()) - minutes.mean()
    np.testing.assert_allclose(
        _feature(fitted, test, "avg_call_minutes"), scaled / minutes.std(ddof=0), atol=1e-5
    )
    bins = np.searchsorted([12, 24, 48], test["tenure_months"], side="right")
    np.testing.assert_array_equal(_feature(fitted, test, "tenure_months__bucket"), bins)


def test_quantile_bucket_and_date_parts(train: pd.DataFrame) -> None:
    steps = [
        {"bucket": {"column": "monthly_charges", "quantiles": 4}},
        {
            "date_parts": {
                "column": "signup_date",
                "parts": ["month", "weekday"],
                "days_since": True,
            }
        },
    ]
    _, fitted = _fit(train, steps)
    buckets = _feature(fitted, train, "monthly_charges__bucket")
    assert set(np.unique(buckets)) == {-1.0, 0.0, 1.0, 2.0, 3.0}  # -1: missing
    counts = np.bincount(buckets[buckets >= 0].astype(int))
    assert counts.min() > 0.2 * counts.sum()  # quartiles: about a quarter each
    dates = pd.to_datetime(train["signup_date"])
    np.testing.assert_array_equal(_feature(fitted, train, "signup_date__month"), dates.dt.month)
    weekday = _feature(fitted, train, "signup_date__dayofweek")
    np.testing.assert_array_equal(weekday, dates.dt.day_of_week)
    since = _feature(fitted, train, "signup_date__days_since")
    np.testing.assert_allclose(since, (dates - dates.max()).dt.days, atol=1e-3)
    assert "signup_date__year" not in fitted.feature_names  # a part not asked for


def test_categorical_steps_with_missing_and_unseen_levels(train: pd.DataFrame) -> None:
    steps = [
        {"impute": {"column": "payment_method", "strategy": "mode"}},
        {"impute": {"column": "internet_service", "strategy": "constant", "value": "unknown"}},
        {"rename": {"region": "area"}},
        {"one_hot": ["area", "internet_service"]},
        {"ordinal": "contract"},
        {"target": "plan_code"},
        {"cast": {"column": "num_lines", "to": "categorical"}},
        {"drop": ["customer_id", "signup_date"]},
    ]
    _, fitted = _fit(train, steps)
    test = _frame(5, seed=3)
    test.loc[0, "region"] = "atlantis"  # unseen: all zeros
    test.loc[1, "plan_code"] = "PL999"  # unseen: the overall mean
    test.loc[2, "internet_service"] = None  # missing: the constant
    test.loc[3, "payment_method"] = None  # missing: the mode
    test.loc[4, "contract"] = "lifetime"  # unseen: -1
    matrix = fitted.transform(test)
    names = fitted.feature_names
    area = [i for i, n in enumerate(names) if n.startswith("area=")]
    assert matrix[0, area].sum() == 0 and matrix[1:, area].sum(axis=1).tolist() == [1, 1, 1, 1]
    assert matrix[2, names.index("internet_service=unknown")] == 1
    mode = train["payment_method"].mode()[0]
    assert matrix[3, names.index(f"payment_method={mode}")] == 1
    mean = float(train["churned"].mean())
    assert matrix[1, names.index("plan_code__target")] == pytest.approx(mean, rel=1e-6)
    levels = sorted(train["contract"].unique())
    codes = [levels.index(v) for v in test["contract"][:4]] + [-1]
    assert matrix[:, names.index("contract__ordinal")].tolist() == codes
    assert "signup_date__year" not in names and "customer_id" not in fitted.adapter.raw_columns
    assert any(n.startswith("num_lines=") for n in names)  # cast, then one-hot by default


def _dated(n: int, seed: int) -> pd.DataFrame:
    """Churn rows with a second date (``last_seen``, some before the sign-up) and
    missing values in the columns the per-group and date steps read."""
    frame = _frame(n, seed=seed)
    rng = np.random.default_rng(seed)
    days = pd.to_timedelta(rng.uniform(-30, 900, n), unit="D")
    frame["last_seen"] = (frame["signup_date"] + days).dt.floor("s")  # dates keep seconds
    frame.loc[frame.index % 6 == 1, "last_seen"] = pd.NaT
    frame.loc[frame.index % 11 == 2, "signup_date"] = pd.NaT
    frame.loc[frame.index % 4 == 3, "payment_method"] = None
    frame.loc[frame.index % 13 == 4, "region"] = None
    return frame


GROUPS: list[dict[str, Any]] = [
    {"impute": {"column": "monthly_charges", "strategy": "median", "by": "region"}},
    {"impute": {"column": "total_charges", "strategy": "mean", "by": "num_lines"}},
    {"impute": {"column": "payment_method", "strategy": "mode", "by": "region"}},
    {"days_between": {"name": "days_to_churn", "start": "signup_date", "end": "last_seen"}},
    {"one_hot": "payment_method"},
]


def _by_group(
    train: pd.DataFrame, test: pd.DataFrame, column: str, by: str, statistic: str
) -> pd.Series:
    """pandas' per-group fill: the group's statistic, else the overall one."""
    if statistic == "mode":
        per_group = train.groupby(by)[column].agg(lambda v: v.mode().iloc[0])
        overall = train[column].mode().iloc[0]
    else:
        per_group = train.groupby(by)[column].agg(statistic)
        overall = train[column].agg(statistic)
    return test[column].fillna(test[by].map(per_group)).fillna(overall)


def test_impute_by_group_and_days_between() -> None:
    train = _dated(1500, seed=1)
    _, fitted = _fit(train, GROUPS)
    test = _dated(400, seed=12)
    test.loc[0:5, "region"] = "atlantis"  # unseen group: the overall statistic
    test.loc[0:40, "monthly_charges"] = np.nan
    test.loc[0:40, "total_charges"] = np.nan
    test.loc[0:40, "payment_method"] = None
    test.loc[7, "num_lines"] = 99  # unseen numeric group
    median = _by_group(train, test, "monthly_charges", "region", "median")
    np.testing.assert_allclose(_feature(fitted, test, "monthly_charges"), median, rtol=1e-6)
    mean = _by_group(train, test, "total_charges", "num_lines", "mean")
    np.testing.assert_allclose(_feature(fitted, test, "total_charges"), mean, rtol=1e-6)
    assert mean[7] == pytest.approx(train["total_charges"].mean())  # group 99: overall
    mode = _by_group(train, test, "payment_method", "region", "mode")
    names = fitted.feature_names
    matrix = fitted.transform(test)
    for row, level in enumerate(mode):
        assert matrix[row, names.index(f"payment_method={level}")] == 1
    assert "payment_method=__missing__" not in names  # every training row was filled
    days = (test["last_seen"] - test["signup_date"]).dt.total_seconds() / 86_400
    got = _feature(fitted, test, "days_to_churn")
    present = days.notna().to_numpy()
    np.testing.assert_allclose(got[present], days[present], rtol=1e-6)  # float32
    assert (days < 0).any() and (~present).any()
    gaps = (train["last_seen"] - train["signup_date"]).dt.total_seconds() / 86_400
    np.testing.assert_allclose(got[~present], gaps.median(), rtol=1e-6)  # as a numeric gap
    assert "days_to_churn__missing" in names
    assert "signup_date__year" in names and "last_seen__month" in names  # still dates


def test_fitted_group_and_date_steps_round_trip_through_json() -> None:
    _, fitted = _fit(_dated(300, seed=4), GROUPS)
    kinds = {step.kind for step in fitted.steps}
    assert {"group_fill", "days_between"} <= kinds
    for step in fitted.steps:
        assert Step.from_dict(json.loads(json.dumps(step.to_dict()))) == step
    stored = FittedRecipe.from_dict(json.loads(json.dumps(fitted.to_dict())))
    test = _dated(50, seed=5)
    np.testing.assert_array_equal(stored.transform(test), fitted.transform(test))
    described = "\n".join(stored.describe())
    assert "group_fill(monthly_charges, region; groups=[" in described
    assert "days_between(signup_date, last_seen; name='days_to_churn')" in described


@pytest.fixture(scope="module")
def groups() -> FittedRecipe:
    return _fit(_dated(1500, seed=1), GROUPS)[1]


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 40), unseen=st.text(min_size=1, max_size=8))
def test_group_fill_and_days_between_of_one_row_are_those_of_many(
    groups: FittedRecipe, seed: int, n: int, unseen: str
) -> None:
    """The endpoint's one row, a request's columns, and many rows (text read as
    codes, the matrix written a block at a time) give each row the same features."""
    frame = _dated(n, seed=seed)
    frame.loc[0, "region"] = unseen
    frame.loc[frame.index % 2 == 0, "monthly_charges"] = np.nan
    frame.loc[frame.index % 3 == 0, "payment_method"] = None
    one_by_one = np.vstack([groups.transform(frame.iloc[[i]]) for i in range(n)])
    np.testing.assert_array_equal(groups.transform(frame), one_by_one)
    as_columns = {c: frame[c].tolist() for c in frame.columns}
    np.testing.assert_array_equal(groups.transform(as_columns), one_by_one)
    copies = 1 + 20_000 // n
    many = pd.concat([frame] * copies, ignore_index=True)
    np.testing.assert_array_equal(groups.transform(many), np.tile(one_by_one, (copies, 1)))


def test_tfidf_replays_scikit_learn(train: pd.DataFrame) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    steps = [{"text": {"column": "review", "max_features": 300, "ngrams": [1, 2]}}]
    _, fitted = _fit(train, steps)
    test = _frame(400, seed=5)
    texts = train["review"].fillna("").tolist()
    vectorizer = TfidfVectorizer(max_features=300, ngram_range=(1, 2)).fit(texts)
    expected = vectorizer.transform(test["review"].fillna("").tolist()).toarray()
    columns = [i for i, n in enumerate(fitted.feature_names) if n.startswith("review__tfidf")]
    got = fitted.transform(test)[:, columns]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert not got[test["review"].isna().to_numpy()].any()  # missing text: no words


@pytest.mark.parametrize("method", ["yeo-johnson", "box-cox"])
def test_power_transforms_replay_scikit_learn(train: pd.DataFrame, method: str) -> None:
    from sklearn.preprocessing import PowerTransformer

    column = "balance" if method == "yeo-johnson" else "monthly_charges"  # box-cox: > 0
    _, fitted = _fit(train, [{"power": {"column": column, "method": method}}])
    test = _frame(200, seed=6)
    expected = (
        PowerTransformer(method=method, standardize=False)
        .fit(train[[column]].dropna().to_numpy())
        .transform(test[[column]].to_numpy())[:, 0]
    )
    got = _feature(fitted, test, column)
    present = ~np.isnan(expected)
    np.testing.assert_allclose(got[present], expected[present], rtol=1e-5, atol=1e-5)
    if method == "box-cox":
        with pytest.raises(InvalidInputError, match=r"recipe step 1 \(power\): column 'balance'"):
            _fit(train, [{"power": {"column": "balance", "method": method}}])


def test_text_stats_count_characters_and_words(train: pd.DataFrame) -> None:
    _, fitted = _fit(train, [{"text_stats": "review"}])
    test = _frame(30, seed=7)
    texts = test["review"].fillna("")
    np.testing.assert_array_equal(_feature(fitted, test, "review__chars"), texts.str.len())
    words = texts.str.split().str.len()
    np.testing.assert_array_equal(_feature(fitted, test, "review__words"), words)
    assert not any(name.startswith("review=") for name in fitted.feature_names)  # not one-hot


def test_training_filter_is_recorded_and_never_applied(train: pd.DataFrame) -> None:
    recipe = Recipe([{"filter": "balance >= 0 and tenure_months > 3"}])
    kept = recipe.training_rows(train)
    assert kept.tolist() == ((train["balance"] >= 0) & (train["tenure_months"] > 3)).tolist()
    _, fitted = _fit(train, list(recipe.to_dict()["steps"]))
    assert [f.expression for f in fitted.filters()] == ["balance >= 0 and tenure_months > 3"]
    assert len(fitted.transform(train)) == len(train)  # every row still predicted


def test_deduplication_is_training_only(train: pd.DataFrame) -> None:
    doubled = pd.concat([train.iloc[:50], train.iloc[:50], train.iloc[50:60]], ignore_index=True)
    everything = Recipe([{"deduplicate": True}])
    assert everything.training_rows(doubled).tolist() == [True] * 50 + [False] * 50 + [True] * 10
    by_region = Recipe([{"deduplicate": ["region"]}]).training_rows(doubled)
    assert by_region.sum() == doubled["region"].nunique()
    _, fitted = _fit(train, [{"deduplicate": ["region"]}])
    assert len(fitted.transform(doubled)) == len(doubled)
    with pytest.raises(InvalidInputError, match=r"recipe step 1 \(deduplicate\): no column 'x'"):
        Recipe([{"deduplicate": ["x"]}]).plan(_columns(train))


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([{"log1p": ["no_such"]}], "recipe step 1 (log1p): no column 'no_such'"),
        (
            [{"drop": "customer_id"}, {"clip": {"column": "tenure_months", "quantile": [0, 1]}}],
            "recipe step 2 (clip): unknown argument(s) quantile",
        ),
        (
            [{"arithmetic": {"name": "x", "expression": "tenure_months +* 2"}}],
            "recipe step 1 (arithmetic): expression 'tenure_months +* 2' does not parse",
        ),
        (
            [{"arithmetic": {"name": "x", "expression": "__import__('os')"}}],
            "recipe step 1 (arithmetic): expression \"__import__('os')\": Call is not allowed",
        ),
        (
            [{"arithmetic": {"name": "x", "expression": "tenure_months * bogus"}}],
            "recipe step 1 (arithmetic): no column 'bogus'",
        ),
        (
            [
                {"arithmetic": {"name": "a", "expression": "b + 1"}},
                {"arithmetic": {"name": "b", "expression": "a + 1"}},
            ],
            "recipe step 1 (arithmetic): column 'b' is made by step 2, not before this one "
            "(a cycle or steps out of order)",
        ),
        ([{"log": "contract"}], "recipe step 1 (log): column 'contract' is categorical"),
        ([{"bucket": {"column": "tenure_months"}}], "recipe step 1 (bucket): needs edges"),
        ([{"explode": "x"}], "recipe step 1 (explode): unknown kind"),
        ([{"filter": "tenure_months"}], "recipe step 1 (filter): filter 'tenure_months' must be"),
        (
            [{"impute": {"column": "tenure_months", "strategy": "constant", "by": "region"}}],
            "recipe step 1 (impute): a constant is the same for every group",
        ),
        (
            [{"impute": {"column": "tenure_months", "strategy": "max", "by": "region"}}],
            "recipe step 1 (impute): strategy must be constant, median, mean or mode",
        ),
        (
            [{"impute": {"column": "contract", "strategy": "median", "by": "region"}}],
            "recipe step 1 (impute): column 'contract' is categorical: use mode",
        ),
        (
            [
                {"drop": "region"},
                {"impute": {"column": "contract", "strategy": "mode", "by": "region"}},
            ],
            "recipe step 2 (impute): no column 'region'",
        ),
        (
            [{"impute": {"column": "region", "strategy": "mode", "by": "region"}}],
            "recipe step 1 (impute): column 'region' cannot be its own group",
        ),
        (
            [{"days_between": {"name": "d", "start": "signup_date", "end": "tenure_months"}}],
            "recipe step 1 (days_between): column 'tenure_months' is numeric; this step takes "
            "datetime",
        ),
        (
            [{"days_between": {"name": "d", "start": "signup_date", "end": "last_seen"}}],
            "recipe step 1 (days_between): no column 'last_seen'",
        ),
        (
            [{"days_between": {"name": "d", "start": "signup_date"}}],
            "recipe step 1 (days_between): missing argument(s) end",
        ),
        (
            [
                {"date_parts": {"column": "signup_date"}},
                {"days_between": {"name": "d", "start": "signup_date", "end": "signup_date"}},
            ],
            "recipe step 2 (days_between): column 'signup_date' was split into its date parts "
            "by step 1; put days_between before that step",
        ),
        (
            [
                {
                    "days_between": {
                        "name": "tenure_months",
                        "start": "signup_date",
                        "end": "signup_date",
                    }
                }
            ],
            "recipe step 1 (days_between): column 'tenure_months' already exists",
        ),
    ],
)
def test_bad_recipes_name_the_step_before_fitting(
    train: pd.DataFrame, steps: list[Any], message: str
) -> None:
    with pytest.raises(InvalidInputError) as error:
        Recipe(steps).plan(_columns(train))
    assert str(error.value).startswith(message), str(error.value)


def test_log_of_negative_training_values_is_refused(train: pd.DataFrame) -> None:
    with pytest.raises(InvalidInputError, match=r"recipe step 2 \(log\): column 'balance' has"):
        _fit(train, [{"drop": "customer_id"}, {"log": "balance"}])


def test_a_value_a_step_cannot_take_names_its_column(train: pd.DataFrame) -> None:
    _, fitted = _fit(train, [{"log": "total_charges"}])
    test = _frame(200, seed=9)
    logged = np.log(test["total_charges"].to_numpy())
    present = ~np.isnan(logged)
    got = _feature(fitted, test, "total_charges")
    np.testing.assert_allclose(got[present], logged[present], rtol=1e-6)
    assert (~present).any() and "total_charges__missing" in fitted.feature_names
    row = _frame(3, seed=9)
    row.loc[1, "total_charges"] = -4.0
    with pytest.raises(SchemaMismatchError, match="column 'total_charges' must be greater"):
        fitted.transform(row)
    with pytest.raises(SchemaMismatchError, match="column 'total_charges'"):
        fitted.transform(row.iloc[[1]])


ACCEPTANCE: list[dict[str, Any]] = [
    {"drop": ["customer_id"]},
    {"clip": {"column": "monthly_charges", "quantiles": [0.01, 0.99]}},
    {"log1p": ["total_charges"]},
    {
        "ratio": {
            "name": "charge_per_month",
            "numerator": "total_charges",
            "denominator": "tenure_months",
        }
    },
    {"date_parts": {"column": "signup_date", "parts": ["month", "weekday"], "days_since": True}},
    {"bucket": {"column": "tenure_months", "quantiles": 5}},
    {"target": "plan_code"},
    {"text": {"column": "review", "method": "tfidf", "max_features": 200, "ngrams": [1, 2]}},
    {"filter": "tenure_months >= 0"},
]


@pytest.fixture(scope="module")
def acceptance(train: pd.DataFrame) -> Any:
    return _fit(train, ACCEPTANCE)


def test_training_features_equal_the_stored_recipe(train: pd.DataFrame, acceptance: Any) -> None:
    features, fitted = acceptance
    stored = FittedRecipe.from_dict(json.loads(json.dumps(fitted.to_dict())))
    np.testing.assert_array_equal(stored.transform(train), features.transform(train))
    described = "\n".join(stored.describe())
    for kind in ("clip(", "function(", "derived(", "date_parts(", "bucket(", "target(", "tfidf("):
        assert kind in described


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 40),
    negative_gaps=st.booleans(),
    unseen=st.text(min_size=1, max_size=8),
)
def test_one_row_and_many_rows_give_the_same_features(
    acceptance: Any, seed: int, n: int, negative_gaps: bool, unseen: str
) -> None:
    _, fitted = acceptance
    stored = FittedRecipe.from_dict(json.loads(json.dumps(fitted.to_dict())))
    frame = _frame(n, seed=seed)
    frame.loc[0, "plan_code"] = unseen
    frame.loc[0, "review"] = f"{unseen} the plot was good not boring"
    if negative_gaps:
        frame.loc[frame.index % 3 == 0, "tenure_months"] = 0  # a ratio over zero: missing
        frame.loc[frame.index % 2 == 0, "total_charges"] = np.nan
    many = stored.transform(frame)
    one_by_one = np.vstack([stored.transform(frame.iloc[[i]]) for i in range(n)])
    np.testing.assert_array_equal(many, one_by_one)
    as_columns = stored.transform({c: frame[c].tolist() for c in frame.columns})
    np.testing.assert_array_equal(many, as_columns)
    large = stored.transform(pd.concat([frame] * (1 + 40 // n), ignore_index=True))
    np.testing.assert_array_equal(large[:n], many)  # the vectorised (many-row) forms


CATEGORIES: list[dict[str, Any]] = [
    {"impute": {"column": "payment_method", "strategy": "mode"}},
    {"impute": {"column": "internet_service", "strategy": "constant", "value": "unknown"}},
    {"rename": {"region": "area"}},
    {"one_hot": ["area", "internet_service", "payment_method"]},
    {"ordinal": "contract"},
    {"target": "plan_code"},
    {"cast": {"column": "num_lines", "to": "categorical"}},
    {"date_parts": {"column": "signup_date", "parts": ["year", "month"], "days_since": True}},
    {"drop": ["customer_id", "review"]},
]


@pytest.fixture(scope="module")
def categories(train: pd.DataFrame) -> FittedRecipe:
    return _fit(train, CATEGORIES)[1]


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 40), unseen=st.text(min_size=1, max_size=8))
def test_categorical_steps_of_many_rows_are_those_of_one_row(
    categories: FittedRecipe, seed: int, n: int, unseen: str
) -> None:
    """Many rows read text columns as codes into their distinct values (a fill
    rewrites the labels, not the rows) and write the matrix a block of rows at a
    time; text columns of Python objects are read value by value: the features of
    both are each row's alone."""
    frame = _frame(n, seed=seed)
    frame.loc[0, "region"] = unseen
    frame.loc[0, "plan_code"] = unseen
    frame.loc[frame.index % 2 == 0, "payment_method"] = None
    frame.loc[frame.index % 3 == 0, "internet_service"] = None
    one_by_one = np.vstack([categories.transform(frame.iloc[[i]]) for i in range(n)])
    copies = 1 + 20_000 // n
    many = pd.concat([frame] * copies, ignore_index=True)
    np.testing.assert_array_equal(categories.transform(many), np.tile(one_by_one, (copies, 1)))
    objects = many.astype({c: object for c in ("payment_method", "region", "plan_code")})
    np.testing.assert_array_equal(categories.transform(objects), np.tile(one_by_one, (copies, 1)))

"""Success criteria: parsing, checking, and fuzzing of the parser."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.errors import InvalidInputError
from modelyard.evaluation import METRICS, Criterion, check_criteria


@pytest.mark.parametrize(
    ("text", "task", "expected"),
    [
        ("roc_auc>=0.80", "binary", Criterion("roc_auc", ">=", 0.8)),
        ("rmse < 30000", "regression", Criterion("rmse", "<", 30000.0)),
        ("  f1_macro >0.5 ", "multiclass", Criterion("f1_macro", ">", 0.5)),
        ("log_loss<=1e-1", "multiclass", Criterion("log_loss", "<=", 0.1)),
        ("r2 == -0.5", "regression", Criterion("r2", "==", -0.5)),
    ],
)
def test_parse(text: str, task: str, expected: Criterion) -> None:
    assert Criterion.parse(text, task) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "task", "fragment"),
    [
        ("rocauc>=0.8", "binary", "unknown metric 'rocauc'"),
        ("rmse<3", "binary", "does not apply to binary"),
        ("brier<0.2", "multiclass", "does not apply to multiclass"),
        ("roc_auc=>0.8", "binary", "bad operator"),
        ("roc_auc != 0.8", "binary", "bad operator"),
        ("roc_auc>=high", "binary", "bad number 'high'"),
        ("roc_auc>=nan", "binary", "bad number"),
        ("roc_auc>=", "binary", "bad number"),
        (">=0.8", "binary", "cannot parse"),
        ("", "regression", "cannot parse"),
    ],
)
def test_parse_refuses_bad_criteria_listing_valid_metrics(
    text: str, task: str, fragment: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        Criterion.parse(text, task)  # type: ignore[arg-type]
    assert fragment in info.value.message
    assert "roc_auc" in info.value.details["valid_metrics"] or task == "regression"
    if "metric" in fragment or "cannot parse" in fragment:
        assert ("accuracy" if task != "regression" else "rmse") in info.value.message


def test_parse_refuses_unknown_task() -> None:
    with pytest.raises(InvalidInputError, match="unknown task"):
        Criterion.parse("rmse<1", "ranking")  # type: ignore[arg-type]


def test_check_messages() -> None:
    auc = Criterion.parse("roc_auc>=0.80", "binary")
    assert auc.check({"roc_auc": 0.84}) == (True, "roc_auc 0.84 >= 0.8")
    assert auc.check({"roc_auc": 0.71}) == (False, "roc_auc 0.71 is not >= 0.8")
    passed, message = auc.check({})
    assert not passed and "not available" in message
    assert Criterion.parse("r2==0.3", "regression").check({"r2": 0.1 + 0.2})[0]


def test_check_criteria_needs_all() -> None:
    criteria = [Criterion.parse("rmse<10", "regression"), Criterion.parse("r2>0.5", "regression")]
    assert check_criteria(criteria, {"rmse": 5.0, "r2": 0.9}) == (
        True,
        ["rmse 5 < 10", "r2 0.9 > 0.5"],
    )
    passed, messages = check_criteria(criteria, {"rmse": 12.0, "r2": 0.9})
    assert not passed and messages[0] == "rmse 12 is not < 10"
    assert check_criteria([], {}) == (True, [])


_pieces = st.sampled_from([*METRICS, "x", "roc", " ", ">=", "<=", "==", ">", "<", "=", "!"])
_criterion_text = st.one_of(
    st.text(max_size=30),
    st.lists(st.one_of(_pieces, st.text(max_size=5), st.floats().map(str)), max_size=5).map(
        "".join
    ),
)


@settings(max_examples=300, deadline=None)
@given(text=_criterion_text, task=st.sampled_from(["binary", "multiclass", "regression"]))
def test_parse_fuzz_only_parses_or_raises_invalid_input(text: str, task: str) -> None:
    try:
        criterion = Criterion.parse(text, task)  # type: ignore[arg-type]
    except InvalidInputError:
        return
    assert task in METRICS[criterion.metric].tasks
    assert criterion.check({criterion.metric: 0.5})[1].startswith(criterion.metric)

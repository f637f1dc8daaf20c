"""The one duration parser: what each unit means, and a clear refusal of the rest."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelyard._duration import parse_duration
from modelyard.errors import InvalidInputError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("90s", 90.0),
        ("5m", 300.0),
        ("1.5h", 5400.0),
        ("1d", 86400.0),
        (" 2M ", 120.0),
    ],
)
def test_each_unit(text: str, seconds: float) -> None:
    assert parse_duration(text, what="--budget") == seconds


@pytest.mark.parametrize("text", ["soon", "", "5 minutes", "-1m", "1w", "m"])
def test_anything_else_is_refused_naming_the_setting(text: str) -> None:
    with pytest.raises(InvalidInputError, match=r"^schedule .* is not a duration"):
        parse_duration(text, what="schedule")


def test_zero_is_refused_only_where_a_positive_duration_is_needed() -> None:
    assert parse_duration("0m", what="--budget") == 0.0
    with pytest.raises(InvalidInputError, match="schedule '0m'"):
        parse_duration("0m", what="schedule", positive=True)


@given(st.text(max_size=12))
def test_any_text_is_seconds_or_a_clear_refusal(text: str) -> None:
    try:
        seconds = parse_duration(text, what="--budget")
    except InvalidInputError as error:
        assert str(error).startswith("--budget ")
    else:
        assert seconds >= 0

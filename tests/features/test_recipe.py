"""The feature recipe's category lookups agree with pandas, for a request or a batch."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.features import FeatureRecipe
from modelyard.features._recipe import _DICT_LOOKUP_MAX_ROWS, _levels

labels = st.text(max_size=6)


@settings(max_examples=200, deadline=None)
@given(
    # a fitted recipe's levels are numpy text, which never ends in a NUL
    levels=st.lists(labels.filter(lambda s: not s.endswith("\x00")), max_size=30, unique=True),
    values=st.lists(labels, min_size=1, max_size=200),
)
def test_level_codes_match_a_pandas_index(levels: list[str], values: list[str]) -> None:
    recipe = FeatureRecipe()
    spec = {"name": "column", "levels": levels}
    adapted = np.asarray(values, dtype=object)  # what the adapter gives
    # compared as numpy text, which drops trailing NULs
    expected = pd.Index(levels, dtype=object).get_indexer([v.rstrip("\x00") for v in values])
    # both lookups: the dict one (a few rows) and the factorized one (a batch)
    np.testing.assert_array_equal(recipe._codes(spec, adapted[:5]), expected[:5])
    repeats = _DICT_LOOKUP_MAX_ROWS // len(values) + 1
    np.testing.assert_array_equal(
        recipe._codes(spec, np.tile(adapted, repeats)), np.tile(expected, repeats)
    )


@settings(max_examples=200, deadline=None)
@given(values=st.lists(labels, min_size=0, max_size=200))
def test_levels_are_numpys_sorted_distinct_text(values: list[str]) -> None:
    adapted = np.asarray(values, dtype=object)
    assert _levels(adapted) == np.unique(adapted.astype(str)).tolist()

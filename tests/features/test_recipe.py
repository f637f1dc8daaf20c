"""The feature recipe's category lookups agree with pandas, for a request or a batch."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.features import FeatureRecipe

labels = st.text(max_size=6)


@settings(max_examples=200, deadline=None)
@given(
    levels=st.lists(labels, max_size=30, unique=True),
    values=st.lists(labels, min_size=1, max_size=200),
)
def test_level_codes_match_a_pandas_index(levels: list[str], values: list[str]) -> None:
    recipe = FeatureRecipe()
    spec = {"name": "column", "levels": levels}
    text = np.asarray(values, dtype=str)
    expected = pd.Index(levels, dtype=object).get_indexer(np.asarray(values, dtype=object))
    # both lookups: the dict one (a few rows) and the sorted search (a batch)
    np.testing.assert_array_equal(recipe._codes(spec, text[:5]), expected[:5])
    np.testing.assert_array_equal(recipe._search_codes(spec, text), expected)
